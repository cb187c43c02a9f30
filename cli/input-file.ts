// A file named on the command line (a transcript, scenario, qmp-shell log or fixture), read so
// that no input can hang or swamp the process: a regular file is read whole up to a size
// limit; a pipe (`<(…)`, `/dev/stdin` fed by `|`, a named fifo) is opened non-blocking and
// read as a stream on the event loop, so SIGINT/SIGTERM end it and a fifo nobody writes to is
// refused after --timeout seconds instead of blocking in open(2) for ever (as readFileSync
// and `cat` do). Anything else (a directory, a socket, a character device) is refused at once.
import { constants, fstatSync, openSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { BlockgraphError } from '../errors/index.js';

const MiB = 1024 * 1024;
/** Transcripts, scenarios and qmp-shell logs: the largest recorded transcript is 2 MB. */
export const MAX_TRANSCRIPT_BYTES = 32 * MiB;
/** Fixtures: a seq range of a log with its starting state; well below V8's longest string (512 MiB). */
export const MAX_FIXTURE_BYTES = 256 * MiB;
/** Seconds a pipe with no writer is waited for (the default of --timeout). */
export const DEFAULT_INPUT_TIMEOUT_S = 10;

export interface ReadInputOptions {
  maxBytes: number;
  /** Seconds to wait for a writer when the file is a pipe nobody has open for writing. */
  timeoutS?: number;
  /** What the file is, for the messages ("transcript", "fixture"). */
  what: string;
}

const cannot = (file: string, why: string): BlockgraphError => new BlockgraphError('BG_BAD_INPUT', `cannot read ${file}: ${why}`, { file });
const tooLarge = (file: string, o: ReadInputOptions, size: string): BlockgraphError =>
  new BlockgraphError('BG_INPUT_TOO_LARGE', `${file}: ${size} is more than a ${o.what} may hold (${o.maxBytes / MiB} MiB)`, { file, limit: o.maxBytes });

function kind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'EISDIR';
  if (st.isSocket()) return 'a socket, not a file or a pipe';
  if (st.isCharacterDevice()) return 'a character device, not a file or a pipe';
  if (st.isBlockDevice()) return 'a block device, not a file or a pipe';
  return 'not a file or a pipe';
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export async function readInputFile(file: string, o: ReadInputOptions): Promise<string> {
  let st;
  try { st = statSync(file); } catch (e) { throw cannot(file, errCode(e)); }
  if (st.isFile()) {
    if (st.size > o.maxBytes) throw tooLarge(file, o, `${st.size} bytes`);
    let buf: Buffer;
    try { buf = readFileSync(file); } catch (e) { throw cannot(file, errCode(e)); }
    // it may have grown between the stat and the read
    if (buf.length > o.maxBytes) throw tooLarge(file, o, `${buf.length} bytes`);
    return buf.toString('utf8');
  }
  if (!st.isFIFO()) throw cannot(file, kind(st));
  // O_NONBLOCK: open(2) of a fifo for reading returns at once instead of waiting for a writer.
  let fd: number;
  try { fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK); } catch (e) { throw cannot(file, errCode(e)); }
  try {
    if (!fstatSync(fd).isFIFO()) throw cannot(file, 'it changed while being opened');
  } catch (e) { closeSync(fd); throw e; }
  // One read decides whether anybody writes: bytes or EAGAIN, a writer holds the pipe (it is
  // read to its end, as `cat` would); 0, nobody has it open for writing (yet).
  const chunks: Buffer[] = [];
  let total = 0;
  let writer = true;
  const first = Buffer.allocUnsafe(64 * 1024);
  try {
    const n = readSync(fd, first, 0, first.length, null);
    if (n > 0) { chunks.push(first.subarray(0, n)); total = n; } else writer = false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') { closeSync(fd); throw cannot(file, errCode(e)); }
  }
  const timeoutS = o.timeoutS ?? DEFAULT_INPUT_TIMEOUT_S;
  return await new Promise<string>((resolve, reject) => {
    const s = new Socket({ fd, readable: true, writable: false });
    let timer: NodeJS.Timeout | undefined;
    const finish = (e?: BlockgraphError) => {
      if (timer) clearTimeout(timer);
      s.removeAllListeners('data');
      s.destroy();
      if (e) reject(e);
      else resolve(Buffer.concat(chunks, total).toString('utf8'));
    };
    if (!writer) {
      // epoll reports nothing on a fifo no writer has opened: the timer is what ends the wait
      timer = setTimeout(() => finish(new BlockgraphError('BG_BAD_INPUT',
        `${file}: a pipe nobody writes to (no writer within ${timeoutS} s; --timeout SECONDS waits longer)`, { file })), timeoutS * 1000);
    }
    s.on('data', (c: Buffer) => {
      if (timer) { clearTimeout(timer); timer = undefined; }
      total += c.length;
      if (total > o.maxBytes) return finish(tooLarge(file, o, `more than ${o.maxBytes} bytes`));
      chunks.push(c);
    });
    s.on('end', () => finish());
    s.on('error', (e) => finish(cannot(file, errCode(e))));
  });
}
