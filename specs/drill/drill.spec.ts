// Crash drills end to end: every crash point of a small oracle scenario in a SIGKILLed child on
// real LevelDB, a few random kills, and proof that the checker catches a bad recovery.
// DRILL_FULL=1: several oracle transcripts, all their points, and more random kills.
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { parseScenario } from '../../oracle/format.js';
import { checkRecovered, crashPoints, drillRandom, drillScenario, referenceRun, scenarioCalls } from '../../replay/drill.js';
import { openClassic } from '../../store/index.js';
import { cutAfterSeq } from '../../store/faulty.js';
import { tempDir } from '../engine/helpers.js';
import { partsOf } from '../../events/whole.js';

const ORACLE = TRANSCRIPTS_DIR;
const load = (name: string) => parseScenario(readFileSync(join(ORACLE, `${name}.json`), 'utf8'), name);
const FULL = process.env.DRILL_FULL === '1';

test('crash points: every record of every operation, torn batches inside, plus after each reply', async () => {
  const ref = await referenceRun(scenarioCalls(load('add-del-basic')));
  const pts = crashPoints(ref);
  // The engine writes a transaction as one record (events/whole.ts) in one synced batch (atomic
  // in LevelDB): a multi-step operation has one point after its record and one after its reply.
  // Cuts inside a batch (kind 'torn') stand for batches of several records: group commits,
  // recovery, logs of the phased protocol (older writers).
  const multi = ref.ops.find((o) => partsOf(ref.records[o.first - 1]!).filter((p) => p.type === 'txn.step').length >= 2)!;
  assert.ok(multi, 'a multi-step transaction');
  assert.is(multi.last, multi.first, 'written as one record');
  const mine = pts.filter((p) => p.op === multi.index);
  assert.equal(mine.map((p) => p.kind), ['batch', 'acked']);
  assert.is(ref.records.length, ref.ops.at(-1)!.last);
  assert.is(pts.length, ref.ops.reduce((n, o) => n + o.last - o.first + 2, 0), 'every record and every reply');
});

test('drill --no-intent-first: all crash points of add-del-basic recover to the before- or after-state', async () => {
  const r = await drillScenario(load('add-del-basic'), { intentFirst: false });
  assert.ok(r.points >= 10, `points ${r.points}`); // one record per operation (events/whole.ts): a point after it, one after its reply
  assert.is(r.sigkills, r.points, 'every child died by SIGKILL');
  assert.equal(r.failures, []);
  assert.is(r.passed, r.points);
});

test('drill (intent first, the default): a crash between each command\'s synced intent and its record recovers to the after-state, the record the reference wrote (engine/intent.ts)', async () => {
  const r = await drillScenario(load('add-del-basic'));
  const ref = await referenceRun(scenarioCalls(load('add-del-basic')));
  // every operation of add-del-basic goes intent first: a point between intent and record, one after the record, one after the reply
  assert.is(r.points, ref.ops.length * 3, `points ${r.points}`);
  assert.is(r.sigkills, r.points, 'every child died by SIGKILL');
  assert.equal(r.failures, []);
  assert.ok(crashPoints(ref, { intentFirst: true }).filter((p) => p.kind === 'intent').length === ref.ops.length);
});

test('drill --random (intent first, the default): children SIGKILLed at seeded random times, intents pending among them', async () => {
  const r = await drillRandom(load('add-del-basic'), { kills: 3, seed: 12, length: 150 });
  assert.is(r.points, 3);
  assert.equal(r.failures, []);
});

test('drill --random --no-intent-first: children SIGKILLed by the parent at seeded random times', async () => {
  const r = await drillRandom(load('add-del-basic'), { kills: 3, seed: 11, length: 150, intentFirst: false });
  assert.is(r.points, 3);
  assert.equal(r.failures, []);
});

test('the checker fails a store whose acknowledged operation was lost, or left unrecovered', async () => {
  const calls = scenarioCalls(load('add-del-basic'));
  const ref = await referenceRun(calls);
  // (not the first: the cut falls after the record before op's, which must exist)
  const op = ref.ops.find((o) => o.decided !== undefined && o.ok && o.decided > 1)!;
  const t = tempDir();
  // The log stops just before op's decision (written in-process: the cut throws instead of dying).
  const cutStore = async (db: string) => {
    const log = await openClassic(db);
    // (the record first: with the intent first, the default, the synced intent would make the
    // cut command recoverable, which is what the intent's own points check)
    const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst: false });
    let stop = false;
    cutAfterSeq(log, op.decided! - 1, () => { stop = true; throw new Error('cut'); });
    for (const c of calls.slice(0, op.call + 1)) {
      await e.execute(c.proc, c.command, c.args).catch(() => undefined);
      if (stop) break;
    }
    await log.close();
  };
  try {
    await cutStore(join(t.dir, 'a'));
    const bad = await checkRecovered(join(t.dir, 'a'), ref, [{ call: op.call, head: op.last }]);
    assert.ok(bad.failures.some((f) => /acknowledged/.test(f)), bad.failures.join('; '));
    // Without the false acknowledgement the same cut is fine.
    await cutStore(join(t.dir, 'b'));
    const good = await checkRecovered(join(t.dir, 'b'), ref, []);
    assert.equal(good.failures, []);
    // op is one record (its decision inside): the store ends with the operation before it, in
    // that one's after-state (op's before-state)
    assert.is(good.state, 'after');
    assert.is(good.cut, op.decided! - 1);
    // A store that is not the reference's prefix is flagged too (here: a record the reference
    // run does not have where op's belongs; a whole transaction leaves recovery nothing to write).
    const log = await openClassic(join(t.dir, 'b'));
    await (await Engine.open(log, { clock: FIXED_CLOCK })).execute('A', 'no-such-command', {});
    await log.close();
    const again = await checkRecovered(join(t.dir, 'b'), ref, []);
    assert.ok(again.failures.some((f) => /differs from the reference/.test(f)));
  } finally {
    t.done();
  }
});

if (FULL) {
  test('DRILL_FULL: every crash point of several oracle transcripts, and 20 random kills', async () => {
    const names = ['add-backing-reference', 'lock-cross-process', 'reopen-insert-throttle', 'job-stream-finalize', 'job-mirror-complete', 'replace-snapshot-export-moves', 'aio-snapshot-across'];
    let points = 0;
    for (const n of names) {
      const r = await drillScenario(load(n));
      console.log(`drill ${n}: ${r.operations} ops, ${r.records} records, ${r.points} points, ${r.failed} failed, ${r.ms} ms`);
      assert.equal(r.failures, [], n);
      points += r.points;
    }
    const q = await drillRandom(load('job-mirror-complete'), { kills: 20, seed: 7, length: 400 });
    console.log(`drill --random 20: ${q.failed} failed; interrupted: ${q.rows.map((x) => `${x.operation}×${x.points}`).join(', ')}`);
    assert.equal(q.failures, []);
    console.log(`DRILL_FULL: ${points + q.points} SIGKILL trials, 0 failures`);
  });
}

test.run();
