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
// log; one that reads nothing for FEED_STALL_MS while the feed waits on it is cut off: it is sent
// {"end": "cut", "after": N, "head": H} (if it asked for end marks) and the server reports it.
// Each record is serialised once for all followers, and a block of the log read from the store
// once for all the followers catching up through it (SharedLines).
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';
import { BlockgraphError, LogCorruptError } from '../errors/index.js';
import { checkUnixPath, clearStaleSocket, unixSocketPath } from '../qmp/server.js';
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
  /**
   * A follower that reads nothing for this long while the feed waits on it is cut off, with a
   * reported loss (default FEED_STALL_MS; 0: never).
   */
  stallMs?: number;
  /** Bytes of serialised records kept for every follower to share (default FEED_SHARED_BYTES). */
  sharedBytes?: number;
  /** Where a follower cut off is reported (the server's stderr). */
  warn?: (line: string) => void;
}

/** A follower that reads nothing for this long with the feed waiting on it is cut off. */
export const FEED_STALL_MS = 60_000;
/** After its cut mark, a follower that still reads nothing is disconnected this much later. */
const FEED_CUT_GRACE_MS = 10_000;
/** The serialised records every follower shares (about 4000 records of 2 KB). */
export const FEED_SHARED_BYTES = 8 * 1024 * 1024;

