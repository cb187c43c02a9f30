// The graph model's public API: state shape, the pure reducer, and the rules callers may
// want outside a QMP command (permission names, invariants, hashing, reopen planning).
export type { BdsNode, BlockBackend, BlockExport, Edge, Image, Job, JobStatus, ParentRef, QomObject, State } from './types.js';
export { HOST } from './types.js';
export { Draft, type Change, type Step } from './draft.js';
export { applyChanges, applyChangesInPlace } from './apply.js';
export { Proc } from './proc.js';
export { canonicalJson, stateHash } from './hash.js';
export { checkInvariants } from './invariants.js';
export { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z, permList, permNames } from './perm.js';
export { planReopen } from './reopen/plan.js';
