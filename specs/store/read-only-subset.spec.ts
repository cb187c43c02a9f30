// A seek's read-only open links only the tables its read needs (store/read-only-subset.ts),
// behind a MANIFEST naming them: the open's work does not grow with the store's table count.
// Counted at two log sizes (4x apart, the tables compacted into 1 MiB files so that their count
// grows with the log) by the tables linked into the view and the table files the process holds
// open, never by timing. And the view never answers wrongly: the same state as a view with every
// table, and a read outside what it holds is refused (BG_VIEW_RANGE), then served by a full view.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLog } from '../../bench/build-log.js';
import { withReadLog } from '../../cli/context.js';
import { stateHash } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { EventLog, openReadOnly } from '../../store/index.js';
import { copyWork, subsetWork } from '../../store/read-only.js';
import { scanReopen } from '../../store/scan-reopen.js';
import { tempDir } from '../engine/helpers.js';

const t = tempDir('bg-subset-');
const heads: Record<string, number> = {};

/** A log of `records` records, its tables compacted into files of LevelDB's smallest size (1 MiB). */
async function build(name: string, records: number, snapshotEvery = 1000): Promise<string> {
  const dir = join(t.dir, name);
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', maxFileSize: 1 << 20 } as object);
  await db.open();
  const r = await buildLog(await EventLog.open(db, {}), { records, base: 10, snapshotEvery, flushEvery: 2000 });
  if (db.status !== 'open') await db.open();
  await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\x00', '\xff');
  await db.close();
  heads[name] = r.head;
  return dir;
}

/** Table files of private views the process has open or mapped (LevelDB's table cache mmaps a table and closes its fd). */
function tablesOpen(): number {
  const seen = new Set<string>();
  const table = /\/bg-ro-[^/]*\/\d+\.(ldb|sst)$/;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const p = readlinkSync(`/proc/self/fd/${fd}`);
      if (table.test(p)) seen.add(p);
    } catch { /* closed meanwhile */ }
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const p = line.slice(line.indexOf('/'));
    if (line.includes('/') && table.test(p)) seen.add(p);
  }
  return seen.size;
}

interface Work { linked: number; tablesInStore: number; open: number; hash: string; full: string }

async function seekWork(dir: string, at: number): Promise<Work> {
  const fullLog = await openReadOnly(dir, { verify: 'since-snapshot' });
  const full = stateHash((await replay(fullLog, { upTo: at })).state);
  await fullLog.close();
  copyWork.linked = 0;
  const fallbacks = subsetWork.fallbacks;
  const log = await openReadOnly(dir, { verify: 'since-snapshot', seek: [at] });
  const linked = copyWork.linked;
  const hash = stateHash((await replay(log, { upTo: at })).state);
  const open = tablesOpen();
  await log.close();
  assert.is(subsetWork.fallbacks, fallbacks, 'the seek was served by a partial view');
  return { linked, tablesInStore: subsetWork.tablesInStore, open, hash, full };
}

let small = '';
let big = '';
test.before(async () => {
  small = await build('small', 24_000);
  big = await build('big', 96_000);
});
test.after(() => t.done());

for (const [where, at] of [['start', () => 5], ['middle', (h: number) => Math.floor(h / 2) + 3], ['head', (h: number) => h]] as const) {
  test(`a seek to the ${where} links as many tables on a 96k-record log as on a 24k one`, async () => {
    const a = await seekWork(small, at(heads.small!));
    const b = await seekWork(big, at(heads.big!));
    if (process.env.SUBSET_DEBUG) console.log(where, a, b);
    assert.is(a.hash, a.full);
    assert.is(b.hash, b.full);
    // The store's tables grow with the log; what a seek links and opens does not.
    assert.ok(b.tablesInStore >= 3 * a.tablesInStore, `tables: ${a.tablesInStore} → ${b.tablesInStore}`);
    // Each of a seek's two log windows (4096 seqs before the seek, and before the newest seq) spans
    // two or three 1 MiB tables (~3,400 records each) depending on where the tables' boundaries
    // fall, which moves whenever the records' size does (format version 5 moved it): one more
    // table per window between the two logs is alignment, not growth; 3 + 3 and the tail's
    // snapshot / index table is the most any log size gives.
    assert.ok(b.linked <= a.linked + 2, `linked ${a.linked} → ${b.linked}`);
    assert.ok(b.linked <= 7, `linked ${b.linked} of ${b.tablesInStore}`);
    assert.ok(b.open >= 1 && b.open <= b.linked, `open ${b.open}`);
  });
}

