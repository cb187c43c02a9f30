// Where a transaction ends in the log. The phased protocol writes txn.decided then txn.ended;
// a transaction written as one atomic batch (engine/engine.ts) carries its end in the decided
// record (`ended`, version 2), since no crash can separate the two: one record fewer per command
// (issue 15). Every reader that groups or checks by transaction asks here. Pure.
import type { LogRecord } from '../store/types.js';
import type { TxnEnded } from './types.js';

/** The end data of a record that ends its transaction, or undefined. */
export function endOf(rec: LogRecord): TxnEnded | undefined {
  if (rec.type === 'txn.ended') return (rec.data ?? {}) as TxnEnded;
  if (rec.type === 'txn.decided' || rec.type === 'txn.begun') {
    // a whole transaction (txn.begun version 3, events/whole.ts) ends in its decision
    const d = rec.type === 'txn.begun' ? (rec.data as { decided?: unknown } | null)?.decided : rec.data;
    const e = (d as { ended?: unknown } | null)?.ended;
    return typeof e === 'object' && e !== null ? (e as TxnEnded) : undefined;
  }
  return undefined;
}

/** Does this record end its transaction? */
export function endsTxn(rec: LogRecord): boolean {
  return endOf(rec) !== undefined;
}

/** The state hash recorded at the end of a transaction, if this record holds one. */
export function recordedStateHash(rec: LogRecord): string | null | undefined {
  return endOf(rec)?.stateHash;
}
