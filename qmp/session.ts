// One QMP monitor session on a byte stream pair, as QEMU 7.2's monitor runs one (monitor/qmp.c):
// greeting, capabilities negotiation, then requests answered one at a time, in order. QEMU
// dispatches one request at a time; with OOB it queues up to QMP_REQ_QUEUE_LEN_MAX (8) and then
// suspends the monitor (monitor/qmp.c handle_qmp_command). Here a request is handed to the backend
// as soon as it is read (the backend runs them one at a time, in order, against its state), and
// the replies are written in request order, each once its command's records are durable: up to
// `pipeline` (8) requests are in flight, so a pipelining client's commands share the engine's group
// commits instead of waiting one fsync each. Input is fed in slices and not read on while that many
// requests wait, and also while the client leaves too much output unread. Nothing a client does throws out of here: a stream error or a disconnect ends
// the session, never the process.
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { ModelBackend } from '../commands/model-host.js';
import type { QmpErrorBody, QmpEvent, QmpReply } from '../commands/protocol.js';
import { eventsBeforeReply } from '../commands/event-timing.js';
import { validateCommand } from '../commands/schema/index.js';
import { jsonSafe } from '../commands/json-safe.js';
import { JsonMessageReader, QEMU_JSON_LIMITS, type JsonLimits, type JsonMessage } from './json-reader.js';
import { RawJson, toQmpJson } from './json-writer.js';
import { decodeRequest, type QmpRequest } from './request.js';
import { ModelCrashError } from '../errors/index.js';

export interface SessionLimits {
  /** Unread output (bytes) past which the session stops reading and running requests. */
  outputHighWater: number;
  /** Unread output (bytes) past which a client that does not read is disconnected. */
  outputLimit: number;
  /**
   * Unread output (bytes) of all of a server's clients together past which the stalled client
   * with the most unread is disconnected (the server's budget: outputLimit alone let 64 clients
   * that never read hold 64 × 16 MiB).
   */
  outputBudget: number;
  /** Input bytes fed to the JSON reader per step. */
  feedSlice: number;
  /** Parsed messages waiting to be answered before the session stops feeding input. */
  inboxMax: number;
  /**
   * Requests handed to the backend whose replies are not yet written (waiting for their records
   * to be durable, or for an earlier reply). QEMU's QMP_REQ_QUEUE_LEN_MAX. 1: strictly one at a time.
   */
  pipeline: number;
}
export const DEFAULT_SESSION_LIMITS: SessionLimits = { outputHighWater: 256 << 10, outputLimit: 16 << 20, outputBudget: 64 << 20, feedSlice: 4096, inboxMax: 64, pipeline: 8 };

export interface SessionHost {
  backend: ModelBackend;
  proc: string;
  /** Audit record for a refusal; awaited before the refusal is answered. */
  reject?: (proc: string, data: Record<string, unknown> | Record<string, unknown>[]) => Promise<void>;
  now: () => number;
  greeting: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
  json: JsonLimits;
  limits: SessionLimits;
  /** Events of one session's command, for every other negotiated session (QEMU broadcasts events). */
  broadcast(from: QmpSession, events: QmpEvent[]): void;
  /** `quit` was answered. */
  quit(): void;
  /** Diagnostics (stderr in the CLI). */
  note(msg: string): void;
  /**
   * `from`'s unread output grew past outputHighWater by another step: the server holds its
   * clients' unread output together to limits.outputBudget (qmp/server.ts).
   */
  outputGrew?(from: QmpSession): void;
}

/** How much a stalled session's unread output grows between two checks of the server's budget. */
const BUDGET_STEP = 256 << 10;

// Replies that are the same object every time (query-qmp-schema: 110 KB) are encoded once.
const encoded = new WeakMap<object, RawJson>();
function encodedOnce(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || !Object.isFrozen(v)) return v;
  let raw = encoded.get(v);
  if (!raw) { raw = new RawJson(toQmpJson(v)); encoded.set(v, raw); }
  return raw;
}

/** One refusal of a run: its error text, its id, and the message (its excerpt is decoded only for the record's first). */
type ErrorRun = { error: string; size: number; id?: unknown; msg: JsonMessage }[];

/** Does `v` print as `{}` (an object of no own enumerable member, neither an array nor raw text)? */
function emptyObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof RawJson) return false;
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) return false;
  return true;
}

/** Replies answered with an empty return and an integer id, written without the generic writer (specs count them). */
export const replyWork = { emptyReturns: 0 };
// The QDict order of a reply's two members: bucket order, decided by tdb_hash alone (toQmpJson)
let emptyReturnFirst: boolean | undefined;

