// Read-only opens. LevelDB has no read-only mode: DB::Open replays the WAL into a new table,
// writes a new MANIFEST and CURRENT, rotates LOG, may compact and deletes obsolete files
// (leveldb/db/db_impl.cc DBImpl::Recover, DeleteObsoleteFiles). So a command that only reads
// never opens the store itself: it opens a private directory holding the store's files, and
// the store's files stay byte for byte as they were. The immutable tables are hard-linked into
// it (O(number of files), not O(store size)); CURRENT, the MANIFEST and the WAL, which the open
// rewrites, are copied (store/leveldb-manifest.ts says why a linked table is never written).
// A store held by a running server is read through that server instead (store/live.ts), at a
// consistent point of its log.
import { copyFileSync, constants, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { BlockgraphError, LogCorruptError, LogLockedError, StoreDamagedError, ViewRangeError } from '../errors/index.js';
import { readAnchor } from './anchor.js';
import { anchorProblem } from './check.js';
import { seqKey, sublevelsOf } from './codec.js';
import { EventLog, type OpenOptions } from './event-log.js';
import { inspectStoreDir, levelError, lockHeld } from './files.js';
import { fileNumber, manifestNextFileNumber } from './leveldb-manifest.js';
import { openLive } from './live.js';
import { makeReadOnly } from './read-only-view.js';
import { encodeVersion, readVersion, type TableFile } from './leveldb-version.js';
import { covered, guardView, planSeek, type SubsetPlan } from './read-only-subset.js';
import { partsSublevel } from './snapshot-parts.js';
import { reopeningScans } from './scan-reopen.js';

export interface ReadOnlyOptions {
  verify?: OpenOptions['verify'];
  /** Check the anchor of the last synced head on open (default: whenever verify is not 'none'). */
  anchor?: boolean;
  /**
   * The seqs a seek will fold up to (show --at, diff, render --at). On a store a server holds,
   * only what those seeks read is fetched (store/live.ts); reading anything else from the view
   * then fails as a missing record. Ignored on a closed store.
   */
  seek?: number[];
  /**
   * The read goes through the whole log (audit, log, report): the view is made so that LevelDB
   * neither replays a WAL nor compacts while it lasts (makeFullView). A short read keeps the
   * plain copy, whose compactions its close stops: less work than merging level 0 first.
   */
  scan?: boolean;
}

/** What copyStore did, per file: the work a read's open costs (specs count it). */
export const copyWork = { linked: 0, copied: 0, bytesCopied: 0 };

export interface CopyOptions {
  /** Temp dir name prefix. */
  prefix?: string;
  /**
   * Hard-link the tables LevelDB will never write again (numbered below the MANIFEST's next
   * file number) instead of copying them. Only for a copy that is opened, never repaired in
   * place by anything but LevelDB. Default false (a full copy).
   */
  link?: boolean;
}

/**
 * The store's LevelDB files in a fresh private directory; returns its path. With `link`, the
 * directory is made in the system temp dir when that is on the store's filesystem, else beside
 * the store (in its parent, never inside it), so that tables can be linked; where neither can
 * be, everything is copied.
 */
export function copyStore(location: string, files: string[], opts: CopyOptions = {}): string {
  const prefix = opts.prefix ?? 'bg-ro-';
  const next = opts.link ? linkableBelow(location) : undefined;
  const dir = makeDir(next !== undefined ? linkHome(location) : tmpdir(), prefix);
  try {
    for (const f of files) {
      if (f === 'LOCK' || f === 'LOG' || f === 'LOG.old') continue;
      const from = join(location, f);
      const to = join(dir, f);
      // Linked only below the next file number: LevelDB reuses the number of a table the
      // MANIFEST does not list (one left by a crash mid-compaction) and opens it with O_TRUNC,
      // which through a link would rewrite the store's own file (the fault matrix caught
      // exactly that when every table was linked). CURRENT, MANIFEST and .log are rewritten or
      // replayed by the open: always copied.
      const n = fileNumber(f);
      if (next !== undefined && n !== undefined && n < next && /\.(ldb|sst)$/.test(f) && tryLink(from, to)) {
        copyWork.linked++;
        continue;
      }
      // FICLONE makes it a reflink where the filesystem can.
      copyFileSync(from, to, constants.COPYFILE_FICLONE);
      copyWork.copied++;
      copyWork.bytesCopied += statSync(to).size;
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw levelError(e, location, dir);
  }
  return dir;
}

/** The MANIFEST's next file number (tables below it are never written again), or undefined: copy all. */
function linkableBelow(location: string): number | undefined {
  try {
    const m = /^(MANIFEST-\d+)\n$/.exec(readFileSync(join(location, 'CURRENT'), 'latin1'));
    return m ? manifestNextFileNumber(readFileSync(join(location, m[1]!))) : undefined;
  } catch {
    return undefined; // inspectStoreDir and the open report what is wrong
  }
}

/** Where the private directory goes so that links can work: the temp dir if on the store's device, else the store's parent. */
function linkHome(location: string): string {
  try {
    const dev = statSync(location).dev;
    if (statSync(tmpdir()).dev === dev) return tmpdir();
    return dirname(resolve(location));
  } catch {
    return tmpdir();
  }
}

// A private view's directory is named after the process that made it (`bg-ro-PID-XXXXXX`): a read
// killed by a signal (SIGTERM, SIGKILL: no handler runs) leaves its view behind, and the next read
// that makes a view in the same place removes those whose process is gone, so killed reads cannot
// fill the temp dir. Only names of this exact shape, never the store, are touched.
function makeDir(home: string, prefix: string): string {
  const named = `${prefix}${process.pid}-`;
  if (home !== tmpdir()) {
    try {
      const dir = mkdtempSync(join(home, named));
      sweepStaleViews(home, prefix);
      return dir;
    } catch {
      // the parent is not writable: a copy in the temp dir
    }
  }
  const dir = mkdtempSync(join(tmpdir(), named));
  sweepStaleViews(tmpdir(), prefix);
  return dir;
}

/** Counted by the spec: views of dead processes removed. */
export const staleViewWork = { removed: 0 };

function sweepStaleViews(home: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(home);
  } catch {
    return;
  }
  const escaped = prefix.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
  const shape = new RegExp(`^${escaped}(\\d+)-[A-Za-z0-9]{6}$`);
  for (const name of names) {
    const m = shape.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      rmSync(join(home, name), { recursive: true, force: true });
      staleViewWork.removed++;
    } catch {
      // another read is removing it, or it is not ours to remove: leave it
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false; // EXDEV, EPERM (a filesystem without links), EMLINK: copied instead
  }
}

/** max_open_files for a read-only open (bounds the tables mapped at once). */
export const READ_MAX_OPEN_FILES = 40;
// A 1 MiB block cache, not 8: a scan reads each block once, a seek a few hundred (each reopen of a scan makes a new one).
const READ_OPEN_OPTIONS = { createIfMissing: false, maxOpenFiles: READ_MAX_OPEN_FILES, cacheSize: 1 << 20 } as object;

/** Opens a LevelDB copy at `dir` (never creating); LEVEL_* errors name `location`. */
async function openCopy(dir: string, location: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    // A small table cache: LevelDB mmaps every open table (util/env_posix.cc, up to 1000), and a
    // scan of the whole log would map every table and count it all as resident (peak RSS grew
    // with the store). LevelDB raises max_open_files to at least 74 (db_impl.cc SanitizeOptions),
    // i.e. 64 tables in the cache (TableCacheSize): asking for less gets that floor.
    await db.open(READ_OPEN_OPTIONS);
  } catch (e) {
    throw levelError(e, location, dir);
  }
  return db;
}

