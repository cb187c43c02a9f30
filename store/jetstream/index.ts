// The JetStream backend of the event log (fleet scale): see docs/fleet.md.
export { JetStreamLevel } from './level.js';
export type { JetStreamLevelOptions } from './level.js';
export { openJetStream } from './open.js';
export type { OpenJetStreamOptions } from './open.js';
export { ensureStream, STREAM } from './stream.js';
export { isNatsUrl, parseNatsUrl, parseSubject, subjectOf, SUBJECT_ROOT } from './url.js';
export type { NatsStoreUrl } from './url.js';
export { forEachHost, listHosts } from './fleet.js';
export type { FleetHost } from './fleet.js';
export { openStoreAt } from './location.js';
