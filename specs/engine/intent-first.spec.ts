// The intent before the model (engine/intent.ts; docs/drills.md "Version 7"; issue 15, stop 42):
// with intentFirst the engine writes the same records and gives the same replies as without it;
// a store cut between a command's synced intent and its record (the crash the option adds) is
// recovered by running the intent again: the writer's open appends the very record the
// uncut run wrote and reaches the after-state, a read-only open folds it in memory and changes
// no file. Without the re-execution the reopened state is the before-state (the spec fails).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClassicLevel } from 'classic-level';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { canonicalJson } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { intentFoldWork } from '../../replay/intent-fold.js';
import { intentEligible } from '../../engine/intent.js';
import { EventLog, openClassic, openReadOnly } from '../../store/index.js';
import { sublevelsOf } from '../../store/codec.js';
import { fileHashes } from '../store/fault-matrix.js';
import { CHAIN, tempDir } from './helpers.js';

type Call = [string, Record<string, unknown>];
const WORK: Call[] = [
  ...CHAIN.map(([c, a]) => [c, a as unknown as Record<string, unknown>] as Call),
  ['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } }],
  ['blockdev-add', { driver: 'null-co', 'node-name': 'n0' }],
  ['blockdev-del', { 'node-name': 'nosuch' }], // refused: its command.rejected
  ['query-named-block-nodes', {}], // a query: never an intent
  ['object-add', { 'qom-type': 'secret', id: 'sec0', data: 'hunter2' }], // a secret: never in an intent
  ['blockdev-add', { driver: 'null-co', 'node-name': 'n1' }],
  ['blockdev-del', { 'node-name': 'n0' }],
];

/** Runs `calls` (then three pipelined adds) on a store; replies, and how many intents were put. */
async function run(dir: string, intentFirst: boolean, calls: Call[] = WORK, burst = true): Promise<{ replies: string[]; intents: number }> {
  // (a hold no timer ends on a loaded machine: the counts below are the protocol's, not the scheduler's)
  const log = await openClassic(dir, { holdMs: 60_000 });
  let intents = 0;
  const put = log.putIntentNow.bind(log);
  log.putIntentNow = (v: string) => { const p = put(v); if (p) intents++; return p; };
  const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst });
  const replies: string[] = [];
  for (const [c, a] of calls) {
    await log.whenWritten(); // a sequential client: the log idle when each command arrives
    replies.push(canonicalJson((await e.execute('A', c, a)).reply));
  }
  if (burst) {
    const rs = await Promise.all(['p0', 'p1', 'p2'].map((n) => e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': n })));
    for (const r of rs) replies.push(canonicalJson(r.reply));
  }
  await log.close();
  return { replies, intents };
}

async function records(dir: string): Promise<{ hashes: string[]; state: string; head: number }> {
  const log = await openClassic(dir);
  const hashes = (await log.readAll()).map((r) => r.hash);
  const state = canonicalJson((await replay(log, { intent: false })).state);
  const head = log.head;
  await log.close();
  return { hashes, state, head };
}

test('intentFirst gives the same replies and writes the same records (hash for hash) as without it', async () => {
  const t = tempDir('bg-intent-');
  try {
    const off = await run(`${t.dir}/off`, false);
    const on = await run(`${t.dir}/on`, true);
    assert.equal(on.replies, off.replies);
    assert.is(off.intents, 0);
    // every eligible command of the sequential part went intent first (not the query, not the
    // secret), and the burst's first (it joins the last record's held group); the two others
    // came while a write was in flight
    assert.is(on.intents, WORK.length - 2 + 1);
    const [a, b] = [await records(`${t.dir}/off`), await records(`${t.dir}/on`)];
    assert.equal(b.hashes, a.hashes);
    assert.ok(a.hashes.length >= WORK.length, `records ${a.hashes.length}`);
  } finally {
    t.done();
  }
});

test('a sequential client: the record after an intent waits for the next intent, one synced batch per command', async () => {
  const t = tempDir('bg-intent-batches-');
  try {
    // (a hold long enough that only the next intent or the close releases it, however loaded the machine)
    const log = await openClassic(`${t.dir}/db`, { anchor: false, holdMs: 60_000 });
    const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst: true });
    const db = log.db as unknown as { batch: (...a: unknown[]) => Promise<void> };
    const batch = db.batch.bind(db);
    const syncs: boolean[] = [];
    db.batch = (...a: unknown[]) => { syncs.push((a[1] as { sync?: boolean } | undefined)?.sync === true); return batch(...a); };
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await e.execute('A', i % 2 ? 'blockdev-del' : 'blockdev-add', i % 2 ? { 'node-name': `n${i - 1}` } : { driver: 'null-co', 'node-name': `n${i}` });
      assert.ok('return' in r.reply);
    }
    await log.close();
    // the first intent alone, then each command's intent with the record before it, then the last record at close
    assert.is(syncs.length, n + 1, `batches ${syncs.length}: ${syncs.map((x) => (x ? "S" : "u")).join("")}`);
    assert.is(syncs.filter((x) => x).length, n);
    assert.is(syncs.at(-1), false);
  } finally {
    t.done();
  }
});

/**
 * A store cut between the last call's synced intent and its record: the record's append throws
 * (nothing of it reaches the log), the intent's batch is already on its way and is written.
 */
