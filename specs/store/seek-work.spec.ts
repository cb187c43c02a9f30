// A seek (`show --at`, `diff`, `render --at`) costs the same work on a long log as on a short
// one: the read-only open checks the records from the newest snapshot on (store/verify.ts
// scanSinceSnapshot), the fold starts at the nearest snapshot at or before the seq (replay.ts).
// Counted at two log sizes (4x apart) by the records each step reads, never by timing.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLog } from '../../bench/build-log.js';
import { replay } from '../../replay/replay.js';
import { openClassic, openReadOnly, type EventLog } from '../../store/index.js';
import { scanWork } from '../../store/verify.js';
import { tempDir } from '../engine/helpers.js';

const t = tempDir('bg-seekwork-');
const EVERY = 1000;
const heads: Record<string, number> = {};

async function build(name: string, records: number): Promise<string> {
  const dir = join(t.dir, name);
  const log = await openClassic(dir);
  const r = await buildLog(log, { records, base: 10, snapshotEvery: EVERY });
  await log.close();
  heads[name] = r.head;
  return dir;
}

/** Records the open checks and records the seek to `at` folds. */
async function seekWork(dir: string, at: (head: number) => number): Promise<{ open: number; fold: number; seq: number }> {
  scanWork.records = 0;
  const log: EventLog = await openReadOnly(dir, { verify: 'since-snapshot' });
  const open = scanWork.records;
  let fold = 0;
  const chunks = log.readChunks.bind(log);
  log.readChunks = (range) => {
    const g = chunks(range);
    return (async function* () { for await (const c of g) { fold += c.length; yield c; } })();
  };
  const f = await replay(log, { upTo: at(log.head) });
  await log.close();
  return { open, fold, seq: f.seq };
}

let small = '';
let big = '';
test.before(async () => {
  small = await build('small', 4_000);
  big = await build('big', 16_000);
});
test.after(() => t.done());

for (const [where, at] of [['start', () => 5], ['middle', (h: number) => Math.floor(h / 2) + 3], ['head', (h: number) => h]] as const) {
  test(`a seek to the ${where} reads as many records on a 16k-record log as on a 4k one`, async () => {
    const a = await seekWork(small, at);
    const b = await seekWork(big, at);
    assert.is(a.seq, at(heads.small!));
    assert.is(b.seq, at(heads.big!));
    // The open: from the newest snapshot to the head, under one cadence (plus one command).
    for (const w of [a, b]) assert.ok(w.open <= EVERY + 20, `open checked ${w.open} records`);
    // The fold: from the nearest snapshot at or before the seq.
    for (const w of [a, b]) assert.ok(w.fold <= EVERY + 20, `fold read ${w.fold} records`);
    assert.ok(Math.abs(a.open - b.open) <= EVERY + 20 && Math.abs(a.fold - b.fold) <= EVERY + 20);
    // Against the whole log: a full check reads every record (the counter does count).
    scanWork.records = 0;
    const full = await openReadOnly(big, { verify: 'full' });
    await full.close();
    assert.is(scanWork.records, heads.big);
  });
}

test.run();
