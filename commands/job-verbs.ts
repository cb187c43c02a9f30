// The job verbs: job-* (by job id, "Job not found") and block-job-* (by device = job id,
// DeviceNotActive "Block job '%s' not found"). Each first asks the job statechart whether the
// job's status accepts the verb (job_apply_verb), then sends it the verb's event.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import type { Job } from '../graph/types.js';
import { verbAllowed, verbError, type JobVerb } from '../machines/job.js';
import { applyVerb, driverOf, patchJobData, sendJob, type JobCtx } from '../graph/jobs/runner.js';
import { findBlockJob, findJob } from './job-lookup.js';
import { rateSetSpeed, wakeJob } from '../graph/jobs/rate.js';
import { heldDrainPaused, heldStatus } from '../graph/jobs/held-drain.js';
import type { CommandDef } from './types.js';
import { refuseMovedBackupClean } from '../graph/moved-backup-clean-hang.js';

type Finder = (p: Proc, id: string) => Job;

function pause(ctx: JobCtx, j: Job): void {
  applyVerb(ctx, j.id, 'pause');
  if (j.paused > 0) throw new QmpError('Job is already paused');
  ctx.p.patchJob(j.id, { paused: 1 });
  // job_user_pause -> job_pause_locked: pause_count++, and job_enter only when !job->paused. A
  // job a held drained section pauses (graph/jobs/held-drain.ts) already sits at its pause point
  // in PAUSED/STANDBY (the drain's JOB_STATUS_CHANGE, which the normalizer drops): no transition,
  // no event (10.0's leaked reopen drain, iotests/161-stream-reopen-node-and-backing)
  if ((j.status === 'running' || j.status === 'ready') && !heldDrainPaused(ctx.p, j.id)) sendJob(ctx, j.id, { type: 'PAUSE' });
}

function resume(ctx: JobCtx, j: Job): void {
  if (j.paused <= 0) throw new QmpError("Can't resume a job that was not paused");
  applyVerb(ctx, j.id, 'resume');
  ctx.p.patchJob(j.id, { paused: 0 });
  // job_user_resume -> job_resume_locked: `if (job->pause_count) return`: a job a held or leaked
  // drained section still pauses is not entered and stays paused, no event (10.0: a reopen that
  // queued a node twice never ends its section)
  if ((j.status === 'paused' || j.status === 'standby') && !heldDrainPaused(ctx.p, j.id)) sendJob(ctx, j.id, { type: 'RESUME' });
  // job_resume_locked -> job_enter_cond: a speed-limited job runs its next iteration
  wakeJob(ctx, j.id);
}

/** job_user_cancel: force for job-cancel; block-job-cancel without force only completes a ready mirror without pivot. */
export function cancel(ctx: JobCtx, j: Job, force: boolean): void {
  applyVerb(ctx, j.id, 'cancel');
  // a pending backup's cancel drops its filter at once (graph/moved-backup-clean-hang.ts)
  refuseMovedBackupClean(ctx.p, j);
  if (j.status === 'concluded') {
    sendJob(ctx, j.id, { type: 'DISMISS' });
    return;
  }
  if (!force && (j.status === 'ready' || j.status === 'standby') && j.data.kind === 'mirror') {
    patchJobData(ctx.p, j.id, { shouldComplete: false });
    if (j.status === 'standby') {
      ctx.p.patchJob(j.id, { paused: 0 });
      sendJob(ctx, j.id, { type: 'RESUME' });
    }
    sendJob(ctx, j.id, { type: 'DONE' });
    return;
  }
  if (j.status === 'paused' || j.status === 'standby') {
    // job_cancel_async undoes a user pause so that the job can run to its end
    ctx.p.patchJob(j.id, { paused: 0 });
    sendJob(ctx, j.id, { type: 'RESUME' });
  }
  sendJob(ctx, j.id, { type: 'CANCEL' });
}

function complete(ctx: JobCtx, j: Job): void {
  applyVerb(ctx, j.id, 'complete');
  const drv = driverOf(j);
  if (j.cancelled || !drv?.complete) throw new QmpError(`The active block job '${j.id}' cannot be completed`);
  drv.complete(ctx, j);
  // mirror_complete: "If the job is paused, it will be re-entered when it is resumed" (a standby
  // job, user-paused or paused by a held drained section: graph/jobs/rate.ts wakeJob finishes it)
  if (ctx.p.job(j.id)!.paused === 0 && !heldDrainPaused(ctx.p, j.id)) sendJob(ctx, j.id, { type: 'DONE' });
}

