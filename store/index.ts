// store/: the event log over abstract-level (classic-level on disk, memory-level in tests):
// contiguous seqs, CRC and hash chain per record, snapshots, verify and explicit repair.
// Codec, verify and repair internals stay private to store/ and specs. May import errors/ only.
export { EventLog } from './event-log.js';
export type { LatestSnapshot, OpenOptions, RepairResult, SkippedSnapshot, SnapshotOptions } from './event-log.js';
export { openClassic, openMemory } from './open.js';
export type { OpenClassicOptions } from './open.js';
export { openReadOnly } from './read-only.js';
export type { ReadOnlyOptions } from './read-only.js';
export { serveStoreReads } from './live.js';
export type { LiveServer } from './live.js';
export { levelError } from './files.js';
export type { AppendOptions, LogRecord, NewRecord, ReadRange, Snapshot, VerifyResult } from './types.js';
export { verifyStore } from './verify-store.js';
export type { StoreVerifyReport } from './verify-store.js';
export { repairStore } from './salvage.js';
export type { StoreRepairReport } from './salvage.js';
export { encodePart, partsWork } from './snapshot-parts.js';
export type { PartedManifest, SnapshotEntry } from './snapshot-parts.js';
