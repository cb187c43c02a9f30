// Storage faults under an engine workload: the crash journal (store/faulty.ts) rebuilds what a
// crash would leave on disk, losing, reordering or tearing unsynced writes; plus damage to a real
// LevelDB (truncated tail, zeroed hole, flipped byte) repaired by the CLI. In every case: open
// either succeeds or reports BG_LOG_CORRUPT with the first bad seq; after repair and recovery the
// state is the state after some prefix of the operations, every operation whose decision was
// synced survives, and the invariants hold.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { canonicalJson } from '../../graph/hash.js';
import { checkInvariants } from '../../graph/invariants.js';
import { LogCorruptError } from '../../errors/index.js';
import { referenceRun, scenarioCalls } from '../../replay/drill.js';
import { randomScenario, seededChooser } from '../../replay/drill/workload.js';
import { EventLog, openClassic } from '../../store/index.js';
import { CrashJournal, type CrashFault } from '../../store/faulty.js';
import { HEADER, seqKey } from '../../store/codec.js';
import { MemoryLevel } from 'memory-level';
import { tempDir } from '../engine/helpers.js';

const calls = scenarioCalls(randomScenario(3, 60));
const refP = referenceRun(calls);

/** Opens a crashed image: ok, or BG_LOG_CORRUPT then repair. Returns the recovered engine and what repair dropped. */
async function openOrRepair(db: MemoryLevel<string, string>) {
  let corruptAt: number | undefined;
  let dropped = 0;
  try {
    await (await EventLog.open(db)).close().catch(() => undefined);
  } catch (e) {
    assert.instance(e, LogCorruptError);
    assert.is((e as LogCorruptError).code, 'BG_LOG_CORRUPT');
    corruptAt = (e as LogCorruptError).seq;
    const l = await EventLog.open(db, { verify: 'none' });
    const r = await l.repair();
    assert.is(r.head, corruptAt - 1, 'repair keeps exactly the records before the first bad seq');
    dropped = r.dropped;
  }
  const log = await EventLog.open(db);
  const engine = await Engine.open(log, { clock: FIXED_CLOCK });
  return { log, engine, corruptAt, dropped };
}

async function checkAfterCrash(db: MemoryLevel<string, string>, syncedDecisions: number) {
  const ref = await refP;
  const { log, engine, corruptAt, dropped } = await openOrRepair(db);
  const got = canonicalJson(engine.state);
  const idx = ref.states.lastIndexOf(got); // refusals repeat a state: take its latest position
  assert.ok(idx >= 0, 'recovered state is the state after some prefix of the operations');
  const durable = ref.ops.filter((o) => o.decided !== undefined && o.decided <= syncedDecisions).length;
  const committedBefore = ref.ops.slice(0, idx).filter((o) => o.decided !== undefined).length;
  assert.ok(committedBefore >= durable, `every synced decision survives (${committedBefore} >= ${durable})`);
  assert.equal(checkInvariants(engine.state), []);
  assert.equal(await log.verify(), { ok: true, head: log.head });
  await log.close();
  return { corruptAt, dropped };
}

/**
 * Crashes after every operation of the workload, with each kind of fault. With the intent first
 * (the default, docs/drills.md "Version 7"), twice per operation: right after the reply (its
 * intent synced, its record held: not yet in the journal, so the open must run the intent again)
 * and once the held record is written on its own, unsynced (as the hold's timer writes it), so
 * that there are unsynced writes to lose, reorder and tear.
 */
async function crashJournal(intentFirst: boolean): Promise<{ faults: number; corrupt: number; pending: number }> {
  const ref = await refP;
  const rnd = seededChooser(99);
  let faults = 0;
  let corrupt = 0;
  let pending = 0;
  const base = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await base.open();
  const journal = CrashJournal.attach(base);
  const log = await EventLog.open(base);
  const e = await Engine.open(log, { clock: FIXED_CLOCK, intentFirst });
  const images = async () => {
    const un = journal.unsynced.length;
    const syncedTo = Math.max(0, ...ref.ops.filter((o) => o.decided !== undefined && o.decided <= e.head).map((o) => o.decided!));
    const kinds: CrashFault[] = [{ kind: 'lose-unsynced' }];
    if (un > 1) kinds.push({ kind: 'keep', order: [un - 1] }, { kind: 'keep', order: [un - 1, 0] });
    if (un > 0) kinds.push({ kind: 'torn', writes: rnd.int(un), ops: 1 + rnd.int(3) });
    for (const f of kinds) {
      const img = await journal.crashImage(f);
      const r = await checkAfterCrash(img, syncedTo);
      faults++;
      if (r.corruptAt !== undefined) corrupt++;
      await img.close();
    }
  };
  for (const c of calls) {
    await e.execute(c.proc, c.command, c.args);
    if (log.writtenHead < log.head) pending++;
    await images();
    if (intentFirst && log.writtenHead < log.head) {
      await log.whenWritten();
      await images();
    }
  }
  await log.close();
  return { faults, corrupt, pending };
}

