// One guard for every command that prints: when the reader of stdout goes away
// (`blockgraph log --json | head -1`), node reports EPIPE as an 'error' event on
// process.stdout, which crashes the process if nobody listens. Here the first EPIPE turns
// every later write into a no-op and tells followers (tail) to stop; the command itself runs
// to its normal end, so a store is always closed properly and nothing half-written is left.
// The exit code stays the command's own: a reader that stopped early is not a failure.
import { EventEmitter } from 'node:events';

const closed = new EventEmitter();
let isClosed = false;
let installed = false;

/** Calls `fn` once when stdout's reader goes away (at once if it already has). Returns an unsubscribe. */
export function onStdoutClosed(fn: () => void): () => void {
  if (isClosed) { queueMicrotask(fn); return () => undefined; }
  closed.once('closed', fn);
  return () => closed.off('closed', fn);
}

function guard(stream: NodeJS.WriteStream, isStdout: boolean): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    if (isStdout && !isClosed) {
      isClosed = true;
      // Drop whatever else the command prints; callers never see a failed write.
      stream.write = ((_chunk: unknown, enc?: unknown, cb?: unknown) => {
        const done = typeof enc === 'function' ? enc : cb;
        if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
        return true;
      }) as typeof stream.write;
      closed.emit('closed');
    }
  });
}

export function installStdoutGuard(): void {
  if (installed) return;
  installed = true;
  guard(process.stdout, true);
  guard(process.stderr, false);
}
