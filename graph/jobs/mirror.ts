// blockdev-mirror and active commit (block/mirror.c, 7.2): a mirror_top filter is appended
// above the source; the job holds it ("main node"), the source and the target; a BlockBackend
// writes to the target. Active commit (target in the source's backing chain) also holds the
// intermediate nodes and freezes mirror_top -> … -> base. mirror_exit_common undoes it all and,
// when completed, replaces the node to replace by the target.
import { defaultBitmapGranularity } from '../bitmaps.js';
import { addAnonBitmap, jobKey, releaseAnonBitmap } from '../anon-bitmaps.js';
import { QmpError } from '../../errors/index.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z } from '../perm.js';
import type { Job } from '../types.js';
import { appendNode, replaceNode } from '../replace.js';
import { recurseCanReplace } from './can-replace.js';
import { tryRefresh } from '../ops.js';
import { saveDebugStates } from '../blkdebug-state.js';
import { QmpErrorAfterAbort } from '../abort-residue.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { coTruncate, keepPreallocTruncateFailures, truncateErrno } from '../truncate.js';
import { backingChainNext, chainContains, cowBs, filterOrCowBs, findOverlay, skipFilters } from './chain.js';
import { DEFAULT_MIRROR_BUF_SIZE, canWriteZeroesWithUnmap, mirrorDirtyInit } from './mirror-dirty.js';
import { zeroGuestData } from './guest-write.js';
import { errorAction, onErrorOf, startRate } from './rate.js';
import { snapshotAccessReadable } from './snapshot-io.js';
import { ENOSPC, mirrorWriteErrno } from './target-write.js';
import { freezeChain, unfreezeChain } from './freeze.js';
import { setBackingHd } from './backing.js';
import { rule } from '../rules.js';
import type { Proc } from '../proc.js';
import { addJobBB, addJobEdge, newJobFilter, removeJobBB, removeJobEdges, setReadOnly } from './parts.js';
import { noteJobAttach } from './attach-residue.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { getLength } from '../length.js';
import { openBackingFile } from '../open.js';
import { drainedJobs, underHeldSection } from '../drain.js';
import { deferStartIfHeld, endHeldDrain, registerDeferredStart } from './held-drain.js';
import { withBaseReadWrite } from './base-restore.js';
import { refuseReplaceCloseHang, replaceContext } from './mirror-replace-close-hang.js';

export interface MirrorData {
  kind: 'mirror';
  mirrorTop: string;
  source: string;
  target: string;
  targetBB: string | null;
  replaces: string | null;
  toReplace: string | null;
  shouldComplete: boolean;
  isCommit: boolean;
  baseReadOnly: boolean;
  prepared: boolean;
  unblock: Record<string, string[]>;
  /** MirrorBlockJob.copy_mode is write-blocking (block-job-change may switch a background job to it) */
  writeBlocking?: boolean;
}

export interface MirrorStart {
  jobId: string; bs: string; target: string; replaces: string | null;
  speed: number; autoFinalize: boolean; autoDismiss: boolean; filterNodeName?: string;
  /** commit_active_start: job type commit */
  activeCommit: boolean;
  /** MirrorSyncMode; 'none' copies nothing (is_none_mode) */
  sync?: string;
  /** drive-mirror's BlockMirrorBackingMode: 'source' (MIRROR_SOURCE_BACKING_CHAIN) gives the target the source's backing at completion */
  backingMode?: 'source' | 'open';
  /** the job's dirty bitmap granularity (0 or absent: bdrv_get_default_bitmap_granularity(target)) */
  granularity?: number;
  /** copy-mode write-blocking: the job's bitmap starts disabled */
  writeBlocking?: boolean;
  /** zero_target (blockdev-mirror: sync full; drive-mirror: sync full onto an existing image) */
  zeroTarget?: boolean;
  /** buf-size (0 or absent: DEFAULT_MIRROR_BUF_SIZE) */
  bufSize?: number;
  /** s->unmap: zero writes with BDRV_REQ_MAY_UNMAP (drive-mirror's unmap; blockdev-mirror and active commit: true; absent: true) */
  unmap?: boolean;
  /** BlockdevOnError for reads of the source (blockdev-mirror's on-source-error; default report) */
  onSourceError?: string;
  /** BlockdevOnError for writes to the target (on-target-error; default report; active commit: its on-error, as on-source-error) */
  onTargetError?: string;
}

