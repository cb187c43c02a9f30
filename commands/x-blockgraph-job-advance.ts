// blockgraph's own command: jobs do no I/O in the model, so their progress is abstract. The
// oracle harness calls this before a `wait` step; it moves the job as far towards `status` as
// the job could get on its own: a running stream or commit finishes (waiting -> pending, or on
// through finalize/dismiss when those are automatic), a running mirror becomes ready. A paused
// job, a ready mirror (it needs job-complete) and a pending job (job-finalize) stay put.
import { QmpError } from '../errors/index.js';
import { sendJob, txnJobs } from '../graph/jobs/runner.js';
import { rateRunToEnd } from '../graph/jobs/rate.js';
import { cowBs, filterOrCowBs } from '../graph/jobs/chain.js';
import { activeCommitBulkCopy } from '../graph/jobs/guest-write.js';
import { backupCopies, backupRunToEnd } from '../graph/jobs/backup.js';
import type { JobStatus } from '../graph/types.js';
import { getLength } from '../graph/length.js';
import type { Proc } from '../graph/proc.js';
import { heldDrainPaused, startDeferred } from '../graph/jobs/held-drain.js';
import type { CommandDef } from './types.js';
import { throttleEnabled, throttleHoldsBack } from './throttle-group.js';

/**
 * The nodes below which job `id` does no I/O: a stream copies only what lies above its base
 * (stream_run: bdrv_is_allocated_above(.., s->base_overlay, ..), so the copy-on-read read of an
 * unallocated stretch is skipped), so neither the base nor anything under it is read; a commit
 * writes into its base but never reads the base's own backing chain (commit_run).
 */
function quietBelow(p: Proc, id: string): Set<string> {
  const d = p.job(id)?.data as { kind?: string; aboveBase?: string; base?: string } | undefined;
  const quiet = new Set<string>();
  if (d?.kind === 'stream' && typeof d.aboveBase === 'string') {
    const base = filterOrCowBs(p, d.aboveBase);
    if (base) quiet.add(base);
  } else if (d?.kind === 'commit' && typeof d.base === 'string') {
    const below = cowBs(p, d.base);
    if (below) quiet.add(below);
  }
  return quiet;
}

/**
 * Whether throttle node `name` can hold I/O back: its group's config has a limit
 * (throttle_group_co_io_limits_intercept -> throttle_schedule_timer -> throttle_compute_wait
 * waits only on a bucket with an average; a group with none, e.g. iotests 040
 * TestCommitWithFilters' bare `tg`, lets a job run at full speed).
 */
function throttleLimits(p: Proc, name: string, bytes: number, opBytes: number): boolean {
  const group = (p.node(name)?.extra as { group?: string } | undefined)?.group;
  const o = group === undefined ? undefined : p.object(group);
  if (!o || o.qomType !== 'throttle-group') return true;
  return throttleEnabled(o.props, o.limitSets ?? [], o.config) && throttleHoldsBack(o.props, o.limitSets ?? [], bytes, o.config, opBytes, SETTLE_SECONDS);
}

/**
 * The recorder settles a job start for at most this long (oracle/harness.ts: startSettleMs, 3000
 * ms) and records a job still copying then as it stands: a throttle that only delays the copy by
 * less (tests-g-stream-iops-40: a 40 iops group under the top, a 2 MiB stream) lets it end in the
 * step, one that delays it longer (iotests 129: a 1 KiB/s group under the source) does not.
 */
const SETTLE_SECONDS = 3;

/**
 * The request size a job's copy reaches a throttle node in, for its iops buckets: stream_run and
 * commit_run copy in chunks of STREAM_CHUNK / COMMIT_BUFFER_SIZE (512 KiB), each one request down
 * the chain (a format layer on the way issues one host request per contiguous run of clusters,
 * one for the images the scenarios write); other jobs are counted by the sector, as before.
 */
const JOB_CHUNK = 512 * 1024;
function jobOpBytes(p: Proc, id: string): number {
  const kind = (p.job(id)?.data as { kind?: string } | undefined)?.kind;
  return kind === 'stream' || kind === 'commit' ? JOB_CHUNK : 512;
}

/**
 * Whether a limiting throttle node lies at or below one of job `id`'s nodes (its edges, its data's
 * nodes) where the job's copy goes (iotests 258: a group under a stream's base holds nothing back).
 */
function throttledJob(p: Proc, id: string): boolean {
  const j = p.job(id);
  if (!j) return false;
  const todo: string[] = p.children({ kind: 'job', job: id }).map((e) => e.child);
  for (const v of Object.values(j.data)) if (typeof v === 'string' && p.node(v)) todo.push(v);
  const seen = quietBelow(p, id);
  // what the job can push through a throttle node at most: a read and a write of its largest node
  const bytes = 2 * Math.max(0, ...todo.map((n) => (p.node(n) ? getLength(p, n) : 0)));
  while (todo.length) {
    const x = todo.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (p.node(x)?.driver === 'throttle' && throttleLimits(p, x, bytes, jobOpBytes(p, id))) return true;
    for (const e of p.childrenOf(x)) todo.push(e.child);
  }
  return false;
}

