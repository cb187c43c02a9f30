// A full read-only view (the one whole-log scans read: audit, log, report) is opened without
// LevelDB replaying a WAL or compacting anything in it (store/read-only.ts makeFullView), so a
// scan's memory is not the private copy's compactions (issue 15: 217–250 MB in a scan's first
// minute on a 10M-record log). Counted from LevelDB's own LOG of the view and the table files in
// it, never by timing: no "Level-0 table" (a WAL written into a table), no "Compacting" or
// "Moved" (a compaction) at the view's open nor at a scan's reopens, and no table beyond the
// ones the view was made with. The view reads exactly what the store holds, and the store's
// files stay byte for byte as they were.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLog } from '../../bench/build-log.js';
import { EventLog, openReadOnly } from '../../store/index.js';
import { fullViewWork, uncompactedLayout } from '../../store/read-only.js';
import { scanReopen } from '../../store/scan-reopen.js';
import type { TableFile } from '../../store/leveldb-version.js';
import { tempDir } from '../engine/helpers.js';
import { fileHashes, inProcess } from './fault-matrix.js';

const t = tempDir('bg-rofull-');
let source = '';
let store = '';
const GONE = ['~spec~a', '~spec~b', '~spec~c'];
const OPTS = { keyEncoding: 'utf8', valueEncoding: 'utf8', maxFileSize: 1 << 20 } as object;

async function entries(dir: string): Promise<Array<[string, string]>> {
  const db = new ClassicLevel<string, string>(dir, OPTS);
  await db.open();
  const out = await db.iterator().all();
  await db.close();
  return out;
}

/**
 * A store as LevelDB leaves one after a writer: most of it in deeper levels, then three
 * level-0 tables and a WAL not yet written into a table. Built from a real log's entries, in
 * key order, in five writes: the first compacted down, each later one flushed to level 0 by the
 * next open's WAL replay (an open that finds at most 3 level-0 tables compacts nothing, so the
 * layout is the same on every run), the last left in the WAL.
 */
