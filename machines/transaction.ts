// The generic transaction as a statechart, with QEMU's util/transactions.c semantics:
// actions are registered during prepare (tran_add puts each at the head of the list),
// then the transaction is decided: commit runs every action's commit in LIFO order,
// abort every action's abort in LIFO order, and clean always runs last, LIFO as well.
// The same machine checks the log protocol of a transaction: begun -> steps ->
// decided(commit|abort) -> ended. Replay and recovery feed it log records through the
// pure `transition` function; it never touches the clock, randomness or I/O.
import { assign, setup, transition, initialTransition, type SnapshotFrom } from 'xstate';

export interface TxnAction { name: string; seq?: number }

export type TxnEvent =
  | { type: 'ADD'; action: TxnAction }              // a prepared step (txn.step)
  | { type: 'COMPENSATE'; seq: number }              // recovery undid step `seq`
  | { type: 'COMMIT' }                               // txn.decided commit
  | { type: 'ABORT'; reason?: string }               // txn.decided abort
  | { type: 'END' };                                 // txn.ended

export interface TxnContext {
  id: string;
  op: string;
  actions: TxnAction[];     // newest first, as tran_add keeps them
  compensated: number[];    // step seqs already undone by recovery
  calls: string[];          // the phase calls in order, e.g. "commit:attach", "clean:attach"
  violation: string | null; // a record that broke the protocol
}

const lifo = (ctx: TxnContext, phase: 'commit' | 'abort') => [
  ...ctx.actions.map((a) => `${phase}:${a.name}`),
  ...ctx.actions.map((a) => `clean:${a.name}`),
];

export const transactionMachine = setup({
  types: {
    context: {} as TxnContext,
    events: {} as TxnEvent,
    input: {} as { id: string; op: string },
  },
  actions: {
    add: assign({
      actions: ({ context, event }) => (event.type === 'ADD' ? [event.action, ...context.actions] : context.actions),
    }),
    compensate: assign({
      compensated: ({ context, event }) => (event.type === 'COMPENSATE' ? [...context.compensated, event.seq] : context.compensated),
    }),
    runCommit: assign({ calls: ({ context }) => lifo(context, 'commit') }),
    runAbort: assign({ calls: ({ context }) => lifo(context, 'abort') }),
    violate: assign({ violation: ({ event }) => `unexpected ${event.type}` }),
  },
}).createMachine({
  id: 'transaction',
  context: ({ input }) => ({ id: input.id, op: input.op, actions: [], compensated: [], calls: [], violation: null }),
  initial: 'preparing',
  states: {
    preparing: {
      on: {
        ADD: { actions: 'add' },
        COMPENSATE: { actions: 'compensate' },
        COMMIT: { target: 'committed', actions: 'runCommit' },
        ABORT: { target: 'aborted', actions: 'runAbort' },
        END: { target: 'invalid', actions: 'violate' },
      },
    },
    committed: {
      on: { END: 'ended', ADD: { target: 'invalid', actions: 'violate' }, COMPENSATE: { target: 'invalid', actions: 'violate' }, ABORT: { target: 'invalid', actions: 'violate' } },
    },
    aborted: {
      on: { END: 'ended', ADD: { target: 'invalid', actions: 'violate' }, COMMIT: { target: 'invalid', actions: 'violate' } },
    },
    ended: { type: 'final' },
    invalid: { type: 'final' },
  },
});

export type TxnSnapshot = SnapshotFrom<typeof transactionMachine>;

export function txnStart(id: string, op: string): TxnSnapshot {
  return initialTransition(transactionMachine, { id, op })[0];
}

export function txnNext(s: TxnSnapshot, e: TxnEvent): TxnSnapshot {
  return transition(transactionMachine, s, e)[0];
}

/** What recovery must do with a transaction found in this state at the end of the log. */
export function recoveryAction(s: TxnSnapshot): 'none' | 'roll-back' | 'roll-forward' | 'end-abort' | 'corrupt' {
  if (s.matches('ended')) return 'none';
  if (s.matches('invalid')) return 'corrupt';
  if (s.matches('committed')) return 'roll-forward';
  if (s.matches('aborted')) return 'end-abort';
  return 'roll-back';
}
