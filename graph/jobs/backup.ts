// blockdev-backup (block/backup.c backup_job_create, block/copy-before-write.c, 7.2): a
// copy-before-write filter is inserted above the source (bdrv_cbw_append -> bdrv_insert_node:
// every parent of the source moves onto the filter), with the target as its `target` child. The
// job holds the filter ("main node", no perms) and the target ("target", no perms); it has no
// BlockBackend of its own. backup_clean drops the filter again (bdrv_cbw_drop).
import { deviceOrNodeName } from '../named-blk.js';
import { QmpError } from '../../errors/index.js';
import { openNodeInContext, openResidue } from '../open.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { openInsertedNode } from './insert-node.js';
import { PERM_ALL } from '../perm.js';
import type { Proc } from '../proc.js';
import { replaceNode } from '../replace.js';
import { tryRefresh } from '../ops.js';
import { cbwClusterSize } from '../block-copy.js';
import { abdicateTo, addAnonBitmap, bcsKey, releaseAnonBitmap, successorKey } from '../anon-bitmaps.js';
import { opBlocker } from '../blockers.js';
import { BITMAP_BUSY, BITMAP_DEFAULT, bitmapsOf, dirtyBitmapCheck, dirtyBitmapSize, findDirtyBitmap, patchDirtyBitmap, replaceDirtyBitmap, setBitmaps } from '../bitmaps.js';
import { clipRanges, mergedContents, regranulate } from '../bitmap-contents.js';
import type { Job } from '../types.js';
import { filterChild, filterOrCowBs, isFilter } from './chain.js';
import { allocatedAbove, layerStatus } from './allocation.js';
import { copyStatus } from './host-holes.js';
import { detectsZeroWrite, writeCompressedData, writeGuestData, zeroGuestData } from './guest-write.js';
import { metadataView } from '../guest-image.js';
import { snapshotAccessReadable, snapshotAccessWritable } from './snapshot-io.js';
import { jobReadError, jobWriteError } from './job-read.js';
import { ENOSPC, probedHeaderWrite } from './target-write.js';
import { errorAction, stopOnError } from './rate.js';
import { getLength } from '../length.js';
import { addJobEdge, dropRef, removeJobEdges } from './parts.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { blockDriverCanCompress } from '../drivers.js';
import { registerDeferredStart } from './held-drain.js';
import { dropFilter } from './drop-filter.js';

export interface BackupData {
  kind: 'backup';
  cbw: string | null;      // the copy-before-write filter while it is in the graph
  source: string;
  target: string;
  sync: string;            // MirrorSyncMode after desugaring (incremental -> bitmap)
  bitmap: string | null;
  bitmapMode: string | null;
  /** `compress`: block-copy writes with BDRV_REQ_WRITE_COMPRESSED, one cluster a task (absent: false) */
  compress?: boolean;
  /** the JobTxn of a transaction with completion-mode grouped */
  txn?: string;
  /** on-source-error / on-target-error, when not the default (report) */
  onSourceError?: string;
  onTargetError?: string;
  /** the block_copy call backupRunStart ran, until the job next runs (backupRunToEnd) */
  copyCall?: CopyCall;
  /**
   * sync=bitmap: the block-copy bitmap backup_init_bcs_bitmap filled from the sync bitmap, on the
   * block-copy clusters (absent: the bitmap's bits are not known, graph/bitmap-contents.ts)
   */
  bitmapInit?: [number, number][];
  /** job_progress_set_remaining's estimate where it is not the source's length (progressEstimate) */
  progressLen?: number;
  /** the bytes a rate-limited call's first task copied before it slept, while the job has not run on since (its progress) */
  copiedAtStart?: number;
  /** the range of the copy task whose error ended the job (backup_cleanup_sync_bitmap's leftover) */
  failedTask?: [number, number];
  unblock: Record<string, string[]>;
}

export interface BackupStart {
  jobId: string; bs: string; target: string; speed: number; sync: string;
  bitmap: string | null; bitmapMode: string | null; compress: boolean; filterNodeName?: string;
  maxWorkers: number; maxChunk: number; autoFinalize: boolean; autoDismiss: boolean; txn?: string;
  /** 10.0: backup's discard-source (bdrv_cbw_append's BDRV_O_CBW_DISCARD_SOURCE) */
  discardSource?: boolean;
  /** 10.0: x-perf min-cluster-size (perf->min_cluster_size, a uint64) */
  minClusterSize?: bigint;
  /** the transaction's (cbwAppend) */
  onAbortResidue?: OnAbortResidue;
}

const INT_MAX = 2147483647;
const INT64_MAX = 2n ** 63n - 1n;
/** BLOCK_COPY_MAX_MEM (block/block-copy.c): the copy buffers' shared resource */
const BLOCK_COPY_MAX_MEM = 128 * 1024 * 1024;
/**
 * bdrv_supports_compressed_writes (block.c): the node's own driver must be able to compress
 * (block_driver_can_compress), and a filter must also have a filtered child that can.
 * A filter without .bdrv_co_pwritev_compressed (blkdebug, compress) stops the walk with false.
 */
function supportsCompressedWrites(p: Proc, node: string): boolean {
  const n = p.node(node);
  if (!n || !blockDriverCanCompress(n.driver)) return false;
  const f = filterChild(p, node);
  if (f) return supportsCompressedWrites(p, f.child);
  return true;
}

/** What a failed command still leaves done, on the rolled-back state (a transaction's onAbortResidue). */
export type OnAbortResidue = (fn: (q: Proc) => void) => void;

/**
 * bdrv_cbw_append: bdrv_insert_node with a copy-before-write filter over `source`.
 *
 * Each child cbw_open attaches is a committed transaction of its own (bdrv_attach_child: the
 * attach and bdrv_refresh_perms of the filter's subtree), and taking a child away again refreshes
 * the child's subtree (bdrv_root_unref_child: bdrv_refresh_perms(child_bs, NULL, NULL)). So
 * whatever fails once the source is attached (the target's attach in cbw_open, bdrv_replace_node
 * in bdrv_insert_node, backup_job_create after bdrv_cbw_append, a later action of the
 * transaction: blockdev_backup_abort -> job_cancel_sync -> backup_clean -> bdrv_cbw_drop) leaves
 * the source's subtree, and the target's once attached, with recomputed permissions. The model
 * rolls the command back; `onAbortResidue` gets those refreshes. They change what was stale: an
 * edge whose perms were computed before a bdrv_replace_node moved it onto another node (say off a
 * force-share node) comes out recomputed (fuzz seed 1046970633).
 */
