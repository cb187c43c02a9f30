// The generic transaction as a statechart, with QEMU's util/transactions.c semantics:
// actions are registered during prepare (tran_add puts each at the head of the list),
// then the transaction is decided: commit runs every action's commit in LIFO order,
// abort every action's abort in LIFO order, and clean always runs last, LIFO as well.
// The same machine checks the log protocol of a transaction: begun -> steps ->
// decided(commit|abort) -> ended. Replay and recovery feed it log records through the
// pure `transition` function; it never touches the clock, randomness or I/O.
import { assign, setup, transition, initialTransition, type SnapshotFrom } from 'xstate';

import { TXN_TABLE, type TxnAction, type TxnEvent, type TxnState } from './txn-protocol.js';
export { TXN_TABLE, protocolNext } from './txn-protocol.js';
export type { TxnAction, TxnEvent, TxnState } from './txn-protocol.js';

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

const ACTION_FOR: Partial<Record<TxnEvent['type'], string>> = { ADD: 'add', COMPENSATE: 'compensate' };
function transitionsOf(state: TxnState) {
  const on: Record<string, { target?: string; actions?: string }> = {};
  for (const [ev, next] of Object.entries(TXN_TABLE[state]) as [TxnEvent['type'], TxnState][]) {
    if (next === 'invalid') on[ev] = { target: 'invalid', actions: 'violate' };
    else if (next === state) on[ev] = { actions: ACTION_FOR[ev] };
    else on[ev] = { target: next, ...(ev === 'COMMIT' ? { actions: 'runCommit' } : ev === 'ABORT' ? { actions: 'runAbort' } : {}) };
  }
  return on;
}

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
    preparing: { on: transitionsOf('preparing') as never },
    committed: { on: transitionsOf('committed') as never },
    aborted: { on: transitionsOf('aborted') as never },
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
export function recoveryAction(s: TxnSnapshot | TxnState): 'none' | 'roll-back' | 'roll-forward' | 'end-abort' | 'corrupt' {
  const v = typeof s === 'string' ? s : (s.value as TxnState);
  if (v === 'ended') return 'none';
  if (v === 'invalid') return 'corrupt';
  if (v === 'committed') return 'roll-forward';
  if (v === 'aborted') return 'end-abort';
  return 'roll-back';
}