/** What the feed did (specs count it): records serialised, and store reads of a block. */
export const feedWork = { serialised: 0, blockReads: 0, cut: 0 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolves true once the socket has room again (or is gone), false if it had none for `ms`
 * (0: waits as long as it takes).
 */
function drained(sock: Socket, ms = 0): Promise<boolean> {
  return new Promise((resolve) => {
    if (!sock.writableNeedDrain || sock.destroyed) return resolve(true);
    const timer = ms > 0 ? setTimeout(() => finish(false), ms) : undefined;
    const done = () => finish(true);
    function finish(ok: boolean) {
      if (timer) clearTimeout(timer);
      sock.off('drain', done);
      sock.off('close', done);
      resolve(ok);
    }
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/**
 * The lines of the records followers were sent lately, shared: each record is serialised once
 * however many follow, and a block of the log is read from the store once for all the followers
 * catching up through it (round 5: 100 followers meant 100 reads and 100 JSON.stringify of each
 * record on the server's one thread, and the QMP writer waited behind them). Bounded by bytes,
 * the oldest entries dropped first; a follower whose lines were dropped reads its block again.
 * Tied to one EventLog: a store that reopens its log starts a new cache.
 */
class SharedLines {
  #log: EventLog | undefined;
  #lines = new Map<number, string>();
  #bytes = 0;
  #reads = new Map<number, Promise<string[]>>();
  constructor(private readonly budget: number) {}

  #for(log: EventLog): void {
    if (this.#log === log) return;
    this.#log = log;
    this.#lines.clear();
    this.#reads.clear();
    this.#bytes = 0;
  }

  get(log: EventLog, seq: number): string | undefined {
    this.#for(log);
    return this.#lines.get(seq);
  }

  lineOf(log: EventLog, r: LogRecord): string {
    this.#for(log);
    const had = this.#lines.get(r.seq);
    if (had !== undefined) return had;
    const line = JSON.stringify(r) + '\n';
    feedWork.serialised++;
    this.#lines.set(r.seq, line);
    this.#bytes += line.length;
    for (const [seq, old] of this.#lines) {
      if (this.#bytes <= this.budget) break;
      this.#lines.delete(seq);
      this.#bytes -= old.length;
    }
    return line;
  }

  /**
   * The lines of the block of FEED_READ records holding `seq` (up to `head`), from `seq` on:
   * one store read however many followers ask at once.
   */
  async block(log: EventLog, seq: number, head: number): Promise<string[]> {
    this.#for(log);
    const first = seq - ((seq - 1) % FEED_READ);
    const last = Math.min(head, first + FEED_READ - 1);
    const key = first * 0x100000 + (last - first); // a block read to an older head is another read
    let p = this.#reads.get(key);
    if (!p) {
      p = (async () => {
        feedWork.blockReads++;
        const out: string[] = [];
        let want = first;
        for await (const chunk of log.readChunks({ gte: first, lte: last })) {
          for (const r of chunk) {
            if (r.seq !== want) throw new LogCorruptError(want, `the store gave seq ${r.seq} for ${want}`);
            out.push(this.lineOf(log, r));
            want++;
          }
        }
        if (want !== last + 1) throw new LogCorruptError(want, `the store ended before seq ${want}`);
        return out;
      })();
      this.#reads.set(key, p);
      const forget = () => { if (this.#reads.get(key) === p) this.#reads.delete(key); };
      p.then(forget, forget);
    }
    return (await p).slice(seq - first);
  }
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
  const stallMs = opts.stallMs ?? FEED_STALL_MS;
  const shared = new SharedLines(opts.sharedBytes ?? FEED_SHARED_BYTES);
  await clearStaleSocket(path);
  const conns = new Map<Socket, { end: boolean }>();
  let stopped = false;

  /** A follower that reads nothing: cut off, the loss said to it (if it reads again) and to the server's log. */
  class Stalled extends Error {}

  const follow = async (sock: Socket, from: number): Promise<void> => {
    let next = from;
    const gone = () => stopped || sock.destroyed || !sock.writable;
    const room = async () => {
      if (!(await drained(sock, stallMs))) throw new Stalled();
    };
    while (!gone()) {
      const l = current();
      // closed and not (yet) replaced: the server is reopening its store, or stopping
      if (l.closed) { await sleep(100); continue; }
      // a follower may ask from past the head (it waits); records it was sent must not vanish
      if (next > from && l.head < next - 1) throw new LogCorruptError(l.head + 1, `the store's head is ${l.head} after seq ${next - 1} was sent`);
      try {
        // Catch up from the shared lines, else from the store a block at a time (one read for
        // every follower in that block), never more than `high` bytes unread by the follower.
        while (next <= l.head && !gone()) {
          let out = '';
          for (let line; next <= l.head && out.length < high && (line = shared.get(l, next)) !== undefined; next++) out += line;
          if (!out) {
            const lines = await shared.block(l, next, l.head);
            out = lines.join('');
            next += lines.length;
          }
          if (gone()) return;
          sock.write(out);
          if (sock.writableLength >= high) await room();
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
              sock.write(shared.lineOf(l, r));
              next = r.seq + 1;
              if (sock.writableLength >= high) settle('behind');
            },
            error: (e: unknown) => settle(e instanceof Error ? e : new Error(String(e))),
            complete: () => settle('closed'),
          });
        });
        if (why instanceof Error) throw why;
        if (why === 'behind') await room();
        // 'closed': the log closed under the follower (a reopen or the stop): the loop decides
      } catch (e) {
        if (e instanceof Stalled) {
          feedWork.cut++;
          const after = next - 1;
          opts.warn?.(`blockgraph: log socket ${path}: a follower read nothing for ${stallMs / 1000} s with ${sock.writableLength} bytes unread; cut off after seq ${after} (it can follow again from ${after + 1})`);
          const st = conns.get(sock);
          if (st?.end) sock.end(JSON.stringify({ end: 'cut', after, head: current().head, stalledMs: stallMs }) + '\n');
          else sock.end();
          // one that never reads again would hold its fd and its unread bytes for ever
          setTimeout(() => sock.destroy(), FEED_CUT_GRACE_MS).unref();
          return;
        }
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
    server.listen(unixSocketPath(path), () => resolve(server));
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
    // a longer path would be cut to 108 bytes by libuv and reach another socket
    try { checkUnixPath(path); } catch (e) { sub.error(e); return undefined; }
    const sock = createConnection(unixSocketPath(path));
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
      if (marksEnd && m.end === 'cut') {
        // the server stopped waiting for this follower to read (FEED_STALL_MS): a loss, said
        return fail(new BlockgraphError('BG_LOG_UNAVAILABLE', `log socket ${path}: the server cut the feed after seq ${last} (this follower read nothing for ${Number(m.stalledMs) / 1000} s); the rest is in the store (follow again from ${last + 1})`));
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
