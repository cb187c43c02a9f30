// replay/: reading the log back. The one fold (live engine, replay, seek, verify and recovery
// all use it), recovery planning, and the views built on records and states: audit rows,
// diffs, node history, backing chains, names, DOT pictures, fixtures and crash drills. Pure
// over records and states except the drills (child processes) and fixtures (a store).
// May import graph/, machines/, events/, store/, errors/, and engine/ and oracle/ for the
// drills and fixtures; never qmp/ or cli/.
export { emptyFold, foldRecord, type Fold, type OpenTxn } from './fold.js';
export { planRecovery, type RecoveryPlan } from './recover.js';
export { replay, seqAtTime, verifyReplay, type ReplayOptions, type VerifyReport } from './replay.js';
export { AuditGrouper, auditRows, filterAudit, type AuditFilter, type AuditRow } from './audit.js';
export { backingChain, nodeView, chainChild, type NodeView } from './chain.js';
export { blockBackendName, BbOwners, namerOfState, type BbNamer } from './names.js';
export { diffStates, diffText, type StateDiff } from './diff.js';
export { nodeHistory, type HistoryEntry } from './history.js';
export { renderDot, type DotOptions } from './render-dot.js';
export { checkFixture, exportFixture, importFixture, parseFixture, printFixture, type Fixture } from './fixture.js';
export { drillRandom, drillScenario, type DrillOptions, type DrillReport } from './drill.js';
