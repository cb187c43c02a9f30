// blockdev-reopen as a statechart (bdrv_reopen_multiple on top of the generic transaction
// semantics of machines/transaction.ts): the queue is built, every entry is prepared in
// order (the first failure aborts all), permissions are refreshed with the reopen-aware
// read-only flags, then entries commit in reverse order (children first) and the replaced
// children are released; or everything aborts. The machine decides what happens next; the
// graph code (graph/reopen) executes it. Pure: driven with `transition`.
import { assign, initialTransition, setup, transition, type SnapshotFrom } from 'xstate';

export type ReopenEvent =
  | { type: 'BUILT'; order: string[] }   // the queue in execution order
  | { type: 'PREPARED' }                 // the current entry passed bdrv_reopen_prepare
  | { type: 'PERMS_OK' }
  | { type: 'COMMITTED' }
  | { type: 'CLEANED' }
  | { type: 'FAILED'; error: string };

export interface ReopenContext {
  order: string[];
  /** Next entry to prepare. */
  index: number;
  prepared: string[];
  error: string | null;
}

// qmp_blockdev_reopen queues nothing and bdrv_reopen_multiple asserts bs_queue != NULL: 7.2.22
// (block.c:4390) and 10.0.2 (block.c:4586) both abort, so the refusal names both.
export const EMPTY_LIST_ERROR =
  "blockdev-reopen needs at least one element in 'options' (QEMU 7.2 and 10.0 abort on an empty list: bdrv_reopen_multiple's assertion 'bs_queue != NULL')";

export const reopenMachine = setup({
  types: { context: {} as ReopenContext, events: {} as ReopenEvent },
  guards: {
    emptyQueue: ({ event }) => event.type === 'BUILT' && event.order.length === 0,
    lastEntry: ({ context }) => context.index + 1 >= context.order.length,
  },
  actions: {
    setOrder: assign({ order: ({ event }) => (event.type === 'BUILT' ? event.order : []), index: 0 }),
    emptyError: assign({ error: () => EMPTY_LIST_ERROR }),
    markPrepared: assign({
      prepared: ({ context }) => [...context.prepared, context.order[context.index]!],
      index: ({ context }) => context.index + 1,
    }),
    fail: assign({ error: ({ event }) => (event.type === 'FAILED' ? event.error : 'failed') }),
  },
}).createMachine({
  id: 'reopen',
  context: { order: [], index: 0, prepared: [], error: null },
  initial: 'building',
  states: {
    building: {
      on: {
        BUILT: [
          { guard: 'emptyQueue', target: 'rejected', actions: 'emptyError' },
          { target: 'preparing', actions: 'setOrder' },
        ],
        FAILED: { target: 'rejected', actions: 'fail' },
      },
    },
    preparing: {
      on: {
        PREPARED: [
          { guard: 'lastEntry', target: 'refreshing', actions: 'markPrepared' },
          { target: 'preparing', reenter: true, actions: 'markPrepared' },
        ],
        FAILED: { target: 'aborted', actions: 'fail' },
      },
    },
    refreshing: { on: { PERMS_OK: 'committing', FAILED: { target: 'aborted', actions: 'fail' } } },
    committing: { on: { COMMITTED: 'cleaning' } },
    cleaning: { on: { CLEANED: 'done' } },
    done: { type: 'final' },
    aborted: { type: 'final' },
    rejected: { type: 'final' },
  },
});

export type ReopenSnapshot = SnapshotFrom<typeof reopenMachine>;

export function reopenStart(): ReopenSnapshot {
  return initialTransition(reopenMachine)[0];
}

export function reopenNext(s: ReopenSnapshot, e: ReopenEvent): ReopenSnapshot {
  return transition(reopenMachine, s, e)[0];
}

/** QEMU's commit order: reverse queue order, so children commit before their parents. */
export const commitOrder = (s: ReopenSnapshot): string[] => s.context.order.slice().reverse();

/** bdrv_reopen_abort runs for every prepared entry in forward order. */
export const abortOrder = (s: ReopenSnapshot): string[] => s.context.prepared.slice();
