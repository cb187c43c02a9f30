// machines/: the xstate v5 statecharts (transaction protocol, jobs, AioContext moves, reopen).
// Each decides; graph/ code executes what it decides. Deterministic: no clock, no randomness,
// no I/O. May import graph/ only.
export { transactionMachine, txnNext, txnStart, recoveryAction, type TxnEvent, type TxnSnapshot } from './transaction.js';
export { jobMachine, jobStep, jobSnapshot, verbAllowed, verbError, JOB_VERB_TABLE } from './job.js';
export { aioContextMachine, aioNext, aioStart, aioRecovery } from './aio-context.js';
export * from './reopen.js';
