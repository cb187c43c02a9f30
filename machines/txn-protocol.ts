// The log protocol of a transaction as a plain table (begun -> steps -> decided -> ended), apart
// from the xstate machine (machines/transaction.ts builds the machine from it): replay folds
// every record through protocolNext, and a seek (`show --at`) then loads no xstate (issue 15:
// modules a seek does not need). Pure.

export interface TxnAction { name: string; seq?: number }

export type TxnEvent =
  | { type: 'ADD'; action: TxnAction }              // a prepared step (txn.step)
  | { type: 'COMPENSATE'; seq: number }              // recovery undid step `seq`
  | { type: 'COMMIT' }                               // txn.decided commit
  | { type: 'ABORT'; reason?: string }               // txn.decided abort
  | { type: 'END' };                                 // txn.ended

/**
 * The protocol as a table: state -> event -> next state. The xstate machine below is built
 * from it, and replay folds use it directly (an xstate transition costs ~100 µs, too much
 * per log record); a spec checks that both agree on every state and event.
 */
export type TxnState = 'preparing' | 'committed' | 'aborted' | 'ended' | 'invalid';
export const TXN_TABLE: Record<TxnState, Partial<Record<TxnEvent['type'], TxnState>>> = {
  preparing: { ADD: 'preparing', COMPENSATE: 'preparing', COMMIT: 'committed', ABORT: 'aborted', END: 'invalid' },
  committed: { END: 'ended', ADD: 'invalid', COMPENSATE: 'invalid', ABORT: 'invalid' },
  aborted: { END: 'ended', ADD: 'invalid', COMMIT: 'invalid' },
  ended: {},
  invalid: {},
};

/** The table's answer (unlisted events leave the state as it is, as xstate ignores them). */
export function protocolNext(state: TxnState, event: TxnEvent['type']): TxnState {
  return TXN_TABLE[state][event] ?? state;
}