/** mirror_start_job (and commit_active_start's read-write round trip of the base, graph/jobs/base-restore.ts) */
export function startMirror(ctx: JobCtx, o: MirrorStart): Job {
  if (!o.activeCommit) return mirrorStartJob(ctx, o, false);
  return withBaseReadWrite(ctx.p, o.target, (baseReadOnly) => mirrorStartJob(ctx, o, baseReadOnly));
}

/** mirror_start_job */
function mirrorStartJob(ctx: JobCtx, o: MirrorStart, baseReadOnly: boolean): Job {
  const { p } = ctx;
  if (skipFilters(p, o.bs) === skipFilters(p, o.target)) throw new QmpError("Can't mirror node into itself");
  const targetIsBacking = chainContains(p, o.bs, o.target);

  p.step('append-mirror-top');
  const mt = newJobFilter(p, 'mirror_top', o.filterNodeName, { ro: false, size: p.node(o.bs)!.size, extra: { isCommit: targetIsBacking, stop: false } });
  appendNode(p, mt.name, o.bs);
  // mirror_start_job's fail path: bdrv_unref(mirror_top_bs) detaches bs (bdrv_root_unref_child:
  // back to the main loop if it can go); the append's move into mirror_top's main context stays
  noteJobAttach(p, o.bs);
  try {
    return startAppended(ctx, o, mt.name, baseReadOnly, targetIsBacking);
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QmpErrorAfterAbort || e instanceof QemuAbortRefusal) throw e;
    // mirror_start_job's fail path: bdrv_append(mirror_top_bs, bs) has already refreshed the
    // permissions of bs's whole subtree (bdrv_refresh_perms over bdrv_topological_dfs) and that
    // transaction is committed; bdrv_replace_node(mirror_top_bs, bs) then refreshes bs's subtree
    // again on the way out. Edges whose perms were stale (computed before a bdrv_replace_node moved
    // them onto a node without force-share, say) come out recomputed. The model rolls the command
    // back and keeps that refresh as the residue (fuzz seed 3847272069).
    throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { if (q.node(o.bs)) tryRefresh(q, [o.bs]); });
  }
}

