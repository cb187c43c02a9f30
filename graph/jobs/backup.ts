// blockdev-backup (block/backup.c backup_job_create, block/copy-before-write.c, 7.2): a
// copy-before-write filter is inserted above the source (bdrv_cbw_append -> bdrv_insert_node:
// every parent of the source moves onto the filter), with the target as its `target` child. The
// job holds the filter ("main node", no perms) and the target ("target", no perms); it has no
// BlockBackend of its own. backup_clean drops the filter again (bdrv_cbw_drop).
import { QmpError } from '../../errors/index.js';
import { openNodeInContext, openResidue } from '../open.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { openInsertedNode } from './insert-node.js';
import { PERM_ALL } from '../perm.js';
import type { Proc } from '../proc.js';
import { replaceNode } from '../replace.js';
import { tryRefresh } from '../ops.js';
import { blockCopyClusterSize } from '../block-copy.js';
import { abdicateTo, addAnonBitmap, releaseAnonBitmap } from '../anon-bitmaps.js';
import { opBlocker } from '../blockers.js';
import { BITMAP_BUSY, BITMAP_DEFAULT, bitmapsOf, dirtyBitmapCheck, findDirtyBitmap, patchDirtyBitmap } from '../bitmaps.js';
import type { Job } from '../types.js';
import { filterChild, isFilter } from './chain.js';
import { allocatedAbove, layerStatus } from './allocation.js';
import { writeGuestData } from './guest-write.js';
import { snapshotAccessReadable, snapshotAccessWritable } from './snapshot-io.js';
import { ENOSPC, targetOutOfRoom } from './target-write.js';
import { getLength } from '../length.js';
import { addJobEdge, dropRef, removeJobEdges } from './parts.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { blockDriverCanCompress } from '../drivers.js';

export interface BackupData {
  kind: 'backup';
  cbw: string | null;      // the copy-before-write filter while it is in the graph
  source: string;
  target: string;
  sync: string;            // MirrorSyncMode after desugaring (incremental -> bitmap)
  bitmap: string | null;
  bitmapMode: string | null;
  /** the JobTxn of a transaction with completion-mode grouped */
  txn?: string;
  unblock: Record<string, string[]>;
}

export interface BackupStart {
  jobId: string; bs: string; target: string; speed: number; sync: string;
  bitmap: string | null; bitmapMode: string | null; compress: boolean; filterNodeName?: string;
  maxWorkers: number; maxChunk: number; autoFinalize: boolean; autoDismiss: boolean; txn?: string;
  /** the transaction's (cbwAppend) */
  onAbortResidue?: OnAbortResidue;
}

const INT_MAX = 2147483647;
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
export function cbwAppend(p: Proc, source: string, target: string, filterNodeName: string | undefined, onAbortResidue?: OnAbortResidue): string {
  p.step('insert-copy-before-write');
  const opts: Record<string, unknown> = { driver: 'copy-before-write', file: source, target };
  if (filterNodeName !== undefined) opts['node-name'] = filterNodeName;
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
  p.patchNode(cbw, { extra: { ...(p.node(cbw)!.extra ?? {}), refs: 1 } });
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
  const child = filterChild(p, cbw)?.child;
  if (child) replaceNode(p, cbw, child, { autoSkip: true, detachSubchain: true });
  dropRef(p, cbw);
}

/** backup_job_create, checks in QEMU's order. */
export function startBackup(ctx: JobCtx, o: BackupStart): Job {
  const { p } = ctx;
  if (o.bs === o.target) throw new QmpError('Source and target cannot be the same');
  // bdrv_get_device_name(target): a node has no device name in qemu-storage-daemon
  if (o.compress && !supportsCompressedWrites(p, o.target)) throw new QmpError('Compression is not supported for this drive ');
  const sb = opBlocker(p, o.bs, 'backup-source');
  if (sb) throw new QmpError(`Node '${o.bs}' is busy: ${sb}`);
  const tb = opBlocker(p, o.target, 'backup-target');
  if (tb) throw new QmpError(`Node '${o.target}' is busy: ${tb}`);
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
    addAnonBitmap(p, o.bs, successorKey(o.jobId), bm.granularity, bm.disabled);
  }
  // len = bdrv_getlength(bs); target_len = bdrv_getlength(target)
  if (getLength(p, o.bs) !== getLength(p, o.target)) throw new QmpError('Source and target image have different sizes');

  const cbw = cbwAppend(p, o.bs, o.target, o.filterNodeName, o.onAbortResidue);
  const cs = blockCopyClusterSize(p, o.target);
  if (o.maxChunk && o.maxChunk < cs) throw new QmpError(`Required max-chunk (${o.maxChunk}) is less than backup cluster size (${cs})`);

  p.step('job-create');
  const data: BackupData = {
    kind: 'backup', cbw, source: o.bs, target: o.target, sync: o.sync, bitmap: o.bitmap, bitmapMode: o.bitmapMode,
    ...(o.txn ? { txn: o.txn } : {}), unblock: { [cbw]: ['dataplane'] },
  };
  const job = createJob(ctx, {
    id: o.jobId, type: 'backup', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed,
    data: { ...data }, aio: p.node(cbw)!.aio, mainNode: { node: cbw, perm: 0, shared: PERM_ALL },
  });
  // "Required permissions are taken by copy-before-write filter target"
  addJobEdge(p, job.id, o.target, 'target', 0, PERM_ALL);
  return p.job(job.id)!;
}

const successorKey = (job: string) => `successor:${job}`;

/**
 * Whether backup_run has anything to copy (the copy loop's work, as backupRunStart decides it):
 * sync full the whole source, sync top its allocated bytes, sync none nothing; a bitmap sync is
 * taken to copy (its bits are not looked at here).
 */
