// The log's public contract. Every backend (classic-level on disk, memory-level in tests)
// goes through the same EventLog class over abstract-level; specs/store/conformance runs
// one suite against each.

/** What a caller appends. `at` and ids are supplied by the caller (injected clock), never read here. */
export interface NewRecord {
  stream: string;          // one per QEMU process ("A", "B", …) or "host"/"log" for store-level records
  type: string;            // e.g. "txn.begun", "node.added", "command.rejected"
  v?: number;              // schema version of `data`, default 1
  at: string;              // ISO time from the caller
  txn?: string;            // transaction id this record belongs to
  causation?: string;      // id of the command that caused it
  data: unknown;           // JSON-serialisable payload
}

/** What the log holds: the envelope plus seq and the hash chain. */
export interface LogRecord extends Required<Pick<NewRecord, 'stream' | 'type' | 'v' | 'at' | 'data'>> {
  seq: number;             // contiguous per store, from 1
  txn?: string;
  causation?: string;
  prevHash: string;        // hash of record seq-1 ("" for seq 1)
  hash: string;            // sha256 over prevHash and this record's canonical body
}

export interface AppendOptions {
  /** The seq the first new record must get; a mismatch throws LogConflictError and writes nothing. */
  expectedSeq?: number;
  /** fsync the batch (decision records). Default false. */
  sync?: boolean;
  /**
   * appendNow only (the engine's records, built by the model): each record is parsed back from
   * its stored body after the batch is handed to LevelDB, while the write runs, instead of
   * before (issue 15). A body that does not round-trip (a codec bug) is then found after the
   * write started: the log stops taking appends rather than refusing just that one. Default
   * false: bad input throws and writes nothing.
   */
  parseAfterHandOff?: boolean;
  /**
   * The record of a command whose intent was just put (EventLog.putIntentNow; unsynced): if it
   * starts a group behind a write in flight, that group is held for the next intent to join.
   */
  afterIntent?: boolean;
  /**
   * With afterIntent: called if the intent's batch fails (appendRawNow's `decided` rejects with
   * what it returns or throws): the writer stops on it before anyone sees the rejection.
   */
  intentFailed?: (e: unknown) => never;
}

export interface Snapshot<S = unknown> {
  seq: number;             // state after applying records 1..seq
  hash: string;            // hash of record `seq`, ties the snapshot to the chain
  stateHash: string;
  state: S;
}

export interface ReadRange {
  gte?: number;
  lte?: number;
  limit?: number;
  /**
   * The hash of record gte-1 when the caller knows it (a verified snapshot's, "" for seq 1):
   * the first record read must link to it, so a range read is anchored, not only self-consistent.
   */
  prevHash?: string;
}

export type VerifyResult =
  | { ok: true; head: number }
  | { ok: false; head: number; firstBad: number; reason: string };
