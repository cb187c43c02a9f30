// fuzz 1430764569: a copy-before-write filter between a qcow2 node and its file (a backup whose
// source is the protocol node under the qcow2 node, or a user-added one) sizes its bitmaps at
// open (cbw_open: done_bitmap = bdrv_create_dirty_bitmap(bs, cluster_size); block_copy_state_new:
// copy_bitmap on the source) to the file's length then. A write through the qcow2 node that
// allocates clusters (a stream's copy-on-read, a commit's or mirror's copy into it) grows the
// file: qcow2_alloc_host_offset -> qcow2_cache_flush -> bdrv_pwrite through the filter ->
// cbw_co_pwritev -> cbw_do_copy_before_write -> bdrv_set_dirty_bitmap(done_bitmap, off, end - off)
// with `end` past the bitmap: hbitmap_set: Assertion `last < hb->size' failed. Both 7.2 and 10.0
// die (gdb backtrace, docs/fidelity.md). The model refuses the command whose write would do it.
import { addExtent, imageBehind } from '../images.js';
import { hostFileLength, withAllocation } from '../open.js';
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { cbwClusterSize } from '../block-copy.js';

/** The copy-before-write filter on the path from qcow2 node `dest` down to its host file, if any. */
export function cbwBelow(p: Proc, dest: string): string | undefined {
  let cur = p.fileChild(dest)?.child;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    if (n.driver === 'copy-before-write') return cur;
    const via = (name: string) => p.childrenOf(cur!).find((e) => e.name === name)?.child;
    if (n.driver === 'blkdebug') cur = via('image');
    else if (['throttle', 'copy-on-read', 'compress', 'preallocate'].includes(n.driver)) cur = via('file');
    else return undefined;
  }
  return undefined;
}

/**
 * Why writing guest bytes [offset, offset + n) into `dest` kills QEMU, or undefined: `dest` is a
 * qcow2 node with a copy-before-write filter under it, and the clusters the write allocates
 * grow the file past what the filter's bitmaps cover (its length at open, cluster-aligned).
 */
export function cbwGrowthAbort(p: Proc, dest: string, offset: number, n: number): string | undefined {
  const node = p.node(dest);
  if (!node || node.driver !== 'qcow2' || n <= 0) return undefined;
  const cbw = cbwBelow(p, dest);
  if (!cbw) return undefined;
  const img = imageBehind(p, cbw);
  if (!img) return undefined;
  const next = withAllocation(img, { ...img, data: addExtent(img.data, offset, Math.min(offset + n, node.size), img.clusterSize ?? 65536) });
  const grown = hostFileLength(next);
  if (grown <= hostFileLength(img)) return undefined;
  return cbwPassedBy(p, cbw, grown);
}

/** `cbw` when a file grown to `grown` bytes ends past what its bitmaps cover (its length at open, cluster-aligned). */
function cbwPassedBy(p: Proc, cbw: string, grown: number): string | undefined {
  const target = p.childrenOf(cbw).find((e) => e.name === 'target')?.child;
  const cs = target ? cbwClusterSize(p, cbw, target) : 65536;
  const covered = Math.ceil((p.node(cbw)?.size ?? 0) / cs) * cs;
  if (grown <= covered) return undefined;
  return cbw;
}

/**
 * The same abort from qcow2 node `q`'s metadata writes (fuzz 2744565156: an internal snapshot's L1
 * copy and table, qcow2_snapshot_create -> bdrv_pwrite(bs->file) through the filter) when they end
 * the file at `grown` bytes, longer than it was: refused.
 */
export function refuseCbwMetadataGrowth(p: Proc, q: string, before: number, grown: number): void {
  const cbw = cbwBelow(p, q);
  if (!cbw || grown <= before || !cbwPassedBy(p, cbw, grown)) return;
  throw new QemuAbortRefusal(
    `The metadata written for qcow2 node '${q}' grows its file past the end it had when the copy-before-write ` +
    `filter '${cbw}' below it was opened (QEMU aborts here: cbw_do_copy_before_write -> bdrv_set_dirty_bitmap: ` +
    "hbitmap_set: Assertion `last < hb->size' failed); refused by blockgraph: back up the qcow2 node, not its file",
    'cbw_do_copy_before_write',
  );
}

/** Refuses (QemuAbortRefusal) a write into `dest` that cbwGrowthAbort says kills QEMU. */
export function refuseCbwGrowth(p: Proc, dest: string, offset: number, n: number): void {
  if (!cbwGrowthAbort(p, dest, offset, n)) return;
  throw new QemuAbortRefusal(
    `A write into qcow2 node '${dest}' allocates clusters past the end its file had when the copy-before-write ` +
    `filter below it was opened (QEMU aborts here: cbw_do_copy_before_write -> bdrv_set_dirty_bitmap: ` +
    "hbitmap_set: Assertion `last < hb->size' failed); refused by blockgraph: back up the qcow2 node, not its file",
    'cbw_do_copy_before_write',
  );
}