export function backupCopies(p: Proc, d: { sync?: unknown; source?: unknown }): boolean {
  if (typeof d.source !== 'string' || !p.node(d.source) || getLength(p, d.source) === 0) return false;
  if (d.sync === 'none') return false;
  return d.sync !== 'top' || anyAllocated(p, d.source);
}

/** The job layer's bytes the copy loop meets: the first non-filter node's own allocation. */
function anyAllocated(p: Proc, node: string): boolean {
  let cur = node;
  for (let i = 0; isFilter(p, cur) && i < 10000; i++) cur = filterChild(p, cur)?.child ?? cur;
  const len = p.node(cur)?.size ?? 0;
  for (let off = 0, i = 0; off < len && i < 100000; i++) {
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
export function backupRunStart(ctx: JobCtx, id: string, o: { onSourceError?: string; onTargetError?: string }): void {
  const { p } = ctx;
  const j = p.job(id);
  if (!j) return;
  const d = j.data as unknown as BackupData;
  const reports = (a: string | undefined) => !['stop', 'ignore'].includes(a ?? 'report');
  if (!p.node(d.source) || !p.node(d.target) || getLength(p, d.source) === 0) return;
  const readable = snapshotAccessReadable(p, d.source);
  if (d.sync === 'top' && !readable) {
    sendJob(ctx, id, { type: 'FAIL', error: 'Operation not supported' });
    return;
  }
  const copies = d.sync === 'full' || (d.sync === 'top' && anyAllocated(p, d.source));
  if (!copies) return;
  if ((!readable && reports(o.onSourceError)) || (readable && !snapshotAccessWritable(p, d.target) && reports(o.onTargetError))) {
    sendJob(ctx, id, { type: 'FAIL', error: 'Operation not supported' });
    return;
  }
  // block_copy's first write into a qcow2 target over a raw `size` window needs a cluster past
  // the window: -ENOSPC (target-write.ts qcow2OutOfRoom); with on-target-error enospc the job
  // stops instead (not modelled, like stop). The write follows a read of the source, which
  // yields: the job fails after the QMP reply, when it is next let run (failsWith,
  // x-blockgraph-job-advance)
  const len = getLength(p, d.source);
  if (reports(o.onTargetError) && o.onTargetError !== 'enospc' && targetOutOfRoom(p, d.target, 0, len)) {
    patchJobData(p, id, { failsWith: ENOSPC });
    return;
  }
  // a job without a rate limit copies everything before it settles (the fuzz waits for it);
  // a rate-limited one copies its first task (block_copy_dirty_clusters: the rate limit is
  // asked before each task, and only the bytes dispatched so far count, so the first goes at
  // once) and then sleeps for the limit
  backupCopy(p, d, j.speed !== 0);
}

/** BLOCK_COPY_MAX_BUFFER (block/block-copy.c): a task's bytes, without copy_range (7.2's default) */
const BLOCK_COPY_MAX_BUFFER = 1024 * 1024;

/**
 * backup_run to its end (a `wait` step moves a rate-limited backup on, x-blockgraph-job-advance):
 * what the copy loop has not copied yet lands in the target now (backupCopy; copying a piece
 * again changes nothing).
 */
export function backupRunToEnd(p: Proc, id: string): void {
  const d = p.job(id)?.data as unknown as BackupData | undefined;
  if (d?.kind !== 'backup' || !p.node(d.source) || !p.node(d.target) || getLength(p, d.source) === 0) return;
  if ((d as { failsWith?: string }).failsWith !== undefined) return;
  backupCopy(p, d);
}

/**
 * backup_loop -> block_copy: the bytes the job copies land in the target (graph/jobs/guest-write.ts),
 * so a qcow2 target's file grows with the clusters they allocate. Sync full reads the whole
 * source chain, sync top only what the source's own layer holds (block_copy_reset_unallocated).
 * Only data pieces are written here: ranges that read as zeroes go out as write_zeroes
 * (block_copy_do_copy with BLOCK_COPY_ZERO), not modelled.
 */
function backupCopy(p: Proc, d: BackupData, firstTask = false): void {
  const len = p.node(d.source)?.size ?? 0;
  for (let pos = 0, guard = 0; pos < len && guard < 1_000_000; guard++) {
    const st = d.sync === 'top' ? layerStatus(p, skipFiltersDown(p, d.source), pos, len - pos) : allocatedAbove(p, d.source, null, true, pos, len - pos);
    let n = st.n > 0 ? st.n : len - pos;
    // firstTask: block_copy_dirty_clusters' first task, a dirty range of at most
    // BLOCK_COPY_MAX_BUFFER that block_copy_block_status shrinks to one status run; with
    // skip_unallocated (sync top) an unallocated run is skipped without counting for the rate
    // limit, so the first task is the first allocated run
    const counts = d.sync === 'full' || (d.sync === 'top' && st.alloc);
    if (firstTask && counts) n = Math.min(n, BLOCK_COPY_MAX_BUFFER);
    if (st.alloc && (d.sync === 'full' || d.sync === 'top')) writeGuestData(p, d.target, pos, n);
    if (firstTask && counts) return;
    pos += n;
  }
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
  if (sync) {
    abdicateTo(p, d.source, successorKey(job), d.bitmap, { disabled: !successorEnabled, busy: false, readonly: false, inconsistent: false });
    return;
  }
  p.patchNode(d.source, { bitmaps: bitmapsOf(p, d.source).map((b) => (b.name === d.bitmap ? { ...rest, disabled: !successorEnabled, busy: false } : b)) });
  releaseAnonBitmap(p, d.source, successorKey(job));
}

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