export function cbwAppend(p: Proc, source: string, target: string, filterNodeName: string | undefined, onAbortResidue?: OnAbortResidue,
  v10: { discardSource?: boolean; minClusterSize?: bigint } = {}): string {
  p.step('insert-copy-before-write');
  // 10.0's bdrv_cbw_append: min_cluster_size > INT64_MAX refused before anything opens, else
  // put into the filter's options (qdict_put_int "min-cluster-size"; cbw_open's
  // block_copy_state_new checks it is a power of 2)
  if (v10.minClusterSize !== undefined && v10.minClusterSize > INT64_MAX) {
    throw new QmpError(`min-cluster-size too large: ${v10.minClusterSize} > ${INT64_MAX}`);
  }
  const opts: Record<string, unknown> = { driver: 'copy-before-write', file: source, target };
  if (filterNodeName !== undefined) opts['node-name'] = filterNodeName;
  // (as decimal text: the options are logged as JSON)
  if (v10.minClusterSize) opts['min-cluster-size'] = String(v10.minClusterSize);
  let cbw: string;
  const attached: string[] = [];
  try {
    cbw = openInsertedNode(p, source, () => openNodeInContext(p, opts, attached).name);
  } catch (e) {
    if (e instanceof QemuAbortRefusal) throw e;
    // bdrv_new_open_driver_opts' bdrv_unref of the half-open filter (graph/open.ts openResidue)
    if (attached.length) onAbortResidue?.((q) => openResidue(q, attached));
    if (e instanceof QmpError) throw new QmpError(`Could not create node: ${e.desc}`, e.cls);
    throw e;
  }
  // bdrv_cbw_drop (or bdrv_insert_node's bdrv_unref of a filter it could not put in place):
  // bdrv_close unrefs the children newest first, the target then the source
  onAbortResidue?.((q) => { tryRefresh(q, [target]); tryRefresh(q, [source]); });
  // the reference bdrv_insert_node returns (dropped by bdrv_cbw_drop); the filter's AioContext is
  // where cbw_open's attaches put it (bdrv_attach_child_common, graph/open.ts attachOpened)
  // (discard_source: cbw_child_perm takes write on the source too, graph/drivers.ts)
  p.patchNode(cbw, { extra: { ...(p.node(cbw)!.extra ?? {}), refs: 1, ...(v10.discardSource ? { discardSource: true } : {}) } });
  try {
    replaceNode(p, source, cbw);
  } catch (e) {
    if (e instanceof QmpError) throw new QmpError(`Could not replace node: ${e.desc}`, e.cls);
    throw e;
  }
  return cbw;
}

/** bdrv_cbw_drop: bdrv_drop_filter (the filter's parents go back to the source), then bdrv_unref. */
export function cbwDrop(p: Proc, cbw: string | null): void {
  if (!cbw || !p.node(cbw)) return;
  dropFilter(p, cbw);
  dropRef(p, cbw);
}

/** backup_job_create, checks in QEMU's order. */
export function startBackup(ctx: JobCtx, o: BackupStart): Job {
  const { p } = ctx;
  if (o.bs === o.target) throw new QmpError('Source and target cannot be the same');
  // bdrv_get_device_name(target): a node has no device name in qemu-storage-daemon
  if (o.compress && !supportsCompressedWrites(p, o.target)) throw new QmpError('Compression is not supported for this drive ');
  const sb = opBlocker(p, o.bs, 'backup-source');
  if (sb) throw new QmpError(`Node '${deviceOrNodeName(p, o.bs)}' is busy: ${sb}`);
  const tb = opBlocker(p, o.target, 'backup-target');
  if (tb) throw new QmpError(`Node '${deviceOrNodeName(p, o.target)}' is busy: ${tb}`);
  if (o.maxWorkers < 1 || o.maxWorkers > INT_MAX) throw new QmpError(`max-workers must be between 1 and ${INT_MAX}`);
  if (o.maxChunk < 0) throw new QmpError('max-chunk must be zero (which means no limit) or positive');
  if (o.bitmap) {
    const bm = findDirtyBitmap(p, o.bs, o.bitmap)!;
    // "If we need to write to this bitmap, check that we can"
    if (o.bitmapMode !== 'never') dirtyBitmapCheck(bm, BITMAP_DEFAULT);
    // bdrv_dirty_bitmap_create_successor: the parent is disabled and busy, an anonymous
    // successor (not listed by query-named-block-nodes) records in its place
    dirtyBitmapCheck(bm, BITMAP_BUSY);
    if (bm.successorEnabled !== undefined) throw new QmpError('Cannot create a successor for a bitmap that already has one');
    patchDirtyBitmap(p, o.bs, o.bitmap, { disabled: true, busy: true, successorEnabled: !bm.disabled });
    // (a new HBitmap: no bit set)
    addAnonBitmap(p, o.bs, successorKey(o.jobId), bm.granularity, bm.disabled, { dirty: [] });
  }
  // len = bdrv_getlength(bs); target_len = bdrv_getlength(target)
  if (getLength(p, o.bs) !== getLength(p, o.target)) throw new QmpError('Source and target image have different sizes');

  const cbw = cbwAppend(p, o.bs, o.target, o.filterNodeName, o.onAbortResidue, { discardSource: o.discardSource, minClusterSize: o.minClusterSize });
  // block_copy_cluster_size(bcs): what the filter's block-copy state took
  const cs = cbwClusterSize(p, cbw, o.target);
  // 10.0's min-cluster-size above BLOCK_COPY_MAX_MEM (128 MiB): the first copy task of a cluster
  // asks the block-copy state's shared memory for more than it has (block_copy_task_run ->
  // co_get_from_shres: assert(n <= s->total)) and the daemon dies as the job starts copying
  // (probed live on 10.0.2: 128 MiB copies, 256 MiB dies; sync none, and sync top over an
  // unallocated source, copy nothing and live)
  if (cs > BLOCK_COPY_MAX_MEM && backupCopies(p, { sync: o.sync, source: o.bs })) {
    throw new QemuAbortRefusal(
      `The backup's block-copy cluster size ${cs} is larger than its copy memory (${BLOCK_COPY_MAX_MEM} bytes) ` +
      "(QEMU aborts here: block_copy_task_run -> co_get_from_shres: Assertion `n <= s->total' failed); refused by blockgraph",
      'co_get_from_shres',
    );
  }
  if (o.maxChunk && o.maxChunk < cs) throw new QmpError(`Required max-chunk (${o.maxChunk}) is less than backup cluster size (${cs})`);

  p.step('job-create');
  // backup_init_bcs_bitmap: a sync=bitmap job copies the sync bitmap's bits, on its clusters
  const syncBits = o.sync === 'bitmap' && o.bitmap ? findDirtyBitmap(p, o.bs, o.bitmap)?.dirty : undefined;
  const bitmapInit = syncBits ? regranulate(syncBits, cs, getLength(p, o.bs)) : undefined;
  const estimate = progressEstimate(p, o, cs, bitmapInit);
  const data: BackupData = {
    ...(bitmapInit ? { bitmapInit } : {}),
    ...(estimate !== undefined ? { progressLen: estimate } : {}),
    kind: 'backup', cbw, source: o.bs, target: o.target, sync: o.sync, bitmap: o.bitmap, bitmapMode: o.bitmapMode,
    ...(o.txn ? { txn: o.txn } : {}), ...(o.compress ? { compress: true } : {}), unblock: { [cbw]: ['dataplane'] },
  };
  const job = createJob(ctx, {
    id: o.jobId, type: 'backup', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed,
    data: { ...data }, aio: p.node(cbw)!.aio, mainNode: { node: cbw, perm: 0, shared: PERM_ALL },
  });
  // "Required permissions are taken by copy-before-write filter target"
  addJobEdge(p, job.id, o.target, 'target', 0, PERM_ALL);
  return p.job(job.id)!;
}

