// Runs jobs: the statechart (machines/job.ts) decides the next status and the ordered
// effects; this file executes them — QMP events through `emit`, and the job driver's
// prepare/commit/abort/clean plus the final free — against the graph.
import { QmpError } from '../../errors/index.js';
import { jobCreate, jobSnapshot, jobStep, type JobEffect, type JobMachineEvent, type JobVerb } from '../../machines/job.js';
import { nameWellFormed } from '../ops.js';
import type { Proc } from '../proc.js';
import type { Job } from '../types.js';
import { isBlockJob } from '../types.js';
import { deviceName } from '../named-blk.js';
import { addJobEdge, removeJobEdges, removeJobBB } from './parts.js';

export interface JobCtx {
  p: Proc;
  emit(event: string, data: Record<string, unknown>): void;
}

/** What each job kind does at the driver callbacks (JobDriver .prepare/.commit/.abort/.clean). */
export interface JobDriverOps {
  /** Returns QEMU's job error when .prepare fails (the job then aborts), else nothing. */
  prepare?(ctx: JobCtx, j: Job): string | void;
  commit?(ctx: JobCtx, j: Job): void;
  abort?(ctx: JobCtx, j: Job): void;
  clean?(ctx: JobCtx, j: Job): void;
  /** .complete (job-complete on a ready job); throws to refuse. */
  complete?(ctx: JobCtx, j: Job): void;
  /** .free (job_unref's last reference: a dismissed job), before the job's edges go. */
  free?(ctx: JobCtx, j: Job): void;
}

const DRIVERS = new Map<string, JobDriverOps>();
export function registerJobDriver(kind: string, ops: JobDriverOps): void {
  DRIVERS.set(kind, ops);
}
const kindOf = (j: Job) => String(j.data.kind ?? j.type);

/** job_create's checks and record; the JOB_STATUS_CHANGE 'created' event. */
export function createJob(
  ctx: JobCtx,
  init: {
    id: string; type: Job['type']; autoFinalize: boolean; autoDismiss: boolean; speed: number; data: Record<string, unknown>; aio?: string;
    /** block_job_create's bs: the job's "main node" edge, with the job's fixed perms */
    mainNode?: { node: string; perm: number; shared: number };
  },
): Job {
  const { p } = ctx;
  // block_job_create: no job-id is bdrv_get_device_name(bs) of the job's main node (a mirror's
  // mirror_top, a backup's cbw filter, a stream's cor filter: the drive's BlockBackend is above
  // them by now), "" unless a legacy drive names it
  const named = init.mainNode?.node ?? (typeof init.data.mirrorTop === 'string' ? init.data.mirrorTop : undefined);
  if (init.id === '' && named !== undefined && p.node(named) && isBlockJob(init)) init = { ...init, id: deviceName(p, named) };
  if (!nameWellFormed(init.id)) throw new QmpError(`Invalid job ID '${init.id}'`);
  if (p.job(init.id)) throw new QmpError(`Job ID '${init.id}' already in use`);
  const r = jobCreate({ id: init.id, type: init.type, autoFinalize: init.autoFinalize, autoDismiss: init.autoDismiss, speed: init.speed });
  const job: Job = {
    id: init.id, type: init.type, status: r.snapshot.context.status, autoFinalize: init.autoFinalize, autoDismiss: init.autoDismiss,
    paused: 0, speed: init.speed, cancelled: false, error: null, data: init.data, at: p.nextSeq(),
    // a job lives in the context of the node it was started on (block_job_create)
    ...(init.aio && init.aio !== 'main' ? { aio: init.aio } : {}),
  };
  p.putJob(job);
  run(ctx, job.id, r.effects);
  // block_job_create: block_job_add_bdrv(job, "main node", bs, perm, shared_perm) comes before
  // block_job_set_speed, so a permission conflict the new edge causes (a copy-before-write
  // filter's source child unshares write once it has a parent, cbw_child_perm) is the error even
  // with a negative speed
  if (init.mainNode) addJobEdge(p, job.id, init.mainNode.node, 'main node', init.mainNode.perm, init.mainNode.shared);
  // block_job_create -> block_job_set_speed after job_create: a negative speed fails the new
  // job early (job_early_fail: created -> null, see earlyFailEvents) and the command with it
  if (init.speed < 0) throw new QmpError("Parameter 'speed' expects a non-negative value");
  return p.job(job.id)!;
}

