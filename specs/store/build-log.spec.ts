// The 10M-record bench log builder (bench/build-log.ts) writes exactly what the engine writes:
// the same keys and values (records, index entries, head and index meta, snapshots) as an
// Engine driven through the same commands with the same clock, and its fast path (stored text
// from templates) the same as its slow path (encodeRecord through appendNow).
import { INTENT_KEY } from '../../store/codec.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLog } from '../../bench/build-log.js';
import { Engine } from '../../engine/engine.js';
import { openMemory, type EventLog } from '../../store/index.js';

const RECORDS = 2600; // past two snapshots (every 1000) and well into the fast path

async function dump(log: EventLog): Promise<Array<[string, string]>> {
  // a raw read beside the log: a record held after its intent (the engine's default, docs/drills.md
  // "Version 7") written first; the intent slot (one meta key, not a record) is the engine's
  // alone, overwritten per command, and not what the builder makes
  await log.whenWritten();
  const all = (await log.db.iterator({ keyEncoding: 'utf8', valueEncoding: 'utf8' }).all()) as Array<[string, string]>;
  return all.filter(([k]) => k !== `!meta!${INTENT_KEY}`);
}

async function engineLog(base: number, records: number): Promise<EventLog> {
  const log = await openMemory();
  let t = Date.parse('2026-01-01T00:00:00.000Z');
  const e = await Engine.open(log, { clock: () => new Date((t += 10)).toISOString(), snapshotEvery: 1000 });
  const run = async (cmd: string, args: Record<string, unknown>) => {
    const r = await e.execute('A', cmd, args);
    assert.not.ok('error' in r.reply, `${cmd} ${JSON.stringify(args)}`);
  };
  for (let i = 0; i < base; i++) {
    await run('blockdev-add', { driver: 'null-co', 'node-name': `b${i}` });
    await run('blockdev-add', { driver: 'raw', 'node-name': `rb${i}`, file: `b${i}` });
  }
  for (let c = 0; log.head < records; c++) {
    await run('blockdev-add', { driver: 'null-co', 'node-name': `x${c}` });
    await run('blockdev-add', { driver: 'raw', 'node-name': `r${c}`, file: `x${c}` });
    await run('blockdev-del', { 'node-name': `r${c}` });
    await run('blockdev-del', { 'node-name': `x${c}` });
  }
  return log;
}

test('the builder (slow path) stores what the engine stores for the same commands', async () => {
  const built = await openMemory();
  const r = await buildLog(built, { records: RECORDS, base: 10, fast: false });
  const engine = await engineLog(10, RECORDS);
  assert.is(r.head, engine.head);
  assert.ok(r.snapshots >= 2);
  const a = await dump(built);
  const b = await dump(engine);
  assert.is(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.equal(a[i], b[i], `entry ${i} (${b[i]![0]})`);
  await built.close();
  await engine.close();
});

test('the fast path stores what the slow path stores, and the log verifies', async () => {
  const slow = await openMemory();
  const fast = await openMemory();
  const rs = await buildLog(slow, { records: RECORDS, base: 10, fast: false });
  const rf = await buildLog(fast, { records: RECORDS, base: 10 });
  assert.is(rf.head, rs.head);
  assert.is(rf.snapshots, rs.snapshots);
  await fast.db.open(); // the fast path closes the log it was given
  const a = await dump(slow);
  const b = await dump(fast);
  assert.is(b.length, a.length);
  for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], `entry ${i} (${a[i]![0]})`);
  const { EventLog } = await import('../../store/event-log.js');
  const reopened = await EventLog.open(fast.db, { verify: 'full' });
  assert.is(reopened.head, rs.head);
  assert.equal(await reopened.verify(), { ok: true, head: rs.head });
  await reopened.close();
  await slow.close();
});

test.run();