/**
 * The store at `location` for reading: a private copy when it is closed, the server's view
 * when a `blockgraph qmp` holds it. Missing path / not a store: exit-2 errors; damage
 * LevelDB reports, a record that fails verification or a log shorter than its anchor: exit 3.
 */
export async function openReadOnly(location: string, opts: ReadOnlyOptions = {}): Promise<EventLog> {
  try {
    return await openReadOnlyView(location, opts, false);
  } catch (e) {
    // The view is made beside the store when the temp dir is on another filesystem (links need
    // one): on a store whose disk is full (or a read-only mount) its copied WAL, CURRENT and
    // MANIFEST, and LevelDB's recovery in it, cannot be written, and every read of a sound store
    // failed with ENOSPC. A whole copy in the temp dir needs nothing of the store's disk.
    if (!(e instanceof BlockgraphError && e.code === 'BG_STORAGE_IO' && /ENOSPC|No space left|EDQUOT|quota|EROFS|Read-only file system/i.test(e.message))) throw e;
    readOnlyWork.copiedElsewhere++;
    return openReadOnlyView(location, opts, true);
  }
}

/** Views made as a whole copy in the temp dir because the store's own disk refused the view (specs count it). */
export const readOnlyWork = { copiedElsewhere: 0 };

async function openReadOnlyView(location: string, opts: ReadOnlyOptions, elsewhere: boolean): Promise<EventLog> {
  const { files, damage } = inspectStoreDir(location);
  if (lockHeld(location)) {
    const live = await openLive(location, { verify: opts.verify ?? 'full', ...(opts.seek ? { seek: opts.seek } : {}) });
    if (live) return live;
    throw new LogLockedError(location);
  }
  if (damage) throw new StoreDamagedError(location, damage);
  if (opts.seek && !elsewhere) {
    for (const window of SEEK_WINDOWS) {
      const log = await openSubset(location, opts, opts.seek, window);
      if (log) return log;
    }
    subsetWork.fallbacks++;
  }
  const dir = elsewhere ? copyStore(location, files) : (opts.scan ? await makeFullView(location) : undefined) ?? copyStore(location, files, { link: true });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let log: EventLog | undefined;
  try {
    const db = await openCopy(dir, location);
    // A scan of the whole log must not keep every table it passed mapped (store/scan-reopen.ts).
    reopeningScans(db, READ_OPEN_OPTIONS);
    try {
      log = await EventLog.open(db, { verify: opts.verify ?? 'full' });
    } catch (e) {
      await db.close().catch(() => undefined);
      throw levelError(e, location, dir);
    }
    await checkAnchor(location, log, opts);
    return makeReadOnly(log, cleanup);
  } catch (e) {
    await log?.close().catch(() => undefined);
    cleanup();
    throw e;
  }
}

