// Crash recovery of jobs (issue 5.4). Decision: jobs do no real I/O in the model, and a job
// interrupted by an engine crash has no process that would ever drive it on — QEMU itself loses
// all jobs with the process. What must not survive is what the job imposed on the graph:
// frozen links, its filter node, its BlockBackends and edges (they would block ops and reopens
// forever). So recovery cancels every job that has not concluded, deterministically: in job
// creation order (`at`), each one force-cancelled through the job statechart exactly as
// `job-cancel` does (aborting -> .abort -> .clean -> BLOCK_JOB_CANCELLED -> concluded, and null
// when auto-dismiss). The abort callbacks unfreeze the links and take the filters out
// (stream: bdrv_cor_filter_drop; commit: commit_top replaced by top; mirror: mirror_exit_common).
// A concluded job is left for the user to dismiss (it holds no frozen links or filters).
import type { Proc } from '../proc.js';
import { sendJob } from './runner.js';

export interface RecoveredEvent { event: string; data: Record<string, unknown> }

/** Cancels the jobs a crash orphaned; returns the QMP events QEMU would have sent, in order. */
export function cancelOrphanedJobs(p: Proc): RecoveredEvent[] {
  const events: RecoveredEvent[] = [];
  const ctx = { p, emit: (event: string, data: Record<string, unknown>) => { events.push({ event, data }); } };
  for (const j of p.jobs()) {
    if (j.status === 'concluded' || j.status === 'null' || j.status === 'undefined') continue;
    if (j.paused > 0) p.patchJob(j.id, { paused: 0 });
    sendJob(ctx, j.id, { type: 'CANCEL' });
  }
  return events;
}
