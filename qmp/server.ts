// The model speaking QMP as qemu-storage-daemon does, on stdio or a unix socket. Each client is
// one monitor session (qmp/session.ts) on the same backend; events of one client's command go to
// every negotiated client, as QEMU broadcasts them (monitor_qapi_event_emit()). Several clients
// are served at once (QEMU's socket chardev takes one at a time and leaves the rest in the listen
// backlog without a greeting); their requests are serialized by the engine, so two clients never
// interleave one transaction. The number of clients is bounded.
import { existsSync, lstatSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BlockgraphError } from '../errors/index.js';
import type { ModelBackend } from '../commands/model-host.js';
import type { QmpEvent } from '../commands/protocol.js';
import { QSD_RECORDING } from '../commands/qsd/recording.js';
import { qemuReleaseOf } from '../commands/queries.js';
import { QEMU_JSON_LIMITS, type JsonLimits } from './json-reader.js';
import { DEFAULT_SESSION_LIMITS, QmpSession, type SessionHost, type SessionLimits } from './session.js';

export interface ServeOptions {
  proc?: string;
  /** Where refusals are recorded (the engine's audit record); awaited before the answer. */
  reject?: (proc: string, data: Record<string, unknown> | Record<string, unknown>[]) => Promise<void>;
  /** Wall clock for event timestamps: the edge of the system is the only place that reads one. */
  now?: () => number;
  json?: Partial<JsonLimits>;
  limits?: Partial<SessionLimits>;
  /** Clients served at once; more wait (not greeted) until one leaves. */
  maxClients?: number;
  /** Connections that may wait, not greeted, for a place; more are refused (closed). Default 256. */
  maxWaiting?: number;
  /** How long a connection waits for a place before it is closed (ms). Default 30 s. */
  waitMs?: number;
  /** A client that has not sent qmp_capabilities this long after connecting (ms) gives its place up to a newcomer when the server is full. Default 10 s. */
  silentGraceMs?: number;
  /** How long a stopping server waits for a client to read its last replies before closing it (ms). */
  stopGraceMs?: number;
  /** Called once `quit` has been answered. */
  onQuit?: () => void;
  note?: (msg: string) => void;
}

/**
 * QSD's greeting: the version the served process models (7.2 unless it declared another, as
 * QSD_RECORDING's 7.2.22; graph/version.ts), the package naming this model, and the one
 * capability it offers (oob, on 7.2 and 10.0 alike).
 */
function greeting(backend: ModelBackend, proc: string): SessionHost['greeting'] {
  const { major, minor, micro } = backend.state[proc] ? qemuReleaseOf(backend.state, proc) : QSD_RECORDING.version.qemu;
  // members in QAPI order (VersionTriple: major, minor, micro), as qmp_query_version() fills them
  return { version: { qemu: { major, minor, micro }, package: 'blockgraph model' }, capabilities: ['oob'] };
}

/** A connection waiting for a place: what it sent meanwhile is kept for its session. */
interface Waiter { sock: Socket; timer: NodeJS.Timeout; held: Buffer[]; bytes: number; ended?: boolean; onData?: (d: Buffer) => void; onEnd?: () => void }
/** Bytes a waiting connection may send before it is no longer read (64 KiB). */
const WAIT_HOLD = 64 << 10;

export function host(backend: ModelBackend, opts: ServeOptions, sessions: Set<QmpSession>): SessionHost {
  const limits = { ...DEFAULT_SESSION_LIMITS, ...opts.limits };
  const note = opts.note ?? (() => undefined);
  return {
    backend, proc: opts.proc ?? 'A', reject: opts.reject, now: opts.now ?? Date.now, greeting: greeting(backend, opts.proc ?? 'A'),
    json: { ...QEMU_JSON_LIMITS, ...opts.json }, limits,
    broadcast(from: QmpSession, events: QmpEvent[]) {
      for (const s of sessions) if (s !== from && !s.isClosed) s.sendEvents(events);
    },
    quit: () => opts.onQuit?.(),
    note,
    outputGrew: () => keepOutputBudget(sessions, limits.outputBudget, note),
  };
}

