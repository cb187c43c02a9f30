// The fleet from the command line: `blockgraph qmp --store nats://…` writing a host's log straight
// to the stream, the read commands with --fleet/--host giving what they give on LevelDB, and
// `audit --fleet` merging every host by time. Bad or unreachable sources exit with a code.
import { spawn, spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditRow } from '../../replay/audit.js';
import { mergeFleetAudit } from '../../replay/fleet-audit.js';
import { openClassic, type LogRecord } from '../../store/index.js';
import { openJetStream } from '../../store/jetstream/open.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli } from '../render/helpers.js';
import { clusterForFile, natsAvailable, SKIP_NOTE, within } from './cluster.js';

const row = (at: string, seq: number): AuditRow => ({ kind: 'transaction', seq, seqs: [seq], at, proc: 'A', command: 'x', args: {}, outcome: 'committed', steps: [], touched: [], nodes: [], types: [] } as unknown as AuditRow);

const merge = suite('fleet/audit merge (pure)');
merge('rows of every host in one timeline: by time, then host, then seq', () => {
  const got = mergeFleetAudit([
    { host: 'b', rows: [row('2026-01-01T00:00:01.000Z', 1), row('2026-01-01T00:00:03.000Z', 7)] },
    { host: 'a', rows: [row('2026-01-01T00:00:02.000Z', 4), row('2026-01-01T00:00:03.000Z', 9)] },
  ]);
  assert.equal(got.map((r) => `${r.host}${r.seq}`), ['b1', 'a4', 'a9', 'b7']);
});
merge.run();

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/cli');
  const test = suite('fleet/cli');

  test('qmp --store nats://… writes the host log to the stream; read commands take --fleet/--host', async () => {
    const c = await cluster.get();
    const url = c.url('cli', 'q1');
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--store', url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stdin!.end([
      '{"execute":"qmp_capabilities"}',
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"a0"}}',
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"a1","read-only":true}}',
      '{"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}',
      '',
    ].join('\n'));
    assert.is(await within(120_000, done, 'qmp --store'), 0, err);
    const replies = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((m) => 'return' in m || 'error' in m);
    assert.equal(replies.slice(0, 3), [{ return: {} }, { return: {} }, { return: {} }]);
    assert.is(replies[3]!.error.desc, "Failed to find node with node-name='nosuch'");

    const fleet = c.url('cli');
    const log = await runCli('log', '--fleet', fleet, '--host', 'q1', '--json');
    assert.is(log.status, 0, log.stderr);
    const recs = JSON.parse(log.stdout) as LogRecord[];
    assert.is(recs.length, 3, 'one record per blockdev-add (the whole transaction, events/whole.ts), 1 refusal');
    assert.is(recs.at(-1)!.type, 'command.rejected');
    const direct = await openJetStream(url);
    assert.equal(await direct.readAll(), recs, 'the CLI read is the store');
    await direct.close();

    const replay = await runCli('replay', '--verify', '--fleet', fleet, '--host', 'q1');
    assert.is(replay.status, 0, replay.stderr);
    const show = await runCli('show', '--fleet', fleet, '--host', 'q1', '--at', '1', '--json');
    assert.is(show.status, 0, show.stderr);
    assert.match(show.stdout, /"a0"/);
    assert.not.match(show.stdout, /"a1"/);
    const hist = await runCli('history', 'a1', '--fleet', fleet, '--host', 'q1');
    assert.is(hist.status, 0, hist.stderr);
    assert.match(hist.stdout, /blockdev-add/);
  });

  test('audit --fleet: every host, merged by time; the same rows as each host alone', async () => {
    const c = await cluster.get();
    const t = tempDir();
    try {
      for (const h of ['m1', 'm2']) {
        const local = await openClassic(`${t.dir}/${h}`);
        await recordHistory(local);
        await local.close();
        const r = await runCli('ship', '--db', `${t.dir}/${h}`, '--to', c.url('merge', h));
        assert.is(r.status, 0, r.stderr);
      }
      const fleet = await runCli('audit', '--fleet', c.url('merge'), '--json');
      assert.is(fleet.status, 0, fleet.stderr);
      const rows = JSON.parse(fleet.stdout) as Array<AuditRow & { host: string }>;
      const alone = JSON.parse((await runCli('audit', '--db', `${t.dir}/m1`, '--json')).stdout) as AuditRow[];
      assert.ok(alone.length > 5);
      assert.is(rows.length, 2 * alone.length);
      assert.equal(rows.filter((r) => r.host === 'm1').map(({ host: _h, ...r }) => r), alone, "a host's rows are its own audit");
      // Same clock on both hosts: each time holds m1's row, then m2's.
      assert.equal(rows.map((r) => r.host), alone.flatMap(() => ['m1', 'm2']));
      assert.ok(rows.every((r, i) => i === 0 || rows[i - 1]!.at <= r.at), 'ordered by time');
      const text = await runCli('audit', '--fleet', c.url('merge'));
      assert.match(text.stdout.split('\n')[0]!, /^time\s+host\s+seq/);
      const one = await runCli('audit', '--fleet', c.url('merge'), '--host', 'm2', '--json');
      assert.equal(JSON.parse(one.stdout), alone, '--host: that host alone');
    } finally {
      t.done();
    }
  });

  test('bad fleet sources exit 2; an unreachable server exits 1 with BG_LOG_UNAVAILABLE; nothing is written', async () => {
    const c = await cluster.get();
    const cases: Array<[string[], number, RegExp]> = [
      [['log', '--host', 'x'], 2, /--host needs --fleet/],
      [['log', '--fleet', c.url('cli')], 2, /needs --host/],
      [['log', '--fleet', c.url('cli', 'q1'), '--host', 'q1'], 2, /names the fleet only/],
      [['log', '--fleet', 'nats://127.0.0.1:1/f', '--host', 'bad*host'], 2, /host "bad\*host"/],
      [['audit', '--fleet', 'nats:///nofleet'], 2, /BG_BAD_INPUT/],
      [['log', '--db', 'nats://127.0.0.1:1/f/h'], 1, /cannot reach NATS.*\[BG_LOG_UNAVAILABLE\]/],
      [['qmp', '--store', 'nats://127.0.0.1:1/f/h'], 1, /cannot reach NATS/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await runCli(...args);
      assert.is(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    const hosts = await runCli('audit', '--fleet', c.url('nobody'), '--json');
    assert.equal(JSON.parse(hosts.stdout), [], 'an empty fleet has no rows');
  });

  test('demo --db nats://… and fixture import --db nats://… write a fleet host as they write a LevelDB dir', async () => {
    const c = await cluster.get();
    const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
    const demo = c.url('cli', 'demo1');
    const r = bg('demo', '--db', demo);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /child ended by SIGKILL/);
    assert.match(r.stdout, /recovery: rolled back t\d+/);
    assert.match(r.stdout, /hash chain: verified/);
    const v = await runCli('replay', '--verify', '--db', demo);
    assert.is(v.status, 0, v.stderr);
    const again = bg('demo', '--db', demo);
    assert.is(again.status, 2, again.stderr);
    assert.match(again.stderr, /holds \d+ records: the demo writes a new store/);

    const t = tempDir();
    try {
      const out = `${t.dir}/demo.jsonl`;
      const ex = await runCli('fixture', 'export', '--db', demo, '--out', out);
      assert.is(ex.status, 0, ex.stderr);
      const into = c.url('cli', 'fx1');
      const im = await runCli('fixture', 'import', out, '--db', into, '--json');
      assert.is(im.status, 0, im.stderr);
      const a = await openJetStream(demo);
      const b = await openJetStream(into);
      try {
        assert.equal((await b.readAll()).map((x) => x.hash), (await a.readAll()).map((x) => x.hash), 'the imported host is the demo host record for record');
      } finally {
        await a.close();
        await b.close();
      }
      const twice = await runCli('fixture', 'import', out, '--db', into);
      assert.is(twice.status, 2, twice.stderr);
      assert.match(twice.stderr, /fixtures are imported into a fresh store/);
    } finally {
      t.done();
    }
  });

  test.run();
  cluster.closing();
}