/**
 * backup_init_bcs_bitmap's job_progress_set_remaining(bdrv_get_dirty_count(bcs_bitmap)): the
 * block-copy bitmap's dirty bytes in whole clusters (hbitmap_count << granularity). Sync bitmap:
 * the sync bitmap's bits on the copy clusters, none for a bitmap known to be empty; sync top:
 * block_copy_reset_unallocated (backup_run's first loop) takes every unallocated cluster off again
 * (progress_set_remaining), so a source whose own layer holds nothing ends at 0 of 0 (stop 42:
 * combo-c13-backup-with-new-bitmap, -snapshot-then-backup-overlay). Undefined where the model
 * keeps the source's length (sync full and none, a top layer holding data, bits not known).
 */
function progressEstimate(p: Proc, o: BackupStart, cs: number, bitmapInit: [number, number][] | undefined): number | undefined {
  if (o.sync === 'bitmap') {
    if (bitmapInit) return bitmapInit.reduce((n, [a, b]) => n + Math.ceil(b / cs) * cs - Math.floor(a / cs) * cs, 0);
    return syncBitmapEmpty(p, { source: o.bs, bitmap: o.bitmap }) ? 0 : undefined;
  }
  if (o.sync === 'top' && getLength(p, o.bs) > 0) return topAllocatedClusters(p, o.bs, cs);
  return undefined;
}

/**
 * backup_run's sync top loop: block_copy_reset_unallocated asks block_copy_is_cluster_allocated
 * (bdrv_is_allocated of the source, its filters passed through) cluster by cluster; a cluster with
 * any allocated byte stays in the copy bitmap, every other is reset, and each reset calls
 * progress_set_remaining(bdrv_get_dirty_count(copy_bitmap)): the job's total is then the
 * allocated clusters, whole (hbitmap_count << granularity) — 8 MiB of a 16 MiB qcow2 whose own
 * layer holds its first half (fuzz 4211570598). With no cluster reset the total stays
 * backup_init_bcs_bitmap's estimate (undefined: the source's length, as for sync full).
 */
function topAllocatedClusters(p: Proc, node: string, cs: number): number | undefined {
  const top = skipFiltersDown(p, node);
  const len = p.node(top)?.size ?? 0;
  let clusters = 0;
  let last = -1;
  for (let off = 0, i = 0; off < len && i < 100000; i++) {
    const st = layerStatus(p, top, off, len - off);
    if (st.n === 0) break;
    if (st.alloc) {
      const first = Math.max(Math.floor(off / cs), last + 1);
      const end = Math.ceil((off + st.n) / cs) - 1;
      if (end >= first) clusters += end - first + 1;
      last = Math.max(last, end);
    }
    off += st.n;
  }
  return clusters === Math.ceil(len / cs) ? undefined : clusters * cs;
}

/**
 * Whether backup_run has anything to copy (the copy loop's work, as backupRunStart decides it):
 * sync full the whole source, sync top its allocated bytes, sync none nothing; a bitmap sync its
 * block-copy bitmap's bits where they are known (bitmapInit), else whatever a bitmap not known to
 * be empty holds.
 */
export function backupCopies(p: Proc, d: { sync?: unknown; source?: unknown; bitmap?: unknown; bitmapInit?: unknown }): boolean {
  if (typeof d.source !== 'string' || !p.node(d.source) || getLength(p, d.source) === 0) return false;
  if (d.sync === 'none') return false;
  if (d.sync === 'bitmap') {
    const init = d.bitmapInit as [number, number][] | undefined;
    return init ? init.length > 0 : !syncBitmapEmpty(p, d);
  }
  return d.sync !== 'top' || anyAllocated(p, d.source);
}

/**
 * backup_init_bcs_bitmap: a bitmap sync copies the sync bitmap's bits into the block-copy
 * bitmap; a bitmap known to hold none (graph/types.ts DirtyBitmap.empty: added or cleared, no
 * write since) leaves block_copy nothing to copy, and backup_run ends at once.
 */
function syncBitmapEmpty(p: Proc, d: { source?: unknown; bitmap?: unknown }): boolean {
  if (typeof d.source !== 'string' || typeof d.bitmap !== 'string') return false;
  const b = findDirtyBitmap(p, d.source, d.bitmap);
  return b?.empty === true || b?.dirty?.length === 0;
}

