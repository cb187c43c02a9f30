// A model backend over an engine that lets its user add audit records (import.disagreed,
// proxy.disagreed) between commands, in order.
import { Engine, type EngineOptions } from './engine.js';
import type { State } from '../graph/types.js';
import type { EventLog, NewRecord } from '../store/index.js';
import type { ModelBackend } from '../commands/model-host.js';
import type { ExecResult } from '../commands/model.js';

/**
 * Runs commands on an engine over `log` and lets the caller add audit records between them.
 * The engine owns the log's tail, so a record written beside it means a fresh engine (cheap:
 * it folds from its snapshot); disagreements are rare, so this costs little.
 */
export class NotingBackend implements ModelBackend {
  private pending: NewRecord[] = [];
  readonly written: number[] = [];
  private constructor(private engine: Engine, private readonly log: EventLog, private readonly opts: EngineOptions) {}
  static async open(log: EventLog, opts: EngineOptions): Promise<NotingBackend> {
    return new NotingBackend(await Engine.open(log, opts), log, opts);
  }
  get state(): State { return this.engine.state; }
  note(rec: NewRecord): void { this.pending.push(rec); }
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const recs = await this.log.append(this.pending.splice(0), { expectedSeq: this.log.head + 1 });
    this.written.push(...recs.map((r) => r.seq));
    this.engine = await Engine.open(this.log, { ...this.opts, recover: false });
  }
  async execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult> {
    await this.flush();
    return this.engine.execute(proc, command, args);
  }
  now(): string { return (this.opts.clock ?? (() => '1970-01-01T00:00:00.000Z'))(); }
}

