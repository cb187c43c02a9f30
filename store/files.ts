// The store directory as files, looked at without LevelDB: LevelDB's open is not a read (it
// replays the WAL into a new table, writes a new MANIFEST and LOG, takes LOCK, and with
// create_if_missing makes a fresh database over a directory whose CURRENT is gone, deleting
// the tables it does not know). Everything here only stats and reads.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { BlockgraphError, StorageIoError, StoreDamagedError } from '../errors/index.js';

/** LevelDB's own file names (leveldb/db/filename.cc ParseFileName). */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/;
const isLevelDbFile = (name: string): boolean => LEVELDB_FILE.test(name);

/** Files of ours that live beside LevelDB's (LevelDB ignores names it cannot parse). */
export const ANCHOR_FILE = 'blockgraph-anchor';
export const LIVE_FILE = 'blockgraph-live.json';
export const QUARANTINE_DIR = 'quarantine';

export interface StoreFiles {
  /** LevelDB files present, sorted. */
  files: string[];
  /** Structural damage found without opening: CURRENT missing or naming a missing MANIFEST. */
  damage?: string;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new StorageIoError(path, `cannot stat: ${code ?? String(e)}`);
  }
}

/**
 * What is at `location`. A missing path, a file, or a directory holding no LevelDB file is not
 * a store (BG_NOT_FOUND / BG_BAD_INPUT: exit 2); a store whose CURRENT is missing or names a
 * missing MANIFEST is reported as `damage` (open would fail, or worse, start a new database).
 * `creating` (a writer that may make the store): a missing path or a directory without LevelDB
 * files is fine (files: []).
 */
export function inspectStoreDir(location: string, opts: { creating?: boolean } = {}): StoreFiles {
  // `--db "$UNSET"`: LevelDB's open throws a TypeError on an empty location (classic-level's
  // constructor), which is the caller's bad input, not the store's damage nor our bug.
  if (location === '') throw new BlockgraphError('BG_BAD_INPUT', 'the store path is empty (--db "")', { location });
  const st = statOrNull(location);
  if (st === null && opts.creating) return { files: [] };
  if (st === null) throw new BlockgraphError('BG_NOT_FOUND', `no store at ${location} (no such directory)`, { location });
  if (!st.isDirectory()) throw new BlockgraphError('BG_BAD_INPUT', `${location} is not a store (not a directory)`, { location });
  let names: string[];
  try {
    names = readdirSync(location);
  } catch (e) {
    throw new StorageIoError(location, `cannot list the directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const files = names.filter(isLevelDbFile).sort();
  const data = files.filter((f) => /^(CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst))$/.test(f));
  if (data.length === 0) {
    if (opts.creating) return { files };
    throw new BlockgraphError('BG_BAD_INPUT', `${location} is not a blockgraph store (no LevelDB files in it)`, { location });
  }
  if (!files.includes('CURRENT')) return { files, damage: 'CURRENT is missing' };
  let current: string;
  try {
    current = readFileSync(join(location, 'CURRENT'), 'latin1');
  } catch (e) {
    return { files, damage: `CURRENT is unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  // leveldb/db/version_set.cc VersionSet::Recover: CURRENT is the MANIFEST's name plus '\n'.
  const m = /^(MANIFEST-\d+)\n$/.exec(current);
  if (!m) return { files, damage: `CURRENT does not name a MANIFEST (${JSON.stringify(current.slice(0, 40))})` };
  if (!files.includes(m[1]!)) return { files, damage: `CURRENT names ${m[1]}, which is missing` };
  return { files };
}

/**
 * Whether a process holds LevelDB's LOCK on this store (an fcntl lock, so visible in
 * /proc/locks by device and inode). Reading /proc/locks takes no lock and writes nothing.
 * Where /proc/locks does not exist the answer is false and the caller's copy may see a store
 * mid-write, which it then reports as damage rather than guessing.
 */
export function lockHeld(location: string): boolean {
  const st = statOrNull(join(location, 'LOCK'));
  if (st === null) return false;
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'latin1');
  } catch {
    return false;
  }
  const major = Number((BigInt(st.dev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.dev) & 0xffn) | ((BigInt(st.dev) >> 12n) & 0xfff00n));
  for (const line of text.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (fs/locks.c lock_get_status)
    const f = line.trim().split(/\s+/);
    const id = f.find((x) => /^[0-9a-f]+:[0-9a-f]+:\d+$/.test(x));
    if (!id) continue;
    const [ma, mi, ino] = id.split(':');
    if (Number(ino) === st.ino && parseInt(ma!, 16) === major && parseInt(mi!, 16) === minor) return true;
  }
  return false;
}

/** Reads at most `max` bytes of a small file of ours (never a huge or hostile one whole). */
export function readSmallFile(path: string, max = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

type LevelErr = { code?: unknown; message?: unknown; cause?: unknown };

/** The innermost message of a LEVEL_* error chain (LevelDB's own status text sits at the bottom). */
function rootMessage(e: unknown): string {
  let cur = e as LevelErr | undefined;
  let msg = String(cur?.message ?? e);
  for (let i = 0; i < 8 && cur?.cause; i++) {
    cur = cur.cause as LevelErr;
    if (cur?.message) msg = String(cur.message);
  }
  return msg;
}

function codes(e: unknown): string[] {
  const out: string[] = [];
  let cur = e as LevelErr | undefined;
  for (let i = 0; i < 8 && cur; i++) {
    if (typeof cur.code === 'string') out.push(cur.code);
    cur = cur.cause as LevelErr | undefined;
  }
  return out;
}

/**
 * A LEVEL_* (or errno) error from opening or reading a store, as a BlockgraphError with the
 * cause spelled out: LevelDB's "Corruption: …" and missing files are damage (exit 3), a full
 * disk or other I/O refusal is BG_STORAGE_IO. `hide` maps a private copy's path back to the
 * store's so messages name what the user gave. Anything else is returned unchanged.
 */
export function levelError(e: unknown, location: string, hide?: string): unknown {
  if (e instanceof BlockgraphError) return e;
  const c = codes(e);
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (!c.some((x) => x.startsWith('LEVEL_')) && !(typeof errno === 'string' && /^E[A-Z]+$/.test(errno))) return e;
  let msg = rootMessage(e);
  if (hide) msg = msg.split(hide).join(location);
  if (/No space left|ENOSPC|EDQUOT|Read-only file system|EROFS|EACCES|permission denied/i.test(msg) || /^E[A-Z]+$/.test(String(errno))) {
    return new StorageIoError(location, msg);
  }
  if (c.includes('LEVEL_CORRUPTION') || /Corruption|corrupt|No such file|missing files|checksum|bad magic|truncated|not an sstable|IO error/i.test(msg)) {
    return new StoreDamagedError(location, msg);
  }
  return new StorageIoError(location, msg);
}
