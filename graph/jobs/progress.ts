// A job's progress as query-jobs (job_query_single: current-progress, total-progress) and
// query-block-jobs (block_job_query_locked: offset, len) report it, as far as the model knows it:
// the model moves no data in time, so only the progress of a job whose copy is over is known
// (oracle/replies.ts removes it for a job still copying). job_progress_set_remaining and
// job_progress_update of each job's .run:
// - blockdev-create / x-blockdev-amend: 1, done at the end (blockdev_create_run, blockdev_amend_run)
// - mirror and active commit: the dirty bytes mirror_dirty_init found (mirror_run; the job's
//   progressLen, graph/jobs/mirror.ts), all copied once READY
// - backup: the source's length (backup_run: block_copy's len), all of it at the end
// - stream and commit: bdrv_getlength of the top at .run (stream_run, commit_run), every
//   chunk counted whether copied or not
import type { Job } from '../types.js';
import type { Proc } from '../proc.js';
import { getLength } from '../length.js';

const DONE = new Set(['ready', 'standby', 'waiting', 'pending', 'concluded', 'null']);

export function jobProgress(p: Proc, j: Job): { current: number; total: number } {
  const d = j.data as { kind?: string; progressLen?: number; source?: string; rate?: { len?: number } };
  let total = 0;
  if (j.type === 'create' || j.type === 'amend') total = 1;
  else if (d.progressLen !== undefined) total = d.progressLen;
  else if (j.type === 'backup' && d.source && p.node(d.source)) total = getLength(p, d.source);
  else if (d.rate?.len !== undefined) total = d.rate.len;
  // a job that failed or was cancelled stopped where it was (its progress is not recorded)
  // (one that reached READY keeps its copy's progress: runner.ts sendOne's copiedAll)
  const done = (DONE.has(j.status) && !j.error && !j.cancelled) || j.data.copiedAll === true;
  // a rate-limited sync-full backup copied its first block_copy task before the QMP reply
  // (job_start enters backup_run; block_copy_dirty_clusters dispatches one task before
  // ratelimit_calculate_delay holds the next, and backup_pause's block_copy_call_cancel lets the
  // task in flight finish): progress_bytes_callback counted [0, next)
  // (graph/jobs/backup.ts copiedAtStart); a job cancelled or paused since stopped there
  const first = (d as { copiedAtStart?: number }).copiedAtStart;
  if (!done && !j.error && j.type === 'backup' && (d as { sync?: string }).sync === 'full' && first !== undefined) {
    return { current: first, total };
  }
  return { current: done ? total : 0, total };
}

/**
 * job_query_single's `error`: job->ret's text once the job has it (job_update_rc): the failure,
 * or -ECANCELED's "Operation canceled" for a job cancelled by force (job_is_cancelled), set when
 * it completes (aborting, concluded).
 */
export function jobErrorText(j: Job): string | undefined {
  if (j.error) return j.error;
  if (j.cancelled && (j.status === 'aborting' || j.status === 'concluded' || j.status === 'null')) return 'Operation canceled';
  return undefined;
}