test('crash journal: losing, reordering or tearing unsynced writes never breaks recovery', async () => {
  const { faults, corrupt, pending } = await crashJournal(false);
  assert.is(pending, 0, 'without the intent, the head is written at the reply');
  assert.ok(faults > 150, `faults ${faults}`);
  assert.ok(corrupt > 10, `some faults must damage the log (${corrupt})`);
  console.log(`  crash journal: ${faults} simulated crashes, ${corrupt} opened as BG_LOG_CORRUPT and were repaired`);
});

test("crash journal, intent first (the default): a reply's record held or written unsynced, every crash recovers", async () => {
  const { faults, corrupt, pending } = await crashJournal(true);
  assert.ok(pending >= 15, `replies whose record was still held (${pending}): crashes the open must recover by running the intent again`);
  assert.ok(faults > 120, `faults ${faults}`);
  assert.ok(corrupt > 10, `some faults must damage the log (${corrupt})`);
  console.log(`  crash journal, intent first: ${faults} simulated crashes (${pending} with a held record), ${corrupt} opened as BG_LOG_CORRUPT and were repaired`);
});

const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

async function engineStore(db: string) {
  const log = await openClassic(db);
  const e = await Engine.open(log, { clock: FIXED_CLOCK });
  for (const c of calls) await e.execute(c.proc, c.command, c.args);
  const head = log.head;
  await log.close();
  return head;
}

const damage: [string, (raw: ClassicLevel<string, Buffer>, head: number) => Promise<number>][] = [
  ['truncated tail', async (raw, head) => {
    for (let s = head - 4; s <= head; s++) await raw.del(`!log!${seqKey(s)}`);
    return head - 4;
  }],
  ['zeroed hole', async (raw, head) => {
    const k = `!log!${seqKey(Math.floor(head / 2))}`;
    await raw.put(k, Buffer.alloc((await raw.get(k))!.length));
    return Math.floor(head / 2);
  }],
  ['flipped byte', async (raw, head) => {
    const k = `!log!${seqKey(head - 7)}`;
    const v = Buffer.from((await raw.get(k))!);
    v[HEADER + 3]! ^= 0x04;
    await raw.put(k, v);
    return head - 7;
  }],
];

for (const [name, hurt] of damage) {
  test(`${name} on real LevelDB: open names the seq (exit 3), repair drops the rest, recovery lands on an operation boundary`, async () => {
    const ref = await refP;
    const t = tempDir();
    try {
      const db = join(t.dir, 'db');
      const head = await engineStore(db);
      const raw = new ClassicLevel<string, Buffer>(db, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
      await raw.open();
      const bad = await hurt(raw, head);
      await raw.close();
      const v = bg('verify', '--json', '--db', db);
      assert.is(v.status, 3, v.stderr);
      assert.is(JSON.parse(v.stdout).firstBad, bad);
      const show = bg('show', '--db', db);
      assert.is(show.status, 3);
      assert.match(show.stderr, new RegExp(`BG_LOG_CORRUPT`));
      assert.match(show.stderr, new RegExp(`seq ${bad}\\b`));
      const r = bg('repair', '--db', db);
      assert.is(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`kept records 1\\.\\.${bad - 1}\\n`));
      // Nothing is deleted: the records after the break are moved to the quarantine file.
      if (name === 'truncated tail') assert.match(r.stdout, /no record after the break/);
      else assert.match(r.stdout, new RegExp(`moved ${head - bad + 1} entries after the break to .*quarantine`));
      const log = await openClassic(db);
      const e = await Engine.open(log, { clock: FIXED_CLOCK });
      const op = ref.ops.find((o) => o.first <= bad - 1 && bad - 1 <= o.last);
      const got = canonicalJson(e.state);
      assert.ok(op ? got === op.before || got === op.after : got === ref.states[0], 'before- or after-state of the interrupted operation');
      assert.ok(ref.states.includes(got));
      assert.equal(checkInvariants(e.state), []);
      await log.close();
    } finally {
      t.done();
    }
  });
}

test.run();
