// A read's open costs O(files), not O(store size): the store's immutable tables are hard-linked
// into the private directory, only CURRENT, the MANIFEST and the WAL are copied (counted by
// copyWork), and the store stays byte for byte as it was, including an orphan table numbered
// where LevelDB's next file will go (which a link would let the copy's open truncate).
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { copyWork } from '../../store/read-only.js';
import { fileNumber, manifestNextFileNumber } from '../../store/leveldb-manifest.js';
import { openReadOnly } from '../../store/index.js';
import { fileHashes, makePristine, type Pristine } from './fault-matrix.js';

const t = tempDir('bg-rolink-');
let pristine: Pristine;
const reset = () => { copyWork.linked = 0; copyWork.copied = 0; copyWork.bytesCopied = 0; };
const nextOf = (dir: string) => {
  const cur = readFileSync(join(dir, 'CURRENT'), 'latin1').trim();
  return manifestNextFileNumber(readFileSync(join(dir, cur)));
};
const size = (dir: string, re: RegExp) => readdirSync(dir).filter((f) => re.test(f)).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

test.before(async () => {
  pristine = await makePristine(join(t.dir, 'pristine'), 360, 16 * 1024) // one record per transaction: three times the commands for the same tables;
});
test.after(() => t.done());

test('the MANIFEST parse gives a next file number above every table, and LevelDB numbers its new files from there', async () => {
  const next = nextOf(pristine.dir);
  assert.ok(next !== undefined);
  for (const f of readdirSync(pristine.dir)) if (/\.(ldb|sst)$/.test(f)) assert.ok(fileNumber(f)! < next!, f);
  // Independent: LevelDB's own open of a copy writes its new MANIFEST at a number >= next.
  const dir = join(t.dir, 'reopened');
  cpSync(pristine.dir, dir, { recursive: true });
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel(dir);
  await db.open();
  await db.close();
  const cur = readFileSync(join(dir, 'CURRENT'), 'latin1').trim();
  assert.ok(fileNumber(cur)! >= next!, `${cur} vs next ${next}`);
  assert.is(manifestNextFileNumber(new Uint8Array(100)), undefined, 'zeroes: unknown');
  assert.is(manifestNextFileNumber(new Uint8Array(0)), undefined);
});

test('openReadOnly links the tables and copies only CURRENT, MANIFEST and WAL; the store is unchanged', async () => {
  const before = fileHashes(pristine.dir);
  const tables = readdirSync(pristine.dir).filter((f) => /\.ldb$/.test(f)).length;
  assert.ok(tables >= 2);
  reset();
  const log = await openReadOnly(pristine.dir);
  assert.is(log.head, pristine.head);
  let n = 0;
  for await (const r of log.read()) { n++; assert.is(r.hash, pristine.hashes[r.seq]); }
  assert.is(n, pristine.head);
  await log.close();
  assert.is(copyWork.linked, tables);
  assert.is(copyWork.copied, readdirSync(pristine.dir).filter((f) => /^(CURRENT|MANIFEST-\d+|\d+\.log)$/.test(f)).length);
  assert.is(copyWork.bytesCopied, size(pristine.dir, /^(CURRENT|MANIFEST-\d+|\d+\.log)$/));
  assert.ok(copyWork.bytesCopied < size(pristine.dir, /\.ldb$/) + copyWork.bytesCopied);
  assert.equal(fileHashes(pristine.dir), before);
});

test('an orphan table at the next file number is copied, never linked: the open truncating it leaves the store alone', async () => {
  const dir = join(t.dir, 'orphan');
  rmSync(dir, { recursive: true, force: true });
  cpSync(pristine.dir, dir, { recursive: true });
  const next = nextOf(dir)!;
  const orphan = String(next).padStart(6, '0') + '.ldb';
  writeFileSync(join(dir, orphan), 'left by a crash mid-compaction');
  const before = fileHashes(dir);
  reset();
  const log = await openReadOnly(dir);
  assert.is(log.head, pristine.head);
  await log.close();
  assert.is(copyWork.linked, readdirSync(dir).filter((f) => /\.ldb$/.test(f)).length - 1);
  assert.equal(fileHashes(dir), before);
  assert.is(readFileSync(join(dir, orphan), 'utf8'), 'left by a crash mid-compaction');
});

test('the work of an open does not grow with the tables: four times the commands, only CURRENT, MANIFEST and WAL copied', async () => {
  const dir = join(t.dir, 'bigger');
  const big = await makePristine(dir, 1440, 16 * 1024);
  reset();
  const log = await openReadOnly(dir);
  assert.is(log.head, big.head);
  await log.close();
  assert.ok(copyWork.linked >= 2, JSON.stringify({ ...copyWork, files: readdirSync(dir) }));
  // Copied: CURRENT, MANIFEST, WAL, and any table at or past the next file number (a close can
  // leave one whose number the MANIFEST has not yet recorded).
  const next = nextOf(dir)!;
  const copied = (f: string) => /^(CURRENT|MANIFEST-\d+|\d+\.log)$/.test(f) || (/\.ldb$/.test(f) && fileNumber(f)! >= next);
  const want = readdirSync(dir).filter(copied).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  assert.is(copyWork.bytesCopied, want, JSON.stringify({ next, files: readdirSync(dir) }));
  assert.ok(copyWork.bytesCopied < size(dir, /\.ldb$/) / 2, `${copyWork.bytesCopied} copied of ${size(dir, /\.ldb$/)} in tables`);
});

test.run();