/** mirror_start_job after bdrv_append(mirror_top_bs, bs): the job, the target's BlockBackend, the job's nodes */
function startAppended(ctx: JobCtx, o: MirrorStart, mtName: string, baseReadOnly: boolean, targetIsBacking: boolean): Job {
  const { p } = ctx;
  const mt = { name: mtName };

  p.step('job-create');
  const job = createJob(ctx, {
    id: o.jobId, type: o.activeCommit ? 'commit' : 'mirror', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed,
    aio: p.node(o.bs)!.aio,
    data: {
      kind: 'mirror', mirrorTop: mt.name, source: o.bs, target: o.target, targetBB: null, replaces: o.replaces, toReplace: null,
      shouldComplete: false, isCommit: targetIsBacking, baseReadOnly, prepared: false, unblock: { [mt.name]: ['dataplane'] },
      ...(o.writeBlocking ? { writeBlocking: true } : {}),
      // mirror_exit_common's backing for MIRROR_SOURCE_BACKING_CHAIN: the source itself for sync none, else the base (none for full)
      // MIRROR_OPEN_BACKING_CHAIN: the target's own header backing, opened at completion
      ...(o.backingMode === 'open' ? { openBackingChain: true } : {}),
      ...(o.backingMode === 'source' ? { newBacking: o.sync === 'none' ? o.bs : o.sync === 'top' ? skipFilters(p, cowBs(p, skipFilters(p, o.bs))) : null } : {}),
    } satisfies MirrorData as unknown as Record<string, unknown>,
    mainNode: { node: mt.name, perm: PERM_R, shared: PERM_R | PERM_U | PERM_W },
  });

  let targetPerms = PERM_W;
  let targetShared = PERM_U;
  if (targetIsBacking) {
    if (getLength(p, o.target) < getLength(p, o.bs)) targetPerms |= PERM_Z;
    targetShared |= PERM_R | PERM_W;
  } else if (chainContains(p, o.bs, skipFilters(p, o.target))) {
    throw new QmpError("Cannot mirror to a filter on top of a node in the source's backing chain");
  }
  // blk_insert_bs runs before blk_set_allow_aio_context_change(s->target, true) (mirror_start_job):
  // a target that cannot move into the job's context fails the attach ("Cannot change iothread of
  // active block backend"), the BlockBackend does not follow it; the permission update comes after
  const targetBB = addJobBB(p, job.id, 'mirror-target', o.target, targetPerms, targetShared, false);
  // mirror_start_job: an is_mirror job's target BlockBackend may go inactive though it holds write
  // (blk_set_force_allow_inactivate: the NBD target of a non-shared migration); an active commit's not
  p.putBB({ ...p.bb(targetBB)!, allowAioChange: true, ...(o.activeCommit ? {} : { forceAllowInactivate: true }) });
  patchJobData(p, job.id, { targetBB });
  // mirror_start_job: the job's anonymous dirty bitmap (released in mirror_exit_common); which node holds it is versioned
  const bm = rule(p, 'mirror-dirty-bitmap')({ writeBlocking: o.writeBlocking === true });
  addAnonBitmap(p, bm.on === 'source' ? o.bs : mt.name, jobKey(job.id), o.granularity || defaultBitmapGranularity(p, o.target), bm.disabled);
  addJobEdge(p, job.id, o.bs, 'source', 0, PERM_U | PERM_W | PERM_R);
  addJobEdge(p, job.id, o.target, 'target', 0, PERM_ALL);
  if (targetIsBacking) {
    const filteredTarget = cowBs(p, findOverlay(p, o.bs, o.target));
    let shared = PERM_U | PERM_W;
    for (let it = filterOrCowBs(p, o.bs); it && it !== o.target; it = filterOrCowBs(p, it)) {
      if (it === filteredTarget) shared |= PERM_R;
      addJobEdge(p, job.id, it, 'intermediate node', 0, shared);
    }
    freezeChain(p, mt.name, o.target);
  }
  sendJob(ctx, job.id, { type: 'START' });
  // job_start -> job_co_entry: under a held drained section (a completed mirror's source below,
  // graph/jobs/held-drain.ts) the job stops at its first pause point, before mirror_run
  if (!deferStartIfHeld(p, job.id, 'mirror', { o, targetIsBacking })) mirrorRunStart(ctx, job.id, o, targetIsBacking);
  return p.job(job.id)!;
}

const MAX_IO_BYTES = 1 << 20; // block/mirror.c
const BLOCK_JOB_SLICE_TIME_NS = 100_000_000;

/**
 * Whether the first mirror_iteration of a sync-full job (every chunk dirty) returns a rate-limit
 * delay when its reads fail at once. The run is the dirty chunks from offset 0 up to buf_size;
 * block status fails too, so each request is min(run left, MAX_IO_BYTES)
 * (max_io_bytes = MAX(buf_size / MAX_IN_FLIGHT, MAX_IO_BYTES)), clipped to the length.
 * ratelimit_calculate_delay: the dispatched bytes reach slice_quota = MAX(speed * SLICE / 1s, 1)
 * -> a delay. 7.2: a second request of the run sees s->ret first and returns 0.
 */
function firstRunSleeps(p: Proc, o: MirrorStart, srcLen: number): boolean {
  if (!(o.speed > 0)) return false;
  const gran = o.granularity || defaultBitmapGranularity(p, o.target);
  const run = Math.min(Math.ceil(srcLen / gran) * gran, DEFAULT_MIRROR_BUF_SIZE, srcLen);
  if (run > MAX_IO_BYTES && !rule(p, 'mirror-copy-error-waits-for-rate-limit')) return false;
  const quota = Math.max((o.speed * BLOCK_JOB_SLICE_TIME_NS) / 1e9, 1);
  const dispatched = rule(p, 'mirror-copy-error-waits-for-rate-limit') ? run : Math.min(run, MAX_IO_BYTES);
  return dispatched >= quota;
}