const LATER: JobStatus[] = ['waiting', 'pending', 'aborting', 'concluded', 'null'];

export const xBlockgraphJobAdvance: CommandDef = {
  name: 'x-blockgraph-job-advance',
  mutates: true,
  run({ p, args, emit }) {
    if (typeof args?.id !== 'string' || typeof args?.status !== 'string') {
      throw new QmpError("Parameters 'id' and 'status' (strings) are required");
    }
    const id = args.id;
    const target = args.status as JobStatus;
    // the recorder's settle of a job start (oracle/harness.ts settledStart): only a job that
    // cannot be held back runs to its end at once; one copying through a throttle node keeps
    // running (iotests 129: a 1 KiB/s group under the source)
    if (args.start === true && throttledJob(p, id)) return {};
    for (let i = 0; i < 4; i++) {
      const j = p.job(id);
      if (!j || j.status === target || j.status !== 'running') break;
      // a job a held drained section pauses (graph/jobs/held-drain.ts) does not move
      if (heldDrainPaused(p, id) || startDeferred(p, id)) break;
      // backup_run with sync none yields until it is cancelled
      if (j.data.kind === 'backup' && j.data.sync === 'none') break;
      const txn = typeof j.data.txn === 'string' ? j.data.txn : undefined;
      if (txn && LATER.includes(target)) {
        // the other jobs of a grouped transaction run alongside and finish too (newest first),
        // unless a rate limit holds them back (the recorded scenarios rely on it for a fixed order);
        // a backup with nothing to copy (backup_run: an empty sync bitmap, a source of length 0)
        // never yields on I/O, so job_completed reaches it first, in job_start order, before any
        // job that copies can finish or fail (iotests 124's transaction failure race: the empty
        // incremental backup is waiting when the other drive's read error cancels it)
        const all = txnJobs(p, txn);
        const idle = all.filter((o) => o.data.kind === 'backup' && o.data.sync !== 'none' && !backupCopies(p, o.data)).sort((a, b) => a.at - b.at);
        for (const o of [...idle, ...all.filter((x) => !idle.includes(x))]) {
          const free = o.id === id || o.speed === 0;
          if (free && o.status === 'running' && !(o.data.kind === 'backup' && o.data.sync === 'none') && o.data.kind !== 'mirror') {
            // a backup's block_copy call (a rate-limited one copies the rest of its source now)
            const end = o.data.kind === 'backup' ? backupRunToEnd({ p, emit }, o.id) : undefined;
            if (end === 'stopped' || end === 'busy') continue;
            sendJob({ p, emit }, o.id, end ? { type: 'FAIL', error: end.failed } : { type: 'DONE' });
          }
        }
        continue;
      }
      const mirror = j.data.kind === 'mirror';
      if (mirror && (target === 'ready' || target === 'standby' || target === 'paused' || LATER.includes(target))) {
        // mirror_run copies what its dirty bitmap holds, then goes ready; a failed copy ends it
        // (s->ret), a read error with on-source-error stop pauses it, one with ignore that comes
        // back on every pass keeps it busy (graph/jobs/rate.ts)
        const end = rateRunToEnd({ p, emit }, id);
        if (end === 'stopped' || end === 'busy') break;
        if (end) {
          sendJob({ p, emit }, id, { type: 'FAIL', error: end.failed });
          continue;
        }
        // and an active commit's bulk phase writes what lies above the base into it before READY
        const d = j.data as { isCommit?: boolean; source?: string; target?: string };
        if (d.isCommit && d.source && d.target && p.node(d.source) && p.node(d.target)) activeCommitBulkCopy(p, d.source, d.target);
        sendJob({ p, emit }, id, { type: 'READY' });
      }
      else if (!mirror && (LATER.includes(target) || target === 'paused')) {
        // (a running job reaches 'paused' on its own only when a failed copy stops it; a
        // backup's copy is its block_copy call, graph/jobs/backup.ts)
        // a job whose run fails after its first yield keeps its error until now (data.endError:
        // commands/x-blockdev-amend.ts)
        const end = typeof j.data.endError === 'string' ? { failed: j.data.endError }
          : j.data.kind === 'backup' ? backupRunToEnd({ p, emit }, id) : rateRunToEnd({ p, emit }, id);
        if (end === 'stopped' || end === 'busy') break;
        sendJob({ p, emit }, id, end ? { type: 'FAIL', error: end.failed } : { type: 'DONE' });
      }
      else break;
    }
    return {};
  },
};