/** Seqs of log before each seek (and before the newest the tables hold) a seek's view holds; each failure widens. */
const SEEK_WINDOWS = [4096, 65536];

/** What seek opens did (specs count it): tables linked into partial views, and reopens with every table. */
export const subsetWork = { opens: 0, tables: 0, tablesInStore: 0, fallbacks: 0, raced: 0 };

/** A store's files changed while a view was being made (a writer started): make it again. */
class Raced extends Error {}

/**
 * A seek's view: only the tables its read needs (store/read-only-subset.ts), behind a MANIFEST
 * naming them, the WAL copied; reads outside what it holds exactly are refused. Undefined when
 * the view cannot serve this seek (the MANIFEST is not readable as a version, the tables are
 * on another filesystem, the snapshot a seek needs lies before the window): the caller widens
 * the window or links every table.
 */
async function openSubset(location: string, opts: ReadOnlyOptions, seeks: number[], window: number): Promise<EventLog | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let made: { dir: string; plan: SubsetPlan; db: ClassicLevel<string, string> } | undefined;
    try {
      made = makeSubset(location, seeks, window);
    } catch (e) {
      if (e instanceof Raced) { subsetWork.raced++; continue; }
      throw e;
    }
    if (!made) return undefined;
    const { dir, plan, db } = made;
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    let log: EventLog | undefined;
    try {
      try {
        await db.open(READ_OPEN_OPTIONS);
      } catch (e) {
        throw levelError(e, location, dir);
      }
      guardView(db, plan.excluded);
      try {
        log = await EventLog.open(db, { verify: opts.verify ?? 'full' });
      } catch (e) {
        await db.close().catch(() => undefined);
        if (e instanceof ViewRangeError) throw e;
        throw levelError(e, location, dir);
      }
      await checkAnchor(location, log, opts);
      // What replay will read for each seek (the snapshot at or before it, then the records
      // from it) must be in the view, or the seek would be refused midway: ask now, cheaply.
      const subs = sublevelsOf(db);
      const parts = partsSublevel(db).prefix;
      for (const s of seeks) {
        const upTo = Math.min(s, log.head);
        if (upTo < 1) continue;
        const last = (await subs.snap.keys({ lte: seqKey(upTo), reverse: true, limit: 1 }).all())[0];
        const from = last === undefined ? 0 : parseInt(last, 16);
        const ok = covered(plan.excluded, subs.logPrefix + seqKey(Math.max(0, from - 1)), subs.logPrefix + seqKey(upTo))
          && covered(plan.excluded, parts + seqKey(from), parts + seqKey(from) + '\u0100');
        if (!ok) throw new ViewRangeError(subs.logPrefix + seqKey(from), subs.logPrefix + seqKey(upTo));
      }
      subsetWork.opens++;
      subsetWork.tables += plan.files.length;
      return makeReadOnly(log, cleanup);
    } catch (e) {
      await log?.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      cleanup();
      if (e instanceof ViewRangeError) return undefined;
      throw e;
    }
  }
  return undefined;
}

