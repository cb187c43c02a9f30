// Read-only opens. LevelDB has no read-only mode: DB::Open replays the WAL into a new table,
// writes a new MANIFEST and CURRENT, rotates LOG, may compact and deletes obsolete files
// (leveldb/db/db_impl.cc DBImpl::Recover, DeleteObsoleteFiles). So a command that only reads
// never opens the store itself: it opens a private copy in a temp directory, and the store's
// files stay byte for byte as they were. The copy costs O(store size) per read command
// (a reflink where the filesystem has them). A store held by a running server is read through
// that server instead (store/live.ts), at a consistent point of its log.
import { copyFileSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LogCorruptError, LogLockedError, StoreDamagedError } from '../errors/index.js';
import { readAnchor } from './anchor.js';
import { anchorProblem } from './check.js';
import { sublevelsOf } from './codec.js';
import { EventLog, type OpenOptions } from './event-log.js';
import { inspectStoreDir, levelError, lockHeld } from './files.js';
import { openLive } from './live.js';
import { makeReadOnly } from './read-only-view.js';

export interface ReadOnlyOptions {
  verify?: OpenOptions['verify'];
  /** Check the anchor of the last synced head on open (default: whenever verify is not 'none'). */
  anchor?: boolean;
}

/** Copies the store's LevelDB files into a fresh temp dir; returns its path. */
export function copyStore(location: string, files: string[], prefix = 'bg-ro-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    for (const f of files) {
      if (f === 'LOCK' || f === 'LOG' || f === 'LOG.old') continue;
      const from = join(location, f);
      const to = join(dir, f);
      // Copied, never hard-linked: LevelDB reuses the number of a table the MANIFEST does not
      // list (one left by a crash mid-compaction) and opens it with O_TRUNC, which through a
      // link would rewrite the store's own file (the fault matrix caught exactly that).
      // FICLONE makes it a reflink where the filesystem can.
      copyFileSync(from, to, constants.COPYFILE_FICLONE);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw levelError(e, location, dir);
  }
  return dir;
}

/** Opens a LevelDB copy at `dir` (never creating); LEVEL_* errors name `location`. */
async function openCopy(dir: string, location: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open({ createIfMissing: false });
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
  const { files, damage } = inspectStoreDir(location);
  if (lockHeld(location)) {
    const live = await openLive(location, { verify: opts.verify ?? 'full' });
    if (live) return live;
    throw new LogLockedError(location);
  }
  if (damage) throw new StoreDamagedError(location, damage);
  const dir = copyStore(location, files);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let log: EventLog | undefined;
  try {
    const db = await openCopy(dir, location);
    try {
      log = await EventLog.open(db, { verify: opts.verify ?? 'full' });
    } catch (e) {
      await db.close().catch(() => undefined);
      throw levelError(e, location, dir);
    }
    if ((opts.anchor ?? (opts.verify ?? 'full') !== 'none')) {
      const anchor = readAnchor(location);
      if (typeof anchor === 'string') throw new StoreDamagedError(location, anchor);
      if (anchor) {
        const p = await anchorProblem(sublevelsOf(log.db), anchor, log.head);
        if (p) throw new LogCorruptError(p.firstBad, p.reason);
      }
    }
    return makeReadOnly(log, cleanup);
  } catch (e) {
    await log?.close().catch(() => undefined);
    cleanup();
    throw e;
  }
}
