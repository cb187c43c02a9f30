// Presumed abort. A transaction without a decision is rolled back by compensation
// records (each undoes one step, newest first, as tran_abort runs LIFO; they are never
// undone themselves); one decided commit but not ended is rolled forward. Recovery
// reads only the log, and what it writes is itself recoverable: a crash in the middle
// leaves a transaction that the next recovery finishes.
import { current, type RecordType } from '../events/types.js';
import type { NewRecord } from '../store/types.js';
import { recoveryAction } from '../machines/transaction.js';
import type { Fold } from './fold.js';

export interface RecoveryPlan {
  batches: { records: NewRecord[]; sync: boolean }[];
  rolledBack: string[];
  rolledForward: string[];
  /** Processes whose unfinished jobs were cancelled (Engine option recoverJobs: 'cancel'). */
  cancelledJobsIn?: string[];
}

export function planRecovery(f: Fold, at: string, stream = 'log'): RecoveryPlan {
  const plan: RecoveryPlan = { batches: [], rolledBack: [], rolledForward: [] };
  const ordered = [...f.open.values()].sort((a, b) => a.begunSeq - b.begunSeq);
  for (const t of ordered) {
    const action = recoveryAction(t.state);
    const rec = (type: RecordType, data: unknown): NewRecord => ({ stream, ...current(type), at, txn: t.id, data });
    if (action === 'roll-back') {
      const done = new Set(t.compensated);
      const comp = [...t.steps].reverse().filter((s) => !done.has(s.seq))
        .map((s) => rec('txn.compensated', { undoes: s.seq, changes: s.changes }));
      plan.batches.push({ records: [...comp, rec('txn.decided', { outcome: 'abort', reason: 'recovery' })], sync: true });
      plan.batches.push({ records: [rec('txn.ended', { recovered: 'rolled-back', stateHash: null })], sync: false });
      plan.rolledBack.push(t.id);
    } else if (action === 'roll-forward' || action === 'end-abort') {
      plan.batches.push({ records: [rec('txn.ended', { recovered: action === 'roll-forward' ? 'rolled-forward' : 'ended' })], sync: false });
      if (action === 'roll-forward') plan.rolledForward.push(t.id);
    }
  }
  return plan;
}
