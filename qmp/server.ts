// The model speaking QMP as qemu-storage-daemon does, on any byte stream pair (stdio, a
// unix socket connection): greeting, capabilities negotiation, one reply per line,
// asynchronous events. Malformed input is answered with QEMU's error and reaches the log
// only as a command.rejected record.
import { createServer, type Server } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ModelBackend } from '../commands/model-host.js';
import {
  LineSplitter, NEGOTIATION_DONE, NEGOTIATION_EXPECTED, decodeRequestLine, encodeEvent, encodeGreeting, encodeReply,
} from './wire.js';

export interface ServeOptions {
  proc?: string;
  /** Where refusals of malformed input are recorded (the engine's audit record). */
  reject?: (proc: string, data: Record<string, unknown>) => Promise<void>;
  /** Wall clock for event timestamps: the edge of the system is the only place that reads one. */
  now?: () => number;
}

export function serveQmp(backend: ModelBackend, input: Readable, output: Writable, opts: ServeOptions = {}): Promise<void> {
  const proc = opts.proc ?? 'A';
  let negotiated = false;
  const write = (line: string) => { output.write(line + '\r\n'); };
  write(encodeGreeting({ major: 7, minor: 2, micro: 22 }, 'blockgraph model'));
  const splitter = new LineSplitter();
  let chain = Promise.resolve();
  const handle = async (line: string) => {
    if (!line.trim()) return;
    const d = decodeRequestLine(line);
    if (d.kind === 'error') {
      write(encodeReply({ error: d.error }, d.id));
      await opts.reject?.(proc, { line, error: d.error });
      return;
    }
    const { execute, arguments: args, id } = d.request;
    if (!negotiated) {
      if (execute === 'qmp_capabilities') { negotiated = true; write(encodeReply({ return: {} }, id)); }
      else write(encodeReply({ error: NEGOTIATION_EXPECTED }, id));
      return;
    }
    if (execute === 'qmp_capabilities') { write(encodeReply({ error: NEGOTIATION_DONE }, id)); return; }
    const r = await backend.execute(proc, execute, args);
    write(encodeReply(r.reply, id));
    for (const ev of r.events) write(encodeEvent(ev, opts.now));
  };
  return new Promise((resolve) => {
    input.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk.toString('utf8'))) chain = chain.then(() => handle(line));
    });
    input.on('end', () => { chain.then(() => resolve()); });
    input.on('close', () => { chain.then(() => resolve()); });
  });
}

/** A unix-socket QMP server: each client gets its own session on the same backend. */
export function listenQmp(backend: ModelBackend, path: string, opts: ServeOptions = {}): Promise<Server> {
  const server = createServer((sock) => {
    serveQmp(backend, sock, sock, opts).catch(() => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}
