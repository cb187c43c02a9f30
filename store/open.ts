// Ready-made backends. classic-level is the on-disk store; memory-level is for tests and tools.
import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import { LogLockedError } from '../errors/index.js';
import { EventLog, type OpenOptions } from './event-log.js';

export interface OpenClassicOptions extends OpenOptions {
  /** Default true. */
  createIfMissing?: boolean;
}

// LevelDB's LOCK file: abstract-level wraps the backend's LEVEL_LOCKED in LEVEL_DATABASE_NOT_OPEN.
function isLocked(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  return err?.code === 'LEVEL_LOCKED' || (err?.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause?.code === 'LEVEL_LOCKED');
}

/**
 * Opens (creating if missing) the LevelDB at `location` as an EventLog.
 * Another process (or handle) holding it -> LogLockedError; damage -> LogCorruptError, and the
 * database is closed again so the lock is not kept by a log nobody can use.
 */
export async function openClassic(location: string, opts: OpenClassicOptions = {}): Promise<EventLog> {
  const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open({ createIfMissing: opts.createIfMissing ?? true });
  } catch (e) {
    if (isLocked(e)) throw new LogLockedError(location);
    throw e;
  }
  try {
    return await EventLog.open(db, opts);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
}

/** A fresh in-memory log. To reopen an existing MemoryLevel use EventLog.open(db). */
export async function openMemory(opts: OpenOptions = {}): Promise<EventLog> {
  return EventLog.open(new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' }), opts);
}