/** The store's CURRENT, its MANIFEST and the version it holds; undefined where any is unreadable (the plain copy's open reports it). */
function readStoreVersion(location: string): { current: string; manifest: Buffer; v: NonNullable<ReturnType<typeof readVersion>> } | undefined {
  try {
    const current = readFileSync(join(location, 'CURRENT'), 'latin1');
    const m = /^(MANIFEST-\d+)\n$/.exec(current);
    if (!m) return undefined;
    const manifest = readFileSync(join(location, m[1]!));
    const v = readVersion(manifest);
    return v ? { current, manifest, v } : undefined;
  } catch {
    return undefined;
  }
}

/** One of the version's tables hard-linked into the view; Raced when it is gone (compacted since the MANIFEST was read) or not linkable. */
function linkStoreTable(location: string, dir: string, f: TableFile): void {
  const n = String(f.number).padStart(6, '0');
  if (!tryLinkTable(join(location, `${n}.ldb`), join(dir, `${n}.ldb`)) && !tryLinkTable(join(location, `${n}.sst`), join(dir, `${n}.sst`))) {
    throw new Raced();
  }
  copyWork.linked++;
}

/** The WALs DBImpl::Recover replays (numbered from the version's log number on, and its prev log), copied. */
function copyReplayedWals(location: string, dir: string, v: { logNumber: number; prevLogNumber: number }): void {
  for (const f of readdirSync(location)) {
    const n = /^(\d+)\.log$/.exec(f);
    if (!n || (Number(n[1]) < v.logNumber && Number(n[1]) !== v.prevLogNumber)) continue;
    copyFileSync(join(location, f), join(dir, f), constants.COPYFILE_FICLONE);
    copyWork.copied++;
    copyWork.bytesCopied += statSync(join(dir, f)).size;
  }
}

/**
 * The private directory of a seek's view: links to the planned tables, copies of the WALs
 * LevelDB will replay, and a MANIFEST and CURRENT naming only those tables. Read CURRENT and
 * the MANIFEST, link, then read them again: a change in between (a writer that started and
 * flushed or compacted) is Raced, and the view is made again from the new version.
 */
function makeSubset(location: string, seeks: number[], window: number): { dir: string; plan: SubsetPlan; db: ClassicLevel<string, string> } | undefined {
  const read = readStoreVersion(location);
  if (!read) return undefined;
  const { current, manifest, v } = read;
  const home = linkHome(location);
  if (statSync(home).dev !== statSync(location).dev) return undefined; // links impossible: the full path copies
  const dir = makeDir(home, 'bg-ro-');
  try {
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    const subs = sublevelsOf(db);
    const plan = planSeek(v, { log: subs.logPrefix, snap: subs.snap.prefix, parts: partsSublevel(db).prefix, meta: subs.meta.prefix }, seeks, window);
    subsetWork.tablesInStore = v.files.length;
    for (const f of plan.files) linkStoreTable(location, dir, f);
    // DBImpl::Recover replays the logs numbered from the version's log number on (and its prev log).
    copyReplayedWals(location, dir, v);
    const name = /^(MANIFEST-\d+)\n$/.exec(current)![1]!;
    writeFileSync(join(dir, name), encodeVersion(v, plan.files));
    writeFileSync(join(dir, 'CURRENT'), current);
    // The store as read must still be the store: same MANIFEST, no edit appended, no writer.
    const again = readFileSync(join(location, 'CURRENT'), 'latin1');
    if (again !== current || statSync(join(location, name)).size !== manifest.length || lockHeld(location)) throw new Raced();
    return { dir, plan, db };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof Raced) throw e;
    throw levelError(e, location, dir);
  }
}

