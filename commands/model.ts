// The model's QMP entry point: validate, run the command on a Draft of the state, and
// return QEMU's reply with the transaction plan (steps with before/after images). A
// refusal returns the untouched state: a command either happens whole or not at all.
import { QmpError } from '../errors/index.js';
import { Draft, type Step } from '../graph/draft.js';
import { applyChanges } from '../graph/apply.js';
import { refreshFilenames } from '../graph/filename.js';
import { Proc } from '../graph/proc.js';
import type { State } from '../graph/types.js';
import type { QmpEvent, QmpReply } from './protocol.js';
import { COMMANDS } from './registry.js';
import { flushDrainWakes } from '../graph/jobs/rate.js';
import { QmpErrorAfterAbort } from './abort-residue.js';
import { validateCommand } from './schema/index.js';
import { VM_COMMAND_NAMES } from './vm/index.js';

export interface ExecResult {
  reply: QmpReply;
  mutates: boolean;
  steps: Step[];
  events: QmpEvent[];
  state: State;
}

export function executeCommand(state: State, proc: string, command: string, args: unknown = {}): ExecResult {
  // blockgraph's own commands (x-blockgraph-*) are not in QEMU's schema; they check their input themselves.
  // The vm target's own commands (device_add, media, stop/cont…) are not in QSD's schema either: a
  // VM process checks their arguments in the command (device_add is 'gen': false, free-form), a
  // qemu-storage-daemon process has no such command.
  const vm = (state[proc]?.meta?.proc as { target?: string } | undefined)?.target === 'vm';
  if (VM_COMMAND_NAMES.has(command) && !vm) return refuse(state, 'CommandNotFound', `The command ${command} has not been found`);
  if (VM_COMMAND_NAMES.has(command) && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return refuse(state, 'GenericError', "QMP input member 'arguments' must be an object");
  }
  const v = command.startsWith('x-blockgraph-') || VM_COMMAND_NAMES.has(command)
    ? { ok: true as const, value: args } : validateCommand(command, args ?? {});
  if (!v.ok) return refuse(state, v.class, v.desc);
  const def = COMMANDS.get(command);
  if (!def) return refuse(state, 'CommandNotFound', `The command ${command} has not been found`);
  const d = new Draft(state);
  const p = new Proc(d, proc);
  const events: QmpEvent[] = [];
  let ret: unknown;
  try {
    const emit = (event: string, data: Record<string, unknown>) => { events.push({ event, data }); };
    ret = def.run({ p, args: (v.value ?? {}) as Record<string, any>, events, emit });
    // the wake-ups of speed-limited jobs whose nodes the command drained
    flushDrainWakes({ p, emit });
    // file names that depend on the graph (bdrv_refresh_filename) follow every change
    if (def.mutates) refreshFilenames(p);
  } catch (e) {
    if (e instanceof QmpErrorAfterAbort) return afterAbort(state, proc, e);
    if (e instanceof QmpError) {
      // a transaction that created jobs before failing says itself what QEMU sent
      const own = (e as { failEvents?: QmpEvent[] }).failEvents;
      return { ...refuse(state, e.cls, e.desc), events: own ?? earlyFailEvents(events) };
    }
    throw e;
  }
  const steps = d.steps();
  // The next state is computed on first use only: the engine folds the logged records instead,
  // and copying large collections per command would make it O(graph size).
  let next: State | undefined;
  return {
    reply: { return: ret ?? {} }, mutates: def.mutates && steps.length > 0, steps, events,
    get state(): State {
      if (!next) {
        next = state;
        for (const s of steps) next = applyChanges(next, s.changes);
      }
      return next;
    },
  };
}

/**
 * A command refused after it created a job: every *_start's fail path calls job_early_fail
 * (job.c: job_do_dismiss_locked), so QEMU has sent 'created' and now sends 'null' for the job.
 * Nothing else of the failed command is visible.
 */
export function earlyFailEvents(events: readonly QmpEvent[]): QmpEvent[] {
  const out: QmpEvent[] = [];
  for (const ev of events) {
    const d = ev.data as { status?: string; id?: string } | undefined;
    if (ev.event === 'JOB_STATUS_CHANGE' && d?.status === 'created') {
      out.push(ev, { event: 'JOB_STATUS_CHANGE', data: { status: 'null', id: d.id } });
    }
  }
  return out;
}

/** QEMU's error, and what its abort handlers left changed (commands/abort-residue.ts). */
function afterAbort(state: State, proc: string, e: QmpErrorAfterAbort): ExecResult {
  const d = new Draft(state);
  d.step('abort residue');
  const p = new Proc(d, proc);
  e.residue(p);
  // a residue that moves edges (external_snapshot_abort's bdrv_replace_node) changes file names
  refreshFilenames(p);
  const steps = d.steps();
  // a transaction that also created jobs says what QEMU sent for them (commands/transaction.ts)
  const events = (e as { failEvents?: QmpEvent[] }).failEvents ?? [];
  if (!steps.length) return { ...refuse(state, e.cls, e.desc), events };
  let next: State | undefined;
  return {
    reply: { error: { class: e.cls, desc: e.desc } }, mutates: true, steps, events,
    get state(): State {
      if (!next) {
        next = state;
        for (const s of steps) next = applyChanges(next, s.changes);
      }
      return next;
    },
  };
}

function refuse(state: State, cls: string, desc: string): ExecResult {
  return { reply: { error: { class: cls, desc } }, mutates: false, steps: [], events: [], state };
}
