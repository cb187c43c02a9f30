// A whole transaction in one record (issue 15, format version 4): a txn.begun of version 3 that
// also holds its steps and its decision with its end. The engine writes a transaction as one
// atomic LevelDB batch, so no crash can separate begun, steps and decision: one record says the
// same as the three or more the phased protocol writes, without their envelopes and headers.
// Readers that look at a transaction's parts (fold, audit, history, the node index, report,
// upgrade, drills) ask here for the records it stands for: a begun, one txn.step per step and
// a txn.decided carrying the end, all with the whole record's seq, txn, hash and envelope. Pure.
import type { LogRecord } from '../store/types.js';
import type { TxnBegun, TxnDecided, TxnStep } from './types.js';

/** Is `rec` a whole transaction (a txn.begun holding its steps and decision)? */
export function isWhole(rec: LogRecord): boolean {
  if (rec.type !== 'txn.begun' || rec.v < 3) return false; // no older version holds one
  const d = rec.data as TxnBegun | null;
  return typeof d === 'object' && d !== null && typeof d.decided === 'object' && d.decided !== null;
}

/**
 * The records `rec` stands for: itself, or for a whole transaction its begun (without steps and
 * decision), its steps and its decision, each a record of the whole one's envelope.
 */
export function partsOf(rec: LogRecord): LogRecord[] {
  if (!isWhole(rec)) return [rec];
  const { steps, decided, ...begun } = rec.data as TxnBegun & { steps?: TxnStep[]; decided: TxnDecided };
  const out: LogRecord[] = [{ ...rec, data: begun }];
  for (const s of steps ?? []) out.push({ ...rec, type: 'txn.step', v: 3, data: s });
  out.push({ ...rec, type: 'txn.decided', v: 3, data: decided });
  return out;
}

/** The steps a record applies: a txn.step's own, or every step of a whole transaction. */
export function stepsOf(rec: LogRecord): TxnStep[] {
  if (rec.type === 'txn.step') return [rec.data as TxnStep];
  if (rec.type === 'txn.begun') return ((rec.data as TxnBegun | null)?.steps ?? []) as TxnStep[];
  return [];
}