/** A reply as QEMU writes it: `return` or `error`, then the request's id. */
export function replyJson(r: QmpReply, id: unknown): string {
  // Most commands' reply (blockdev-add, blockdev-del, …): `{}` and the client's integer id. The
  // generic writer's text for it, made without its frames, key lists and order lookup (issue 15;
  // specs/qmp/reply-text.spec.ts holds it to toQmpJson's text)
  if (!('error' in r) && typeof id === 'number' && Number.isSafeInteger(id) && !Object.is(id, -0) && emptyObject(r.return)) {
    replyWork.emptyReturns++;
    emptyReturnFirst ??= toQmpJson({ return: {}, id: 0 }).startsWith('{"return"');
    return emptyReturnFirst ? `{"return": {}, "id": ${id}}` : `{"id": ${id}, "return": {}}`;
  }
  const body: Record<string, unknown> = 'error' in r ? { error: r.error } : { return: encodedOnce(r.return) };
  if (id !== undefined) body.id = id;
  return toQmpJson(body);
}

/** The reply line to one refusal of a run (every such refusal is a GenericError). */
function replyLine(e: ErrorRun[number]): string {
  return replyJson({ error: { class: 'GenericError', desc: e.error } }, e.id) + '\r\n';
}

/** A parse error, or a value decodeRequest refused: what its record and reply hold. */
function refused(m: JsonMessage, d: ReturnType<typeof decodeRequest> | undefined): ErrorRun[number] {
  if (m.kind === 'error') return { error: m.error, size: m.size, msg: m };
  // every such refusal is a GenericError (qmp/request.ts generic)
  const e = d as { error: QmpErrorBody; id?: unknown };
  const r: ErrorRun[number] = { error: e.error.desc, size: m.size, msg: m };
  if (e.id !== undefined) r.id = e.id;
  return r;
}

/** Distinct errors besides the first that a run's record names, and the characters they may take. */
export const RUN_ALSO_MAX = 8;
export const RUN_ALSO_CHARS = 2048;

/**
 * The audit record of a run of refusals answered together (parse errors, values that are not requests) (events/types.ts CommandRejected):
 * the first refusal's input excerpt, error and id, `count` refusals, `bytes` of input in all, the run's
 * other distinct errors with their counts (bounded: the rest are in `count` only), and `replies`,
 * the sha256 of the reply lines written for the run, so that every answered refusal is accounted
 * for without a record each. A run of one is the record it always was.
 */
export function refusalRun(run: ErrorRun, replyText: string): Record<string, unknown> {
  const first = run[0]!;
  const error = { class: 'GenericError', desc: first.error };
  if (run.length === 1) {
    // the record refuse() wrote for it before runs were logged as one
    const one: Record<string, unknown> = { input: first.msg.excerpt, bytes: first.size, error };
    if (first.id !== undefined) one.id = jsonSafe(first.id);
    return one;
  }
  let bytes = 0;
  const counts = new Map<string, number>();
  for (const e of run) {
    bytes += e.size;
    counts.set(e.error, (counts.get(e.error) ?? 0) + 1);
  }
  const also: { error: QmpErrorBody; count: number }[] = [];
  let chars = 0;
  for (const [desc, count] of counts) {
    if (desc === first.error) continue;
    if (also.length >= RUN_ALSO_MAX || chars + desc.length > RUN_ALSO_CHARS) break;
    chars += desc.length;
    also.push({ error: { class: 'GenericError', desc }, count });
  }
  const data: Record<string, unknown> = { input: first.msg.excerpt, bytes, error, count: run.length };
  if (first.id !== undefined) data.id = jsonSafe(first.id);
  if (also.length) data.also = also;
  data.replies = createHash('sha256').update(replyText).digest('hex');
  return data;
}

const NEGOTIATION_EXPECTED = "Expecting capabilities negotiation with 'qmp_capabilities'";

export class QmpSession {
  negotiated = false;
  private oob = false;
  private readonly reader: JsonMessageReader;
  private readonly inbox: JsonMessage[] = [];
  private held: Buffer | null = null;
  private busy = false;
  private again = false;
  private inputEnded = false;
  private closed = false;
  private stopping = false;
  private corked = false;
  /** Replies in request order: each waits for the one before it, then for its own result. */
  private replies: Promise<void> = Promise.resolve();
  /** Replies handed out and not yet written, in order; `ready`: its result has settled. */
  private readonly inFlight: { done: Promise<void>; ready: boolean }[] = [];
  /** Lines of one answer (a reply and its events), gathered to leave in one write. */
  private gathered: string | undefined;
  /** Unread output when the server's budget was last checked for this session. */
  private budgetChecked = 0;
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(private readonly host: SessionHost, private readonly input: Readable, private readonly output: Writable & { destroy?: (e?: Error) => void }) {
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.reader = new JsonMessageReader((m) => this.inbox.push(m), host.json ?? QEMU_JSON_LIMITS);
    input.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    input.on('end', () => { this.inputEnded = true; this.pump(); });
    input.on('error', () => this.close());
    input.on('close', () => { this.inputEnded = true; if (input !== (output as unknown)) this.pump(); else this.close(); });
    output.on('error', () => this.close());
    output.on('drain', () => this.pump());
    this.write(toQmpJson({ QMP: host.greeting }));
  }

