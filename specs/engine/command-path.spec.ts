// What runs on a durable command's path before its batch reaches LevelDB (issue 15, wt-cmd2),
// counted, never timed. The fsync runs on libuv's pool from the moment the batch is handed
// over; work done before that adds to every command's latency, work done after it overlaps
// the fsync. The record's parse-back (the LogRecord the fold and subscribers see, parsed from
// the stored body so it is what a read will see) is done after the hand-off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { indexKeys } from '../../events/node-keys.js';
import { decodeRecord, decodeWork, seqKey, sublevelsOf, TEXT } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';
import { emptyFold, foldRecord } from '../../replay/fold.js';
import { stateDigest } from '../../graph/hash.js';

const CMDS: [string, Record<string, unknown>][] = [
  ['blockdev-add', { driver: 'null-co', 'node-name': 'a' }],
  ['blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'a' }], // an edge: index keys of both ends
  ['blockdev-del', { 'node-name': 'r' }],
  ['blockdev-del', { 'node-name': 'a' }],
];

test('a command\'s record is parsed back after its batch is handed to the database, once', async () => {
  const e = await Engine.open(await openMemory());
  const db = e.log.db as unknown as { batch: (ops: unknown[], opts: unknown) => Promise<void> };
  const orig = db.batch.bind(db);
  let atHandOff = -1;
  db.batch = (ops, opts) => { atHandOff = decodeWork.parses; return orig(ops, opts); };
  for (const [cmd, args] of CMDS) {
    const p0 = decodeWork.parses;
    atHandOff = -1;
    const r = await e.execute('A', cmd, args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    assert.is(atHandOff - p0, 0, `${cmd}: bodies parsed before the batch was handed over`);
    const parsed = decodeWork.parses - p0;
    // (a raw read of the database, beside the log: the record a reply's intent covers may still
    // be held for the next intent's batch, docs/drills.md "Version 7"; written first)
    await e.log.whenWritten();
    // one parse-back in all, as a reader parses the stored value: a whole transaction's redo
    // part alone (frame 3), which the fold reads (replay/fold.ts foldRaw); the undo part is
    // parsed only for a listener of the full record (was: both parts, every command)
    const subs = sublevelsOf(e.log.db);
    const value = await subs.log.get(seqKey(e.log.head), TEXT) as string;
    const all = await e.log.readAll();
    const prevHash = all.length > 1 ? all[all.length - 2]!.hash : undefined;
    const p1 = decodeWork.parses;
    decodeRecord(value, e.log.head, prevHash);
    assert.is(decodeWork.parses - p1, 2, 'a full decode parses both parts');
    assert.is(parsed, 1, `${cmd}: the redo part parsed back, once`);
  }
  await e.log.close();
});

test('the state folded from the stored form is the one a full decode of the log folds, key order too', async () => {
  // snapshots every 3 records with parts: a build in progress notes the values its seq had
  const e = await Engine.open(await openMemory(), { snapshotEvery: 3 });
  const cmds: [string, Record<string, unknown>][] = [];
  for (let i = 0; i < 6; i++) cmds.push(['blockdev-add', { driver: 'null-co', 'node-name': `n${i}`, 'read-only': i % 2 === 0 }]);
  cmds.push(['blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'n1' }], ['blockdev-del', { 'node-name': 'n3' }]);
  cmds.push(['blockdev-del', { 'node-name': 'r' }], ['blockdev-add', { driver: 'null-co', 'node-name': 'n3', size: 4096 }]);
  for (const [cmd, args] of cmds) {
    const r = await e.execute('A', cmd, args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  }
  const f = emptyFold();
  for (const rec of await e.log.readAll()) foldRecord(f, rec);
  assert.is(JSON.stringify(e.state), JSON.stringify(f.state));
  assert.is((e as unknown as { digest: bigint }).digest, stateDigest(f.state));
  await e.log.close();
});

test('a listener of committed$ and appended$ gets each full record, as a read gives it', async () => {
  const e = await Engine.open(await openMemory());
  const committed: unknown[] = [];
  const appended: unknown[] = [];
  e.committed$.subscribe((r) => committed.push(r));
  e.log.appended$.subscribe((r) => appended.push(r));
  for (const [cmd, args] of CMDS) await e.execute('A', cmd, args);
  const all = await e.log.readAll();
  assert.is(all.length, CMDS.length);
  assert.equal(JSON.stringify(committed), JSON.stringify(all));
  assert.equal(JSON.stringify(appended), JSON.stringify(all));
  await e.log.close();
});

test('the index keys written before the parse-back are those of the record as stored', async () => {
  const e = await Engine.open(await openMemory());
  for (const [cmd, args] of CMDS) await e.execute('A', cmd, args);
  await e.log.whenWritten(); // a raw read of the database: the held record written first
  const subs = sublevelsOf(e.log.db);
  const stored: string[] = [];
  for await (const k of subs.top.keys<string>({ ...TEXT, gte: subs.nidxPrefix, lt: subs.nidxPrefix + '\uffff' })) stored.push(k.substring(subs.nidxPrefix.length));
  const expected: string[] = [];
  for (const rec of await e.log.readAll()) for (const k of indexKeys(rec)) expected.push(k + seqKey(rec.seq));
  assert.ok(stored.length > CMDS.length, 'nodes and edges indexed');
  assert.equal([...stored].sort(), [...expected].sort());
  await e.log.close();
});

test('one trip to LevelDB per durable command: its synced batch, and no read', async () => {
  const e = await Engine.open(await openMemory());
  const db = e.log.db as unknown as Record<string, (...a: unknown[]) => unknown>;
  const calls: string[] = [];
  for (const m of ['batch', 'put', 'get', 'getMany', 'del', 'iterator', 'keys', 'values']) {
    const orig = db[m]!.bind(db);
    db[m] = (...a: unknown[]) => { calls.push(m === 'batch' ? `batch${(a[1] as { sync?: boolean } | undefined)?.sync ? ' synced' : ''}` : m); return orig(...a); };
  }
  for (let i = 0; i < 10; i++) {
    await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    await e.execute('A', 'blockdev-del', { 'node-name': `n${i}` });
  }
  assert.equal(calls, Array.from({ length: 20 }, () => 'batch synced'));
  await e.log.close();
});

test.run();