/**
 * Whether a running backup's block_copy call still has tasks to copy: a rate-limited call that
 * went to sleep after its first task with more to come (backupRunStart's copyCall.next). A call
 * whose first task was all there was to copy (a source of at most one task, BLOCK_COPY_MAX_BUFFER)
 * ends right after the QMP reply and the job goes on to finish, whatever its speed (fuzz
 * 3394175745: a 1 MiB null-co source). A bitmap sync's bits are not modelled: taken to copy.
 */
export function backupStillCopies(p: Proc, d: { sync?: unknown; source?: unknown; copyCall?: unknown; bitmapInit?: unknown }): boolean {
  // no call on record (a `wait` step ran it, and the job is still running: an ignored error's
  // retries, or a stop resumed into a new call): what backup_run has to copy at all
  const call = d.copyCall as CopyCall | undefined;
  const followed = d.sync === 'full' || d.sync === 'top' || (d.sync === 'bitmap' && d.bitmapInit !== undefined);
  if (!followed || call === undefined) return backupCopies(p, d);
  return call.next !== undefined;
}

/** The job layer's bytes the copy loop meets: the first non-filter node's own allocation. */
function anyAllocated(p: Proc, node: string): boolean {
  let cur = node;
  for (let i = 0; isFilter(p, cur) && i < 10000; i++) cur = filterChild(p, cur)?.child ?? cur;
  return anyAllocatedFrom(p, cur, 0);
}

/** Whether `cur`'s own layer holds any bytes from `from` on. */
function anyAllocatedFrom(p: Proc, cur: string, from: number): boolean {
  const len = p.node(cur)?.size ?? 0;
  for (let off = from, i = 0; off < len && i < 100000; i++) {
    const st = layerStatus(p, cur, off, len - off);
    if (st.n === 0) break;
    if (st.alloc) return true;
    off += st.n;
  }
  return false;
}

/**
 * The first stretch of backup_run, which job_start enters before the QMP reply: sync none only
 * waits, sync top first asks the source's block status (block_copy_reset_unallocated), then the
 * copy loop reads the source and writes the target (block_copy). A snapshot-access node on
 * either side answers -ENOTSUP (graph/jobs/snapshot-io.ts) and, with on-source-error /
 * on-target-error report (or enospc: ENOTSUP is no ENOSPC), the job fails at once with it: for
 * sync top the block status fails before anything is copied, else only when there is something
 * to copy (sync full: the whole source; sync top: its allocated bytes).
 */
export function backupRunStart(ctx: JobCtx, id: string, o: { onSourceError?: string; onTargetError?: string }): boolean {
  const ran = backupFirstStretch(ctx, id, o);
  const j = ctx.p.job(id);
  const sync = j?.data.sync;
  // a rate-limited sync full/top job whose block_copy call has nothing to copy at all; and a sync
  // top job without a speed: its block_copy_reset_unallocated loop asks the source's block status
  // before backup_loop (no data I/O, no timing), so it too ends just after the reply, finishing
  // events in the next step (stop 42: combo-c13-snapshot-then-backup-overlay, recorded twice alike)
  return ran === 'nothing' && j !== undefined && j.status === 'running'
    && (j.speed > 0 ? (sync === 'full' || sync === 'top' || (sync === 'bitmap' && syncBitmapEmpty(ctx.p, j.data))) : sync === 'top');
}

/**
 * backup_run's end right after its start (fuzz 2763515706): a rate-limited backup with nothing to
 * copy (a sync top source whose own layer holds nothing: block_copy_reset_unallocated clears
 * every bit of the copy bitmap; a source of length 0) never asks its rate limit: backup_loop's
 * block_copy call finds no dirty cluster and ends, backup_run returns and job_completed takes the
 * job on to waiting and pending (and on through finalize when that is automatic), as a stream or
 * commit whose first batch leaves nothing does (graph/jobs/rate.ts runBatch). QEMU does it in the
 * job's coroutine and the job_exit bottom half, after the command's reply, with no data I/O in
 * between: the caller runs this once the command is through (a transaction's actions all
 * committed and cleaned), or at once for a start a held drained section deferred; the finishing
 * events land in the next step either way (oracle/harness.ts deferFinishOfStartedJobs). A source
 * copied in one block-copy task (firstTaskLeavesMore) also ends without a sleep, but only once
 * that task's I/O is done: live, a 1 MiB null-co source was still running two commands later in
 * one recording of two (a race): such a job is left running until a `wait` step, as before.
 */
export function backupFinishAfterStart(ctx: JobCtx, id: string): void {
  const j = ctx.p.job(id);
  if (!j || j.status !== 'running' || j.paused > 0) return;
  const { copyCall: _c, ...rest } = j.data as Record<string, unknown>;
  ctx.p.patchJob(id, { data: rest });
  sendJob(ctx, id, { type: 'DONE' });
}

/**
 * backupRunStart's first stretch: 'nothing' when the copy loop has nothing to copy, 'copied' when
 * its call ran (to its end, its rate-limit sleep or an error left for the next run), 'stopped'
 * when the job failed or cannot run.
 */
