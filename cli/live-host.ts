// A live `blockgraph qmp` server's host (`--run-jobs`, `--image-dir DIR`): what QEMU's process
// has that the model's machine, which never reads a clock or a disk, does not. Both arrive in the
// log as input commands, so replay needs neither the host nor the time (docs/vm.md "libvirt
// driving blockgraph, round 2"):
// - jobs run by themselves: QEMU's job coroutines copy and then finish (a stream or a commit
//   concludes, a mirror goes ready) without a client asking; here, once a command has been
//   answered, each running job is moved on by x-blockgraph-job-advance, logged like any command,
//   its events sent to every client. A speed-limited job takes the time its bytes need at its
//   speed (ratelimit_calculate_delay's budget, at most 30 s here) before it is moved;
// - files appear on the host: libvirt makes an overlay with qemu-img and then blockdev-adds it.
//   Before a mutating command, every `filename` it names that the catalogue lacks is probed in
//   DIR (qemu-img info: format, size, backing) and recorded as x-blockgraph-image-create.
import { COMMANDS } from '../commands/registry.js';
import type { ExecResult } from '../commands/model.js';
import type { ModelBackend } from '../commands/model-host.js';
import type { QmpEvent } from '../commands/protocol.js';
import { Draft } from '../graph/draft.js';
import { getLength } from '../graph/length.js';
import { Proc } from '../graph/proc.js';
import type { Job, State } from '../graph/types.js';
import { probeImages } from '../oracle/image-probe.js';

export interface LiveHostOptions {
  /** Move running jobs on by themselves. */
  runJobs?: boolean;
  /** Where the host's files are (relative names resolve here): probe unknown ones. */
  imageDir?: string;
  /** Events of the host's own commands (job progress), for every client. */
  events?: (evs: QmpEvent[]) => void;
  note?: (msg: string) => void;
  /** ms before an unlimited job is moved (QEMU's coroutine needs the main loop once the reply is out). */
  settleMs?: number;
}

const MAX_DELAY_MS = 30_000;

/** The backend the server's sessions see: the store's, with the host in front. */
export class LiveHost implements ModelBackend {
  #chain: Promise<unknown> = Promise.resolve();
  #timers = new Map<string, NodeJS.Timeout>();
  /** Jobs an advance left where they were (paused, held, waiting for a verb): not retried until the next client command. */
  #stuck = new Set<string>();
  #closed = false;
  events: (evs: QmpEvent[]) => void;

  constructor(private readonly inner: ModelBackend, private readonly proc: string, private readonly opts: LiveHostOptions) {
    this.events = opts.events ?? (() => undefined);
  }

  get state(): State { return this.inner.state; }

  execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult> {
    const run = this.#chain.then(async () => {
      if (this.opts.imageDir !== undefined && COMMANDS.get(command)?.mutates && !command.startsWith('x-blockgraph-')) {
        for (const img of await probeImages(this.inner.state, args ?? {}, this.opts.imageDir)) {
          this.opts.note?.(`host: ${img.file} (${img.format}, ${img.size} bytes${img.backing ? `, backing ${img.backing}` : ''}) recorded`);
          await this.inner.execute(proc, 'x-blockgraph-image-create', { ...img });
        }
      }
      return this.inner.execute(proc, command, args);
    });
    this.#chain = run.catch(() => undefined);
    if (this.opts.runJobs && proc === this.proc) {
      void run.then(() => { this.#stuck.clear(); this.#schedule(); }, () => undefined);
    }
    return run;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  /** Running jobs and where each goes by itself: a mirror (and an active commit) to ready, the rest to their end. */
  #runnable(): { job: Job; to: string; delay: number }[] {
    const jobs = Object.values((this.inner.state[this.proc]?.jobs ?? {}) as Record<string, Job>);
    const p = new Proc(new Draft(this.inner.state), this.proc);
    return jobs.filter((j) => j.status === 'running' && !this.#stuck.has(j.id)).map((j) => {
      let delay = this.opts.settleMs ?? 20;
      if (j.speed > 0) {
        // what the job copies at most: its largest node (read and written once)
        const nodes = Object.values(j.data).filter((v): v is string => typeof v === 'string' && p.node(v) !== undefined);
        const bytes = Math.max(0, ...nodes.map((n) => getLength(p, n)));
        delay = Math.min(MAX_DELAY_MS, Math.max(delay, Math.round((bytes / j.speed) * 1000)));
      }
      return { job: j, to: j.type === 'mirror' ? 'ready' : 'concluded', delay };
    });
  }

  #schedule(): void {
    if (this.#closed) return;
    for (const { job, to, delay } of this.#runnable()) {
      if (this.#timers.has(job.id)) continue;
      const t = setTimeout(() => {
        this.#timers.delete(job.id);
        this.#chain = this.#chain.then(() => this.#advance(job.id, to)).catch((e: unknown) => this.opts.note?.(`job ${job.id}: ${(e as Error).message}`));
      }, delay);
      this.#timers.set(job.id, t);
    }
  }

  async #advance(id: string, to: string): Promise<void> {
    if (this.#closed) return;
    const before = (this.inner.state[this.proc]?.jobs as Record<string, Job> | undefined)?.[id];
    // a command in between may have moved it (cancelled, paused, completed)
    if (!before || before.status !== 'running') return;
    const r = await this.inner.execute(this.proc, 'x-blockgraph-job-advance', { id, status: to });
    if (r.events.length) this.events(r.events);
    const after = (this.inner.state[this.proc]?.jobs as Record<string, Job> | undefined)?.[id];
    if (after && after.status === 'running') this.#stuck.add(id);
    this.#schedule();
  }
}
