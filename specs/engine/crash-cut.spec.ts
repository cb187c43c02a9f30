// The log protocol under crashes: cut the log after every record of a multi-step
// transaction (on real LevelDB), reopen, recover, and require exactly the before- or the
// after-state; a second recovery must write nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { EventLog, openClassic, openMemory } from '../../store/index.js';
import { CrashJournal } from '../../store/faulty.js';
import { seqKey } from '../../store/codec.js';
import { isWhole, partsOf } from '../../events/whole.js';
import { MemoryLevel } from 'memory-level';
import type { LogRecord } from '../../store/types.js';
import { CHAIN, tempDir } from './helpers.js';

/**
 * The transaction as the phased protocol writes it (begun+steps, decision, end: the engine's
 * afterAppend hook), as older writers and recovery do: the cuts between its records.
 */
async function recordAll(): Promise<{ records: LogRecord[]; txnStart: number; txnEnd: number }> {
  const log = await openMemory();
  const e = await Engine.open(log, { afterAppend: () => undefined });
  for (const [c, a] of CHAIN) await e.execute('A', c, a as never);
  const txnStart = log.head + 1;
  // One command, many steps: an implicit backing chain opened under a new node.
  const r = await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } });
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
  const txnEnd = log.head;
  const records = await log.readAll();
  await log.close();
  return { records, txnStart, txnEnd };
}

test('a cut after any record of a transaction recovers to the state before or after it', async () => {
  const { records, txnStart, txnEnd } = await recordAll();
  const steps = records.filter((r) => r.seq >= txnStart && r.type === 'txn.step').length;
  assert.ok(steps >= 3, `want a multi-step txn, got ${steps} steps`);
  const stateAt = async (n: number) => {
    const log = await openMemory();
    for (const r of records.slice(0, n)) await log.append([{ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data: r.data }]);
    const e = await Engine.open(log, { recover: false });
    const h = stateHash(e.state);
    await log.close();
    return h;
  };
  const before = await stateAt(txnStart - 1);
  const after = await stateAt(txnEnd);
  assert.is.not(before, after);
  const decidedSeq = records.find((r) => r.seq >= txnStart && r.type === 'txn.decided')!.seq;
  const t = tempDir();
  try {
    for (let cut = txnStart - 1; cut <= txnEnd; cut++) {
      const loc = `${t.dir}/cut-${cut}`;
      let log = await openClassic(loc);
      for (const r of records.slice(0, cut)) await log.append([{ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data: r.data }]);
      await log.close();
      // "crash" here: reopen from disk and recover
      log = await openClassic(loc);
      const e = await Engine.open(log);
      const got = stateHash(e.state);
      const want = cut >= decidedSeq ? after : before;
      assert.is(got, want, `cut after seq ${cut}`);
      assert.equal(e.openTransactions, [], `cut ${cut}: nothing left open`);
      const v = await log.verify();
      assert.ok(v.ok, `cut ${cut}: chain verifies`);
      const head = log.head;
      await log.close();
      // A second recovery changes nothing.
      log = await openClassic(loc);
      const e2 = await Engine.open(log);
      assert.is(log.head, head, `cut ${cut}: second recovery wrote nothing`);
      assert.is(stateHash(e2.state), want);
      await log.close();
    }
  } finally {
    t.done();
  }
});

test('a crash in the middle of recovery (some compensations written) recovers again', async () => {
  const { records, txnStart } = await recordAll();
  const lastStep = records.filter((r) => r.seq >= txnStart && r.type === 'txn.step').at(-1)!.seq;
  const log = await openMemory();
  for (const r of records.slice(0, lastStep)) await log.append([{ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data: r.data }]);
  const before = await (async () => {
    const l2 = await openMemory();
    for (const r of records.slice(0, txnStart - 1)) await l2.append([{ stream: r.stream, type: r.type, v: r.v, at: r.at, txn: r.txn, data: r.data }]);
    return stateHash((await Engine.open(l2)).state);
  })();
  // write just the first compensation, as a recovery killed after one record would have
  const step = records[lastStep - 1]!;
  await log.append([{ stream: 'log', type: 'txn.compensated', v: 3, at: step.at, txn: step.txn, data: { undoes: step.seq, changes: (step.data as { changes: unknown }).changes } }]);
  const e = await Engine.open(log);
  assert.is(stateHash(e.state), before);
  const comps = (await log.readAll()).filter((r) => r.type === 'txn.compensated').map((r) => (r.data as { undoes: number }).undoes);
  assert.is(new Set(comps).size, comps.length, 'no step compensated twice');
});