// A full view LevelDB does not compact (issue 15: scans peaked at 217–250 MB in their first
// minute on a 10M-record log, all of it the view's open). Opening a plain copy of the store,
// DB::Open replays the copied WAL into new level-0 tables (db_impl.cc RecoverLogFile: without
// reuse_logs, which classic-level does not expose, every replayed memtable is written by
// WriteLevel0Table at level 0), then MaybeScheduleCompaction finds level 0 at or over
// kL0_CompactionTrigger (4 files) or level 1 over its 10 MB (version_set.cc Finalize,
// MaxBytesForLevel) and compacts the private copy on LevelDB's background thread while the scan
// reads: every input table mapped through the table cache, cascades as levels overflow, and a
// scan's reopen every 16 MB (store/scan-reopen.ts) starts what it stopped again. LevelDB has no
// option to turn that off. So a scan's view (ReadOnlyOptions.scan) is made in two stages:
//   1. the store's level-0 tables and its WALs, with the deeper tables listed at levels 2 and
//      below (under their budgets), behind a MANIFEST we write: the open replays the WALs; if
//      level 0 is then at the trigger, it is the only level scoring 1 or more, and LevelDB's own
//      background compaction merges it into the empty level 1 (the deeper tables listed so that
//      the merge keeps deletions, see makeFullViewOnce); then close, which leaves an empty WAL
//      and stops whatever would follow;
//   2. a MANIFEST written by us: stage 1's new tables on top, then the store's levels 1–6 in
//      their order, each at the first level whose size budget it is under (MaxBytesForLevel), so
//      that no level scores 1 or more and DB::Open has nothing to replay and nothing to compact
//      (and neither has a scan's reopen).
// Reads are unchanged: every key's newer versions stay on shallower levels than its older ones
// (stage 1 holds only what is newer than every deeper table), which is all Version::Get and the
// merging iterator rely on; a level's tables keep their non-overlapping ranges. Where the levels
// do not fit (more than 7) or stage 1 cannot merge, the view is the plain copy, as before.

/** What full views' opens did (specs count it): views made in two stages, stage 1's waits for a merge of level 0, and plain copies instead. */
export const fullViewWork = { made: 0, compacted: 0, fallbacks: 0, raced: 0, tables: 0 };

/** kL0_CompactionTrigger (leveldb/db/dbformat.h). */
const L0_TRIGGER = 4;
/** config::kNumLevels. */
const LEVELS = 7;
/** VersionSet's MaxBytesForLevel (version_set.cc): 10 MB at level 1, ×10 per level. */
const maxBytesForLevel = (level: number) => 10 * 1048576 * 10 ** (level - 1);

/**
 * Stage 1's version (newest data) over the store's deeper levels, as a version LevelDB will not
 * compact: undefined when stage 1 left level 0 at the trigger or the levels do not fit.
 */
export function uncompactedLayout(top: TableFile[], deeper: TableFile[], from = 1): TableFile[] | undefined {
  const l0 = top.filter((f) => f.level === 0);
  if (l0.length >= L0_TRIGGER) return undefined;
  const groups: TableFile[][] = [];
  for (const files of [top, deeper]) {
    for (let l = 1; l < LEVELS; l++) {
      const g = files.filter((f) => f.level === l);
      if (g.length) groups.push(g);
    }
  }
  const out: TableFile[] = [...l0];
  let level = from;
  for (const g of groups) {
    const bytes = g.reduce((n, f) => n + f.size, 0);
    // VersionSet::Finalize scores levels 0..kNumLevels-2; the last level is never compacted for its size.
    while (level < LEVELS - 1 && bytes >= maxBytesForLevel(level)) level++;
    if (level >= LEVELS) return undefined;
    for (const f of g) out.push({ ...f, level });
    level++;
  }
  return out;
}

/**
 * Waits until LevelDB's background compaction has brought level 0 under the trigger; false when
 * it cannot (a compaction error, which stops every later compaction: DBImpl::BackgroundCompaction
 * records it in bg_error_ and logs it), then the caller copies the store as it is.
 */
async function level0Merged(db: ClassicLevel<Buffer, Buffer>, dir: string): Promise<boolean> {
  for (let waited = 0; waited < 600_000; waited += 10) {
    if (Number(db.getProperty('leveldb.num-files-at-level0')) < L0_TRIGGER) return true;
    if (waited % 500 === 0 && /Compaction error|Waiting after background compaction error/.test(readLog(dir))) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'LOG'), 'latin1');
  } catch {
    return '';
  }
}

