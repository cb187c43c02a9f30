// An output file the user named with `--out FILE` (render, fixture export, qmp run/record).
//
// The text goes to a new file beside FILE (created exclusively, O_NOFOLLOW) which is then renamed
// onto FILE: rename(2) replaces the name itself, so a symlink or a hard link planted at FILE (a
// shared /tmp) is never written through, and a reader of FILE sees the old text or the new one,
// never half of it. FILE that exists and is not a regular file (a symlink, a directory, a fifo, a
// device, a socket) is refused before anything is written: the user named a file to be made, and
// replacing a symlink someone else put there would be as surprising as following it.
import { closeSync, constants, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';

let seq = 0;
/** The errnos of a disk that refuses the write (BG_STORAGE_IO), not of the user's path. */
export const DISK_REFUSED = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG']);

/**
 * Create `path` exclusively (O_EXCL | O_NOFOLLOW: a name that exists, a planted symlink included,
 * is refused, never followed) and write all of `bytes`: writeSync may write less than asked near
 * a full disk, so on to the end (or its error).
 */
export function writeNewFile(path: string, bytes: Uint8Array, mode = 0o644): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
  } finally { closeSync(fd); }
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Write `text` to `path` as a whole new file (temp file in the same directory, then rename).
 * Refuses an existing `path` that is not a regular file: BG_BAD_INPUT (exit 2), nothing written.
 * A disk that refuses: BG_STORAGE_IO (exit 74), the temp file removed and `path` left as it was.
 */
export function writeOutputFile(path: string, text: string | Uint8Array, flag = '--out'): void {
  let st: import('node:fs').Stats | undefined;
  try { st = lstatSync(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // a name too long, a file used as a directory, a loop of links: the user's path, not the disk
    if (code === 'ENAMETOOLONG' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'EACCES') {
      throw new BlockgraphError('BG_BAD_INPUT', `${flag} ${path.length > 200 ? path.slice(0, 200) + '…' : path}: cannot write it: ${code}`);
    }
    if (code !== 'ENOENT') throw e;
  }
  if (st && !st.isFile()) {
    throw new BlockgraphError('BG_BAD_INPUT', `${flag} ${path}: ${kindOf(st)}; not writing through it (name a regular file or a new one)`);
  }
  const dir = dirname(path);
  // pid + a counter: two writers of the same FILE never share a temp name; O_EXCL refuses one
  // that exists anyway (planted, or left by a writer that was killed)
  const tmp = join(dir, `.${basename(path).slice(0, 100)}.bg-${process.pid}-${++seq}.tmp`);
  try {
    writeNewFile(tmp, typeof text === 'string' ? Buffer.from(text, 'utf8') : text, st ? st.mode & 0o777 : 0o644);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code && DISK_REFUSED.has(code)) {
      throw new BlockgraphError('BG_STORAGE_IO', `cannot write ${path}: ${code}; ${st ? 'the file is unchanged' : 'no file written'}`);
    }
    // rename onto a name that became a directory since the check
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new BlockgraphError('BG_BAD_INPUT', `${flag} ${path}: a directory; not writing through it (name a regular file or a new one)`);
    }
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'ENAMETOOLONG') {
      throw new BlockgraphError('BG_BAD_INPUT', `${flag} ${path.length > 200 ? path.slice(0, 200) + '…' : path}: cannot create it in ${dir}: ${code}`);
    }
    throw e;
  }
}
