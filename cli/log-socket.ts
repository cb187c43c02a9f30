// The log of a store another process holds, for `blockgraph tail --connect`. LevelDB admits
// one process per store, so the process serving QMP (`blockgraph qmp --log-socket PATH`) also
// serves its log on a unix socket: the client sends one request line {"from": N, "end": true},
// the server answers with a header {"protocol", "head", "end": true}, then one JSON record per
// line, history from N then live appends, with no gap and no duplicate. When the server closes
// the feed (the store closes) it sends {"end": "closed", "head": H} last, so a follower can tell
// an orderly end from a server that went away (the end mark is sent only to a client that asked
// for it: a blockgraph-log/1 client without it would read the line as a record).
//
// Each follower is fed by pulling: records are read from the store a few at a time and written
// only while the follower has less than FEED_HIGH_WATER bytes unread; a follower that falls
// behind a live writer leaves the live stream and catches up from the store once it reads again.
// A follower that never reads holds at most that much of the server's memory, however long the
// log, and loses nothing.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';
import { BlockgraphError, LogCorruptError } from '../errors/index.js';
import { clearStaleSocket } from '../qmp/server.js';
import type { EventLog, LogRecord } from '../store/index.js';

export const LOG_SOCKET_PROTOCOL = 'blockgraph-log/1';

/** Bytes a follower may leave unread before the server stops writing to it until it reads. */
export const FEED_HIGH_WATER = 256 * 1024;
/** Records read from the store per catch-up read (one read's memory per follower). */
const FEED_READ = 100;
/** A connection that has not sent its request line in this long is closed (it holds an fd). */
export const FEED_REQUEST_WAIT_MS = 10_000;
/** The longest line a client accepts from a feed (the largest record is far below it). */
export const FEED_MAX_LINE = 64 * 1024 * 1024;