  get isClosed(): boolean { return this.closed; }

  /** Output written and not yet taken by the peer (past what the kernel's socket buffer holds). */
  get unread(): number { return (this.output as Writable).writableLength ?? 0; }

  /** The peer leaves more output unread than the session's bound: it is not read from (outputFull). */
  get stalled(): boolean { return this.outputFull(); }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.held = this.held ? Buffer.concat([this.held, chunk]) : chunk;
    this.input.pause(); // resumed once everything read so far is answered
    this.pump();
  }

  /** Feeds held input in slices while few messages wait, as QEMU's monitor_can_read() does. */
  private feedSome(): void {
    const { feedSlice, inboxMax } = this.host.limits;
    while (this.held && this.inbox.length < inboxMax && !this.stopping) {
      const n = Math.min(feedSlice, this.held.length);
      const slice = this.held.subarray(0, n);
      this.held = n < this.held.length ? this.held.subarray(n) : null;
      this.reader.feed(slice);
    }
  }

  private outputFull(): boolean {
    const w = this.output as Writable;
    return (w.writableLength ?? 0) > this.host.limits.outputHighWater;
  }

  /** The request loop: one message at a time, never while output is backed up. */
  private pump(): void {
    if (this.closed) return;
    // a stream may emit data synchronously inside resume(): a call while busy makes the loop look again
    if (this.busy) { this.again = true; return; }
    this.busy = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.step();
      } while (this.again && !this.closed);
    } finally {
      this.busy = false;
    }
  }

  private async step(): Promise<void> {
    try {
      for (;;) {
        if (this.closed) return;
        if (this.outputFull()) return; // 'drain' calls pump() again
        this.feedSome();
        const m = this.inbox.shift();
        if (!m) break;
        await this.handle(m);
        while (this.inFlight.length >= Math.max(1, this.host.limits.pipeline ?? 1) && !this.closed) await this.inFlight[0]!.done;
      }
      if (this.stopping || (this.inputEnded && !this.held)) {
        // half-close: everything received is answered; now our side ends too
        await this.drain();
        this.finish();
        return;
      }
      if (!this.held && !this.closed) this.input.resume();
    } catch (e) {
      this.host.note(`QMP session ended: ${(e as Error).message}`);
      this.close();
    }
  }

  private async handle(m: JsonMessage): Promise<void> {
    const d0 = m.kind === 'value' ? decodeRequest(m.value, this.oob) : undefined;
    if (m.kind === 'error' || d0?.kind === 'error') {
      // QEMU answers each invalid token, and each input that is not a request, with its own
      // error (json-streamer.c json_message_process_token: one per error; monitor/qmp.c
      // handle_qmp_command: one per value qmp_dispatch refuses): the replies stay one per refusal,
      // byte for byte. The log takes a run of them read together (up to 1024) as one record
      // (refusalRun), written before the replies go out: a flood of stray bytes no longer writes
      // ~130 bytes of log per byte read (a flood of `{"id":1}`: ~50).
      const run: ErrorRun = [refused(m, d0)];
      // the run goes on into input read and not yet fed (a flood arrives in 64 KiB reads, fed 4 KiB at a time)
      while (run.length < 1024 && (this.inbox.length || (this.feedSome(), this.inbox.length))) {
        const n = this.inbox[0]!;
        const dn = n.kind === 'value' ? decodeRequest(n.value, this.oob) : undefined;
        if (dn?.kind === 'request') break;
        run.push(refused(this.inbox.shift()!, dn));
      }
      const text = run.map(replyLine).join('');
      let logging: Promise<void> | undefined;
      try {
        logging = this.host.reject?.(this.host.proc, refusalRun(run, text));
      } catch (e) {
        logging = Promise.reject(e);
      }
      const logged = Promise.resolve(logging).catch((e: unknown) => this.host.note(`refusals not logged: ${(e as Error).message}`));
      this.inOrder(logged, () => this.write(text, false));
      return;
    }
    const { execute, arguments: args, id, oob } = (d0 as { request: QmpRequest }).request;
    if (!this.negotiated) {
      // only qmp_capabilities exists before negotiation; monitor_qmp_dispatch() rewrites CommandNotFound
      if (execute !== 'qmp_capabilities') {
        return this.refuse({ class: 'CommandNotFound', desc: NEGOTIATION_EXPECTED }, id, { command: execute });
      }
      if (oob) return this.refuse({ class: 'GenericError', desc: `The command ${execute} does not support OOB` }, id, { command: execute });
      const v = validateCommand(execute, args);
      if (!v.ok) return this.refuse({ class: v.class, desc: v.desc }, id, { command: execute });
      const enable = (v.value?.enable ?? []) as string[];
      const unavailable = [...new Set(enable)].filter((c) => !this.host.greeting.capabilities.includes(c));
      // qmp_caps_accept(): capabilities the server did not offer
      if (unavailable.length) return this.refuse({ class: 'GenericError', desc: `Capability ${unavailable.join(', ')} not available` }, id, { command: execute });
      this.negotiated = true;
      this.oob = enable.includes('oob');
      return this.inOrder(undefined, () => this.reply({ return: {} }, id));
    }
    if (execute === 'qmp_capabilities') {
      return this.refuse({ class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' }, id, { command: execute });
    }
    if (oob) {
      // no command QSD 7.2 offers allows OOB; the check follows the lookup (qmp_dispatch())
      const v = validateCommand(execute, undefined);
      const notFound = !v.ok && v.class === 'CommandNotFound';
      return this.refuse(notFound ? { class: v.class, desc: v.desc } : { class: 'GenericError', desc: `The command ${execute} does not support OOB` }, id, { command: execute });
    }
    // `quit` ends the session: nothing after it may run, so it waits for what is in flight
    if (execute === 'quit') await this.drain();
    // Handed over now; the backend runs it after the requests before it. Its reply (and events)
    // go out after theirs, once its records are durable.
    const result = this.host.backend.execute(this.host.proc, execute, args);
    const answered = this.inOrder(result, (r) => {
      this.inOneWrite(() => {
        const before = eventsBeforeReply(execute);
        if (before) this.events(r.events);
        this.reply(r.reply, id);
        if (!before) this.events(r.events);
      });
      if (execute === 'quit' && 'return' in r.reply) this.host.quit();
    }, (e) => {
      this.host.note(`command ${execute} failed: ${(e as Error).message}`);
      // a bug in the model: refused, with what went wrong (nothing was applied or logged)
      if (e instanceof ModelCrashError) return this.reply({ error: { class: 'GenericError', desc: e.message } }, id);
      // the log could not take the command (full disk, closed store): never acknowledge it
      this.reply({ error: { class: 'GenericError', desc: `blockgraph: the command could not be logged: ${(e as Error).message}` } }, id);
    });
    if (execute === 'quit') await answered;
  }

  /**
   * Writes an answer after every earlier one, once `result` settles. Returns when it is written.
   * A failure of `result` goes to `failed`; an exception while writing ends the session.
   */
  private inOrder<T>(result: Promise<T> | undefined, write: (v: T) => void, failed?: (e: unknown) => void): Promise<void> {
    const entry = { done: undefined as unknown as Promise<void>, ready: result === undefined };
    const answer = (r: { ok: true; v: T } | { ok: false; e: unknown }) => {
      if (r.ok) write(r.v);
      else if (failed) failed(r.e);
      else throw r.e;
    };
    let written: Promise<void>;
    if (this.inFlight.length === 0) {
      // Nothing before it is still to be written (a sequential client's every request): written
      // as soon as `result` settles, one hop after it, not behind the chain of earlier replies
      // (three hops from the result to the write, now one, and four promises fewer; issue 15, counted in
      // specs/qmp/command-hops.spec.ts).
      const r0 = result ?? Promise.resolve(undefined as T);
      written = r0.then((v) => { entry.ready = true; answer({ ok: true, v }); }, (e: unknown) => { entry.ready = true; answer({ ok: false, e }); });
    } else {
      const settled = result === undefined ? Promise.resolve({ ok: true as const, v: undefined as T })
        : result.then((v) => { entry.ready = true; return { ok: true as const, v }; }, (e: unknown) => { entry.ready = true; return { ok: false as const, e }; });
      written = this.replies.then(() => settled).then(answer);
    }
    const leave = () => {
      const i = this.inFlight.indexOf(entry);
      if (i >= 0) this.inFlight.splice(i, 1);
    };
    const done = written.then(leave, (e: unknown) => {
      this.host.note(`QMP session ended: ${(e as Error).message}`);
      this.close();
      leave();
    });
    entry.done = done;
    this.inFlight.push(entry);
    this.replies = done;
    return done;
  }

  /** Resolves once every reply handed out so far is written. */
  private drain(): Promise<void> {
    return this.replies;
  }

  /** Logs the refusal, then answers it: an answered refusal is always in the log. */
  private refuse(error: QmpErrorBody, id: unknown, what: Record<string, unknown>): Promise<void> {
    let logged: Promise<void>;
    try {
      const data: Record<string, unknown> = { ...what, error };
      if (id !== undefined) data.id = jsonSafe(id);
      logged = Promise.resolve(this.host.reject?.(this.host.proc, data));
    } catch (e) {
      logged = Promise.reject(e);
    }
    const noted = logged.catch((e: unknown) => this.host.note(`refusal not logged: ${(e as Error).message}`));
    this.inOrder(noted, () => this.reply({ error }, id));
    return Promise.resolve();
  }

  private reply(r: QmpReply, id: unknown): void {
    this.write(replyJson(r, id));
  }

  private events(evs: QmpEvent[]): void {
    if (!evs.length) return;
    this.sendEvents(evs);
    this.host.broadcast(this, evs);
  }

  /** Events as QEMU writes them: timestamp first (QDict order), wall clock at the edge. */
  sendEvents(evs: QmpEvent[]): void {
    if (!this.negotiated) return; // monitor_qapi_event_emit() skips monitors still negotiating
    for (const ev of evs) {
      const ms = this.host.now();
      const timestamp = ev.timestamp ?? { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
      this.write(toQmpJson(ev.data === undefined ? { timestamp, event: ev.event } : { timestamp, event: ev.event, data: ev.data }));
    }
  }

  /** What `fn` writes to this session leaves in one write (a reply and its events; a run of refusals). */
  private inOneWrite(fn: () => void): void {
    this.gathered = '';
    try {
      fn();
    } finally {
      const text = this.gathered;
      this.gathered = undefined;
      if (text) this.write(text, false);
    }
  }

  /** `line` without its end of line, or (`bare` false) lines gathered with theirs. */
  private write(line: string, bare = true): void {
    if (this.closed) return;
    // monitor_puts() turns "\n" into "\r\n"
    if (bare) line += '\r\n';
    if (this.gathered !== undefined) { this.gathered += line; return; }
    const w = this.output as Writable;
    if (w.destroyed || w.writableEnded) return;
    // Replies released together (the commands of one group commit) leave in one write: while the
    // next reply's result is already in, the stream is corked until the end of this tick, then
    // written out at once (writev on a socket). A reply nothing is ready behind (a sequential
    // client's) is written now, as monitor_flush() does, without waiting for the tick's end.
    // inFlight[0] is the reply being written, [1] the next one.
    if (!this.corked && typeof w.cork === 'function' && this.inFlight[1]?.ready) {
      this.corked = true;
      w.cork();
      process.nextTick(() => { this.corked = false; w.uncork(); });
    }
    w.write(line);
    const unread = w.writableLength ?? 0;
    if (unread > this.host.limits.outputLimit) {
      this.host.note(`QMP client does not read its output (${w.writableLength} bytes queued): disconnected`);
      this.close();
      return;
    }
    // QEMU's monitor output buffer grows without bound (monitor_flush_locked keeps what the
    // socket does not take); here each client is bounded, and so are all of them together: a
    // client that stops reading while events pile up is checked against the budget as its
    // unread output grows, a step at a time (not on every line)
    if (unread <= this.host.limits.outputHighWater) this.budgetChecked = 0;
    else if (unread >= this.budgetChecked + BUDGET_STEP) {
      this.budgetChecked = unread;
      this.host.outputGrew?.(this);
    }
  }

  /** Stop after the request in progress (SIGTERM, quit): answer it, then close. */
  stop(): void {
    this.stopping = true;
    this.held = null;
    this.inbox.length = 0;
    // the requests in flight were handed to the backend: they are answered first
    if (!this.busy) void this.drain().then(() => this.finish());
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.output as Writable;
    try {
      if (!w.destroyed && !w.writableEnded && w !== process.stdout) w.end();
    } catch { /* already gone */ }
    this.input.pause();
    this.resolveDone();
  }

  /** The peer is gone (or must go): drop what is queued; a command in progress still commits. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = null;
    this.inbox.length = 0;
    const s = this.output as Writable & { destroy?: () => void };
    try { if (s.destroy && s !== process.stdout) s.destroy(); } catch { /* already gone */ }
    this.resolveDone();
  }
}
