// QEMU's job state machine (job.c, 7.2) as a statechart. The machine decides: which status
// follows, which verb a status accepts (JobVerbTable), and the ordered list of effects —
// QMP events and the driver callbacks (prepare/commit/abort/clean) plus the final free — that
// the graph code (graph/jobs/runner.ts) then executes in exactly that order.
//
// Driven only through the pure `transition` function, from a snapshot rebuilt from the stored
// Job record (`resolveState`), so it is deterministic and replayable.
import { assign, setup, transition, type SnapshotFrom } from 'xstate';
import type { JobStatus } from '../graph/types.js';

export type JobVerb = 'cancel' | 'pause' | 'resume' | 'set-speed' | 'complete' | 'finalize' | 'dismiss' | 'change';

export const JOB_STATUSES: readonly JobStatus[] = [
  'undefined', 'created', 'running', 'paused', 'ready', 'standby', 'waiting', 'pending', 'aborting', 'concluded', 'null',
];

/** JobVerbTable from job.c; columns in JOB_STATUSES order: U, C, R, P, Y, S, W, D, X, E, N. */
export const JOB_VERB_TABLE: Record<JobVerb, string> = {
  cancel:      '01111111100',
  pause:       '01111100000',
  resume:      '01111100000',
  'set-speed': '01111100000',
  complete:    '00001100000',
  finalize:    '00000001000',
  dismiss:     '00000000010',
  // JOB_VERB_CHANGE (10.0's job.c; 7.2 has no such verb): created, running, paused, ready, standby
  change:      '01111100000',
};

export function verbAllowed(status: JobStatus, verb: JobVerb): boolean {
  return JOB_VERB_TABLE[verb][JOB_STATUSES.indexOf(status)] === '1';
}

export function verbError(id: string, status: JobStatus, verb: JobVerb): string {
  return `Job '${id}' in state '${status}' cannot accept command verb '${verb}'`;
}

export type JobGraphOp = 'prepare' | 'commit' | 'abort' | 'clean' | 'free';
export type JobEffect =
  | { kind: 'emit'; event: string; data: Record<string, unknown> }
  | { kind: 'graph'; op: JobGraphOp };

export interface JobMachineContext {
  id: string;
  type: string;               // QAPI JobType: stream, commit, mirror
  autoFinalize: boolean;
  autoDismiss: boolean;
  speed: number;
  status: JobStatus;
  cancelled: boolean;         // job_is_cancelled (force cancel requested)
  effects: JobEffect[];       // what the last transition asks the graph code to do, in order
  error: string | null;       // a refused verb
  failure?: string | null;    // job->err once the job failed (.run or .prepare returned < 0)
  /** in a JobTxn with other jobs (transaction completion-mode grouped): the txn moves them together */
  txn?: boolean;
}

export type JobMachineEvent =
  | { type: 'CREATE' }                 // job_create
  | { type: 'START' }                  // job_start
  | { type: 'VERB'; verb: JobVerb }    // job_apply_verb (refusal sets context.error)
  | { type: 'READY' }                  // job_transition_to_ready
  | { type: 'PAUSE' }                  // reaching a pause point with pause_count > 0
  | { type: 'RESUME' }
  | { type: 'DONE' }                   // .run returned 0
  | { type: 'FAIL'; error: string }    // .run returned < 0: job_completed -> job_update_rc (aborting)
  | { type: 'PREPARE_FAILED'; error: string } // .prepare returned < 0 in job_do_finalize
  | { type: 'CANCEL' }                 // force cancel (job_cancel + job_completed_txn_abort)
  | { type: 'TXN_PENDING' }            // job_completed_txn_success: every job of the txn completed
  | { type: 'FINALIZE' }               // job_finalize / auto-finalize
  | { type: 'DISMISS' }
  | { type: 'SET_SPEED'; speed: number };

const blockEvent = (c: JobMachineContext, event: string, extra: Record<string, unknown> = {}): JobEffect => ({
  // key order as QEMU's QDict prints these events
  kind: 'emit', event, data: { device: c.id, len: 0, offset: 0, speed: c.speed, type: c.type, ...extra },
});

/** Appends effects to the context (the only way this machine "does" anything). */
const more = (c: JobMachineContext, ...effects: JobEffect[]) => ({ effects: [...c.effects, ...effects] });

