// The drained section a mirror (or active commit) keeps open between the end of its run and its
// prepare/abort (block/mirror.c, 7.2): mirror_run leaves its loop with bdrv_drained_begin(bs) on
// the source (the should_complete exit, and immediate_exit's `if (need_drain)`), and only
// mirror_exit_common ends it (bdrv_drained_end(src)). A job that failed or was cancelled gets to
// its abort at once (job_exit), but one that completed waits for its prepare while it is
// `waiting` (for the other jobs of its transaction) or `pending` (auto-finalize false): all that
// time the source and every node above it are quiesced (bdrv_parent_drained_begin, recursively
// through bdrv_child_cb_drained_begin), and so is any parent attached later
// (bdrv_replace_child_noperm's drain_saldo). Every block job with a node there is paused
// (child_job_drained_begin -> job_pause): one started there stops at job_co_entry's
// job_pause_point before its .run, and a wake-up (job_resume of a temporary drain's end) only
// counts the pause down (job_resume_locked: `if (job->pause_count) return`). When the held
// section ends, job_resume enters them: a job that never ran starts its .run then, a sleeping
// one runs its next iteration.
// The model keeps no drain counters: the held sections follow from the jobs' status, and the
// quiesced nodes from the graph as it is (QEMU's counters follow every edge change).
import { drainedJobs, queueWake } from '../drain.js';
import type { Proc } from '../proc.js';
import type { Job, JobStatus } from '../types.js';
import { leakedDrainNodes } from '../reopen/drain-leak.js';
import { patchJobData, sendJob, type JobCtx } from './runner.js';

/** The mirror-kind jobs whose run ended and whose prepare has not run: each holds its source drained. */
function holders(p: Proc): { id: string; source: string }[] {
  if (!p.d.any(p.name, 'jobs')) return [];
  const out: { id: string; source: string }[] = [];
  for (const j of p.jobs()) {
    const d = j.data as { kind?: string; prepared?: boolean; source?: string };
    if (d.kind !== 'mirror' || d.prepared || (j.status !== 'waiting' && j.status !== 'pending')) continue;
    if (typeof d.source === 'string' && p.node(d.source)) out.push({ id: j.id, source: d.source });
  }
  return out;
}

/**
 * The held drained section that quiesces `node` (it is a holder's source or above it: the
 * bdrv_parent_drained_begin recursion), as the holding job's id; undefined when none does.
 */
export function heldDrainOver(p: Proc, node: string): string | undefined {
  for (const h of holders(p)) {
    if (h.source === node) return h.id;
    const todo = [h.source];
    const seen = new Set(todo);
    while (todo.length) {
      for (const e of p.parents(todo.pop()!)) {
        if (e.parent.kind !== 'node' || seen.has(e.parent.node)) continue;
        if (e.parent.node === node) return h.id;
        seen.add(e.parent.node);
        todo.push(e.parent.node);
      }
    }
  }
  return undefined;
}

/** The jobs some held drained section pauses (the holders themselves left out: their run is over). */
export function heldDrainPausedJobs(p: Proc, except?: string): Set<string> {
  if (!p.d.any(p.name, 'jobs')) return new Set();
  const hs = holders(p).filter((h) => h.id !== except);
  // and the sections a 10.0 reopen left on a node it queued twice (graph/reopen/drain-leak.ts)
  const leaked = leakedDrainNodes(p);
  if (!hs.length && !leaked.length) return new Set();
  const ids = new Set(hs.map((h) => h.id));
  return new Set(drainedJobs(p, [...hs.map((h) => h.source), ...leaked], false).filter((j) => !ids.has(j)));
}

/** Whether a held drained section pauses job `id` (child_job_drained_begin: pause_count > 0). */
export function heldDrainPaused(p: Proc, id: string): boolean {
  return heldDrainPausedJobs(p).has(id);
}

/**
 * What a job started under a held drained section does when it is first entered: its kind's
 * start (mirror: mirror_run's first stretch; stream, commit: the first run of their loop).
 */
type DeferredStart = (ctx: JobCtx, id: string, start: Record<string, unknown>) => void;
const STARTS = new Map<string, DeferredStart>();
export function registerDeferredStart(kind: string, fn: DeferredStart): void {
  STARTS.set(kind, fn);
}

/**
 * job_start under a held drained section: job_co_entry stops at job_pause_point before .run
 * (the pause is a drain's, no event survives the normalizer), so the start is kept in the job's
 * data and run at the wake-up that ends the section (runDeferredStart). Returns whether it was.
 */
