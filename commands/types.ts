// What a command implementation sees: one process's graph through a Draft, a way to
// emit QMP events, and its already schema-validated arguments.
import type { Proc } from '../graph/proc.js';
import type { QmpEvent } from './protocol.js';

export interface CommandCtx {
  p: Proc;
  args: Record<string, any>;
  emit(event: string, data: Record<string, unknown>): void;
  events: QmpEvent[];
}

export interface CommandDef {
  name: string;
  /** false for queries: nothing to log but the reply. */
  mutates: boolean;
  run(ctx: CommandCtx): unknown;
}
