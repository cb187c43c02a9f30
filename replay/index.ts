export { emptyFold, foldRecord, type Fold, type OpenTxn } from './fold.js';
export { planRecovery, type RecoveryPlan } from './recover.js';
export { replay, seqAtTime, verifyReplay, type ReplayOptions, type VerifyReport } from './replay.js';
export { auditRows, filterAudit, type AuditFilter, type AuditRow } from './audit.js';
export { diffStates, diffText, type StateDiff } from './diff.js';
export { nodeHistory, type HistoryEntry } from './history.js';
export { renderDot, type DotOptions } from './render-dot.js';
export { checkFixture, exportFixture, importFixture, parseFixture, printFixture, type Fixture } from './fixture.js';
export { drillRandom, drillScenario, type DrillOptions, type DrillReport } from './drill.js';