/**
 * The first stretch of mirror_run, which job_start runs before the QMP reply: a target of
 * another size fails the job (a base is grown instead by an active commit); with nothing
 * to copy (an empty source, sync 'none', or a clean dirty bitmap) the job is ready at once;
 * else the copy loop starts (graph/jobs/rate.ts: a speed-limited job issues its first run of
 * dirty chunks and sleeps; one without a limit is moved on by `wait` steps).
 */
function mirrorRunStart(ctx: JobCtx, id: string, o: MirrorStart, targetIsBacking: boolean): void {
  const { p } = ctx;
  // s->bdev_length = bdrv_getlength(bs); target_length = blk_getlength(s->target)
  const srcLen = getLength(p, o.bs);
  // mirror_start_job's s->base: the commit's base, for sync top bdrv_backing_chain_next(bs), else
  // NULL. mirror_run grows the target only when s->base == blk_bs(s->target); any other target,
  // one in the source's backing chain too (sync full onto a backing node), must have the source's
  // length (fuzz 3064010858)
  const base = o.activeCommit ? o.target : o.sync === 'top' ? backingChainNext(p, o.bs) : null;
  const baseIsTarget = targetIsBacking && base === o.target;
  if (!baseIsTarget && srcLen !== getLength(p, o.target)) {
    sendJob(ctx, id, { type: 'FAIL', error: 'Source and target image have different sizes' });
    return;
  }
  if (baseIsTarget && srcLen > getLength(p, o.target)) {
    // mirror_run: an active commit grows a shorter base (blk_truncate on the target); when
    // bdrv_co_truncate refuses, the job fails at once with the errno (ENOTSUP, EACCES, EINVAL)
    try {
      p.d.atomically(() => coTruncate(p, o.target, srcLen));
    } catch (e) {
      if (!(e instanceof QmpError)) throw e;
      keepPreallocTruncateFailures(p, e);
      sendJob(ctx, id, { type: 'FAIL', error: truncateErrno(e) });
      return;
    }
  }
  // if (s->bdev_length == 0): ready at once; is_none_mode: no mirror_dirty_init, a clean bitmap
  if (srcLen === 0 || o.sync === 'none') {
    sendJob(ctx, id, { type: 'READY' });
    return;
  }
  // mirror_dirty_init (not is_none_mode): bdrv_is_allocated_above(bs, ...) asks the source's
  // block status, which a snapshot-access node forwards to bdrv_co_snapshot_block_status of its
  // file: -ENOTSUP unless that is a copy-before-write filter, and the job fails at once. With
  // sync full and zero_target (blockdev-mirror: existing target) on a target that cannot write
  // zeroes with unmap, the whole bitmap is dirtied instead and the first copy's read fails the
  // same way (bdrv_co_preadv_snapshot -> -ENOTSUP, BLOCK_JOB_ERROR read): with on-source-error
  // report (or enospc, ENOTSUP not being ENOSPC) the job fails; stop/ignore keep it alive.
  // (10.0: a speed-limited job only sees the failed read after its rate-limit sleep, graph/rules.ts)
  // A speed-limited job sleeps before it looks at s->ret when its first mirror_iteration returns
  // a delay (graph/rules.ts 'mirror-copy-error-waits-for-rate-limit').
  // mirror_dirty_init only skips block status for zero_target on a target that cannot write
  // zeroes with unmap; one that can (discard=unmap, given or inherited as a format's child:
  // bdrv_inherited_options) is zeroed first, then bdrv_is_allocated_above fails the same way
  // (fuzz seed 4167093541: a file child of a raw node as the target)
  const writeZeroesOk = canWriteZeroesWithUnmap(p, o.target);
  const asksBlockStatus = o.sync !== 'full' || !o.zeroTarget || writeZeroesOk;
  const readFails = asksBlockStatus
    || (!['stop', 'ignore'].includes(o.onSourceError ?? 'report') && !firstRunSleeps(p, o, srcLen));
  if (readFails && !snapshotAccessReadable(p, o.bs)) {
    sendJob(ctx, id, { type: 'FAIL', error: 'Operation not supported' });
    return;
  }
  // mirror_start_job: s->base_overlay = bdrv_find_overlay(bs, base), where base is the commit's
  // base, for sync top bdrv_backing_chain_next(bs), else NULL (the overlay is the chain's bottom)
  const baseOverlay = findOverlay(p, o.bs, base);
  const granularity = o.granularity || defaultBitmapGranularity(p, o.target);
  // mirror_dirty_init: with zero_target onto a target that can write zeroes with unmap, the
  // whole target is zeroed first (mirror_perform MIRROR_METHOD_ZERO over [0, bdev_length):
  // a qcow2 target releases its clusters, graph/jobs/guest-write.ts zeroGuestData)
  if (o.zeroTarget && writeZeroesOk) zeroGuestData(p, o.target, 0, srcLen, o.unmap !== false);
  const dirty = mirrorDirtyInit(p, { source: o.bs, baseOverlay, len: srcLen, granularity, zeroTarget: o.zeroTarget === true, writeZeroesOk });
  const bufSize = Math.ceil((o.bufSize || DEFAULT_MIRROR_BUF_SIZE) / granularity) * granularity;
  // a job without a speed issues its runs until a request is in flight and waits for it: a
  // write that fails at once (-ENOTSUP, -EIO: target-write.ts) comes back and mirror_run exits
  // (live, just after the reply) when mirror_error_action reports it. An ENOSPC of a raw `size`
  // window under a qcow2 target comes after the source's read has yielded: the loop meets it
  // when the job next runs (graph/jobs/rate.ts runMirrorLoop, with on-target-error)
  const reportsTargetError = !['stop', 'ignore'].includes(o.onTargetError ?? 'report');
  const firstRun = dirty[0];
  if (reportsTargetError && !(o.speed > 0) && firstRun) {
    // a look ahead at the loop's first write: unless it fails the job here, the loop issues it
    // (rate.ts runMirrorLoop), so it leaves blkdebug's rules as they were (a `once` rule of
    // errno 28 under on-target-error enospc stops the job there: iotests 041-l-enospc-target)
    const restoreDebug = saveDebugStates(p);
    const err = mirrorWriteErrno(p, o.bs, o.target, firstRun[0], Math.min(firstRun[1], srcLen) - firstRun[0]);
    if (err === undefined || err === ENOSPC) restoreDebug();
    if (err !== undefined && err !== ENOSPC) {
      // mirror_write_complete -> mirror_error_action -> block_job_error_action: BLOCK_JOB_ERROR
      // (write, report) before mirror_run sees s->ret
      errorAction(ctx, id, o.onTargetError, err, false);
      sendJob(ctx, id, { type: 'FAIL', error: err });
      return;
    }
  }
  // a job kept alive above (its first run sleeps) still has its reads fail: mirror_read_complete
  // sets s->ret, which the loop sees when it wakes (graph/jobs/rate.ts runMirrorLoop, its reads
  // through job-read.ts; fuzz seed 3153327464); on-source-error is mirror_error_action's for reads
  startRate(ctx, id, {
    kind: 'mirror', len: srcLen, top: o.bs, baseOverlay: baseOverlay ?? '', dest: o.target,
    mirror: { dirty, granularity, bufSize, iter: 0, writeZeroesOk },
    ...(o.unmap === false ? { unmap: false as const } : {}),
    ...(o.onTargetError !== undefined && o.onTargetError !== 'report' ? { onTargetError: o.onTargetError } : {}),
    ...onErrorOf(o.onSourceError),
  });
  // mirror_run: job_progress_set_remaining(cnt) once mirror_dirty_init has filled the bitmap
  // (what info block-jobs' "Completed … of LEN bytes" reads; every dirty byte is copied by READY)
  if (p.job(id)) patchJobData(p, id, { progressLen: dirty.reduce((n, [s, e]) => n + Math.max(0, Math.min(e, srcLen) - s), 0) });
  // without a limit the loop is not modelled in time, but a clean bitmap is ready at its first pass
  const j = p.job(id);
  if (j && j.status === 'running' && j.speed === 0 && dirty.length === 0) sendJob(ctx, id, { type: 'READY' });
}

