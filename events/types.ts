// The log's record types and their data, version 1. Every record is one of these; the
// envelope (seq, stream, at, txn, hash chain) is store/types.ts's LogRecord.
import type { Change } from '../graph/draft.js';
import type { QmpErrorBody, QmpEvent, QmpReply } from '../commands/protocol.js';

export interface TxnBegun { op: string; args: Record<string, unknown>; plan: string[] }
export interface TxnStep { name: string; changes: Change[] }
export interface TxnCompensated { undoes: number; changes: Change[] }
export type TxnDecided =
  | { outcome: 'commit'; reply?: QmpReply; events?: QmpEvent[] }
  | { outcome: 'abort'; reason?: string };
export interface TxnEnded { stateHash?: string | null; recovered?: 'rolled-back' | 'rolled-forward' | 'ended' }
/** A refused command (QEMU's error) or refused input (malformed QMP: `line`). */
export interface CommandRejected { command?: string; args?: Record<string, unknown>; line?: string; error: QmpErrorBody }

export interface RecordDataByType {
  'txn.begun': TxnBegun;
  'txn.step': TxnStep;
  'txn.compensated': TxnCompensated;
  'txn.decided': TxnDecided;
  'txn.ended': TxnEnded;
  'command.rejected': CommandRejected;
}
export type RecordType = keyof RecordDataByType;

/** The version every record type is written at today. */
export const CURRENT_VERSION: Record<RecordType, number> = {
  'txn.begun': 1, 'txn.step': 1, 'txn.compensated': 1, 'txn.decided': 1, 'txn.ended': 1, 'command.rejected': 1,
};
