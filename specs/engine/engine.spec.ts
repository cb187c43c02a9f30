import { endsTxn } from '../../events/index.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { replay, verifyReplay } from '../../replay/replay.js';
import { openClassic, openMemory } from '../../store/index.js';
import { partsOf } from '../../events/whole.js';
import type { LogRecord } from '../../store/types.js';
import { CHAIN, tempDir } from './helpers.js';

const ADD_TOP = { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } };

async function chainEngine() {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (const [c, a] of CHAIN) await e.execute('A', c, a as never);
  return { log, e };
}

test('a refused command leaves the state untouched and logs only command.rejected', async () => {
  const { log, e } = await chainEngine();
  await e.execute('A', 'blockdev-add', ADD_TOP);
  const before = stateHash(e.state);
  const head = log.head;
  for (const [cmd, args] of [
    ['blockdev-add', { driver: 'null-co', 'node-name': 'top' }], // duplicate node-name
    ['blockdev-del', { 'node-name': 'nosuch' }],                // unknown node
    ['blockdev-add', { driver: 'qcow2', 'node-name': 'x', bogus: 1 }], // schema error
    ['no-such-command', {}],
  ] as const) {
    const r = await e.execute('A', cmd, args as never);
    assert.ok('error' in r.reply, cmd);
  }
  assert.is(stateHash(e.state), before);
  const recs = await log.readAll({ gte: head + 1 });
  assert.equal(recs.map((r) => r.type), ['command.rejected', 'command.rejected', 'command.rejected', 'command.rejected']);
  assert.is((recs[1]!.data as { error: { desc: string } }).error.desc, "Failed to find node with node-name='nosuch'");
});

test("a refusal that used up an anonymous node name keeps only id_generate's counter, logged as a transaction", async () => {
  const { log, e } = await chainEngine();
  await e.execute('A', 'blockdev-add', ADD_TOP);
  const before = e.state;
  const head = log.head;
  // the inline file node is opened (and given a #block name) before 'top' turns out to be taken
  const r = await e.execute('A', 'blockdev-add', ADD_TOP);
  assert.is(('error' in r.reply) && r.reply.error.desc, "Duplicate nodes with node-name='top'");
  const recs = (await log.readAll({ gte: head + 1 })).flatMap(partsOf); // one whole transaction (events/whole.ts)
  assert.equal(recs.map((x) => x.type), ['txn.begun', 'txn.step', 'txn.decided']);
  const changes = (recs[1]!.data as { changes: { c: string; before: { autoName: number }; after: { autoName: number } }[] }).changes;
  assert.equal(changes.map((c) => [c.c, c.after.autoName - c.before.autoName]), [['meta', 1]]);
  // nothing else of the state moved
  const strip = (s: typeof before) => JSON.stringify({ ...s, A: { ...s.A, meta: undefined } });
  assert.is(strip(e.state), strip(before));
});

