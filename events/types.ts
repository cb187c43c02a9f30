// The log's record types and their data, version 1. Every record is one of these; the
// envelope (seq, stream, at, txn, hash chain) is store/types.ts's LogRecord.
import type { Change } from '../graph/draft.js';
import type { QmpErrorBody, QmpEvent, QmpReply } from '../commands/protocol.js';

export interface TxnBegun {
  op: string; args: Record<string, unknown>; plan: string[];
  /**
   * Version 3, a whole transaction in one record (issue 15): its steps, as txn.step records would
   * hold them, and its decision with its end (`decided.ended`). Written when the transaction is
   * one atomic batch (engine/engine.ts), so no crash can cut between them; events/whole.ts gives
   * readers the records it stands for.
   */
  steps?: TxnStep[];
  decided?: TxnDecided;
}
export interface TxnStep { name: string; changes: Change[] }
export interface TxnCompensated { undoes: number; changes: Change[] }
export type TxnDecided =
  /** `ended`: the transaction also ends here (one atomic batch; events/ends.ts). */
  | { outcome: 'commit'; reply?: QmpReply; events?: QmpEvent[]; ended?: TxnEnded }
  | { outcome: 'abort'; reason?: string };
export interface TxnEnded { stateHash?: string | null; recovered?: 'rolled-back' | 'rolled-forward' | 'ended' }
/** A refused command (QEMU's error) or refused input (malformed QMP: `line`, or `input` and `bytes`). */
export interface CommandRejected {
  command?: string; args?: Record<string, unknown>; line?: string; error: QmpErrorBody;
  input?: string; bytes?: number;
  /**
   * A run of parse errors answered together (qmp/session.ts refusalRun; hostile round 9): the
   * refusals this record stands for (absent: 1); `input` and `error` are the first's, `bytes` the
   * run's input in all. Optional members of version 2, not a new version: a reader that does not
   * know them folds the same state and sees one refusal where there were `count`.
   */
  count?: number;
  /** The run's other distinct errors with how many times each (at most 8 and 2048 characters of text: the rest only in `count`). */
  also?: { error: QmpErrorBody; count: number }[];
  /** sha256 (hex) of the reply lines written for the run, "\r\n" included. */
  replies?: string;
}

export interface RecordDataByType {
  'txn.begun': TxnBegun;
  'txn.step': TxnStep;
  'txn.compensated': TxnCompensated;
  'txn.decided': TxnDecided;
  'txn.ended': TxnEnded;
  'command.rejected': CommandRejected;
}
export type RecordType = keyof RecordDataByType;

/**
 * The version every record type is written at today. Version 2 (issue 15) is the same data in
 * memory, stored in the compact frame 2 (store/codec.ts): steps and compensations without
 * duplicate images. Version 1 records (older logs) upcast to it unchanged (events/upcast.ts);
 * a blockgraph that reads only version 1 refuses version 2 records instead of misreading them.
 * Version 3 of txn.step and txn.compensated: the same data again, each image stored without the
 * members at its collection's usual value (store/image-template.ts); version 3 of txn.decided:
 * its data stored templated the same way. Version 2 upcasts unchanged.
 * Version 4 of the format (docs/drills.md): txn.begun at version 3 may hold the whole transaction
 * (steps and the decision with its end: events/whole.ts), stored positionally with images shared
 * within the record (store/whole-txn.ts). A plain version-2 begun is a version-3 one without
 * them, so it upcasts unchanged; a blockgraph that reads only version 2 refuses version 3
 * (`BG_LOG_PROTOCOL`) instead of folding the begun and missing its steps.
 * Version 4 of txn.begun (format version 5, issue 15 replay): the same data as version 3, stored
 * in frame 3 (store/codec.ts): the whole transaction's redo part (after-images and patches in
 * step order, the decision's kind: store/whole-split.ts) as its own JSON text ahead of the rest,
 * so that replay parses only it. Version 3 upcasts unchanged.
 * Version 5 of txn.begun (format version 6, issue 15 replay): the same data and the same two
 * texts as version 4, stored in frame 4 (store/codec.ts), which adds the length of each image
 * and patch the redo part holds (its skip table), so that replay's lazy fold skips them instead
 * of scanning them. Version 4 upcasts unchanged.
 */
export const CURRENT_VERSION: Record<RecordType, number> = {
  'txn.begun': 5, 'txn.step': 3, 'txn.compensated': 3, 'txn.decided': 3, 'txn.ended': 2, 'command.rejected': 2,
};

/** A record of `type` at its current version. */
export function current<T extends RecordType>(type: T): { type: T; v: number } {
  return { type, v: CURRENT_VERSION[type] };
}