export const jobMachine = setup({
  types: {
    context: {} as JobMachineContext,
    events: {} as JobMachineEvent,
    input: {} as Pick<JobMachineContext, 'id' | 'type' | 'autoFinalize' | 'autoDismiss' | 'speed'>,
  },
  guards: {
    autoFinalize: ({ context }) => context.autoFinalize,
    // a job of a JobTxn waits for the others (job_completed_txn_success) and is finalized with them
    alone: ({ context }) => !context.txn,
    autoFinalizeAlone: ({ context }) => context.autoFinalize && !context.txn,
    autoDismiss: ({ context }) => context.autoDismiss,
  },
  actions: {
    applyVerb: assign(({ context, event }) => {
      if (event.type !== 'VERB') return {};
      return { error: verbAllowed(context.status, event.verb) ? null : verbError(context.id, context.status, event.verb) };
    }),
    setSpeed: assign(({ event }) => (event.type === 'SET_SPEED' ? { speed: event.speed } : {})),
    markCancelled: assign({ cancelled: true }),
    markFailed: assign(({ event }) => (event.type === 'FAIL' || event.type === 'PREPARE_FAILED' ? { failure: event.error } : {})),
    // job_state_transition: every status change is a JOB_STATUS_CHANGE event
    status: assign(({ context }, params: { status: JobStatus }) => ({
      status: params.status,
      ...more(context, { kind: 'emit', event: 'JOB_STATUS_CHANGE', data: { status: params.status, id: context.id } }),
    })),
    // job_event_ready after the status change
    readyEvent: assign(({ context }) => more(context, blockEvent(context, 'BLOCK_JOB_READY'))),
    // job_transition_to_pending: the event only when a user has to finalize
    pendingEvent: assign(({ context }) =>
      (context.autoFinalize ? {} : more(context, { kind: 'emit', event: 'BLOCK_JOB_PENDING', data: { type: context.type, id: context.id } }))),
    // job_do_finalize -> job_prepare, then job_finalize_single: commit, clean, event
    finalizeOk: assign(({ context }) => more(context,
      { kind: 'graph', op: 'prepare' }, { kind: 'graph', op: 'commit' }, { kind: 'graph', op: 'clean' },
      blockEvent(context, 'BLOCK_JOB_COMPLETED'))),
    // job_completed_txn_abort -> job_finalize_single with ret < 0: abort, clean, then
    // BLOCK_JOB_CANCELLED for a cancelled job, else BLOCK_JOB_COMPLETED with the error
    // (block_job_event_completed_locked: error_get_pretty(job->err))
    finalizeAbort: assign(({ context }) => more(context,
      { kind: 'graph', op: 'abort' }, { kind: 'graph', op: 'clean' },
      context.cancelled || !context.failure
        ? blockEvent(context, 'BLOCK_JOB_CANCELLED')
        : blockEvent(context, 'BLOCK_JOB_COMPLETED', { error: context.failure }))),
    free: assign(({ context }) => more(context, { kind: 'graph', op: 'free' })),
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ ...input, status: 'undefined', cancelled: false, effects: [], error: null, failure: null }),
  initial: 'undefined',
  on: {
    VERB: { actions: 'applyVerb' },
    SET_SPEED: { actions: 'setSpeed' },
  },
  states: {
    undefined: { on: { CREATE: 'created' } },
    created: {
      entry: { type: 'status', params: { status: 'created' } },
      on: { START: 'running', CANCEL: { target: 'aborting', actions: 'markCancelled' } },
    },
    running: {
      entry: { type: 'status', params: { status: 'running' } },
      on: {
        READY: 'ready.announced',
        PAUSE: 'paused',
        DONE: 'waiting',
        FAIL: { target: 'aborting', actions: 'markFailed' },
        CANCEL: { target: 'aborting', actions: 'markCancelled' },
      },
    },
    paused: {
      entry: { type: 'status', params: { status: 'paused' } },
      on: { RESUME: 'running', CANCEL: { target: 'aborting', actions: 'markCancelled' } },
    },
    ready: {
      entry: { type: 'status', params: { status: 'ready' } },
      // BLOCK_JOB_READY follows the status change, and only when coming from running
      initial: 'settled',
      states: { settled: {}, announced: { entry: 'readyEvent' } },
      on: { PAUSE: 'standby', DONE: 'waiting', FAIL: { target: 'aborting', actions: 'markFailed' }, CANCEL: { target: 'aborting', actions: 'markCancelled' } },
    },
    standby: {
      entry: { type: 'status', params: { status: 'standby' } },
      on: { RESUME: 'ready', CANCEL: { target: 'aborting', actions: 'markCancelled' } },
    },
    waiting: {
      entry: { type: 'status', params: { status: 'waiting' } },
      always: { guard: 'alone', target: 'pending' },
      on: { TXN_PENDING: 'pending', CANCEL: { target: 'aborting', actions: 'markCancelled' } },
    },
    pending: {
      entry: [{ type: 'status', params: { status: 'pending' } }, 'pendingEvent'],
      always: { guard: 'autoFinalizeAlone', target: 'concluded', actions: 'finalizeOk' },
      on: {
        FINALIZE: { target: 'concluded', actions: 'finalizeOk' },
        PREPARE_FAILED: { target: 'aborting', actions: 'markFailed' },
        CANCEL: { target: 'aborting', actions: 'markCancelled' },
      },
    },
    aborting: {
      entry: { type: 'status', params: { status: 'aborting' } },
      always: { target: 'concluded', actions: 'finalizeAbort' },
    },
    concluded: {
      entry: { type: 'status', params: { status: 'concluded' } },
      always: { guard: 'autoDismiss', target: 'null' },
      on: { DISMISS: 'null' },
    },
    null: {
      type: 'final',
      entry: [{ type: 'status', params: { status: 'null' } }, 'free'],
    },
  },
});

export type JobSnapshot = SnapshotFrom<typeof jobMachine>;

/** Rebuilds the machine at a stored status (the Job record is the durable state). */
export function jobSnapshot(ctx: Omit<JobMachineContext, 'effects' | 'error'>): JobSnapshot {
  return jobMachine.resolveState({ value: ctx.status, context: { ...ctx, effects: [], error: null } });
}

/** One event: the next snapshot and what the graph code must do, in order. */
export function jobStep(s: JobSnapshot, e: JobMachineEvent): { snapshot: JobSnapshot; effects: JobEffect[]; error: string | null } {
  const start = jobMachine.resolveState({ value: s.context.status, context: { ...s.context, effects: [], error: null } });
  const [next] = transition(jobMachine, start, e);
  return { snapshot: next, effects: next.context.effects, error: next.context.error };
}

/** The initial snapshot of a new job, after job_create (status created, its event emitted). */
export function jobCreate(input: Pick<JobMachineContext, 'id' | 'type' | 'autoFinalize' | 'autoDismiss' | 'speed'>) {
  const s0 = jobMachine.resolveState({
    value: 'undefined',
    context: { ...input, status: 'undefined', cancelled: false, effects: [], error: null, failure: null },
  });
  return jobStep(s0, { type: 'CREATE' });
}