function backupFirstStretch(ctx: JobCtx, id: string, o: { onSourceError?: string; onTargetError?: string }): 'nothing' | 'copied' | 'stopped' {
  const { p } = ctx;
  const j = p.job(id);
  if (!j) return 'stopped';
  // backup_error_action's on-source-error / on-target-error, for the failed block_copy calls (backupRunToEnd)
  if (o.onSourceError !== undefined && o.onSourceError !== 'report') patchJobData(p, id, { onSourceError: o.onSourceError });
  if (o.onTargetError !== undefined && o.onTargetError !== 'report') patchJobData(p, id, { onTargetError: o.onTargetError });
  const d = p.job(id)!.data as unknown as BackupData;
  const reports = (a: string | undefined) => !['stop', 'ignore'].includes(a ?? 'report');
  if (!p.node(d.source) || !p.node(d.target)) return 'stopped';
  if (getLength(p, d.source) === 0) return 'nothing';
  const readable = snapshotAccessReadable(p, d.source);
  if (d.sync === 'top' && !readable) {
    sendJob(ctx, id, { type: 'FAIL', error: 'Operation not supported' });
    return 'stopped';
  }
  const copies = d.sync === 'full' || (d.sync === 'top' && anyAllocated(p, d.source)) || (d.sync === 'bitmap' && (d.bitmapInit?.length ?? 0) > 0);
  if (!copies) return 'nothing';
  if ((!readable && reports(o.onSourceError)) || (readable && !snapshotAccessWritable(p, d.target) && reports(o.onTargetError))) {
    // the failed copy task is an I/O error of backup_loop, not of backup_run's setup:
    // backup_error_action -> block_job_error_action sends BLOCK_JOB_ERROR (the read of the source,
    // else the write of the target: block_copy_call_status's error_is_read) before the job ends
    ctx.emit('BLOCK_JOB_ERROR', { device: id, operation: readable ? 'write' : 'read', action: 'report' });
    sendJob(ctx, id, { type: 'FAIL', error: 'Operation not supported' });
    return 'stopped';
  }
  // backup_loop's block_copy call (block_copy_async over the whole job): a job without a rate
  // limit copies everything before it settles (the fuzz waits for it); a rate-limited one copies
  // its first task (block_copy_dirty_clusters asks the rate limit before each task, and only the
  // bytes dispatched so far count, so the first goes at once) and then sleeps for the limit: the
  // rest of the call runs at the job's next `wait` step (backupRunToEnd), from where it stopped
  const call = blockCopyCall(p, d, 0, j.speed > 0);
  // A call whose read fails with a reported error (block_copy_do_copy's bdrv_co_pread: nothing of
  // that task was written) ends the job before the harness's graph query: the recorded
  // transcripts see it gone (fuzz-backup-source-read-error); the other outcomes (a failed write,
  // a read error that stops or is ignored) wait for the job's next run, as recorded
  // (jobs-into-qcow2-over-raw-size-enospc: the filter is still there after the reply)
  // The failed read completes in the main loop once the command's synchronous part is done: after
  // every job_start of its transaction (backupFailAfterStart, from the action's after())
  if (call.error !== undefined && call.isRead && errorActionOf(d.onSourceError, call.error) === 'report') {
    patchJobData(p, id, { readFailAfterStart: call.error, ...(call.task ? { failedTask: call.task } : {}) });
    return 'stopped';
  }
  // a write refused without I/O right after that read (a probed target's first sector) ends the
  // job as early (probe-drive-backup-qcow2-header: the job is gone at the graph query)
  if (call.error !== undefined && call.noIo === true && errorActionOf(d.onTargetError, call.error) === 'report') {
    patchJobData(p, id, { writeFailAfterStart: call.error, ...(call.task ? { failedTask: call.task } : {}) });
    return 'stopped';
  }
  // what progress_bytes_callback counted of a rate-limited call that slept after its first task
  // (graph/jobs/progress.ts: the job's offset until it runs on)
  patchJobData(p, id, { copyCall: call, ...(call.next !== undefined && call.error === undefined ? { copiedAtStart: call.next } : {}) });
  if (call.next !== undefined) setBcsRemaining(p, d, call.next);
  return 'copied';
}

/**
 * The block-copy state's copy bitmap (block_copy_state_new's anonymous bitmap, graph/anon-bitmaps.ts
 * bcsKey) while a call sleeps after its first task: backup_init_bcs_bitmap set what the job has to
 * copy (sync full: all of it; bitmap: the sync bitmap's clusters), and each finished task cleared
 * its clusters (block_copy_task_end -> bdrv_reset_dirty_bitmap), so it holds what lies from `next`
 * on; bdrv_get_dirty_count counts it, and backup_cleanup_sync_bitmap merges it into a bitmap-mode
 * always sync bitmap when the job is cancelled now. sync top (block_copy_reset_unallocated as the
 * loop goes) is not followed.
 */
function setBcsRemaining(p: Proc, d: BackupData, next: number): void {
  const all = copyRanges(p, d);
  if (!all || !d.cbw) return;
  const key = bcsKey(d.cbw);
  for (const node of [d.source, d.cbw]) {
    const b = bitmapsOf(p, node).find((x) => x.owner === key);
    if (!b) continue;
    const dirty = regranulate(clipRanges(all, next, Number.MAX_SAFE_INTEGER), b.granularity, dirtyBitmapSize(p, node, b));
    const { empty: _e, dirty: _d, ...rest } = b;
    setBitmaps(p, node, bitmapsOf(p, node).map((x) => (x === b ? { ...rest, dirty, ...(dirty.length === 0 ? { empty: true as const } : {}) } : x)));
    return;
  }
}

/** What the copy bitmap holds where setBcsRemaining followed it (undefined: not known). */
function bcsContents(p: Proc, d: BackupData): [number, number][] | undefined {
  if (!d.cbw) return undefined;
  const key = bcsKey(d.cbw);
  for (const node of [d.source, d.cbw]) {
    const b = bitmapsOf(p, node).find((x) => x.owner === key);
    if (b) return b.dirty;
  }
  return undefined;
}

/**
 * The end of a backup whose first block_copy call failed reading the source with a reported error
 * (backupFirstStretch): BLOCK_JOB_ERROR and the job's failure, before the harness's graph query
 * (fuzz-backup-source-read-error), but after the transaction's other job_starts and the idle
 * siblings' job_exit (finishIdleTxnSiblings).
 */
export function backupFailAfterStart(ctx: JobCtx, id: string): void {
  const j = ctx.p.job(id);
  const read = j?.data.readFailAfterStart;
  const error = read ?? j?.data.writeFailAfterStart;
  if (!j || typeof error !== 'string') return;
  const { readFailAfterStart: _r, writeFailAfterStart: _w, ...rest } = j.data as Record<string, unknown>;
  ctx.p.patchJob(id, { data: rest });
  if (j.status !== 'running') return;
  finishIdleTxnSiblings(ctx, id);
  ctx.emit('BLOCK_JOB_ERROR', { device: id, operation: read !== undefined ? 'read' : 'write', action: 'report' });
  sendJob(ctx, id, { type: 'FAIL', error });
}

/**
 * A failed read completes in the main loop after the job_exit bottom halves of the jobs of its
 * transaction that had nothing to copy: their backup_run never yielded on I/O, so they reached
 * job_completed (waiting, in a JobTxn) first, whichever job_start came first (7.2 commits in
 * action order, 10.0 last action first). Such siblings (not rate-limited, still running) finish
 * now, in creation order, and the failure then
 * aborts them from waiting (iotests 124's grouped transaction failure race: the empty incremental
 * backup of drive0 is waiting when drive1's read error cancels it).
 */