/** The negotiated client past its outputHighWater (not read from) with the most output unread. */
function mostStalled(sessions: Iterable<QmpSession>): QmpSession | undefined {
  let worst: QmpSession | undefined;
  for (const s of sessions) if (s.negotiated && !s.isClosed && s.stalled && (!worst || s.unread > worst.unread)) worst = s;
  return worst;
}

/**
 * While the clients' unread output together passes `budget`, the stalled one (past its
 * outputHighWater: its input is not read on) with the most unread is disconnected. Each client's
 * own bound (outputLimit, 16 MiB) alone let 63 clients that stopped reading while one client's
 * jobs sent events hold up to 63 × 16 MiB (measured: 9 MB each after 300 s, RSS 134 → 1307 MB
 * and growing; docs/hostile.md stop 44); QEMU keeps every monitor's output without bound
 * (monitor_flush_locked), but serves one client at a time.
 */
export function keepOutputBudget(sessions: Iterable<QmpSession>, budget: number, note: (msg: string) => void): void {
  for (;;) {
    let total = 0;
    for (const s of sessions) if (!s.isClosed) total += s.unread;
    const worst = total > budget ? mostStalled(sessions) : undefined;
    if (!worst) return;
    note(`QMP client does not read its output (${worst.unread} bytes queued; ${total} bytes unread by all clients, more than ${budget}): disconnected`);
    worst.close();
  }
}

/** One session on a stream pair (stdio); resolves when it ends. */
export function serveQmp(backend: ModelBackend, input: Readable, output: Writable, opts: ServeOptions = {}): Promise<void> & { session: QmpSession } {
  const sessions = new Set<QmpSession>();
  const s = new QmpSession(host(backend, opts, sessions), input, output);
  sessions.add(s);
  return Object.assign(s.done, { session: s });
}

export interface QmpServer {
  readonly server: Server;
  readonly sessions: ReadonlySet<QmpSession>;
  /** Stop accepting; each session answers the request in progress, then closes. */
  stop(): Promise<void>;
}

/**
 * A unix-socket QMP server. A socket file left by a dead server is replaced (as QEMU's
 * socket_listen() unlinks the path first); one a live server answers on is not (BG_BAD_INPUT).
 */