registerDeferredStart('mirror', (ctx, id, s) => {
  const { o, targetIsBacking } = s as unknown as { o: MirrorStart; targetIsBacking: boolean };
  mirrorRunStart(ctx, id, o, targetIsBacking);
});

/**
 * mirror_exit_common removes the filter with bdrv_replace_node(mirror_top_bs,
 * mirror_top_bs->backing->bs, &error_abort): its parents (a guest device's BlockBackend) land on
 * the node below. While the job ran, mirror_top stood between them and that node, and once
 * stopped it takes nothing and shares everything (mirror_top_child_perms), so a writer that came
 * meanwhile (a copy-before-write `target` on the source, or one the replacement by the target
 * carried over) met no conflict; now the device's perms (no write shared without share-rw) meet
 * it there, and the error is fatal: QEMU dies (`Unexpected error in bdrv_a_allow_b()`, found by
 * fuzz --against vm 2789084143, on job-finalize after a completion and on job-cancel alike).
 * The model refuses the command that would run it.
 */
function refuseFilterRemovalConflict(p: Proc, mt: string, child: string, replace: () => void): void {
  try {
    replace();
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    throw new QemuAbortRefusal(
      `Removing job filter '${mt}' puts its parents on '${child}': ${e.desc} ` +
      "(QEMU aborts here: mirror_exit_common's bdrv_replace_node(mirror_top_bs, …, &error_abort): Unexpected error in bdrv_a_allow_b()); " +
      'refused by blockgraph: remove the other writer (or give the device share-rw=on) first',
      'mirror_exit_common',
    );
  }
}

