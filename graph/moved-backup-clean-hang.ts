// A pending backup job cancelled or finalized after x-blockdev-set-iothread carried it (and the
// nodes it shares with another running job) into an iothread: QEMU 7.2 never answers (fuzz seed
// 1361365498). gdb of the hung daemon: the main thread in qmp_job_cancel -> ... -> bdrv_cbw_drop
// -> bdrv_drop_filter -> bdrv_replace_node_common -> bdrv_drained_begin -> aio_poll, holding the
// iothread's AioContext lock (count 1 while it polls, so twice before AIO_WAIT_WHILE released
// one); the iothread in aio_bh_poll waiting for that lock (co_schedule_bh_cb), to enter the other
// job so that it reaches the pause point the drain asks for (child_job_drained_begin -> job_pause).
// Probed live (abort-24-*-survives): no hang when either job was created in the iothread (only
// one moved), when the other job is user-paused, when the other job is the one cancelled, or
// when nothing moved. 10.0 has no AioContext lock (graph/rules.ts 'moved-backup-clean-hangs').
import type { Proc } from './proc.js';
import type { Job } from './types.js';
import { MAIN_CONTEXT, jobContext } from './aio.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { rule } from './rules.js';

/** The jobs bdrv_drained_begin(node) pauses: job parents of node and of every node above it. */
function jobsAbove(p: Proc, node: string): Set<string> {
  const seen = new Set<string>([node]);
  const jobs = new Set<string>();
  const todo = [node];
  while (todo.length) {
    for (const e of p.parents(todo.pop()!)) {
      if (e.parent.kind === 'job') jobs.add(e.parent.job);
      else if (e.parent.kind === 'node' && !seen.has(e.parent.node)) { seen.add(e.parent.node); todo.push(e.parent.node); }
    }
  }
  return jobs;
}

/**
 * job-cancel / job-finalize of backup job `j` that is done running (pending or waiting: the job
 * was deferred to the main loop, job_cancel_locked goes to job_completed_txn_abort_locked and
 * job_finalize to job_finalize_single_locked): backup_clean's bdrv_cbw_drop hangs QEMU 7.2 under
 * the condition above. Refused before anything changes. A running job's cancel is not covered
 * (not probed).
 */
export function refuseMovedBackupClean(p: Proc, j: Job): void {
  const cbw = j.data.kind === 'backup' && typeof j.data.cbw === 'string' ? j.data.cbw : null;
  if (!cbw || !p.node(cbw) || !rule(p, 'moved-backup-clean-hangs')) return;
  const ctx = jobContext(j);
  if (ctx === MAIN_CONTEXT || !j.aioMoved || (j.status !== 'pending' && j.status !== 'waiting')) return;
  const other = [...jobsAbove(p, cbw)].map((id) => p.job(id)).find((o) => o && o.id !== j.id && o.aioMoved &&
    jobContext(o) === ctx && o.paused === 0 && (o.status === 'running' || o.status === 'ready'));
  if (!other) return;
  throw new QemuHangRefusal(
    `Backup job '${j.id}' and job '${other.id}' were moved into iothread '${ctx}' after they started: dropping '${j.id}'s copy-before-write filter '${cbw}' ` +
    `drains it and must pause running job '${other.id}' there (QEMU 7.2 hangs here: job_finalize_single_locked -> backup_clean -> bdrv_cbw_drop -> ` +
    'bdrv_drained_begin polls with the iothread\'s lock held); refused by blockgraph: pause the other job first', 'bdrv_cbw_drop');
}
