// The QMP wire protocol: one JSON object per line in each direction, a greeting from the server,
// replies correlated by `id`, asynchronous events in between. The client side drives a real
// qemu-storage-daemon (stdio or unix socket); the server-side codec lets the model answer
// malformed input with QEMU 7.2's exact errors.
import { createConnection } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { Subject } from 'rxjs';
import { BlockgraphError } from '../errors/index.js';
import type { QmpConnection, QmpErrorBody, QmpEvent, QmpReply } from '../commands/protocol.js';

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

/** `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`, as the transcripts' `qemu` member. */
export function versionString(g: QmpGreeting['QMP']['version']): string {
  const v = `${g.qemu.major}.${g.qemu.minor}.${g.qemu.micro}`;
  return g.package ? `${v} (${g.package.trim()})` : v;
}

export interface WireClientOptions {
  /** Send `qmp_capabilities` right after the greeting (default true). */
  negotiate?: boolean;
  /** Called once the peer's stream ends or fails; pending commands are rejected anyway. */
  onClose?: (err?: Error) => void;
  /** For error messages. */
  label?: string;
}

/** Splits a byte stream into lines; tolerant of lines split across chunks and of CRLF. */
export class LineSplitter {
  private buf = '';
  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  }
}

export class QmpWireClient implements QmpConnection {
  readonly events$ = new Subject<QmpEvent>();
  greeting?: QmpGreeting;
  private readonly pending = new Map<number, { resolve: (r: QmpReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed?: Error;
  private readonly lines = new LineSplitter();
  private queue: string[] = [];
  private draining = false;
  private greetingWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly label: string;

  constructor(input: Readable, private readonly output: Writable, private readonly opts: WireClientOptions = {}) {
    this.label = opts.label ?? 'QMP peer';
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.queue.push(...this.lines.push(chunk));
      this.drain();
    });
    const end = (err?: Error) => this.abort(err ?? new BlockgraphError('BG_QMP_ERROR', `${this.label} closed the connection`));
    input.on('end', () => end());
    input.on('close', () => end());
    input.on('error', (e) => end(e));
    output.on('error', (e) => end(e));
  }

  /** Resolves once the greeting arrived and, unless disabled, capabilities are negotiated. */
  async ready(): Promise<this> {
    if (!this.greeting) {
      await new Promise<void>((resolve, reject) => {
        if (this.closed) reject(this.closed);
        else this.greetingWaiters.push({ resolve, reject });
      });
    }
    if (this.opts.negotiate !== false) {
      const r = await this.execute('qmp_capabilities');
      if ('error' in r) throw new BlockgraphError('BG_QMP_ERROR', `${this.label}: qmp_capabilities failed: ${r.error.desc}`);
    }
    return this;
  }

  // Lines are handled one at a time; after a reply the rest waits for a macrotask, so that the
  // awaiting caller sees exactly the events that arrived before that reply (the oracle's
  // attribution rule), even when reply and events came in one chunk.
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    while (this.queue.length > 0) {
      const line = this.queue.shift()!;
      if (this.handle(line) === 'reply') {
        setImmediate(() => { this.draining = false; this.drain(); });
        return;
      }
    }
    this.draining = false;
  }

  private handle(line: string): 'reply' | 'other' {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      this.abort(new BlockgraphError('BG_QMP_ERROR', `${this.label} sent a line that is not JSON: ${line.slice(0, 200)}`));
      return 'other';
    }
    if ('QMP' in msg) {
      this.greeting = msg as unknown as QmpGreeting;
      for (const w of this.greetingWaiters.splice(0)) w.resolve();
      return 'other';
    }
    if (typeof msg.event === 'string') {
      this.events$.next(msg as unknown as QmpEvent);
      return 'other';
    }
    if ('return' in msg || 'error' in msg) {
      const id = msg.id;
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (!p) return 'other'; // a reply to nothing we sent (e.g. to a parse error): nothing waits for it
      this.pending.delete(id as number);
      p.resolve('error' in msg ? { error: msg.error as QmpErrorBody } : { return: msg.return });
      return 'reply';
    }
    return 'other';
  }

  /** Rejects everything pending and ends events$; used when the peer is known to be gone. */
  abort(err: Error): void {
    if (this.closed) return;
    this.closed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.greetingWaiters.splice(0)) w.reject(err);
    this.events$.complete();
    this.opts.onClose?.(err);
  }

  execute(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const msg: Record<string, unknown> = { execute: command };
    if (args !== undefined) msg.arguments = args;
    msg.id = id;
    return new Promise<QmpReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.output.write(`${JSON.stringify(msg)}\n`, (err) => {
        if (err) { this.pending.delete(id); reject(err); }
      });
    });
  }

  async close(): Promise<void> {
    this.abort(new BlockgraphError('BG_QMP_ERROR', `${this.label}: connection closed by the client`));
    this.output.end();
  }
}

/** A client on a unix socket (e.g. `--monitor` on `--chardev socket,path=…,server=on`). */
export async function connectUnixSocket(path: string, opts: WireClientOptions = {}): Promise<QmpWireClient> {
  const sock = createConnection(path);
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  return new QmpWireClient(sock, sock, opts).ready();
}

// ---------------------------------------------------------------------------------------------
// server side