test.before(async () => {
  source = join(t.dir, 'source');
  const db = new ClassicLevel<string, string>(source, OPTS);
  await db.open();
  await buildLog(await EventLog.open(db, {}), { records: 12_000, base: 10, flushEvery: 2000 });
  if (db.status === 'open') await db.close();
  const all = await entries(source);
  store = join(t.dir, 'store');
  const cut = Math.floor(all.length * 0.6);
  const chunks = [all.slice(0, cut)];
  const rest = all.length - cut;
  for (let i = 0; i < 4; i++) chunks.push(all.slice(cut + Math.floor((rest * i) / 4), cut + Math.floor((rest * (i + 1)) / 4)));
  for (let i = 0; i < chunks.length; i++) {
    const w = new ClassicLevel<string, string>(store, OPTS);
    await w.open({ createIfMissing: true } as object);
    const ops: Array<{ type: 'put' | 'del'; key: string; value?: string }> = chunks[i]!.map(([key, value]) => ({ type: 'put' as const, key, value }));
    // Keys no log reads, put deep and deleted in the WAL: the merge of level 0 must keep those deletions.
    for (const k of GONE) ops.push(i === 0 ? { type: 'put', key: k, value: 'deleted later' } : i === chunks.length - 1 ? { type: 'del', key: k } : { type: 'put', key: k + '-kept', value: String(i) });
    await w.batch(ops as Array<{ type: 'put'; key: string; value: string }>);
    if (i === 0) await (w as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('\x00', '\xff');
    await w.close();
  }
});
test.after(() => t.done());

const logLines = (dir: string, files = ['LOG', 'LOG.old']) => files.flatMap((f) => { try { return readFileSync(join(dir, f), 'utf8').split('\n'); } catch { return []; } });
const tables = (dir: string) => readdirSync(dir).filter((f) => /\.(ldb|sst)$/.test(f)).sort();

test('the store as a writer leaves it: level 0 at three tables, a WAL, deeper levels', () => {
  const lines = logLines(store).join('\n');
  assert.ok(tables(store).length >= 4, tables(store).join(' '));
  assert.not.match(lines, /Compacting \d+@0/, 'no open of the store compacted level 0');
  assert.ok(readdirSync(store).some((f) => /^\d+\.log$/.test(f)));
});

test('the full view is opened with no WAL replayed and nothing compacted, also at a scan\'s reopens; it reads what the store holds', async () => {
  const before = fileHashes(store);
  const want = await entries(source);
  const work0 = { ...fullViewWork };
  const log = await openReadOnly(store, { scan: true });
  const dir = (log.db as unknown as { location: string }).location;
  assert.is(fullViewWork.made, work0.made + 1, 'made in two stages, not the plain copy');
  const made = tables(dir);
  assert.is(made.length, fullViewWork.tables - work0.tables);
  const opened = logLines(dir, ['LOG']).join('\n'); // LOG.old is stage 1's: the WAL replay and the merge of level 0
  // Stage 1 merged level 0 (3 tables + the WAL's) by LevelDB's own compaction (which may finish
  // before the view looks at level 0, so its LOG says so, not fullViewWork.compacted).
  assert.match(logLines(dir, ['LOG.old']).join('\n'), /Level-0 table[^]*Compacting 4@0 \+ 0@1 files/);
  assert.not.match(opened, /Level-0 table/, 'no WAL written into a table at the view\'s open');
  assert.not.match(opened, /Compacting|Moved #/, 'no compaction at the view\'s open');

  const saved = scanReopen.bytes;
  const reopens = scanReopen.reopens;
  scanReopen.bytes = 256 << 10;
  try {
    const got = await log.db.iterator().all();
    for (const k of GONE) want.push([`${k}-kept`, '3']); // the last of three puts
    want.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const gone = got.filter(([k]) => GONE.includes(k)).map(([k]) => k);
    assert.equal(gone, [], 'deleted keys stay deleted');
    assert.equal(got.length, want.length);
    assert.ok(got.every(([k, v], i) => k === want[i]![0] && v === want[i]![1]), 'every key and value as the store holds them');
    let n = 0;
    for await (const r of log.read()) { n++; assert.is(r.seq, n); }
    assert.is(n, log.head);
    assert.ok(scanReopen.reopens - reopens >= 4, `reopens: ${scanReopen.reopens - reopens}`);
  } finally {
    scanReopen.bytes = saved;
  }
  const after = logLines(dir).join('\n'); // the last two reopens'
  assert.not.match(after, /Level-0 table|Compacting|Moved #/, 'nor at the scan\'s reopens');
  assert.equal(tables(dir), made, 'no table written into the view');
  await log.close();
  assert.equal(fileHashes(store), before, 'the store is byte for byte as it was');
});

test('audit, log and report read through that view; a short read keeps the plain copy', async () => {
  for (const args of [['audit'], ['audit', '--json'], ['log'], ['report', '--out', join(t.dir, 'report')]]) {
    const made = fullViewWork.made;
    const r = await inProcess([...args, '--db', store]);
    assert.is(r.status, 0, r.stderr);
    assert.is(fullViewWork.made, made + 1, args.join(' '));
  }
  const made = fullViewWork.made;
  for (const args of [['show'], ['history', 'b0']]) assert.is((await inProcess([...args, '--db', store])).status, 0, args.join(' '));
  const log = await openReadOnly(store);
  await log.close();
  assert.is(fullViewWork.made, made);
});

const file = (level: number, number: number, mb: number): TableFile => ({ level, number, size: mb * 1048576, smallest: new Uint8Array(9), largest: new Uint8Array(9) });

test('the layout puts each level at the first level it is under budget for, newest on top, or gives up', () => {
  const top = [file(0, 50, 1), file(1, 51, 30), file(1, 52, 30)]; // stage 1: level 0 and a 60 MB level 1
  const deeper = [file(1, 1, 16), file(2, 2, 188), file(3, 3, 1300), file(4, 4, 1800)];
  const out = uncompactedLayout(top, deeper)!;
  const levelOf = (n: number) => out.find((f) => f.number === n)!.level;
  assert.equal([50, 51, 52, 1, 2, 3, 4].map(levelOf), [0, 2, 2, 3, 4, 5, 6]);
  assert.is(uncompactedLayout([file(0, 1, 1), file(0, 2, 1), file(0, 3, 1), file(0, 4, 1)], []), undefined, 'level 0 at the trigger');
  assert.is(uncompactedLayout(top, [...deeper, file(5, 5, 1)]), undefined, 'more levels than LevelDB has');
  assert.equal(uncompactedLayout([], [file(2, 7, 5)])!.map((f) => f.level), [1], 'a level moves up where it fits');
});

test.run();
