export { emptyFold, foldRecord, type Fold, type OpenTxn } from './fold.js';
export { planRecovery, type RecoveryPlan } from './recover.js';
export { replay, seqAtTime, verifyReplay, type ReplayOptions, type VerifyReport } from './replay.js';
