// `blockgraph ship`: a host's LevelDB log copied to the fleet stream, byte for byte (same hashes),
// resuming at the fleet copy's head after the shipper is SIGKILLed at random points, following a
// live store through its `qmp --log-socket`, and refusing a copy that belongs to another log.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openClassic, type LogRecord, type NewRecord } from '../../store/index.js';
import { openJetStream } from '../../store/jetstream/open.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli } from '../render/helpers.js';
import { clusterForFile, natsAvailable, SKIP_NOTE, within } from './cluster.js';

const cli = ['--import', 'tsx', 'cli/main.ts'];
const rec = (i: number): NewRecord => ({ stream: 'A', type: 'node.added', at: '2024-01-01T00:00:00.000Z', data: { i, name: `n${i}` } });

async function fleetCopy(url: string): Promise<LogRecord[]> {
  const log = await openJetStream(url);
  try {
    return await log.readAll();
  } finally {
    await log.close();
  }
}

/** Deterministic "random" kill points (a fixed-seed LCG: the same spec run, the same kills). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function waitFor(path: string, ms = 60_000): Promise<void> {
  return within(ms, (async () => {
    while (!existsSync(path)) await new Promise((r) => setTimeout(r, 50));
  })(), `waiting for ${path}`);
}

function qmp(path: string, lines: string[]): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const replies: Array<Record<string, unknown>> = [];
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if ('return' in m || 'error' in m) replies.push(m);
        if (replies.length === lines.length) { s.end(); resolve(replies); }
      }
    });
    s.on('error', reject);
    s.on('connect', () => s.write(lines.join('\n') + '\n'));
  });
}

const exited = (p: ChildProcess): Promise<number | null> => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/ship');
  const test = suite('fleet/ship');

  test('ships byte for byte, resumes at the head, refuses a diverged copy; bad input exits 2', async () => {
    const c = await cluster.get();
    const t = tempDir();
    try {
      const log = await openClassic(t.dir + '/db');
      await recordHistory(log);
      const want = await log.readAll();
      await log.close();
      const url = c.url('ship', 'h1');
      const r = await runCli('ship', '--db', t.dir + '/db', '--to', url, '--batch', '7', '--json');
      assert.is(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout), { resumedAt: 0, shipped: want.length, head: want.length });
      assert.equal(await fleetCopy(url), want, 'same records, same hashes');
      const again = await runCli('ship', '--db', t.dir + '/db', '--to', url, '--json');
      assert.equal(JSON.parse(again.stdout), { resumedAt: want.length, shipped: 0, head: want.length });

      const more = await openClassic(t.dir + '/db');
      await more.append([rec(1), rec(2), rec(3)]);
      const want2 = await more.readAll();
      await more.close();
      assert.is((await runCli('ship', '--db', t.dir + '/db', '--to', url)).status, 0);
      assert.equal(await fleetCopy(url), want2);

      // Another host's log shipped under this host's name: refused, the copy untouched.
      const other = await openClassic(t.dir + '/other');
      for (let i = 0; i < want2.length + 5; i++) await other.append([rec(100 + i)]);
      await other.close();
      const bad = await runCli('ship', '--db', t.dir + '/other', '--to', url);
      assert.is(bad.status, 1);
      assert.match(bad.stderr, /differ at seq \d+.*\[BG_REPLAY_DIVERGED\]/);
      assert.equal(await fleetCopy(url), want2, 'nothing written');

      for (const args of [['--to', 'http://x/y/z'], ['--to', c.url('ship')], ['--to', c.url('ship', 'bad.host')], ['--to', url, '--batch', '0']]) {
        const e = await runCli('ship', '--db', t.dir + '/db', ...args);
        assert.is(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
        assert.match(e.stderr, /\[BG_BAD_INPUT\]/);
      }
      const missing = await runCli('ship', '--db', t.dir + '/nosuch', '--to', url);
      assert.is(missing.status, 2);
      assert.match(missing.stderr, /no store at .*\[BG_NOT_FOUND\]/);
      assert.equal(await fleetCopy(url), want2);
    } finally {
      t.done();
    }
  });

  test('a shipper SIGKILLed at random points resumes without a gap or a duplicate', async () => {
    const c = await cluster.get();
    const t = tempDir();
    try {
      const log = await openClassic(t.dir + '/db');
      for (let i = 0; i < 60; i++) await log.append(Array.from({ length: 50 }, (_, k) => rec(i * 50 + k)));
      const want = await log.readAll();
      await log.close();
      const url = c.url('ship', 'killed');
      const rand = lcg(16);
      const heads: number[] = [];
      for (let kill = 0; kill < 3; kill++) {
        const after = 1 + Math.floor(rand() * 10); // batches acknowledged before the kill
        const child = spawn(process.execPath, [...cli, 'ship', '--db', t.dir + '/db', '--to', url, '--batch', '40', '--progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
        const done = exited(child);
        let lines = 0;
        child.stderr!.on('data', (d: Buffer) => {
          lines += d.toString().split('\n').filter((l) => l.startsWith('shipped')).length;
          if (lines >= after) child.kill('SIGKILL');
        });
        await within(90_000, done, 'shipper');
        const copy = await fleetCopy(url);
        assert.equal(copy, want.slice(0, copy.length), `after kill ${kill}: the copy is a prefix of the log (no gap, no duplicate)`);
        heads.push(copy.length);
      }
      assert.ok(heads.every((h, i) => h > 0 && h < want.length && (i === 0 || h > heads[i - 1]!)), `each kill landed mid-way and each run made progress: ${heads.join(', ')}`);
      const r = await runCli('ship', '--db', t.dir + '/db', '--to', url, '--json');
      assert.is(r.status, 0, r.stderr);
      assert.is(JSON.parse(r.stdout).resumedAt, heads.at(-1));
      assert.equal(await fleetCopy(url), want);
    } finally {
      t.done();
    }
  });

  test('ship --connect follows a live store through `qmp --log-socket`, survives its own SIGKILL, ends with the server', async () => {
    const c = await cluster.get();
    const t = tempDir();
    const sock = t.dir + '/qmp.sock';
    const lsock = t.dir + '/log.sock';
    const server = spawn(process.execPath, [...cli, 'qmp', '--db', t.dir + '/db', '--socket', sock, '--log-socket', lsock], { stdio: ['ignore', 'ignore', 'pipe'] });
    const serverDone = exited(server);
    let serverErr = '';
    server.stderr!.on('data', (d: Buffer) => { serverErr += d.toString(); });
    const url = c.url('ship', 'live');
    const shipper = () => {
      const p = spawn(process.execPath, [...cli, 'ship', '--connect', lsock, '--to', url, '--batch', '5', '--progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      return { p, done: exited(p), head: () => Number(/shipped (\d+)\s*$/.exec(err)?.[1] ?? 0), err: () => err };
    };
    let node = 0;
    const add = async (n: number) => {
      const replies = await qmp(sock, ['{"execute":"qmp_capabilities"}', ...Array.from({ length: n }, () => `{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n${node++}"}}`)]);
      assert.ok(replies.every((r) => 'return' in r), JSON.stringify(replies));
    };
    const until = async (what: string, f: () => boolean) => within(90_000, (async () => { while (!f()) await new Promise((r) => setTimeout(r, 50)); })(), what);
    try {
      await waitFor(lsock);
      await until('QMP server listening', () => serverErr.includes('QMP on'));
      await add(5); // 1 record per blockdev-add (the whole transaction, events/whole.ts)
      const s1 = shipper();
      await until('first shipper catches up', () => s1.head() >= 5);
      await add(5); // live records while it follows
      await until('first shipper follows live', () => s1.head() >= 10);
      s1.p.kill('SIGKILL');
      await s1.done;
      await add(5); // written while no shipper runs
      const s2 = shipper();
      await until('second shipper resumes', () => s2.head() >= 15);
      await add(3);
      await until('second shipper follows live', () => s2.head() >= 18);
      server.kill('SIGTERM');
      await within(60_000, serverDone, 'qmp server');
      assert.is(await within(60_000, s2.done, 'shipper ends with the feed'), 0, s2.err());
      const local = await openClassic(t.dir + '/db');
      const want = await local.readAll();
      await local.close();
      assert.is(want.length, 18);
      assert.equal(await fleetCopy(url), want, 'the fleet copy is the live log: no gap, no duplicate');
    } finally {
      server.kill('SIGKILL');
      t.done();
    }
  });

  test.run();
  cluster.closing();
}
