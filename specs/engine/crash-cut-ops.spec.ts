// Crash cuts for every kind of multi-step operation (issues 4.4, 5, 6.2): a multi-node
// reopen, a snapshot (replace), a commit job start (filter + freezing), an iothread move of
// a whole component. The log is cut after every record of the operation's transaction, on
// real LevelDB; each cut must recover to exactly the state before or after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { checkInvariants } from '../../graph/invariants.js';
import { stateHash } from '../../graph/hash.js';
import { openClassic, openMemory } from '../../store/index.js';
import type { LogRecord } from '../../store/types.js';
import { tempDir } from './helpers.js';

type Cmd = [string, Record<string, unknown>];
const img = (file: string, backing?: string): Cmd => ['x-blockgraph-image-create', { file, format: 'qcow2', size: '16M', ...(backing ? { backing, 'backing-format': 'qcow2' } : {}) }];
const q2 = (name: string, file: string, backing: unknown): Cmd => ['blockdev-add', { driver: 'qcow2', 'node-name': name, file: { driver: 'file', filename: file }, backing }];
const CHAIN: Cmd[] = [img('base.qcow2'), img('mid.qcow2'), img('top.qcow2'), q2('base', 'base.qcow2', null), q2('mid', 'mid.qcow2', 'base'), q2('top', 'top.qcow2', 'mid')];

const SCENARIOS: { name: string; setup: Cmd[]; op: Cmd; minSteps: number }[] = [
  {
    name: 'blockdev-reopen of two nodes (read-only, then both back in one transaction)',
    setup: [...CHAIN],
    op: ['blockdev-reopen', { options: [
      { driver: 'qcow2', 'node-name': 'top', 'read-only': true, file: { driver: 'file', filename: 'top.qcow2' }, backing: 'mid' },
      { driver: 'qcow2', 'node-name': 'mid', 'read-only': true, file: { driver: 'file', filename: 'mid.qcow2' }, backing: 'base' },
    ] }],
    minSteps: 2,
  },
  {
    name: 'blockdev-snapshot (overlay takes the place of top, top becomes read-only)',
    setup: [...CHAIN, img('ov.qcow2'), q2('ov', 'ov.qcow2', null),
      ['nbd-server-start', { addr: { type: 'unix', data: { path: 'n.sock' } } }],
      ['block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true }]],
    op: ['blockdev-snapshot', { node: 'top', overlay: 'ov' }],
    minSteps: 2,
  },
  {
    name: 'block-commit start (commit_top filter, frozen links, job BlockBackends)',
    setup: [...CHAIN],
    op: ['block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', speed: 1, 'auto-finalize': false, 'auto-dismiss': false }],
    minSteps: 2,
  },
  {
    name: 'x-blockdev-set-iothread of a connected chain',
    setup: [...CHAIN, ['object-add', { 'qom-type': 'iothread', id: 'io0' }]],
    op: ['x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io0' }],
    minSteps: 1,
  },
];

const copy = (r: LogRecord) => ({ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data: r.data });

for (const sc of SCENARIOS) {
  test(`crash cuts: ${sc.name}`, async () => {
    const log = await openMemory();
    // the phased protocol (begun+steps, decision, end as separate writes: the afterAppend hook),
    // as older writers and recovery write it, so the log can be cut between its records; the
    // one-record transaction the engine writes otherwise is cut inside its batch in crash-cut.spec
    const e = await Engine.open(log, { afterAppend: () => undefined });
    for (const [c, a] of sc.setup) {
      const r = await e.execute('A', c, a);
      assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
    }
    const before = stateHash(e.state);
    const start = log.head + 1;
    const r = await e.execute('A', sc.op[0], sc.op[1]);
    assert.ok('return' in r.reply, `${sc.op[0]}: ${JSON.stringify(r.reply)}`);
    const after = stateHash(e.state);
    assert.is.not(before, after);
    const records = await log.readAll();
    const txn = records.filter((x) => x.seq >= start);
    assert.ok(txn.filter((x) => x.type === 'txn.step').length >= sc.minSteps, `steps: ${txn.map((x) => x.type).join(',')}`);
    const decided = txn.find((x) => x.type === 'txn.decided')!.seq;
    const t = tempDir();
    try {
      for (let cut = start - 1; cut <= log.head; cut++) {
        const loc = `${t.dir}/c${cut}`;
        let l = await openClassic(loc);
        for (const x of records.slice(0, cut)) await l.append([copy(x)]);
        await l.close();
        l = await openClassic(loc);
        const re = await Engine.open(l);
        assert.is(stateHash(re.state), cut >= decided ? after : before, `cut after seq ${cut}`);
        assert.equal(checkInvariants(re.state), [], `cut ${cut}: invariants`);
        assert.ok((await l.verify()).ok);
        const head = l.head;
        await l.close();
        l = await openClassic(loc);
        await Engine.open(l);
        assert.is(l.head, head, `cut ${cut}: a second recovery writes nothing`);
        await l.close();
      }
    } finally {
      t.done();
    }
  });
}

test.run();