function finishIdleTxnSiblings(ctx: JobCtx, id: string): void {
  const { p } = ctx;
  const j = p.job(id);
  const txn = typeof j?.data.txn === 'string' ? j.data.txn : undefined;
  if (!j || !txn) return;
  const idle = p.jobs()
    .filter((o) => o.id !== id && o.data.txn === txn && o.status === 'running' && o.paused === 0 && o.speed === 0 &&
      o.data.kind === 'backup' && o.data.sync !== 'none' && !backupCopies(p, o.data))
    .sort((a, b) => a.at - b.at);
  for (const o of idle) sendJob(ctx, o.id, { type: 'DONE' });
}

// the first entry of a backup started under a held drained section
registerDeferredStart('backup', (ctx, id, s) => {
  if (backupRunStart(ctx, id, s as { onSourceError?: string; onTargetError?: string })) backupFinishAfterStart(ctx, id);
  backupFailAfterStart(ctx, id);
});

/** BLOCK_COPY_MAX_BUFFER (block/block-copy.c): a task's bytes, without copy_range (7.2's default) */
const BLOCK_COPY_MAX_BUFFER = 1 << 20;

/** block_job_error_action's choice (rate.ts errorAction) without its event */
function errorActionOf(onError: string | undefined, errno: string): 'stop' | 'report' | 'ignore' {
  if (onError === 'stop' || onError === 'ignore') return onError;
  return onError === 'enospc' && errno === ENOSPC ? 'stop' : 'report';
}

/**
 * The status of a block_copy call (block_copy_call_status): the errno text of the request that
 * failed and whether it was the read (error_is_read), or, for a rate-limited call that sleeps
 * after its first task, where it goes on (`next`, the offset of the next task).
 */
export interface CopyCall {
  error?: string; isRead?: boolean; next?: number;
  /** the failed write issued no I/O (raw_co_pwritev's probed-sector refusal): it fails as soon as the read before it completes */
  noIo?: boolean;
  /** the failed task's range */
  task?: [number, number];
}

/**
 * One block_copy call of backup_loop (block_copy_async over the whole job ->
 * block_copy_dirty_clusters), from `from` on: task by task in offset order (a dirty range of at
 * most BLOCK_COPY_MAX_BUFFER that block_copy_block_status shrinks to one status run),
 * block_copy_do_copy reads the source (bdrv_co_pread(s->source) through the graph, job-read.ts
 * jobReadError: blkdebug rules, stale qcow2 L2 tables, …) and writes the target (jobWriteError:
 * blkdebug rules, a qcow2 target over a raw `size` window); the bytes land in the target
 * (graph/jobs/guest-write.ts). The first request that fails ends the call with its errno
 * (block_copy_task_entry keeps the first error and error_is_read). Sync full copies the whole
 * source, sync top only what the source's own layer holds (block_copy_reset_unallocated: an
 * unallocated run is skipped without counting for the rate limit). Ranges that read as zeroes go
 * out as write_zeroes (BLOCK_COPY_ZERO: no read), whose clusters a qcow2 target must find room
 * for all the same, but whose zeroes are not modelled. `firstTask`: the call stops after its
 * first task (the rate limit's sleep) and says where it goes on.
 */
function blockCopyCall(p: Proc, d: BackupData, from = 0, firstTask = false): CopyCall {
  const len = p.node(d.source)?.size ?? 0;
  const ranges = loopRanges(d, len);
  if (!ranges) return {};
  // consecutive compressed clusters are written as one run (graph/jobs/guest-write.ts: the same
  // per-cluster steps on one copy of the target's metadata; fuzz 522514549), flushed before any
  // other write, error or return so that every effect keeps QEMU's order
  const batched = d.compress === true && !firstTask;
  let pend: { from: number; to: number; held: [number, number][] } | undefined;
  const flush = (): string | undefined => {
    if (!pend) return undefined;
    const { from: a, to: b } = pend;
    pend = undefined;
    return writeCompressedData(p, d.target, a, b - a, d.source);
  };
  const fail = (c: CopyCall): CopyCall => {
    const cerr = flush();
    return cerr !== undefined ? { error: cerr, isRead: false } : c;
  };
  let guard = 0;
  for (const [ra, rb] of ranges) {
    const end = Math.min(rb, len);
    for (let pos = Math.max(ra, from); pos < end && guard < 1_000_000; guard++) {
      const st0 = d.sync === 'top' ? layerStatus(p, skipFiltersDown(p, d.source), pos, end - pos) : allocatedAbove(p, d.source, null, true, pos, end - pos);
      // block_copy_block_status (want_zero): an allocated run of a raw source's host file holes is
      // BDRV_BLOCK_ZERO, written as zeroes (COPY_WRITE_ZEROES; graph/jobs/host-holes.ts)
      const hole = st0.alloc && st0.n > 0 ? copyStatus(p, d.source, pos, st0.n, cbwClusterSize(p, d.cbw, d.target)) : undefined;
      const st = hole && !hole.data ? { alloc: false, n: hole.n } : hole ? { alloc: true, n: hole.n } : st0;
      const run = Math.min(st.n > 0 ? st.n : end - pos, end - pos);
      // sync full and bitmap copy what reads as zeroes too (as zero writes); sync top skips it
      const counts = st0.alloc || d.sync !== 'top';
      if (!counts) {
        pos += run;
        continue;
      }
      // an unallocated run of sync full is written as zeroes in one go (no read, no data); with
      // compress a task is one block-copy cluster (block_copy_chunk_size: COPY_READ_WRITE_CLUSTER)
      const chunk = d.compress ? cbwClusterSize(p, d.cbw, d.target) : BLOCK_COPY_MAX_BUFFER;
      const n = st.alloc || firstTask ? Math.min(run, chunk) : run;
      const task: [number, number] = [pos, pos + n];
      if (st.alloc) {
        // block_copy_do_copy: bdrv_co_pread(s->source), then bdrv_co_pwrite(s->target)
        const error = jobReadError(p, d.source, pos, n);
        if (error !== undefined) return fail({ error, isRead: true, task });
      }
      // raw_co_pwritev's guard of a probed target's first sector (drive-backup without a format);
      // a zero write (raw_co_pwrite_zeroes) has none
      const refused = st.alloc ? probedHeaderWrite(p, d.source, d.target, pos, n) : undefined;
      if (refused !== undefined) return fail({ error: refused, isRead: false, noIo: true, task });
      const error = jobWriteError(p, d.target, pos, n);
      if (error !== undefined) return fail({ error, isRead: false, task });
      if (st.alloc && d.compress) {
        // s->write_flags' BDRV_REQ_WRITE_COMPRESSED: qcow2_co_pwritev_compressed_part; a cluster
        // the target already holds fails there ("Input/output error"), so it is never batched
        const free = (held: [number, number][]) => !held.some(([a, b]) => pos < b && a < pos + n);
        // a cluster detect-zeroes turns into a zero write goes alone (zeroGuestData's own steps)
        const alone = !batched || detectsZeroWrite(p, d.target, pos, n, d.source);
        if (!alone && pend && pend.to === pos && free(pend.held)) pend.to = pos + n;
        else {
          const cerr = flush();
          if (cerr !== undefined) return { error: cerr, isRead: false, task };
          const view = alone ? undefined : metadataView(p, d.target);
          const held = view?.img.data ?? [];
          if (view && free(held)) pend = { from: pos, to: pos + n, held };
          else {
            const e = writeCompressedData(p, d.target, pos, n, d.source);
            if (e !== undefined) return { error: e, isRead: false, task };
          }
        }
      } else {
        const cerr = flush();
        if (cerr !== undefined) return { error: cerr, isRead: false, task };
        if (st.alloc) writeGuestData(p, d.target, pos, n, d.source);
        // block_copy_do_copy's COPY_WRITE_ZEROES: bdrv_co_pwrite_zeroes(s->target) without
        // BDRV_REQ_MAY_UNMAP (s->write_flags): a qcow2 target gets its L2 tables, and its
        // clusters keep their allocation (graph/jobs/guest-write.ts zeroGuestData)
        else zeroGuestData(p, d.target, pos, n, false);
      }
      const start = pos;
      pos += n;
      if (firstTask) {
        const more = d.sync === 'bitmap' ? ranges.some(([a, b]) => Math.min(b, len) > Math.max(a, pos)) : firstTaskLeavesMore(p, d, start, n);
        return more ? { next: pos } : {};
      }
    }
  }
  return fail({});
}