async function cutAfterIntent(dir: string, calls: Call[]): Promise<void> {
  await run(dir, true, calls.slice(0, -1), false);
  const log = await openClassic(dir);
  const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst: true });
  let put = 0;
  const p = log.putIntentNow.bind(log);
  log.putIntentNow = (v: string) => { const r = p(v); if (r) put++; return r; };
  log.appendRawNow = () => { throw new Error('crash: the record is never written'); };
  log.appendNow = () => { throw new Error('crash: the record is never written'); };
  const [c, a] = calls.at(-1)!;
  await e.execute('A', c, a).then(() => assert.unreachable('the record was written'), (err: Error) => assert.match(err.message, /crash/));
  await log.whenWritten();
  assert.is(put, 1, 'the intent was put');
  await log.close();
}

for (const [what, last] of [
  ['a multi-step blockdev-add', 3],
  ['a blockdev-del', WORK.length],
  ['a refused command (its command.rejected)', 5],
] as const) {
  test(`a crash after the intent of ${what}: the writer's open runs it again (the reference's record, the after-state); a read-only open folds it and writes nothing`, async () => {
    const t = tempDir('bg-intent-cut-');
    try {
      const calls = WORK.slice(0, last);
      await run(`${t.dir}/ref`, false, calls, false);
      const ref = await records(`${t.dir}/ref`);
      await run(`${t.dir}/before`, false, calls.slice(0, -1), false);
      const before = await records(`${t.dir}/before`);
      const db = `${t.dir}/cut`;
      await cutAfterIntent(db, calls);
      const cut = await records(db);
      assert.is(cut.head, ref.head - 1, 'the store ends before the record');
      assert.is(cut.state, before.state, 'the records alone: the before-state');

      // a read-only open: the after-state, in memory; not one file of the store changes
      const files = fileHashes(db);
      const n = intentFoldWork.folded;
      const ro = await openReadOnly(db);
      const f = await replay(ro);
      assert.is(ro.head, ref.head - 1);
      await ro.close();
      assert.is(intentFoldWork.folded, n + 1);
      assert.is(f.seq, ref.head);
      assert.is(canonicalJson(f.state), ref.state, 'a read-only open folds the intent: the after-state');
      assert.equal(fileHashes(db), files, 'a read never writes');

      // without running the intent again (no recovery) the engine is at the before-state
      let log = await openClassic(db);
      const bare = await Engine.open(log, { clock: FIXED_CLOCK, recover: false });
      assert.is(canonicalJson(bare.state), before.state);
      assert.is(log.head, ref.head - 1);
      await log.close();

      // the writer's open: the intent run again, its record appended, the after-state
      log = await openClassic(db);
      const e = await Engine.open(log, { clock: FIXED_CLOCK });
      assert.equal(e.lastIntent, { seq: ref.head, op: calls.at(-1)![0], wrote: true, head: ref.head });
      assert.is(canonicalJson(e.state), ref.state);
      await log.close();
      const got = await records(db);
      assert.equal(got.hashes, ref.hashes, 'the record the uncut run wrote, byte for byte');

      // once written, the intent is stale: a second open writes nothing
      log = await openClassic(db);
      const again = await Engine.open(log, { clock: FIXED_CLOCK });
      assert.is(again.lastIntent, null);
      assert.is(log.head, ref.head);
      await log.close();
    } finally {
      t.done();
    }
  });
}

test('only JSON-object arguments go intent first: an array or a number is refused by the model as before, and the store reopens (fuzz: such an intent made the slot unreadable)', async () => {
  assert.is(intentEligible('blockdev-add', [1, 2] as never), false);
  assert.is(intentEligible('blockdev-add', 7 as never), false);
  assert.is(intentEligible('blockdev-add', { driver: 'null-co', 'node-name': 'a' }), true);
  assert.is(intentEligible('object-add', { 'qom-type': 'secret', id: 's', data: 'x' }), false);
  assert.is(intentEligible('query-block', {}), false);
  const t = tempDir('bg-intent-args-');
  try {
    const db = `${t.dir}/db`;
    let log = await openClassic(db, { holdMs: 60_000 });
    const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst: true });
    const r = await e.execute('A', 'blockdev-add', [1, 2] as never);
    assert.ok('error' in r.reply);
    await log.close();
    log = await openClassic(db);
    const again = await Engine.open(log, { clock: FIXED_CLOCK });
    assert.is(again.lastIntent, null);
    await log.close();
  } finally {
    t.done();
  }
});

test('a damaged intent slot is damage: the open fails with BG_LOG_CORRUPT, it does not guess', async () => {
  const t = tempDir('bg-intent-bad-');
  try {
    const db = `${t.dir}/db`;
    await run(db, true, WORK.slice(0, 3), false);
    const raw = new ClassicLevel<string, string>(db);
    const log = await EventLog.open(raw, {});
    await sublevelsOf(raw).meta.put('intent', '00000000i[garbage');
    await log.close();
    const again = await openClassic(db);
    try {
      await Engine.open(again, { clock: FIXED_CLOCK }).then(() => assert.unreachable('opened'), (e: { code?: string }) => assert.is(e.code, 'BG_LOG_CORRUPT'));
    } finally {
      await again.close();
    }
  } finally {
    t.done();
  }
});

test.run();