test('a read outside what a seek view holds is refused, never answered from what is there', async () => {
  const log = await openReadOnly(big, { verify: 'since-snapshot', seek: [heads.big!] });
  try {
    const err = await log.recordAt(7).then(() => undefined, (e: unknown) => e);
    assert.is((err as { code?: string })?.code, 'BG_VIEW_RANGE');
    const scan = await (async () => { for await (const _ of log.read({ gte: 1 })) void _; })().then(() => undefined, (e: unknown) => e);
    assert.is((scan as { code?: string })?.code, 'BG_VIEW_RANGE');
    // What it holds it answers: the head's record.
    assert.is((await log.recordAt(heads.big!))?.seq, heads.big);
  } finally {
    await log.close();
  }
});

test('withReadLog serves a read the seek view refuses from a view with every table', async () => {
  const [at, other] = [heads.big!, 11];
  const fullLog = await openReadOnly(big, { verify: 'since-snapshot' });
  const want = stateHash((await replay(fullLog, { upTo: other })).state);
  await fullLog.close();
  const fallbacks = subsetWork.fallbacks;
  const got = await withReadLog(big, async (log) => stateHash((await replay(log, { upTo: other })).state), { seek: [at] });
  assert.is(got, want);
  assert.is(subsetWork.fallbacks, fallbacks); // the open itself was partial; the retry is withReadLog's
});

test('a log without snapshots: the window widens, then every table; the state is the same', async () => {
  const dir = await build('nosnap', 24_000, 1e9);
  for (const at of [5, Math.floor(heads.nosnap! / 2), heads.nosnap!]) {
    const fullLog = await openReadOnly(dir, { verify: 'since-snapshot' });
    const want = stateHash((await replay(fullLog, { upTo: at })).state);
    await fullLog.close();
    const log = await openReadOnly(dir, { verify: 'since-snapshot', seek: [at] });
    const got = stateHash((await replay(log, { upTo: at })).state);
    await log.close();
    assert.is(got, want, `at ${at}`);
  }
});

/** The most table files mapped at once while the whole log is read in order (store/scan-reopen.ts). */
async function scanWork(dir: string): Promise<{ maxMapped: number; records: number; reopens: number }> {
  const log = await openReadOnly(dir, { verify: 'since-snapshot' });
  let maxMapped = 0;
  let records = 0;
  const reopens = scanReopen.reopens;
  try {
    for await (const chunk of log.readChunks({})) {
      records += chunk.length;
      maxMapped = Math.max(maxMapped, tablesOpen());
    }
    // The view still answers after its reopens (sublevels reopened with it).
    assert.is((await log.recordAt(3))?.seq, 3);
    assert.ok(await log.latestSnapshot());
  } finally {
    await log.close();
  }
  return { maxMapped, records, reopens: scanReopen.reopens - reopens };
}

test('a scan of the whole log keeps as many tables mapped on a 96k-record log as on a 24k one', async () => {
  const bytes = scanReopen.bytes;
  scanReopen.bytes = 2 << 20; // LevelDB's 64-table cache would hold every table of these logs
  try {
    const a = await scanWork(small);
    const b = await scanWork(big);
    if (process.env.SUBSET_DEBUG) console.log(a, b, subsetWork.tablesInStore);
    assert.is(a.records, heads.small);
    assert.is(b.records, heads.big);
    assert.ok(b.reopens >= 3 * Math.max(1, a.reopens) - 1, `reopens ${a.reopens} → ${b.reopens}`);
    assert.ok(b.maxMapped <= a.maxMapped + 2, `mapped ${a.maxMapped} → ${b.maxMapped}`);
    assert.ok(b.maxMapped <= 8, `mapped ${b.maxMapped}`);
  } finally {
    scanReopen.bytes = bytes;
  }
});

test.run();