/**
 * The engine writes the transaction as one record (events/whole.ts) in one batch with its index
 * entries and the head. A crash that tears that batch (any prefix of its operations, as a torn
 * write-ahead log would leave it) must recover to the state before or after it: without the
 * intent, both (the record's batch is the decision); with it (the default), always after, since
 * the command's intent was synced before its record's batch (docs/drills.md "Version 7").
 */
async function tornWhole(intentFirst: boolean): Promise<string[]> {
  const db = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const journal = CrashJournal.attach(db);
  const log = await EventLog.open(db);
  const e = await Engine.open(log, { intentFirst });
  for (const [c, a] of CHAIN) await e.execute('A', c, a as never);
  const before = stateHash(e.state);
  const start = log.head + 1;
  const w0 = journal.writes.length;
  const r = await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } });
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
  const after = stateHash(e.state);
  assert.is(log.head, start, 'the whole transaction is one record');
  const [whole] = await log.readAll({ gte: start });
  assert.ok(isWhole(whole!), 'a txn.begun holding its steps and decision');
  assert.ok(partsOf(whole!).filter((p) => p.type === 'txn.step').length >= 3, 'a multi-step transaction');
  await log.close();
  const batch = journal.writes.slice(w0).find((w) => w.ops.some((o) => o.type === 'put' && o.key.endsWith(seqKey(start))))!;
  assert.ok(batch && batch.ops.length >= 3, 'the record, its index entries and the head in one batch');
  const upto = journal.writes.indexOf(batch);
  const seen = new Set<string>();
  for (let k = 0; k <= batch.ops.length; k++) {
    const img = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await img.open();
    for (const w of [...journal.writes.slice(0, upto), { ops: batch.ops.slice(0, k) }]) {
      if (w.ops.length) await img.batch(w.ops.map((o) => (o.type === 'put' ? { type: 'put' as const, key: o.key, value: o.value! } : { type: 'del' as const, key: o.key })));
    }
    // a record past the head is damage (BG_LOG_CORRUPT): repair drops it, as the faults spec does
    try {
      await (await EventLog.open(img)).close();
    } catch (err) {
      assert.is((err as { code?: string }).code, 'BG_LOG_CORRUPT', `cut ${k}: ${String(err)}`);
      const damaged = await EventLog.open(img, { verify: 'none' });
      await damaged.repair();
      await damaged.close();
    }
    let l = await EventLog.open(img);
    const re = await Engine.open(l);
    const got = stateHash(re.state);
    assert.ok(got === before || got === after, `cut after ${k} of ${batch.ops.length} operations: before or after`);
    seen.add(got === before ? 'before' : 'after');
    assert.equal(re.openTransactions, [], `cut ${k}: nothing left open`);
    assert.ok((await l.verify()).ok, `cut ${k}: chain verifies`);
    const head = l.head;
    await l.close();
    l = await EventLog.open(img);
    await Engine.open(l);
    assert.is(l.head, head, `cut ${k}: a second recovery writes nothing`);
    await l.close();
  }
  return [...seen].sort();
}

test('a cut inside the batch of a whole transaction (one record: begun, steps, decision) recovers to before or after it', async () => {
  assert.equal(await tornWhole(false), ['after', 'before'], 'both ends reached');
});

test('intent first (the default): a cut inside the record\'s batch recovers to after it (the synced intent run again)', async () => {
  assert.equal(await tornWhole(true), ['after']);
});

test.run();
