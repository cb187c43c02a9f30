// Public API of the store. Codec, verify and repair internals stay private to store/ and specs.
export { EventLog } from './event-log.js';
export type { LatestSnapshot, OpenOptions, RepairResult, SkippedSnapshot, SnapshotOptions } from './event-log.js';
export { openClassic, openMemory } from './open.js';
export type { OpenClassicOptions } from './open.js';
export type { AppendOptions, LogRecord, NewRecord, ReadRange, Snapshot, VerifyResult } from './types.js';
