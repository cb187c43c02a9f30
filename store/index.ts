// store/: the event log over abstract-level (classic-level on disk, memory-level in tests):
// contiguous seqs, CRC and hash chain per record, snapshots, verify and explicit repair.
// Codec, verify and repair internals stay private to store/ and specs. May import errors/ only.
export { EventLog } from './event-log.js';
export type { LatestSnapshot, OpenOptions, RepairResult, SkippedSnapshot, SnapshotOptions } from './event-log.js';
export { openClassic, openMemory } from './open.js';
export type { OpenClassicOptions } from './open.js';
export type { AppendOptions, LogRecord, NewRecord, ReadRange, Snapshot, VerifyResult } from './types.js';