/** mirror_exit_common; its bdrv_drained_end(src) ends the section mirror_run began (held-drain.ts) */
function exitCommon(ctx: JobCtx, j: Job, abort: boolean): string | undefined {
  const { p } = ctx;
  const d = p.job(j.id)!.data as unknown as MirrorData;
  if (d.prepared) return undefined;
  const drainedBySource = p.node(d.source) ? drainedJobs(p, [d.source], false).filter((x) => x !== j.id) : [];
  // all of mirror_exit_common runs inside the section mirror_run began (bdrv_drained_end(src) is
  // its last step): the sections it opens and ends (blk_unref(s->target)'s drains, the
  // replacements) do not enter the jobs that section pauses
  const failed = underHeldSection(p, drainedBySource, () => exitCommonInner(ctx, j, abort));
  endHeldDrain(ctx, drainedBySource, rule(p, 'wake-ends-rate-limit-sleep'));
  return failed;
}

function exitCommonInner(ctx: JobCtx, j: Job, abort: boolean): string | undefined {
  const { p } = ctx;
  const d = p.job(j.id)!.data as unknown as MirrorData;
  let failed: string | undefined;
  patchJobData(p, j.id, { prepared: true });
  const mt = d.mirrorTop;
  const src = p.backing(mt)?.child ?? d.source;
  const target = d.target;
  if (p.node(target) && chainContains(p, src, target)) unfreezeChain(p, mt, target);
  releaseAnonBitmap(p, d.source, jobKey(j.id));
  releaseAnonBitmap(p, mt, jobKey(j.id));
  removeJobBB(p, d.targetBB);
  patchJobData(p, j.id, { targetBB: null });
  // bs_opaque->stop: the filter no longer forwards anything
  const mtn = p.node(mt)!;
  p.patchNode(mt, { extra: { ...(mtn.extra ?? {}), stop: true } });
  tryRefresh(p, [mt]);
  const newBacking = (d as unknown as { newBacking?: string | null }).newBacking;
  if (!abort && newBacking !== undefined && p.node(target)) {
    // mirror_exit_common: MIRROR_SOURCE_BACKING_CHAIN links the target to its backing first
    const unfilteredTarget = skipFilters(p, target) ?? target;
    if (newBacking && p.node(newBacking) && cowBs(p, unfilteredTarget) !== newBacking) {
      try {
        setBackingHd(p, unfilteredTarget, newBacking);
      } catch (e) {
        if (!(e instanceof QmpError)) throw e;
        failed = 'Operation not permitted';
      }
    }
  }
  if (!abort && (d as unknown as { openBackingChain?: boolean }).openBackingChain && p.node(target)) {
    // mirror_exit_common, MIRROR_OPEN_BACKING_CHAIN (drive-mirror mode existing, whose target
    // was opened with BDRV_O_NO_BACKING): bdrv_open_backing_file(bdrv_skip_filters(target_bs),
    // NULL, "backing") opens the chain its header names; a failure is only reported
    // (error_report_err) and becomes the job's return value (-EINVAL from the open, the errno of
    // bdrv_set_backing_hd otherwise); a failed open leaves nothing behind (bdrv_open_inherit
    // frees what it opened, bdrv_unref(backing_hd) follows a failed bdrv_set_backing_hd)
    try {
      p.d.atomically(() => openBackingFile(p, skipFilters(p, target) ?? target));
    } catch (e) {
      if (!(e instanceof QmpError)) throw e;
      failed = e.desc.startsWith('Could not open backing file: ') ? 'Invalid argument' : 'Operation not permitted';
    }
  }
  if (d.shouldComplete && !abort && p.node(target)) {
    const toReplace = d.toReplace && p.node(d.toReplace) ? d.toReplace : src;
    const ro = p.node(toReplace)!.ro;
    if (ro !== p.node(target)!.ro) setReadOnly(p, target, ro, { ignoreErrors: true });
    // 7.2: aio_context_acquire(replace_aio_context) while job_exit holds the job's
    const hangCtx = replaceContext(p, j.id, d.toReplace);
    let replaced = false;
    try {
      // mirror_exit_common asks bdrv_recurse_can_replace(src, to_replace) again: a parent that
      // came while the job ran (an NBD export of a quorum child) makes the replacement fail
      // (error_report_err: `Can no longer replace …` on stderr, -EPERM)
      if (!recurseCanReplace(p, src, toReplace)) {
        throw new QmpError(`Can no longer replace '${toReplace}' by '${target}', because it can no longer be guaranteed that doing so would not lead to an abrupt change of visible data`);
      }
      replaceNode(p, toReplace, target);
      replaced = true;
    } catch (e) {
      // QEMU reports it (error_report_err) and returns -EPERM: the job fails with
      // strerror(EPERM) in BLOCK_JOB_COMPLETED; the graph is left as it was.
      if (!(e instanceof QmpError)) throw e;
      failed = 'Operation not permitted';
    }
    // bdrv_unref(s->to_replace): a freed node is flushed with that context held twice
    if (replaced) refuseReplaceCloseHang(p, toReplace, hangCtx);
  }
  removeJobEdges(p, j.id);
  const child = p.backing(mt)?.child;
  if (child) refuseFilterRemovalConflict(p, mt, child, () => replaceNode(p, mt, child));
  // 10.0's mirror_exit_common makes a base that commit_active_start flipped read-write
  // read-only again when the job is aborted; 7.2 leaves it read-write (graph/rules.ts)
  if (abort && d.baseReadOnly && rule(p, 'active-commit-abort-base-ro') && p.node(target) && !p.node(target)!.ro) {
    setReadOnly(p, target, true, { ignoreErrors: true });
  }
  return failed;
}

registerJobDriver('mirror', {
  complete(ctx, j) {
    const { p } = ctx;
    const d = j.data as unknown as MirrorData;
    // mirror_complete: job_is_ready (ready or standby)
    if (j.status !== 'ready' && j.status !== 'standby') throw new QmpError(`The active block job '${j.id}' cannot be completed`);
    let toReplace: string | null = null;
    if (d.replaces) {
      if (!p.node(d.replaces)) throw new QmpError(`Node name '${d.replaces}' not found`);
      toReplace = d.replaces;
    }
    patchJobData(p, j.id, { shouldComplete: true, toReplace });
  },
  prepare(ctx, j) { return exitCommon(ctx, j, false); },
  abort(ctx, j) { exitCommon(ctx, j, true); },
  // No .clean: commit_active_start flips a read-only base back only when mirror_start_job fails
  // (error_restore_flags); after an active commit completes the base stays read-write, and after
  // it is cancelled too in 7.2 (10.0 restores it in exitCommon: 'active-commit-abort-base-ro').
});