/**
 * What block_copy's bitmap holds when backup_run starts (backup_init_bcs_bitmap): the whole source
 * for sync full and top (top clears the unallocated as it goes: the loop's block status), the sync
 * bitmap's bits on the copy clusters for sync bitmap, where the model knows them.
 */
function loopRanges(d: BackupData, len: number): [number, number][] | undefined {
  if (d.sync === 'full' || d.sync === 'top') return [[0, len]];
  return d.sync === 'bitmap' ? d.bitmapInit : undefined;
}

/** What block_copy had to copy at all, where the model knows it (sync top: not followed). */
function copyRanges(p: Proc, d: BackupData): [number, number][] | undefined {
  return d.sync === 'top' ? undefined : loopRanges(d, getLength(p, d.source));
}

/**
 * Whether block_copy_dirty_clusters has dirty bits left after its first task, the one copied of
 * `n` bytes (one block-status run) from `start`: the loop then asks the rate limit and sleeps.
 * The task ends where block_copy_block_status puts it: its status run aligned down to the
 * block-copy cluster, up only where the run reaches s->len, the source's bdrv_getlength (whole
 * sectors). A file node's data ends at the host file's own length (file-posix's SEEK_HOLE; past
 * it a trailing hole), so over a file of a length that is no multiple of 512 (a fresh qcow2 image:
 * 196616 bytes) the first task stops a cluster short of the end and the job sleeps with one
 * cluster left (probed live: 196608 of 262144 copied), where a source that ends on a sector (a
 * null-co node of 1 MiB) is done in one task and the job finishes at once. Sync top: the bitmap
 * holds only what block_copy_reset_unallocated left allocated.
 */
function firstTaskLeavesMore(p: Proc, d: BackupData, start: number, n: number): boolean {
  // Only where the model knows the runs block status gives: sync full over qcow2 and null
  // layers. A file node answers from the host file's extents, which the model does not keep
  // (qemu-img's allocate_first_block leaves a raw image's first 4 KiB data and the rest a hole:
  // a 1 MiB raw image copies 64 KiB first and sleeps, probed live), and a sync top job was seen
  // to sleep after one 64 KiB cluster of a 16 MiB qcow2 (probed live, cause not traced): both
  // count as copying on, as before.
  if (d.sync !== 'full' || !statusFromKnownLayers(p, d.source)) return true;
  const sLen = getLength(p, d.source);
  const cs = cbwClusterSize(p, d.cbw, d.target);
  const tStart = Math.floor(start / cs) * cs;
  const num = start + n - tStart;
  const end = tStart + (num < cs ? cs : tStart + num === sLen ? Math.ceil(num / cs) * cs : Math.floor(num / cs) * cs);
  return end < sLen && (d.sync === 'full' || anyAllocatedFrom(p, skipFiltersDown(p, d.source), end));
}

/** Every layer block status asks below `source` (filters skipped) is a qcow2 without a data file or a null node. */
function statusFromKnownLayers(p: Proc, source: string): boolean {
  for (let cur: string | null = source, i = 0; cur !== null && i < 10000; cur = filterOrCowBs(p, cur), i++) {
    const n = p.node(cur);
    if (!n) return false;
    if (isFilter(p, cur)) continue;
    if (n.driver === 'null-co' || n.driver === 'null-aio') continue;
    if (n.driver !== 'qcow2' || n.options['data-file'] !== undefined) return false;
  }
  return true;
}

/**
 * A `wait` step (x-blockgraph-job-advance): backup_loop looks at its block_copy call (the one
 * backupRunStart ran, or a new one: a rate-limited job copies as time passes, a resumed one
 * starts over). A failed call goes to backup_error_action (block_job_error_action with
 * on-target-error): report fails the job, stop pauses it (job_pause_point; the next call runs
 * when it is resumed), ignore starts a new call, which fails again: the job stays busy.
 */
