// Ready-made backends. classic-level is the on-disk store; memory-level is for tests and tools.
import { ClassicLevel } from 'classic-level';
import { LogCorruptError, LogLockedError, StoreDamagedError } from '../errors/index.js';
import { AnchorWriter, readAnchor } from './anchor.js';
import { anchorProblem } from './check.js';
import { sublevelsOf } from './codec.js';
import { EventLog, type OpenOptions } from './event-log.js';
import { inspectStoreDir, levelError, lockHeld } from './files.js';
import { openReadOnly } from './read-only.js';

export interface OpenClassicOptions extends OpenOptions {
  /** Default true. */
  createIfMissing?: boolean;
  /**
   * Keep the anchor of the last synced head beside the store (store/anchor.ts) and check it
   * on open. Default true.
   */
  anchor?: boolean;
  /**
   * fdatasync the anchor every Nth synced append (default ANCHOR_SYNC_EVERY); 1 makes the
   * anchor as durable as each acknowledged record, at one more fdatasync per command
   * (bench/RESULTS.md). The slot is written every time either way.
   */
  anchorSyncEvery?: number;
  /**
   * Check an existing store on a private view (store/read-only.ts) before LevelDB opens the
   * store itself, and refuse with the view's error if it fails: DB::Open recovers the WAL into a
   * new table, writes a new MANIFEST and CURRENT, rotates LOG and deletes the old log
   * (leveldb/db/db_impl.cc DBImpl::Recover, RecoverLogFile, DeleteObsoleteFiles) before any
   * record is read, so a store refused after that open (a damaged WAL block dropped, a gap, a
   * log shorter than its anchor) had its raw WAL turned into a table and deleted. With the check
   * first, a refused open leaves every file of the store byte for byte as it was. Costs a second
   * open (the view's) of a store that is sound. Default false.
   */
  checkFirst?: boolean;
}

/**
 * The anchor slot is written after every synced append (page cache: a process crash keeps it)
 * and fdatasynced every 64th: one fdatasync per command would cost about as much as the
 * command's own (bench/RESULTS.md). A power loss can leave the anchor up to 63 synced appends
 * (or the kernel's writeback delay) behind the log: never ahead of it, so never a false alarm.
 */
export const ANCHOR_SYNC_EVERY = 64;

// LevelDB's LOCK file: abstract-level wraps the backend's LEVEL_LOCKED in LEVEL_DATABASE_NOT_OPEN.
function isLocked(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  return err?.code === 'LEVEL_LOCKED' || (err?.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause?.code === 'LEVEL_LOCKED');
}

/**
 * Opens (creating if missing) the LevelDB at `location` as an EventLog, for writing. Commands
 * that only read use openReadOnly (store/read-only.ts), which never touches the files.
 * Another process (or handle) holding it -> LogLockedError; damage -> LogCorruptError or
 * StoreDamagedError, and the database is closed again so the lock is not kept by a log
 * nobody can use. A store whose CURRENT is gone is refused, never re-created: LevelDB would
 * start an empty database and delete the tables holding the records.
 */
export async function openClassic(location: string, opts: OpenClassicOptions = {}): Promise<EventLog> {
  const create = opts.createIfMissing ?? true;
  const { damage, files } = inspectStoreDir(location, { creating: create });
  if (damage) throw new StoreDamagedError(location, damage);
  // A store held by another process is refused by the open's lock (nothing written); a new or
  // empty directory has nothing to lose.
  if (opts.checkFirst && files.includes('CURRENT') && !lockHeld(location)) {
    const view = await openReadOnly(location, { verify: opts.verify ?? 'full', anchor: (opts.anchor ?? true) && (opts.verify ?? 'full') !== 'none' });
    await view.close();
  }
  const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open({ createIfMissing: create });
  } catch (e) {
    if (isLocked(e)) throw new LogLockedError(location);
    throw levelError(e, location);
  }
  const anchored = opts.anchor ?? true;
  const writer = anchored ? new AnchorWriter(location, opts.anchorSyncEvery ?? ANCHOR_SYNC_EVERY) : undefined;
  try {
    const log = await EventLog.open(db, { ...opts, ...(writer ? { onSynced: (h: number, hash: string) => writer.advance(h, hash) } : {}) });
    if (writer && (opts.verify ?? 'full') !== 'none') {
      const anchor = readAnchor(location);
      if (typeof anchor === 'string') throw new StoreDamagedError(location, anchor);
      const p = anchor && (await anchorProblem(sublevelsOf(db), anchor, log.head));
      if (p) throw new LogCorruptError(p.firstBad, p.reason);
    }
    if (writer) {
      // Repair moves the head back on purpose: the anchor follows (the repair report names the loss).
      const repair = log.repair.bind(log);
      log.repair = async () => {
        const r = await repair();
        await writer.reset(r.head, r.headHash);
        return r;
      };
      const close = log.close.bind(log);
      log.close = async () => {
        try {
          await close();
        } finally {
          await writer.close();
        }
      };
    }
    return log;
  } catch (e) {
    await db.close().catch(() => undefined);
    throw levelError(e, location);
  }
}

/** A fresh in-memory log. To reopen an existing MemoryLevel use EventLog.open(db). */
export async function openMemory(opts: OpenOptions = {}): Promise<EventLog> {
  // Loaded here, not at the top: every CLI read imports this folder, none needs memory-level.
  const { MemoryLevel } = await import('memory-level');
  return EventLog.open(new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' }), opts);
}
