// blockdev-backup (blockdev.c, 7.2): qmp_blockdev_backup runs one transaction action
// (blockdev_do_action); the action's .prepare looks both nodes up, moves the target into the
// source's AioContext, and creates the job (do_backup_common -> backup_job_create); .commit
// starts it (job_start); .abort cancels a job already created (job_cancel_sync).
import { QmpError } from '../errors/index.js';
import { moveToContext, tryMoveToContext } from '../graph/aio.js';
import { dirtyBitmapExists } from '../graph/bitmap-lookup.js';
import { BITMAP_ALLOW_RO, dirtyBitmapCheck, findDirtyBitmap } from '../graph/bitmaps.js';
import { backupFailAfterStart, backupFinishAfterStart, backupRunStart, startBackup } from '../graph/jobs/backup.js';
import { deferStartIfHeld } from '../graph/jobs/held-drain.js';
import { sendJob, type JobCtx } from '../graph/jobs/runner.js';
import { lookupBs } from './job-lookup.js';
import { runTransaction, type ActionCtx, type PreparedAction } from './transaction.js';
import type { CommandDef } from './types.js';

/** blockdev_backup_prepare + do_backup_common: the checks in QEMU's order, then the job. */
export function blockdevBackupPrepare(ctx: ActionCtx, d: Record<string, any>): PreparedAction {
  const { p } = ctx;
  const bs = lookupBs(p, String(d.device), String(d.device));
  const target = lookupBs(p, String(d.target), String(d.target));
  // bdrv_try_change_aio_context(target_bs, aio_context)
  const ctxName = p.node(bs)!.aio;
  const moved = p.node(target)!.aio !== ctxName;
  moveToContext(p, target, ctxName);
  if (moved) {
    // blockdev_backup_abort cancels a created job and nothing else: a refusal before anything
    // attached the target leaves it in the source's AioContext (once attached, its detach,
    // bdrv_detach_child, moves a parentless node back to the main context itself)
    const parentsBefore = p.parents(target).length;
    let attached = false;
    ctx.onAbortResidue((q) => { if (!attached && q.node(target)) tryMoveToContext(q, target, ctxName); });
    // A failed attach is undone by bdrv_attach_child_common_abort, which puts the child back in
    // the context it had (the source's, after the move above) and does not detach it through
    // bdrv_detach_child: the filter's open failing ("Could not create node", e.g. the target's
    // read-only check) keeps the move (recorded: abort-10-backup-fails-target-left-in-iothread).
    // The model's draft still holds that half-made edge here, so the open's failure is told apart
    // by bdrv_insert_node's prefix, not by the edges.
    const seen = (e: unknown) => {
      if (e instanceof Error && e.message.startsWith('Could not create node: ')) return;
      attached ||= p.parents(target).length > parentsBefore;
    };
    try {
      const prepared = prepareAfterMove(ctx, d, bs, target);
      attached = true; // the job's filter holds the target: a later action's failure cancels it
      return prepared;
    } catch (e) {
      seen(e);
      throw e;
    }
  }
  return prepareAfterMove(ctx, d, bs, target);
}

export function prepareAfterMove(ctx: ActionCtx, d: Record<string, any>, bs: string, target: string): PreparedAction {
  const { p } = ctx;

  let sync = String(d.sync);
  const hasBitmap = d.bitmap !== undefined;
  let bitmapMode = d['bitmap-mode'] as string | undefined;
  if ((sync === 'bitmap' || sync === 'incremental') && !hasBitmap) {
    // done before desugaring 'incremental' to print the right message
    throw new QmpError(`must provide a valid bitmap name for '${sync}' sync mode`);
  }
  if (sync === 'incremental') {
    if (bitmapMode !== undefined && bitmapMode !== 'on-success') {
      throw new QmpError(`Bitmap sync mode must be 'on-success' when using sync mode 'incremental'`);
    }
    sync = 'bitmap';
    bitmapMode = 'on-success';
  }
  if (hasBitmap) {
    const name = String(d.bitmap);
    if (!dirtyBitmapExists(p, bs, name)) throw new QmpError(`Bitmap '${name}' could not be found`);
    if (bitmapMode === undefined) throw new QmpError('Bitmap sync mode must be given when providing a bitmap');
    dirtyBitmapCheck(findDirtyBitmap(p, bs, name)!, BITMAP_ALLOW_RO);
    if (sync === 'none') throw new QmpError(`sync mode '${sync}' does not produce meaningful bitmap outputs`);
    if (bitmapMode === 'never' && sync !== 'bitmap') {
      throw new QmpError(`Bitmap sync mode '${bitmapMode}' has no meaningful effect when combined with sync mode '${sync}'`);
    }
  }
  if (!hasBitmap && bitmapMode !== undefined) throw new QmpError('Cannot specify bitmap sync mode without a bitmap');

  const perf = (d['x-perf'] ?? {}) as { 'max-workers'?: number; 'max-chunk'?: number; 'min-cluster-size'?: number | bigint };
  const jctx: JobCtx = { p, emit: ctx.emit };
  const job = startBackup(jctx, {
    jobId: (d['job-id'] as string | undefined) ?? '', bs, target, speed: Number(d.speed ?? 0), sync,
    bitmap: hasBitmap ? String(d.bitmap) : null, bitmapMode: bitmapMode ?? null, compress: Boolean(d.compress ?? false),
    filterNodeName: d['filter-node-name'] as string | undefined,
    maxWorkers: Number(perf['max-workers'] ?? 64), maxChunk: Number(perf['max-chunk'] ?? 0),
    // 10.0's members (absent on 7.2: the schema refuses them there, graph/rules.ts qapi-schema)
    ...(d['discard-source'] === true ? { discardSource: true } : {}),
    // BackupPerf's min-cluster-size is a uint64 (a negative number is its two's complement)
    ...(perf['min-cluster-size'] !== undefined ? { minClusterSize: BigInt.asUintN(64, BigInt(perf['min-cluster-size'])) } : {}),
    autoFinalize: d['auto-finalize'] ?? true, autoDismiss: d['auto-dismiss'] ?? true, ...(ctx.txn ? { txn: ctx.txn } : {}),
    onAbortResidue: ctx.onAbortResidue,
  });
  let finishes = false;
  return {
    job: job.id,
    // blockdev_backup_commit: job_start
    commit() {
      sendJob(jctx, job.id, { type: 'START' });
      const errors = { onSourceError: d['on-source-error'], onTargetError: d['on-target-error'] };
      // under a held drained section (graph/jobs/held-drain.ts) backup_run waits at job_co_entry's pause point
      if (!deferStartIfHeld(p, job.id, 'backup', errors)) finishes = backupRunStart(jctx, job.id, errors);
    },
    // a rate-limited job with nothing left to copy ends after the reply (graph/jobs/backup.ts backupFinishAfterStart)
    after() {
      if (finishes) backupFinishAfterStart(jctx, job.id);
      // a first read that failed ends the job now (graph/jobs/backup.ts backupFailAfterStart)
      backupFailAfterStart(jctx, job.id);
    },
  };
}

/** qmp_blockdev_backup: blockdev_do_action with one blockdev-backup action. */
export const blockdevBackup: CommandDef = {
  name: 'blockdev-backup',
  mutates: true,
  run({ p, args, emit }) {
    runTransaction(p, [{ type: 'blockdev-backup', data: args }], 'individual', emit);
    return {};
  },
};
