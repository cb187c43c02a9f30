// graph/: the state and QEMU's rules on it. The state shape, the copy-on-write Draft, the pure
// reducer, and the rules (permissions per child role, refresh, file locks, open, blockers,
// reopen planning, replace, AioContexts, invariants, hashing). Pure: no I/O, no clock.
// May import errors/ and machines/ (whose statecharts decide what graph code executes).
export type { BdsNode, BlockBackend, BlockExport, Edge, Image, Job, JobStatus, ParentRef, QomObject, State } from './types.js';
export { HOST } from './types.js';
export { Draft, type Change, type Step } from './draft.js';
export { applyChanges, applyChangesInPlace } from './apply.js';
export { Proc } from './proc.js';
export { canonicalJson, stateHash } from './hash.js';
export { checkInvariants } from './invariants.js';
export { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z, permList, permNames } from './perm.js';
export { planReopen } from './reopen/plan.js';