/** The verb this command applies (job_apply_verb_locked, checked first). */
const VERB_OF: Record<string, JobVerb> = {
  'job-pause': 'pause', 'job-resume': 'resume', 'job-cancel': 'cancel', 'job-complete': 'complete', 'job-finalize': 'finalize', 'job-dismiss': 'dismiss',
  'block-job-pause': 'pause', 'block-job-resume': 'resume', 'block-job-cancel': 'cancel', 'block-job-complete': 'complete',
  'block-job-finalize': 'finalize', 'block-job-dismiss': 'dismiss', 'block-job-set-speed': 'set-speed',
  'block-job-change': 'change',
};

function verbCommand(name: string, finder: Finder, key: 'id' | 'device', fn: (ctx: JobCtx, j: Job, args: Record<string, any>) => void): CommandDef {
  return {
    name,
    mutates: true,
    run({ p, args, emit }) {
      const j = finder(p, String(args[key]));
      const held = heldStatus(p, j);
      const verb = VERB_OF[name];
      if (held && verb && !verbAllowed(held, verb)) throw new QmpError(verbError(j.id, held, verb));
      fn({ p, emit }, j, args);
      return {};
    },
  };
}

/** job_finalize / job_dismiss: the verb check, then the event. */
function verbThen(verb: 'finalize' | 'dismiss', type: 'FINALIZE' | 'DISMISS') {
  return (c: JobCtx, j: Job) => {
    applyVerb(c, j.id, verb);
    if (verb === 'finalize') refuseMovedBackupClean(c.p, j);
    sendJob(c, j.id, { type });
  };
}

function setSpeed(ctx: JobCtx, j: Job, speed: number): void {
  applyVerb(ctx, j.id, 'set-speed');
  // block_job_set_speed_locked: the verb first, then QERR_INVALID_PARAMETER_VALUE
  if (speed < 0) throw new QmpError("Parameter 'speed' expects a non-negative value");
  sendJob(ctx, j.id, { type: 'SET_SPEED', speed });
  rateSetSpeed(ctx, j.id, j.speed, speed);
}

/**
 * 10.0's qmp_block_job_change (blockdev.c; QAPI since 8.2, absent from 7.2's schema: rule
 * 'qapi-schema'): find_block_job_locked, then block_job_change_locked: the verb
 * (job_apply_verb_locked JOB_VERB_CHANGE), then the driver's .change, which only
 * mirror_job_driver has (an active commit runs commit_active_job_driver: "Job type does not
 * support change"). mirror_change: the same mode is a no-op; only a switch to write-blocking is
 * implemented (qatomic_cmpxchg from background). The options of another job type leave
 * opts->u.mirror zeroed (QAPI's g_new0): copy mode 0, background.
 */
function change(ctx: JobCtx, j: Job, args: Record<string, any>): void {
  applyVerb(ctx, j.id, 'change');
  if (j.type !== 'mirror') throw new QmpError('Job type does not support change');
  const want = args.type === 'mirror' && args['copy-mode'] === 'write-blocking' ? 'write-blocking' : 'background';
  const current = j.data.writeBlocking === true ? 'write-blocking' : 'background';
  if (want === current) return;
  if (want !== 'write-blocking') throw new QmpError(`Change to copy mode '${want}' is not implemented`);
  patchJobData(ctx.p, j.id, { writeBlocking: true });
}

export const jobVerbCommands: CommandDef[] = [
  verbCommand('block-job-change', findBlockJob, 'id', change),
  verbCommand('job-pause', findJob, 'id', pause),
  verbCommand('job-resume', findJob, 'id', resume),
  verbCommand('job-cancel', findJob, 'id', (c, j) => cancel(c, j, true)),
  verbCommand('job-complete', findJob, 'id', complete),
  verbCommand('job-finalize', findJob, 'id', verbThen('finalize', 'FINALIZE')),
  verbCommand('job-dismiss', findJob, 'id', verbThen('dismiss', 'DISMISS')),
  verbCommand('block-job-pause', findBlockJob, 'device', pause),
  verbCommand('block-job-resume', findBlockJob, 'device', resume),
  verbCommand('block-job-cancel', findBlockJob, 'device', (c, j, a) => {
    // qmp_block_job_cancel: a user-paused job is only cancelled by force (before the verb check)
    if (j.paused > 0 && !a.force) throw new QmpError(`The block job for device '${j.id}' is currently paused`);
    cancel(c, j, Boolean(a.force));
  }),
  verbCommand('block-job-complete', findBlockJob, 'device', complete),
  verbCommand('block-job-finalize', findBlockJob, 'id', verbThen('finalize', 'FINALIZE')),
  verbCommand('block-job-dismiss', findBlockJob, 'id', verbThen('dismiss', 'DISMISS')),
  verbCommand('block-job-set-speed', findBlockJob, 'device', (c, j, a) => setSpeed(c, j, Number(a.speed))),
  verbCommand('block-job-change', findBlockJob, 'id', change),
];