export interface LogSocketOptions {
  /** Bytes unread per follower before the feed waits (default FEED_HIGH_WATER). */
  highWater?: number;
  requestWaitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once the socket has room again (or is gone). */
function drained(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (!sock.writableNeedDrain || sock.destroyed) return resolve();
    const done = () => { sock.off('drain', done); sock.off('close', done); resolve(); };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/**
 * Serves the log on PATH. `log` may be a getter: a store that reopens its log after a failed
 * write (cli/live-store.ts ServedStore) gives a new EventLog, and followers carry on from the
 * next seq on it. PATH is refused if it is anything but a socket nobody answers on (a regular
 * file there is not removed).
 */
export async function serveLogSocket(log: EventLog | (() => EventLog), path: string, opts: LogSocketOptions = {}): Promise<Server> {
  const current = typeof log === 'function' ? log : () => log;
  const high = opts.highWater ?? FEED_HIGH_WATER;
  await clearStaleSocket(path);
  const conns = new Map<Socket, { end: boolean }>();
  let stopped = false;

  const follow = async (sock: Socket, from: number): Promise<void> => {
    let next = from;
    const gone = () => stopped || sock.destroyed || !sock.writable;
    const send = (r: LogRecord) => { sock.write(JSON.stringify(r) + '\n'); next = r.seq + 1; };
    while (!gone()) {
      const l = current();
      // closed and not (yet) replaced: the server is reopening its store, or stopping
      if (l.closed) { await sleep(100); continue; }
      // a follower may ask from past the head (it waits); records it was sent must not vanish
      if (next > from && l.head < next - 1) throw new LogCorruptError(l.head + 1, `the store's head is ${l.head} after seq ${next - 1} was sent`);
      try {
        // Catch up from the store, never more than `high` bytes unread by the follower.
        while (next <= l.head && !gone()) {
          for await (const chunk of l.readChunks({ gte: next, lte: Math.min(l.head, next + FEED_READ - 1) })) {
            for (const r of chunk) {
              if (r.seq !== next) throw new LogCorruptError(next, `the store gave seq ${r.seq} for ${next}`);
              send(r);
            }
          }
          if (sock.writableLength >= high) await drained(sock);
        }
        if (gone()) return;
        // At the head (no await since the check): live appends, until the follower falls behind.
        const why = await new Promise<'behind' | 'closed' | 'gone' | Error>((resolve) => {
          let settled = false;
          const settle = (w: 'behind' | 'closed' | 'gone' | Error) => {
            if (settled) return;
            settled = true;
            sock.off('close', onClose);
            queueMicrotask(() => sub.unsubscribe());
            resolve(w);
          };
          const onClose = () => settle('gone');
          sock.on('close', onClose);
          const sub = l.tail(next).subscribe({
            next: (r) => {
              if (settled) return;
              send(r);
              if (sock.writableLength >= high) settle('behind');
            },
            error: (e: unknown) => settle(e instanceof Error ? e : new Error(String(e))),
            complete: () => settle('closed'),
          });
        });
        if (why instanceof Error) throw why;
        if (why === 'behind') await drained(sock);
        // 'closed': the log closed under the follower (a reopen or the stop): the loop decides
      } catch (e) {
        // a read cut by the log's close is not the follower's error: wait for the next log
        if (current() !== l || l.closed) continue;
        throw e;
      }
    }
  };

  const server = createServer((sock) => {
    const state = { end: false };
    conns.set(sock, state);
    let buf = '';
    let started = false;
    const wait = setTimeout(() => { if (!started) sock.destroy(); }, opts.requestWaitMs ?? FEED_REQUEST_WAIT_MS);
    const onData = (chunk: Buffer) => {
      if (started) return;
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 4096) sock.destroy();
        return;
      }
      started = true;
      clearTimeout(wait);
      sock.off('data', onData);
      let from = 1;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { from?: unknown; end?: unknown };
        if (req.from !== undefined) from = Number(req.from);
        if (!Number.isInteger(from) || from < 1) throw new Error('from');
        state.end = req.end === true;
      } catch {
        sock.end(JSON.stringify({ error: 'expected {"from": N} with N >= 1' }) + '\n');
        return;
      }
      // The follower's requests are done: from now on only its reading matters.
      sock.resume();
      sock.write(JSON.stringify({ protocol: LOG_SOCKET_PROTOCOL, head: current().head, ...(state.end ? { end: true } : {}) }) + '\n');
      follow(sock, from).then(
        () => { if (!stopped) sock.end(); },
        (e: unknown) => { if (!stopped) sock.end(JSON.stringify({ error: String((e as Error)?.message ?? e) }) + '\n'); },
      );
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
    sock.once('close', () => { clearTimeout(wait); conns.delete(sock); });
  });
  const close = server.close.bind(server);
  // Closing the feed ends every follower too (a server's close() waits for open connections).
  server.close = ((cb?: (err?: Error) => void) => {
    stopped = true;
    const head = current().head;
    for (const [s, st] of conns) {
      if (st.end) s.end(JSON.stringify({ end: 'closed', head }) + '\n');
      else s.end();
    }
    const r = close(cb);
    rmSync(path, { force: true });
    return r;
  }) as typeof server.close;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/**
 * Records from a log socket, from `from` on. Checks contiguity itself (a gap is reported as
 * BG_LOG_CORRUPT, not papered over) and what it is sent (a line that is not a record is
 * BG_BAD_INPUT); completes on the server's end mark. A connection that ends without it (the
 * server was killed, or cut the connection) is BG_LOG_UNAVAILABLE, naming the last seq received,
 * as is an end mark before the head it announces (records were left unsent).
 */
export function connectLogSocket(path: string, from = 1, onOpen?: (head: number) => Error | undefined): Observable<LogRecord> {
  return new Observable<LogRecord>((sub) => {
    const sock = createConnection(path);
    let buf = '';
    let header = false;
    let marksEnd = false;
    let connected = false;
    let finished = false;
    let last = from - 1;
    const fail = (e: Error) => {
      if (finished) return;
      finished = true;
      sock.destroy();
      sub.error(e);
    };
    const garbage = (line: string) => fail(new BlockgraphError('BG_BAD_INPUT',
      `log socket ${path} sent a line that is not a blockgraph log record: ${JSON.stringify(line.length > 80 ? line.slice(0, 80) + '…' : line)}`));
    const onLine = (line: string): void => {
      let msg: unknown;
      try { msg = JSON.parse(line); } catch { return garbage(line); }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return garbage(line);
      const m = msg as Record<string, unknown>;
      if (m.error !== undefined) return fail(new BlockgraphError('BG_BAD_INPUT', `log socket: ${String(m.error)}`));
      if (!header) {
        if (m.protocol !== LOG_SOCKET_PROTOCOL) return fail(new BlockgraphError('BG_BAD_INPUT', `${path} is not a blockgraph log socket`));
        header = true;
        marksEnd = m.end === true;
        // the caller's word on the head the feed announced (a refusal ends the subscription)
        const refused = onOpen?.(Number(m.head));
        if (refused) return fail(refused);
        return;
      }
      if (marksEnd && typeof m.end === 'string') {
        const head = Number(m.head);
        if (Number.isInteger(head) && last < head) {
          return fail(new BlockgraphError('BG_LOG_UNAVAILABLE', `log socket ${path}: the server closed the feed after seq ${last}, before its head (${head}); the rest is in the store`));
        }
        finished = true;
        sock.destroy();
        sub.complete();
        return;
      }
      if (!Number.isSafeInteger(m.seq)) return garbage(line);
      const r = m as unknown as LogRecord;
      if (r.seq <= last) return;
      if (r.seq !== last + 1) return fail(new LogCorruptError(last + 1, `log socket sent seq ${r.seq} after ${last}`));
      last = r.seq;
      sub.next(r);
    };
    sock.on('connect', () => { connected = true; sock.write(JSON.stringify({ from, end: true }) + '\n'); });
    // One decoder across chunks: a character split between two reads is joined, not replaced
    // by U+FFFD (which would change the record). Only the new text is searched for a newline.
    const decoder = new StringDecoder('utf8');
    sock.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      let start = 0;
      let nl: number;
      while (!finished && (nl = text.indexOf('\n', start)) >= 0) {
        const line = buf + text.slice(start, nl);
        buf = '';
        start = nl + 1;
        if (line.trim()) onLine(line);
      }
      if (finished) return;
      buf += text.slice(start);
      if (buf.length > FEED_MAX_LINE) {
        fail(new BlockgraphError('BG_BAD_INPUT', `log socket ${path} sent a line longer than ${FEED_MAX_LINE} bytes`));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => fail(connected
      ? new BlockgraphError('BG_LOG_UNAVAILABLE', `log socket ${path}: ${e.code ?? e.message} after seq ${last}`)
      : new BlockgraphError('BG_NOT_FOUND', `cannot connect to log socket ${path}: ${e.code ?? e.message}`)));
    sock.on('close', () => {
      if (finished) return;
      // A server that marks its end and did not: it went away. One that does not mark it
      // (an older blockgraph) ends every feed this way.
      if (marksEnd || !header) {
        const partial = buf.length ? `; a partial line of ${buf.length} bytes was dropped` : '';
        return fail(new BlockgraphError('BG_LOG_UNAVAILABLE', `log socket ${path}: the connection ended ${header ? `after seq ${last}` : 'before the feed began'} without the server's end mark (the server went away)${partial}`));
      }
      finished = true;
      sub.complete();
    });
    return () => { finished = true; sock.destroy(); };
  });
}
