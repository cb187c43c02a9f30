// errors/: every error blockgraph raises on purpose is a BlockgraphError with a stable `code`
// (as abstract-level's LEVEL_* codes), so callers and the CLI branch on codes, never on text.
// Imports nothing; every other folder may import it.

export type ErrorCode =
  // store
  | 'BG_LOG_CORRUPT'          // a record fails its CRC, chain or contiguity check
  | 'BG_LOG_CONFLICT'         // expected-seq check failed: a stale writer
  | 'BG_LOG_LOCKED'           // another process holds the LevelDB
  | 'BG_LOG_CLOSED'
  | 'BG_LOG_UNAVAILABLE'      // a remote log (JetStream) did not acknowledge: no quorum, unreachable
  | 'BG_LOG_PROTOCOL'         // txn records out of protocol order
  | 'BG_SNAPSHOT_CORRUPT'
  | 'BG_STORE_DAMAGED'        // LevelDB itself cannot open or read the store (missing/garbled files)
  | 'BG_STORAGE_IO'           // the disk refused a write or read (full disk, I/O error)
  | 'BG_VIEW_RANGE'           // a read outside the key ranges a partial read-only view holds (retried on a full view)
  // input
  | 'BG_BAD_INPUT'            // malformed JSON / command / scenario
  | 'BG_INPUT_TOO_LARGE'      // an input file past its documented limit (bytes, steps): refused before it is run
  | 'BG_QMP_ERROR'            // QEMU refused the command (class + desc as QEMU gives them)
  | 'BG_UNKNOWN_NODE'
  | 'BG_NOT_FOUND'
  | 'BG_REPLAY_DIVERGED'
  | 'BG_INVARIANT'
  | 'BG_MODEL_CRASH'          // the model threw while deciding a command (a bug): nothing applied, nothing logged
  | 'BG_UNSUPPORTED';

export class BlockgraphError extends Error {
  readonly code: ErrorCode;
  // Not `details`: uvu (and other runners) treat a string `details` field as a pre-rendered diff.
  readonly info: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'BlockgraphError';
    this.code = code;
    this.info = details;
  }
}

export class LogCorruptError extends BlockgraphError {
  /** First seq that could not be verified. */
  readonly seq: number;
  constructor(seq: number, reason: string) {
    super('BG_LOG_CORRUPT', `log is damaged at seq ${seq}: ${reason}`, { seq, reason });
    this.name = 'LogCorruptError';
    this.seq = seq;
  }
}

export class LogConflictError extends BlockgraphError {
  constructor(expected: number, actual: number) {
    super('BG_LOG_CONFLICT', `expected next seq ${expected} but the log is at ${actual}`, { expected, actual });
    this.name = 'LogConflictError';
  }
}

export class LogLockedError extends BlockgraphError {
  constructor(location: string) {
    super('BG_LOG_LOCKED', `store ${location} is in use by another process`, { location });
    this.name = 'LogLockedError';
  }
}

export class LogClosedError extends BlockgraphError {
  constructor(what = 'log') {
    super('BG_LOG_CLOSED', `${what} is closed`, {});
    this.name = 'LogClosedError';
  }
}

export class SnapshotCorruptError extends BlockgraphError {
  /** Seq of the snapshot that failed its CRC or does not match the chain. */
  readonly seq: number;
  constructor(seq: number, reason: string) {
    super('BG_SNAPSHOT_CORRUPT', `snapshot at seq ${seq} is damaged: ${reason}`, { seq, reason });
    this.name = 'SnapshotCorruptError';
    this.seq = seq;
  }
}

/** Damage below the records: LevelDB's own files (CURRENT, MANIFEST, tables, WAL) are missing or unreadable. */
export class StoreDamagedError extends BlockgraphError {
  constructor(location: string, reason: string) {
    super('BG_STORE_DAMAGED', `store ${location} is damaged: ${reason} (run \`blockgraph repair --db ${location}\`)`, { location, reason });
    this.name = 'StoreDamagedError';
  }
}

/**
 * A read-only view that holds only some tables (store/read-only-subset.ts) was asked for a key
 * it cannot answer exactly. Never a wrong answer: the read is refused and the caller reopens
 * with every table.
 */
export class ViewRangeError extends BlockgraphError {
  constructor(from: string, to: string) {
    super('BG_VIEW_RANGE', `the partial read-only view does not hold the keys from ${JSON.stringify(from)} to ${JSON.stringify(to)}`, { from, to });
    this.name = 'ViewRangeError';
  }
}

/** The operating system refused a read or write of the store (ENOSPC, EIO, EACCES…). */
export class StorageIoError extends BlockgraphError {
  constructor(location: string, reason: string) {
    super('BG_STORAGE_IO', `store ${location}: ${reason}`, { location, reason });
    this.name = 'StorageIoError';
  }
}

/** A process name (a state scope and log stream) that graph/proc-name.ts refuses; nothing is written. */
export class BadProcessNameError extends BlockgraphError {
  constructor(name: string, why: string) {
    super('BG_BAD_INPUT', why, { name: name.slice(0, 200) });
    this.name = 'BadProcessNameError';
  }
}

/** QEMU's own refusal: `cls` and `desc` exactly as QMP would answer. */
export class QmpError extends BlockgraphError {
  readonly cls: string;
  readonly desc: string;
  constructor(desc: string, cls = 'GenericError') {
    super('BG_QMP_ERROR', desc, { class: cls });
    this.name = 'QmpError';
    this.cls = cls;
    this.desc = desc;
  }
}

/**
 * A QEMU error with a hint (error_append_hint): QMP replies carry only `desc`; HMP prints the
 * hint after it (hmp_handle_error → error_reportf_err → error_report_err prints err->hint).
 */
export class QmpErrorWithHint extends QmpError {
  readonly hint: string;
  constructor(desc: string, hint: string, cls = 'GenericError') {
    super(desc, cls);
    this.name = 'QmpErrorWithHint';
    this.hint = hint;
  }
}

/**
 * error_prepend: the message with `prefix` before it, class and hint kept (a hint survives any
 * number of prefixes: error_report_err still prints it after the whole message).
 */
export function prependError(e: QmpError, prefix: string): QmpError {
  return e instanceof QmpErrorWithHint ? new QmpErrorWithHint(prefix + e.desc, e.hint, e.cls) : new QmpError(prefix + e.desc, e.cls);
}

/**
 * The model threw something other than a refusal while deciding a command: a bug in blockgraph,
 * not an answer of QEMU's. The command was not applied and nothing of it was logged (the engine
 * decides before it writes); the engine goes on with the next command. `cause` is the exception.
 */
export class ModelCrashError extends BlockgraphError {
  constructor(readonly command: string, cause: unknown) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super('BG_MODEL_CRASH', `blockgraph: internal error in the model running '${command}' (not applied, the log is unchanged): ${what}`, { command });
    this.name = 'ModelCrashError';
    this.cause = cause;
  }
}

export const isBlockgraphError = (e: unknown): e is BlockgraphError => e instanceof BlockgraphError;