test('a refused blockdev-add keeps the generated node names it used (id_generate never rolls back)', async () => {
  // Live qemu-storage-daemon 7.2, same commands: top's inline file is #block0NN, the refused
  // duplicate's inline file took #block1NN before bdrv_assign_node_name refused 'top', so r's
  // inline file is #block2NN.
  const log = await openMemory();
  const e = await Engine.open(log);
  await e.execute('A', 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  const add = { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'a.qcow2' } };
  await e.execute('A', 'blockdev-add', add);
  const before = stateHash(e.state);
  const head = log.head;
  const r = await e.execute('A', 'blockdev-add', { ...add, file: { ...add.file, locking: 'off' } });
  assert.is('error' in r.reply && r.reply.error.desc, "Duplicate nodes with node-name='top'");
  const recs = await log.readAll({ gte: head + 1 });
  assert.equal(recs.flatMap(partsOf).map((x) => x.type), ['txn.begun', 'txn.step', 'txn.decided']); // one whole transaction (events/whole.ts)
  assert.is.not(stateHash(e.state), before);
  await e.execute('A', 'blockdev-add', { driver: 'raw', 'node-name': 'r', file: { driver: 'null-co' } });
  const fileOf = (n: string) => Object.values(e.state.A!.edges as Record<string, { parent: { node?: string }; name: string; child: string }>)
    .find((x) => x.parent.node === n && x.name === 'file')!.child;
  assert.match(fileOf('top'), /^#block0\d\d$/);
  assert.match(fileOf('r'), /^#block2\d\d$/);
  const again = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(again.state), JSON.stringify(e.state));
  assert.ok((await verifyReplay(log)).ok);
});

test('replaying the log from scratch gives the live state, byte for byte', async () => {
  const { log, e } = await chainEngine();
  await e.execute('A', 'blockdev-add', ADD_TOP);
  await e.execute('A', 'nbd-server-start', { addr: { type: 'unix', data: { path: 's' } } });
  await e.execute('A', 'block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true });
  await e.execute('A', 'block-export-del', { id: 'e0' });
  const f = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(f.state), JSON.stringify(e.state));
  const v = await verifyReplay(log);
  assert.ok(v.ok);
  assert.ok(v.checked >= 6, `checked ${v.checked}`);
});

test('replay --verify names the first seq whose recorded state hash differs', async () => {
  const { log, e } = await chainEngine();
  await e.execute('A', 'blockdev-add', ADD_TOP);
  const recs = await log.readAll();
  // Rebuild the log with one tampered step (a valid record: CRC and chain are fine).
  const copy = await openMemory();
  // the last step of the blockdev-add: nothing after it rewrites the node
  // (a whole transaction, events/whole.ts: the record holding that step)
  const idx = recs.findIndex((r) => partsOf(r).some((p) => p.type === 'txn.step' && (p.data as { name: string }).name === 'monitor-ref'));
  assert.ok(idx > 0);
  for (const [i, r] of recs.entries()) {
    const data = i === idx ? JSON.parse(JSON.stringify(r.data).replace(/("after":\{[^]*"monitor":)true/, '$1false')) : r.data;
    await copy.append([{ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data }]);
  }
  const v = await verifyReplay(copy);
  assert.not.ok(v.ok);
  const firstEndAfter = recs.find((r: LogRecord) => r.seq >= idx + 1 && endsTxn(r))!.seq; // the whole record ends its txn
  assert.is(v.firstDiverging, firstEndAfter);
});

test('the same commands with the same clock give byte-identical logs', async () => {
  const run = async () => {
    const { log, e } = await chainEngine();
    await e.execute('A', 'blockdev-add', ADD_TOP);
    await e.execute('B', 'blockdev-add', { driver: 'qcow2', 'node-name': 'b', 'read-only': true, file: { driver: 'file', filename: 'base.qcow2' }, backing: null });
    return JSON.stringify(await log.readAll());
  };
  assert.is(await run(), await run());
});

test('concurrent execute calls are serialized: contiguous transactions, none interleaved', async () => {
  const { log, e } = await chainEngine();
  await Promise.all(Array.from({ length: 20 }, (_, i) => e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` })));
  const recs = await log.readAll();
  let open: string | undefined;
  for (const r of recs) {
    if (r.type === 'txn.begun') { assert.is(open, undefined, `txn ${r.txn} began inside ${open}`); open = r.txn; }
    if (endsTxn(r)) open = undefined; // txn.ended, or the decision that carries the end
  }
  assert.is(Object.keys(e.state.A!.nodes!).length, 20);
});

test('a tail subscriber sees every committed record exactly once while writers run', async () => {
  const { log, e } = await chainEngine();
  const seen: number[] = [];
  const sub = log.tail(1).subscribe((r) => seen.push(r.seq));
  await Promise.all(Array.from({ length: 30 }, (_, i) => e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `t${i}` })));
  await new Promise((r) => setTimeout(r, 20));
  sub.unsubscribe();
  assert.equal(seen, Array.from({ length: log.head }, (_, i) => i + 1));
});

test('state persists across a reopen of a real LevelDB; snapshots are used and agree', async () => {
  const t = tempDir();
  try {
    let log = await openClassic(t.dir);
    let e = await Engine.open(log, { snapshotEvery: 10 });
    for (const [c, a] of CHAIN) await e.execute('A', c, a as never);
    for (let i = 0; i < 10; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    const h = stateHash(e.state);
    await log.close();
    log = await openClassic(t.dir);
    assert.ok((await log.latestSnapshot())!.seq > 0, 'a snapshot was written');
    e = await Engine.open(log);
    assert.is(stateHash(e.state), h);
    assert.ok((await verifyReplay(log)).ok);
    await log.close();
  } finally {
    t.done();
  }
});

test.run();