export async function listenQmp(backend: ModelBackend, path: string, opts: ServeOptions = {}): Promise<QmpServer & Server> {
  await clearStaleSocket(path);
  const sessions = new Set<QmpSession>();
  const h = host(backend, opts, sessions);
  const max = opts.maxClients ?? 64;
  let stopping = false;
  const sockets = new Set<Socket>();
  // When every place is taken, the oldest client that has not negotiated within silentGraceMs
  // of connecting gives its place up to the newcomer: 64 connections that never speak would
  // otherwise lock every real client out for as long as they stay (QEMU's one-client chardev is
  // held by a single such connection; the rest wait in the backlog). A negotiated client, idle
  // or not, keeps its place.
  const since = new Map<QmpSession, number>();
  const grace = opts.silentGraceMs ?? 10_000;
  const evictSilent = () => {
    const now = h.now();
    let oldest: QmpSession | undefined;
    for (const [s, t] of since) if (!s.negotiated && !s.isClosed && now - t >= grace && (!oldest || t < since.get(oldest)!)) oldest = s;
    if (!oldest) return;
    h.note(`QMP client evicted: connected ${Math.round((now - since.get(oldest)!) / 1000)} s ago without negotiating, and ${max} clients are connected`);
    oldest.close();
    sessions.delete(oldest);
    since.delete(oldest);
  };
  // Then a negotiated client that stopped reading: the one with the most output unread past its
  // bound (outputHighWater, when its session stopped reading its input) gives its place up.
  // QEMU's monitor would keep writing to it (its out_buf grows without bound) while the one
  // client the chardev serves stays blocked; here, it would only hold its place until it passed
  // outputLimit, which needs output it does not ask for: 64 negotiated non-readers that stop
  // asking locked every newcomer out for ever. A client that reads keeps its place, however idle.
  const evictStalled = () => {
    const worst = mostStalled(sessions);
    if (!worst) return;
    h.note(`QMP client evicted: ${worst.unread} bytes of its output unread (it stopped reading), and ${max} clients are connected`);
    worst.close();
    sessions.delete(worst);
    since.delete(worst);
  };
  // Connections beyond `max` wait, not greeted, for a place, as QEMU's socket chardev leaves
  // every client but the one it serves in the listen backlog (chardev/char-socket.c
  // tcp_chr_new_client() stops accepting, tcp_chr_disconnect_locked() accepts again; its backlog
  // is 1, qmp_chardev_open_socket_server(), so a non-blocking connect beyond it gets EAGAIN):
  // 200 clients connecting at once were 63 served and 137 closed unanswered; now each is greeted
  // in turn as places free. The wait is bounded in number (an fd each) and time (a place held by
  // a negotiated idle client may never free).
  const maxWaiting = opts.maxWaiting ?? 256;
  const waitMs = opts.waitMs ?? 30_000;
  const waiting: Waiter[] = [];
  const start = (sock: Socket, input: Readable = sock) => {
    const s = new QmpSession(h, input, sock);
    sessions.add(s);
    since.set(s, h.now());
    void s.done.then(() => { sessions.delete(s); since.delete(s); admit(); });
  };
  const unwait = (sock: Socket) => {
    const i = waiting.findIndex((w) => w.sock === sock);
    if (i >= 0) { clearTimeout(waiting[i]!.timer); waiting.splice(i, 1); }
  };
  /** Greets waiting connections, oldest first, while places are free. */
  const admit = () => {
    while (!stopping && waiting.length > 0 && sessions.size < max) {
      const w = waiting.shift()!;
      clearTimeout(w.timer);
      if (w.sock.destroyed) continue;
      const sock = w.sock;
      sock.pause();
      if (w.onData) sock.off('data', w.onData);
      if (w.onEnd) sock.off('end', w.onEnd);
      if (w.ended) {
        // its read side is over: the session reads the bytes kept for it, then their end
        const input = new PassThrough();
        input.end(Buffer.concat(w.held));
        start(sock, input);
        continue;
      }
      if (w.bytes) sock.unshift(Buffer.concat(w.held));
      start(sock);
      sock.resume();
    }
  };
  // While connections wait on a full server, the places of silent and stalled clients are
  // reclaimed as a newcomer's arrival reclaims them (their grace passes while nobody arrives).
  const sweep = setInterval(() => {
    if (waiting.length === 0 || stopping) return;
    if (sessions.size >= max) evictSilent();
    if (sessions.size >= max) evictStalled();
    admit();
  }, 1000);
  sweep.unref();
  const server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
    sock.on('error', () => undefined); // ECONNRESET/EPIPE end the session, never the server
    sockets.add(sock);
    sock.once('close', () => { sockets.delete(sock); unwait(sock); });
    if (!stopping && sessions.size >= max) evictSilent();
    if (!stopping && sessions.size >= max) evictStalled();
    // a place freed by an eviction goes to the newcomer that caused it, ahead of the waiting
    // ones: otherwise connections that never speak, queued, would take every freed place in turn
    if (!stopping && sessions.size < max) { start(sock); return; }
    if (!stopping && waiting.length < maxWaiting) {
      const timer = setTimeout(() => {
        unwait(sock);
        h.note(`QMP client refused: waited ${waitMs / 1000} s for one of ${max} places`);
        sock.destroy();
      }, waitMs);
      timer.unref();
      waiting.push({ sock, timer, held: [], bytes: 0 });
      // allowHalfOpen: a waiting client that leaves only ends its side, and 'end' comes only
      // once what it sent is read: it is read and kept for its session (a client may send
      // qmp_capabilities before the greeting), up to WAIT_HOLD bytes; past that it is not read
      // on, and only the wait's time bound ends it.
      const w = waiting[waiting.length - 1]!;
      w.onData = (d: Buffer) => { w.held.push(d); w.bytes += d.length; if (w.bytes >= WAIT_HOLD) sock.pause(); };
      // one that sent nothing has left; one that sent requests and half-closed (socat's one-shot)
      // waits on, and its session reads what it sent, then its end (as QEMU, accepting it later,
      // reads the backlog connection's data and EOF)
      w.onEnd = () => {
        if (w.bytes) { w.ended = true; return; }
        unwait(sock);
        sock.destroy();
      };
      sock.on('data', w.onData);
      sock.once('end', w.onEnd);
      return;
    }
    h.note(stopping ? 'QMP client refused: shutting down' : `QMP client refused: ${max} clients already connected and ${maxWaiting} waiting`);
    sock.destroy();
  });
  server.on('error', (e) => h.note(`QMP server: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(unixSocketPath(path), () => { server.off('error', reject); resolve(); });
  });
  const stop = async () => {
    stopping = true;
    clearInterval(sweep);
    for (const { sock, timer } of waiting.splice(0)) { clearTimeout(timer); sock.destroy(); }
    const closed = new Promise<void>((r) => server.close(() => r()));
    const all = [...sessions];
    for (const s of all) s.stop();
    await Promise.all(all.map((s) => s.done));
    // server.close() waits for every connection to end, and a session's end is only our half of
    // it: a client that keeps its half open (allowHalfOpen, or a peer that never closes on EOF)
    // or stops reading its last reply would keep this process alive for ever. QEMU closes each
    // client's fd as it exits, so every socket is destroyed once its output is flushed, or after
    // a bounded grace for a client that does not read it.
    await Promise.all([...sockets].map((sock) => flushThenDestroy(sock, opts.stopGraceMs ?? 1000)));
    await closed;
  };
  return Object.assign(server, { server, sessions, stop });
}

/** Destroys a socket once what was written to it has left (or after graceMs). */
export function flushThenDestroy(sock: Socket, graceMs: number): Promise<void> {
  if (sock.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => { clearTimeout(timer); sock.destroy(); resolve(); };
    const timer = setTimeout(done, graceMs);
    if (sock.writableLength === 0) done();
    else { sock.once('drain', done); sock.once('finish', done); sock.once('close', done); }
  });
}

/** Makes PATH free to listen on: nothing there, or a socket nobody answers on (removed). */
/** sizeof(((struct sockaddr_un *)0)->sun_path) on Linux. */
export const UNIX_PATH_MAX = 108;

/**
 * A unix socket path longer than sun_path is refused as QEMU refuses it (util/qemu-sockets.c
 * unix_listen_saddr / unix_connect_saddr: `pathlen > sizeof(un.sun_path)`), with its text; libuv
 * would cut it to 108 bytes silently, listen at that other name, and leave it behind at exit.
 */
export function checkUnixPath(path: string): void {
  if (path === '') throw new BlockgraphError('BG_BAD_INPUT', 'a socket path is empty');
  if (Buffer.byteLength(unixSocketPath(path)) > UNIX_PATH_MAX) {
    throw new BlockgraphError('BG_BAD_INPUT', `UNIX socket path '${path}' is too long`);
  }
}

/**
 * The path to give node:net for a unix socket. net's listen(x)/connect(x) read a string that
 * Number() takes as >= 0 ('4444', '0', '0x10', '1e3', ' 5', '') as a TCP port: `qmp --socket
 * 4444` listened on *:4444, unauthenticated QMP for the whole network, where QEMU's
 * `--chardev socket,path=4444` makes a socket file named 4444. A name without a slash is the
 * same file as ./name, which net cannot mistake.
 */
export function unixSocketPath(path: string): string {
  return path.includes('/') ? path : `./${path}`;
}

export async function clearStaleSocket(path: string): Promise<void> {
  checkUnixPath(path);
  if (!existsSync(path)) return;
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new BlockgraphError('BG_BAD_INPUT', `${path} exists and is not a socket; not replacing it`);
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(unixSocketPath(path));
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (live) throw new BlockgraphError('BG_BAD_INPUT', `${path}: another server is listening on this socket`);
  rmSync(path, { force: true });
}