export function patchJobData(p: Proc, id: string, d: Record<string, unknown>): Job {
  const j = p.job(id)!;
  return p.patchJob(id, { data: { ...j.data, ...d } });
}

/** The jobs of a JobTxn, as QEMU lists them (job_txn_add_job inserts at the head: newest first). */
export function txnJobs(p: Proc, txn: string): Job[] {
  return p.jobs().filter((j) => j.data.txn === txn).sort((a, b) => b.at - a.at);
}

/** job_is_completed */
const COMPLETED = new Set(['waiting', 'pending', 'aborting', 'concluded', 'null']);

/**
 * Feeds one event to a job's statechart and executes what it decides. A job in a JobTxn
 * (transaction completion-mode grouped) moves with the others, as job.c does it:
 * job_completed_txn_success (when the last one completes, every job goes pending, and is
 * finalized at once unless one needs a manual finalize), job_do_finalize (finalizing one
 * finalizes all), job_completed_txn_abort (a cancelled or failed job aborts all of them).
 */
export function sendJob(ctx: JobCtx, id: string, e: JobMachineEvent): void {
  const j = ctx.p.job(id);
  if (!j) return;
  const txn = typeof j.data.txn === 'string' ? j.data.txn : undefined;
  if (!txn) return sendOne(ctx, id, e);
  if (e.type === 'CANCEL' || e.type === 'FAIL') {
    if (e.type === 'FAIL') sendOne(ctx, id, e);
    // job_cancel_locked on a job that has not completed: it leaves its run (or was never
    // started) and job_completed_locked -> job_update_rc_locked moves it to aborting before
    // job_completed_txn_abort_locked walks txn->jobs (newest first), finishing and finalizing
    // each in turn (job_finish_sync_locked: the others' aborting; job_finalize_single_locked):
    // its own status change comes first, its finalization at its place in the list
    const hoist = e.type === 'CANCEL' && !COMPLETED.has(j.status);
    const held: [string, Record<string, unknown>][] = [];
    const walk: JobCtx = hoist ? { p: ctx.p, emit: (ev, data) => held.push([ev, data]) } : ctx;
    for (const o of txnJobs(ctx.p, txn)) {
      const cur = ctx.p.job(o.id);
      if (!cur) continue;
      // job_completed_txn_abort_locked -> job_cancel_async_locked(other_job, true) undoes a user
      // pause (user_paused = false, pause_count--; job-verbs.ts cancel does it for the job
      // cancelled), so a later resume is "Can't resume a job that was not paused", and
      // job_finish_sync_locked enters a paused one, which runs again before its abort (fuzz 3179077257)
      if (o.id !== id && cur.paused > 0) {
        ctx.p.patchJob(o.id, { paused: 0 });
        if (cur.status === 'paused' || cur.status === 'standby') sendOne(walk, o.id, { type: 'RESUME' });
      }
      const now = ctx.p.job(o.id)!;
      if (!['aborting', 'concluded', 'null'].includes(now.status)) sendOne(walk, o.id, { type: 'CANCEL' });
    }
    if (hoist) {
      const own = held.findIndex(([ev, data]) => ev === 'JOB_STATUS_CHANGE' && data.id === id && data.status === 'aborting');
      if (own > 0) held.unshift(...held.splice(own, 1));
      for (const [ev, data] of held) ctx.emit(ev, data);
    }
    return;
  }
  if (e.type === 'FINALIZE') {
    for (const o of txnJobs(ctx.p, txn)) if (ctx.p.job(o.id)?.status === 'pending') sendOne(ctx, o.id, { type: 'FINALIZE' });
    return;
  }
  sendOne(ctx, id, e);
  if (e.type === 'DONE') {
    const all = txnJobs(ctx.p, txn);
    if (!all.every((o) => COMPLETED.has(o.status))) return;
    for (const o of all) if (ctx.p.job(o.id)?.status === 'waiting') sendOne(ctx, o.id, { type: 'TXN_PENDING' });
    // "If no jobs need manual finalization, automatically do so"
    if (all.every((o) => o.autoFinalize)) {
      for (const o of txnJobs(ctx.p, txn)) if (ctx.p.job(o.id)?.status === 'pending') sendOne(ctx, o.id, { type: 'FINALIZE' });
    }
  }
}