export function deferStartIfHeld(p: Proc, id: string, kind: string, start: Record<string, unknown>): boolean {
  if (!heldDrainPaused(p, id)) return false;
  // as logged: JSON (no undefined members)
  patchJobData(p, id, { deferredStart: JSON.parse(JSON.stringify({ ...start, kind })) as Record<string, unknown> });
  return true;
}

/** Whether job `id` waits for its first entry (deferStartIfHeld). */
export function startDeferred(p: Proc, id: string): boolean {
  return p.job(id)?.data.deferredStart !== undefined;
}

/**
 * The wake-up of a job that never ran: a running job, not user-paused, no longer held, runs its
 * start. Returns whether the job was one that waited for its first entry.
 */
export function runDeferredStart(ctx: JobCtx, id: string): boolean {
  const j = ctx.p.job(id);
  const start = j?.data.deferredStart as { kind: string } | undefined;
  if (!j || !start) return false;
  if (j.status !== 'running' || j.paused > 0 || heldDrainPaused(ctx.p, id)) return true;
  const { deferredStart: _d, ...rest } = j.data;
  ctx.p.patchJob(id, { data: rest });
  STARTS.get(start.kind)?.(ctx, id, start as Record<string, unknown>);
  return true;
}

/**
 * mirror_exit_common's bdrv_drained_end(src): the jobs the section paused that no other held
 * section pauses are resumed (child_job_drained_end -> job_resume): one that never ran starts
 * (both versions: it waits at job_co_entry's pause point); a sleeping one runs its next
 * iteration where a wake-up ends a rate-limit sleep (rule 'wake-ends-rate-limit-sleep'). `paused`
 * is what the section paused, taken before the exit changed the graph.
 * A job the user paused before the section and resumed under it (job_user_resume ->
 * job_resume_locked counted its pause down but returned while the section's pause still counted)
 * is left at its pause point in PAUSED (STANDBY when ready): the section's job_resume takes
 * pause_count to 0 and job_enter_cond_locked enters it at once (aio_co_enter from the main loop),
 * so job_pause_point_locked's transition back to RUNNING (READY) and its JOB_STATUS_CHANGE come
 * inside the drained_end, before the holder's own completion events (7.2 and 10.0 alike:
 * job-held-drain-user-resumed-*). One the section paused from RUNNING shows nothing: its
 * paused/running pair is the drain's, which the normalizer drops.
 */
export function endHeldDrain(ctx: JobCtx, paused: string[], wakesSleepers: boolean): void {
  const { p } = ctx;
  const still = heldDrainPausedJobs(p);
  for (const id of paused) {
    const j = p.job(id);
    if (!j || still.has(id)) continue;
    // (a user pause still counted, j.paused > 0, keeps the job where it is)
    if ((j.status === 'paused' || j.status === 'standby') && j.paused === 0) sendJob(ctx, id, { type: 'RESUME' });
    if (startDeferred(p, id) || completesOnWake(p, id) || wakesSleepers) queueWake(p, id);
  }
}

/** A ready mirror whose job-complete came while it was paused: entered again, it completes. */
export function completesOnWake(p: Proc, id: string): boolean {
  const j = p.job(id);
  return !!j && j.status === 'ready' && j.paused === 0 && j.data.kind === 'mirror' && j.data.shouldComplete === true && !j.cancelled;
}

/**
 * mirror_run (a mirror's and an active commit's) ends with its source drained (`need_drain`: the
 * bdrv_drained_begin before the sync test, or the one at immediate_exit) and
 * mirror_exit_common ends that section only at prepare or abort (bdrv_drained_end(src)). In
 * between — the job waiting or pending — child_job_drained_begin's job_pause holds
 * pause_count above 0, which query-block-jobs shows as `paused` (block_job_query_locked; 7.2 and
 * 10.0 alike, fuzz 570729035).
 */
export function mirrorExitDrained(j: Job): boolean {
  return j.data.kind === 'mirror' && (j.status === 'waiting' || j.status === 'pending');
}

/**
 * The status QEMU shows for a job a held drained section pauses: the job sits at a pause point,
 * so job_pause_point_locked made it paused (standby when ready); the drain's own events are not
 * shown (the normalizer drops them), but job_apply_verb's refusal names the status, and
 * query-jobs / query-block-jobs show it (fuzz --qemu 10.0 482189327: a reopen's leaked drain).
 */
export function heldStatus(p: Proc, j: Job): JobStatus | undefined {
  if (j.status !== 'running' && j.status !== 'ready') return undefined;
  if (!heldDrainPaused(p, j.id)) return undefined;
  return j.status === 'running' ? 'paused' : 'standby';
}
