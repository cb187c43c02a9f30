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
  // Requests are handed to the backend as they arrive (it runs them one at a time, in order)
  // and replies are written in request order: a pipelining client's commands then share the
  // engine's group commits. At most QMP_REQ_QUEUE_LEN_MAX (8) requests are in flight; beyond
  // that reading pauses, as monitor/qmp.c handle_qmp_command suspends the monitor.
  let replies: Promise<void> = Promise.resolve();
  let inflight = 0;
  const MAX_INFLIGHT = 8;
  const inOrder = (p: Promise<unknown>, out: (v: any) => void) => {
    inflight++;
    if (inflight >= MAX_INFLIGHT) input.pause();
    const done = () => {
      inflight--;
      if (inflight < MAX_INFLIGHT && input.isPaused()) input.resume();
    };
    replies = replies.then(() => p).then((v) => { done(); out(v); }, (e: unknown) => { done(); throw e; });
  };
  const handle = (line: string) => {
    if (!line.trim()) return;
    const d = decodeRequestLine(line);
    if (d.kind === 'error') {
      inOrder(Promise.resolve(opts.reject?.(proc, { line, error: d.error })), () => write(encodeReply({ error: d.error }, d.id)));
      return;
    }
    const { execute, arguments: args, id } = d.request;
    if (!negotiated) {
      if (execute === 'qmp_capabilities') negotiated = true;
      const reply = execute === 'qmp_capabilities' ? { return: {} } : { error: NEGOTIATION_EXPECTED };
      inOrder(Promise.resolve(), () => write(encodeReply(reply, id)));
      return;
    }
    if (execute === 'qmp_capabilities') { inOrder(Promise.resolve(), () => write(encodeReply({ error: NEGOTIATION_DONE }, id))); return; }
    inOrder(backend.execute(proc, execute, args), (r: Awaited<ReturnType<ModelBackend['execute']>>) => {
      write(encodeReply(r.reply, id));
      for (const ev of r.events) write(encodeEvent(ev, opts.now));
    });
  };
  return new Promise((resolve, reject) => {
    input.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk.toString('utf8'))) handle(line);
    });
    const finish = () => { replies.then(() => resolve(), reject); };
    input.on('end', finish);
    input.on('close', finish);
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