function sendOne(ctx: JobCtx, id: string, e: JobMachineEvent): void {
  const j = ctx.p.job(id);
  if (!j) return;
  const snap = jobSnapshot({
    id: j.id, type: j.type, autoFinalize: j.autoFinalize, autoDismiss: j.autoDismiss, speed: j.speed, status: j.status, cancelled: j.cancelled,
    failure: j.error, txn: typeof j.data.txn === 'string',
  });
  const r = jobStep(snap, e);
  if (r.error) throw new QmpError(r.error);
  const c = r.snapshot.context;
  ctx.p.patchJob(id, { status: c.status, speed: c.speed, cancelled: c.cancelled, error: c.failure ?? null });
  // a job that reached READY had copied everything (mirror_run's job_progress_update brought
  // offset to len before job_transition_to_ready): its progress stays there whatever follows,
  // a cancel included (job_cancel_locked and job_completed_txn_abort leave job->progress alone;
  // graph/jobs/progress.ts; fuzz --against vm --qemu 10.0 3760444623)
  if (c.status === 'ready' && j.data.copiedAll !== true) patchJobData(ctx.p, id, { copiedAll: true });
  run(ctx, id, r.effects);
}

/** job_apply_verb: throws QEMU's refusal for a verb the job's status does not accept. */
export function applyVerb(ctx: JobCtx, id: string, verb: JobVerb): void {
  sendJob(ctx, id, { type: 'VERB', verb });
}

function run(ctx: JobCtx, id: string, effects: JobEffect[]): void {
  for (const f of effects) {
    if (f.kind === 'emit') {
      // BLOCK_JOB_* come from BlockJob's notifiers: a plain Job (blockdev-create) has none
      if (f.event.startsWith('BLOCK_JOB_') && !isBlockJob(ctx.p.job(id) ?? { type: 'create' })) continue;
      ctx.emit(f.event, f.data);
      continue;
    }
    const j = ctx.p.job(id);
    if (!j) return;
    if (f.op === 'free') {
      freeJob(ctx, j);
      continue;
    }
    if (f.op === 'prepare') {
      const failed = DRIVERS.get(kindOf(j))?.prepare?.(ctx, j);
      if (typeof failed === 'string') {
        // job_do_finalize: a failed prepare aborts the job instead (job_completed_txn_abort);
        // nothing after the prepare in this effect list has happened yet
        ctx.p.patchJob(id, { status: 'pending' });
        sendJob(ctx, id, { type: 'PREPARE_FAILED', error: failed });
        return;
      }
      continue;
    }
    DRIVERS.get(kindOf(j))?.[f.op]?.(ctx, j);
  }
}

/** block_job_free: the job's edges and any BlockBackend it still holds go, then the job. */
function freeJob(ctx: JobCtx, j: Job): void {
  const { p } = ctx;
  DRIVERS.get(kindOf(j))?.free?.(ctx, j);
  removeJobEdges(p, j.id);
  for (const bb of p.bbs()) if (bb.owner.kind === 'job' && bb.owner.id === j.id) removeJobBB(p, bb.id);
  p.delJob(j.id);
}

export function driverOf(j: Job): JobDriverOps | undefined {
  return DRIVERS.get(kindOf(j));
}
