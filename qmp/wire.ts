// The client side of the QMP wire: drives a real qemu-storage-daemon (stdio or unix socket), whose
// monitor writes one JSON object per line; replies correlated by `id`, events in between.
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

// The server side (reader, writer, sessions) is qmp/json-reader.ts, json-writer.ts, session.ts.