const manifestName = (n: number) => `MANIFEST-${String(n).padStart(6, '0')}`;

/** The private directory of a full view made as above, or undefined: the caller copies the store as it is. */
async function makeFullView(location: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const dir = await makeFullViewOnce(location);
      if (dir) fullViewWork.made++;
      else fullViewWork.fallbacks++;
      return dir;
    } catch (e) {
      if (e instanceof Raced) { fullViewWork.raced++; continue; }
      throw e;
    }
  }
  fullViewWork.fallbacks++;
  return undefined;
}

async function makeFullViewOnce(location: string): Promise<string | undefined> {
  const read = readStoreVersion(location);
  if (!read) return undefined;
  const { current, manifest, v } = read;
  const home = linkHome(location);
  if (statSync(home).dev !== statSync(location).dev) return undefined;
  const name = /^(MANIFEST-\d+)\n$/.exec(current)![1]!;
  const unchanged = () => {
    const again = readFileSync(join(location, 'CURRENT'), 'latin1');
    if (again !== current || statSync(join(location, name)).size !== manifest.length || lockHeld(location)) throw new Raced();
  };
  const dir = makeDir(home, 'bg-ro-');
  try {
    // Stage 1: level 0, the WALs DBImpl::Recover replays (from the version's log number on, and
    // its prev log), and the deeper tables at levels 2 and below under their budgets: the merge of
    // level 0 into level 1 must see them, or it would drop a deletion of a key they hold
    // (DBImpl::DoCompactionWork keeps a deletion unless Compaction::IsBaseLevelForKey, which
    // looks at the levels from the output's + 1 down, by key range only: no deeper table is read).
    const l0 = v.files.filter((f) => f.level === 0);
    const deeper = v.files.filter((f) => f.level > 0);
    const below = uncompactedLayout([], deeper, 2);
    if (!below) {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    for (const f of v.files) linkStoreTable(location, dir, f);
    copyReplayedWals(location, dir, v);
    writeFileSync(join(dir, name), encodeVersion(v, [...l0, ...below]));
    writeFileSync(join(dir, 'CURRENT'), current);
    unchanged();
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    let merged = true;
    try {
      await db.open(READ_OPEN_OPTIONS);
      // Level 0 at the trigger is the only level scoring 1 or more, so LevelDB's own background
      // compaction (PickCompaction) merges it into level 1; wait for that one, then close, which
      // stops whatever it would start next (DoCompactionWork checks shutting_down_).
      if (Number(db.getProperty('leveldb.num-files-at-level0')) >= L0_TRIGGER) {
        fullViewWork.compacted++;
        merged = await level0Merged(db, dir);
      }
    } finally {
      await db.close();
    }
    const m = /^(MANIFEST-\d+)\n$/.exec(readFileSync(join(dir, 'CURRENT'), 'latin1'));
    const top = m && merged ? readVersion(readFileSync(join(dir, m[1]!))) : undefined;
    // Stage 2: the version LevelDB will open without compacting.
    const store = new Set(deeper.map((f) => f.number));
    const layout = top && uncompactedLayout(top.files.filter((f) => !store.has(f.number)), deeper);
    if (!top || !layout || top.files.filter((f) => store.has(f.number)).length !== deeper.length) {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    // A new MANIFEST number, as VersionSet::NewFileNumber would give; stage 1's empty WAL stays the log.
    const number = top.nextFile;
    writeFileSync(join(dir, manifestName(number)), encodeVersion({ ...top, prevLogNumber: 0, nextFile: number + 1 }, layout));
    writeFileSync(join(dir, 'CURRENT'), `${manifestName(number)}\n`);
    rmSync(join(dir, m![1]!), { force: true });
    unchanged();
    fullViewWork.tables += layout.length;
    return dir;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    if (e instanceof Raced) throw e;
    throw levelError(e, location, dir);
  }
}

function tryLinkTable(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}

async function checkAnchor(location: string, log: EventLog, opts: ReadOnlyOptions): Promise<void> {
  if (!(opts.anchor ?? (opts.verify ?? 'full') !== 'none')) return;
  const anchor = readAnchor(location);
  if (typeof anchor === 'string') throw new StoreDamagedError(location, anchor);
  if (anchor) {
    const p = await anchorProblem(sublevelsOf(log.db), anchor, log.head);
    if (p) throw new LogCorruptError(p.firstBad, p.reason);
  }
}