export interface QmpRequest { execute: string; arguments: Record<string, unknown>; id?: unknown }
export type DecodedLine = { kind: 'request'; request: QmpRequest } | { kind: 'error'; error: QmpErrorBody; id?: unknown };

const genericError = (desc: string): QmpErrorBody => ({ class: 'GenericError', desc });

/** QEMU's parser texts for the malformations JSON.parse reports; unknown ones get the nearest. */
function jsonParseError(line: string): string {
  const t = line.trim();
  const kw = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(t);
  if (kw && !['true', 'false', 'null'].includes(kw[1])) return `JSON parse error, invalid keyword '${kw[1]}'`;
  // QEMU's error is about the first bad token; a small scan finds the usual three cases
  const depth: ('{' | '[')[] = [];
  let i = 0;
  let expect: 'key' | 'colon' | 'value' | 'sep' = 'value';
  const skipString = () => { const q = t[i]; i++; while (i < t.length && t[i] !== q) { if (t[i] === '\\') i++; i++; } i++; };
  while (i < t.length) {
    const c = t[i];
    if (/\s/.test(c)) { i++; continue; }
    const top = depth[depth.length - 1];
    if (expect === 'key') {
      if (c === '}') { depth.pop(); i++; expect = 'sep'; continue; }
      if (c !== '"' && c !== "'") return 'JSON parse error, key is not a string in object';
      skipString(); expect = 'colon'; continue;
    }
    if (expect === 'colon') {
      if (c !== ':') return 'JSON parse error, missing : in object pair';
      i++; expect = 'value'; continue;
    }
    if (expect === 'sep') {
      if (c === ',') { i++; expect = top === '{' ? 'key' : 'value'; continue; }
      if ((c === '}' && top === '{') || (c === ']' && top === '[')) { depth.pop(); i++; continue; }
      return top === '[' ? 'JSON parse error, expected separator in array' : 'JSON parse error, expected separator in dict';
    }
    // a value
    if (c === '{') { depth.push('{'); i++; expect = 'key'; continue; }
    if (c === '[') { depth.push('['); i++; expect = 'value'; if (t[i] === ']') { depth.pop(); i++; expect = 'sep'; } continue; }
    if (c === '"' || c === "'") { skipString(); expect = 'sep'; continue; }
    const lit = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(t.slice(i));
    if (lit) { i += lit[0].length; expect = 'sep'; continue; }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(t.slice(i));
    if (word) return `JSON parse error, invalid keyword '${word[0]}'`;
    return 'JSON parse error, expecting value';
  }

  return 'JSON parse error, expecting value';
}

/**
 * Decodes one input line as QEMU 7.2's monitor would (monitor/qmp.c, qapi/qmp-dispatch.c).
 * Texts checked against a live qemu-storage-daemon 7.2.22. QEMU checks members in its hash order;
 * here unexpected members are reported in input order, before a missing `execute`.
 */
export function decodeRequestLine(line: string): DecodedLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'error', error: genericError(jsonParseError(line)) };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { kind: 'error', error: genericError('QMP input must be a JSON object') };
  }
  const o = v as Record<string, unknown>;
  const id = o.id;
  const withId = (error: QmpErrorBody): DecodedLine => ('id' in o ? { kind: 'error', error, id } : { kind: 'error', error });
  for (const [k, x] of Object.entries(o)) {
    if (k === 'execute') {
      if (typeof x !== 'string') return withId(genericError("QMP input member 'execute' must be a string"));
    } else if (k === 'arguments') {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) return withId(genericError("QMP input member 'arguments' must be an object"));
    } else if (k !== 'id') {
      return withId(genericError(`QMP input member '${k}' is unexpected`));
    }
  }
  if (!('execute' in o)) return withId(genericError("QMP input lacks member 'execute'"));
  const request: QmpRequest = { execute: o.execute as string, arguments: (o.arguments as Record<string, unknown>) ?? {} };
  if ('id' in o) request.id = id;
  return { kind: 'request', request };
}

/** The error a not-yet-negotiated monitor gives for anything but `qmp_capabilities`. */
export const NEGOTIATION_EXPECTED: QmpErrorBody = {
  class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
};
/** `qmp_capabilities` once negotiation is done. */
export const NEGOTIATION_DONE: QmpErrorBody = {
  class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored',
};
export const commandNotFound = (name: string): QmpErrorBody => ({
  class: 'CommandNotFound', desc: `The command ${name} has not been found`,
});

/** One reply line, members in the order QEMU 7.2 prints them. */
export function encodeReply(reply: QmpReply, id?: unknown): string {
  if ('error' in reply) {
    return JSON.stringify(id === undefined ? { error: reply.error } : { id, error: reply.error });
  }
  return JSON.stringify(id === undefined ? { return: reply.return } : { return: reply.return, id });
}

export function encodeEvent(ev: QmpEvent, now: () => number = Date.now): string {
  const ms = now();
  const timestamp = ev.timestamp ?? { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
  return JSON.stringify(ev.data === undefined ? { timestamp, event: ev.event } : { timestamp, event: ev.event, data: ev.data });
}

export function encodeGreeting(version: { major: number; minor: number; micro: number }, pkg: string): string {
  return JSON.stringify({ QMP: { version: { qemu: { micro: version.micro, minor: version.minor, major: version.major }, package: pkg }, capabilities: ['oob'] } });
}
