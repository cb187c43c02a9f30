// A recording QMP proxy: a client talks to a real qemu-storage-daemon through it, byte for
// byte (greeting, negotiation, replies, events), while every graph-changing command and
// QEMU's answer is run through the model and logged. QEMU is the authority: a command is
// logged as the model's transaction only when QEMU and the model agree on it; when they do
// not (outcome or error text), a warning goes to stderr and a `proxy.disagreed` record to
// the log, and the model's state is left alone.
import { redactSecrets } from '../engine/redact-secrets.js';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { EngineOptions } from '../engine/engine.js';
import type { EventLog } from '../store/index.js';
import { COMMANDS } from '../commands/registry.js';
import type { QmpReply } from '../commands/protocol.js';
import { probeImages } from '../oracle/image-probe.js';
import { declareHostOf } from '../oracle/image-root.js';
import { executeCommand } from '../commands/model.js';
import { NotingBackend } from '../engine/noting-backend.js';
import { LineSplitter } from './wire.js';
import { checkUnixPath, clearStaleSocket, unixSocketPath } from './server.js';

export interface ProxyOptions {
  /** Unix socket the proxy listens on. */
  listen: string;
  /** The daemon's QMP monitor socket. */
  connect: string;
  log: EventLog;
  proc?: string;
  clock?: EngineOptions['clock'];
  /** The daemon's working directory, to learn the images commands name (qemu-img info). */
  imageDir?: string;
  /** Disagreement warnings; stderr by default. */
  warn?: (message: string) => void;
}

export interface ProxyStats { commands: number; modelled: number; agreed: number; disagreed: number; events: number }

export interface QmpProxy {
  readonly stats: ProxyStats;
  /** Resolves when the model has caught up with every reply seen so far. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Pending { execute: string; arguments: Record<string, unknown> }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (r: QmpReply) => ('error' in r ? `error ${r.error.class}: ${r.error.desc}` : 'ok');

export async function startProxy(opts: ProxyOptions): Promise<QmpProxy> {
  const proc = opts.proc ?? 'A';
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`blockgraph proxy: ${m}\n`));
  const backend = await NotingBackend.open(opts.log, { clock: opts.clock });
  const stats: ProxyStats = { commands: 0, modelled: 0, agreed: 0, disagreed: 0, events: 0 };
  // The model runs behind the traffic, in the order QEMU answered; the client never waits for it.
  let queue: Promise<void> = Promise.resolve();
  const later = (fn: () => Promise<void>) => {
    queue = queue.then(fn).catch((e: unknown) => warn(`model failed: ${(e as Error).message}`));
  };

  const model = async (cmd: Pending, reply: QmpReply) => {
    const def = COMMANDS.get(cmd.execute);
    if (!def?.mutates || cmd.execute.startsWith('x-blockgraph-')) return;
    stats.modelled++;
    if (opts.imageDir !== undefined) {
      // the daemon's O_DIRECT alignment is its image directory's (raw_probe_alignment)
      await declareHostOf(backend, proc, opts.imageDir);
      for (const img of await probeImages(backend.state, cmd.arguments, opts.imageDir)) await backend.execute(proc, 'x-blockgraph-image-create', { ...img });
    }
    // A dry run first: the model must not commit what QEMU refused.
    const dry = executeCommand(backend.state, proc, cmd.execute, cmd.arguments).reply;
    if (show(dry) === show(reply)) {
      stats.agreed++;
      await backend.execute(proc, cmd.execute, cmd.arguments);
      return;
    }
    stats.disagreed++;
    warn(`${cmd.execute}: QEMU answered ${show(reply)}, the model ${show(dry)} (logged as proxy.disagreed)`);
    backend.note({
      stream: proc, type: 'proxy.disagreed', at: backend.now(),
      data: { command: cmd.execute, args: redactSecrets(cmd.execute, cmd.arguments), qemu: reply, model: dry },
    });
    await backend.flush();
  };

  const onEvent = async (ev: Record<string, unknown>) => {
    // Jobs progress inside QEMU; its status events move the model's job along.
    const d = ev.data as { id?: unknown; status?: unknown } | undefined;
    if (ev.event !== 'JOB_STATUS_CHANGE' || typeof d?.id !== 'string' || typeof d.status !== 'string') return;
    const job = backend.state[proc]?.jobs?.[d.id] as { status?: string } | undefined;
    if (job && job.status !== d.status) await backend.execute(proc, 'x-blockgraph-job-advance', { id: d.id, status: d.status });
  };

  const clients = new Set<Socket>();
  const serve = (client: Socket) => {
    clients.add(client);
    const upstream = createConnection(unixSocketPath(opts.connect));
    clients.add(upstream);
    const pending: Pending[] = [];
    const fromClient = new LineSplitter();
    const fromQemu = new LineSplitter();
    client.setEncoding('utf8');
    upstream.setEncoding('utf8');
    client.on('data', (chunk: string) => {
      for (const line of fromClient.push(chunk)) {
        try {
          const m = JSON.parse(line);
          // QEMU answers in order (no out-of-band here), so replies pair with requests FIFO.
          if (isObj(m) && typeof m.execute === 'string') pending.push({ execute: m.execute, arguments: isObj(m.arguments) ? m.arguments : {} });
          else pending.push({ execute: '', arguments: {} });
        } catch {
          pending.push({ execute: '', arguments: {} });
        }
        upstream.write(line + '\n');
      }
    });
    upstream.on('data', (chunk: string) => {
      for (const line of fromQemu.push(chunk)) {
        client.write(line + '\n');
        let m: unknown;
        try { m = JSON.parse(line); } catch { continue; }
        if (!isObj(m) || 'QMP' in m) continue;
        if (typeof m.event === 'string') {
          stats.events++;
          later(() => onEvent(m as Record<string, unknown>));
        } else if ('return' in m || 'error' in m) {
          const cmd = pending.shift();
          if (!cmd || !cmd.execute) continue;
          stats.commands++;
          const reply: QmpReply = 'error' in m ? { error: m.error as { class: string; desc: string } } : { return: m.return };
          later(() => model(cmd, reply));
        }
      }
    });
    const end = () => { client.end(); upstream.end(); clients.delete(client); clients.delete(upstream); };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', (e) => { warn(`cannot talk to ${opts.connect}: ${e.message}`); end(); });
  };

  // as `qmp --socket`: a socket a dead server left is replaced, anything else at the path is not
  // (it was removed whatever it was, a regular file included); the upstream path checked as QEMU does
  await clearStaleSocket(opts.listen);
  checkUnixPath(opts.connect);
  const server: Server = createServer(serve);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(unixSocketPath(opts.listen), () => resolve()); });

  return {
    stats,
    idle: async () => {
      // a settled queue may have grown while we waited
      for (let q = queue; ; q = queue) { await q; if (q === queue) return; }
    },
    close: async () => {
      for (const s of clients) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      rmSync(opts.listen, { force: true });
    },
  };
}