export function backupRunToEnd(ctx: JobCtx, id: string): { failed: string } | 'stopped' | 'busy' | undefined {
  const { p } = ctx;
  const j = p.job(id);
  if (!j) return undefined;
  const d = j.data as unknown as BackupData;
  if (!p.node(d.source) || !p.node(d.target)) return undefined;
  // a call that slept after its first task goes on where it stopped (a rate-limited job's later
  // tasks: their reads and writes can fail here, block_copy_dirty_clusters after the sleep)
  const prev = d.copyCall;
  const call = prev === undefined ? blockCopyCall(p, d) : prev.next !== undefined ? blockCopyCall(p, d, prev.next) : prev;
  if (prev || d.copiedAtStart !== undefined) {
    // block_copy_call_free; the job ran on past its first task
    const { copyCall: _c, copiedAtStart: _s, ...rest } = j.data as Record<string, unknown>;
    p.patchJob(id, { data: rest });
  }
  if (call.error === undefined) return undefined;
  // backup_error_action: on-source-error for a failed read, on-target-error for a failed write
  const action = errorAction(ctx, id, call.isRead ? d.onSourceError : d.onTargetError, call.error, call.isRead === true);
  if (action === 'report') {
    if (call.task) patchJobData(p, id, { failedTask: call.task });
    return { failed: call.error };
  }
  if (action === 'ignore') {
    // backup_loop: BLOCK_ERROR_ACTION_IGNORE "proceeds to the next iteration" in the same run of
    // the coroutine, a new block_copy_async call over what is still dirty: an error that does not
    // come back (a blkdebug rule with `once`) lets that call copy to the end and the job finish
    // now (combo-c10-backup-target-write-ignore: the settled start sees it gone); one that comes
    // back keeps the job busy, its failed call looked at by the next run
    const again = blockCopyCall(p, d);
    if (again.error === undefined) return undefined;
    patchJobData(p, id, { copyCall: again });
    return 'busy';
  }
  stopOnError(ctx, id);
  return 'stopped';
}

function skipFiltersDown(p: Proc, node: string): string {
  let cur = node;
  for (let i = 0; isFilter(p, cur) && i < 10000; i++) cur = filterChild(p, cur)?.child ?? cur;
  return cur;
}

/**
 * backup_cleanup_sync_bitmap: on success (or bitmap-mode always, never with 'never') the
 * successor takes the bitmap's name and place (bdrv_dirty_bitmap_abdicate) and the parent goes;
 * otherwise the successor is merged back and released (bdrv_reclaim_dirty_bitmap). Either way the
 * bitmap records as it did before and is no longer busy.
 */
function cleanupSyncBitmap(p: Proc, job: string, d: BackupData, ok: boolean): void {
  if (!d.bitmap || !p.node(d.source)) return;
  const bm = findDirtyBitmap(p, d.source, d.bitmap);
  if (!bm || bm.successorEnabled === undefined) return;
  const sync = (ok || d.bitmapMode === 'always') && d.bitmapMode !== 'never';
  const { successorEnabled, ...rest } = bm;
  const successor = bitmapsOf(p, d.source).find((b) => b.owner === successorKey(job));
  const size = dirtyBitmapSize(p, d.source, bm);
  if (sync) {
    abdicateTo(p, d.source, successorKey(job), d.bitmap, { disabled: !successorEnabled, busy: false, readonly: false, inconsistent: false });
    // "If we failed and synced, merge in the bits we didn't copy"
    if (!ok) {
      const now = findDirtyBitmap(p, d.source, d.bitmap)!;
      const { dirty: _d, empty: _e, ...kept } = now;
      const dirty = mergedContents(now, uncopied(p, d), size);
      replaceDirtyBitmap(p, d.source, { ...kept, ...(dirty ? { dirty, ...(dirty.length === 0 ? { empty: true as const } : {}) } : {}) });
    }
    return;
  }
  // bdrv_reclaim_dirty_bitmap: the successor's bits merged back into the parent
  const { dirty: _d, empty: _e, ...plain } = rest;
  const dirty = mergedContents(rest, successor?.dirty, size);
  const empty = rest.empty === true && successor?.dirty?.length === 0;
  p.patchNode(d.source, {
    bitmaps: bitmapsOf(p, d.source).map((b) => (b.owner === undefined && b.name === d.bitmap
      ? { ...plain, ...(empty ? { empty: true as const } : {}), ...(dirty ? { dirty } : {}), disabled: !successorEnabled, busy: false } : b)),
  });
  releaseAnonBitmap(p, d.source, successorKey(job));
}

/**
 * What a failed backup's block-copy bitmap still holds (block_copy_dirty_bitmap at
 * backup_cleanup_sync_bitmap): the failed task's range of what it had to copy. block_copy
 * starts up to BLOCK_COPY_MAX_WORKERS (64) tasks before the first finishes, and those go on after
 * one fails, so over at most 64 tasks only the failed one is left; beyond that, or with a copy
 * the model does not follow, undefined.
 */
function uncopied(p: Proc, d: BackupData): [number, number][] | undefined {
  const task = d.failedTask;
  const all = copyRanges(p, d);
  // a job cancelled while its call slept after the first task: what the copy bitmap still holds
  if (!task && d.copyCall?.next !== undefined) return bcsContents(p, d);
  if (!task || !all) return undefined;
  const tasks = all.reduce((n, [a, b]) => n + Math.ceil((b - a) / BLOCK_COPY_MAX_BUFFER), 0);
  return tasks <= BLOCK_COPY_MAX_WORKERS ? clipRanges(all, task[0], task[1]) : undefined;
}

/** BLOCK_COPY_MAX_WORKERS (block/block-copy.c) */
const BLOCK_COPY_MAX_WORKERS = 64;

registerJobDriver('backup', {
  commit(ctx, j) { cleanupSyncBitmap(ctx.p, j.id, ctx.p.job(j.id)!.data as unknown as BackupData, true); },
  abort(ctx, j) { cleanupSyncBitmap(ctx.p, j.id, ctx.p.job(j.id)!.data as unknown as BackupData, false); },
  // backup_clean: block_job_remove_all_bdrv, then bdrv_cbw_drop
  clean(ctx, j) {
    const { p } = ctx;
    const d = p.job(j.id)!.data as unknown as BackupData;
    removeJobEdges(p, j.id);
    cbwDrop(p, d.cbw);
    p.patchJob(j.id, { data: { ...p.job(j.id)!.data, cbw: null } });
  },
});
