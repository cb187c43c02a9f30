// An in-memory host of model processes: each `connect(proc)` is a QmpConnection to one
// QEMU process of the model; all share one State, so image locks conflict across them.
import { Subject } from 'rxjs';
import type { State } from '../graph/types.js';
import type { QmpConnection, QmpEvent, QmpReply } from './protocol.js';
import { executeCommand, type ExecResult } from './model.js';

export interface ModelBackend {
  readonly state: State;
  /** Runs one command for `proc`; a durable backend logs it before resolving. */
  execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult>;
}

/** The simplest backend: state in memory, nothing logged (used by fast specs). */
export class MemoryBackend implements ModelBackend {
  constructor(public state: State = {}) {}
  async execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult> {
    const r = executeCommand(this.state, proc, command, args);
    this.state = r.state;
    return r;
  }
}

export class ModelConnection implements QmpConnection {
  private readonly subject = new Subject<QmpEvent>();
  readonly events$ = this.subject.asObservable();
  constructor(private readonly backend: ModelBackend, readonly proc: string) {}

  async execute(command: string, args?: Record<string, unknown>): Promise<QmpReply> {
    const r = await this.backend.execute(this.proc, command, args);
    for (const ev of r.events) this.subject.next(ev);
    return r.reply;
  }

  async close(): Promise<void> {
    this.subject.complete();
  }
}
