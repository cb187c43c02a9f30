// qcow2_co_truncate (block/qcow2.c, 7.2) on the image: block_resize of a qcow2 node rewrites the
// header's size (bdrv_pwrite_sync of QCowHeader.size), so any later open of the image, in this
// process or another, finds the new size. Growing within the L1 table's entries (every size the
// model meets below 512 MiB with 64 KiB clusters) changes nothing else on disk. Shrinking
// (PREALLOC_MODE_OFF, block_resize's) discards the clusters past the new end:
//  - qcow2_cluster_discard(ROUND_UP(offset, cluster_size) .. old length, full_discard): each L2
//    region the range touches first gets an L2 table where it has none (discard_in_l2_slice ->
//    get_cluster_table -> l2_allocate: a new cluster at the first free one, the file's end), then
//    its clusters are freed;
//  - qcow2_shrink_l1_table frees the L2 tables past the new L1 size;
//  - the file is cut after the last cluster still in use (qcow2_get_last_cluster), when that is
//    shorter than the file; bdrv_co_truncate(bs->file) failing is only a warning.
// The layout is the one graph/open.ts qcow2FileSize assumes (metadata, then data in ascending
// guest order, an L2 table first where the data enters a new region), so what is left in use
// after a shrink is a prefix of the file. An image with snapshot metadata (or clusters freed since
// its layout froze) shrinks on the clusters qcow2_alloc_clusters placed (graph/snapshot-clusters.ts
// afterShrink: what a snapshot still uses only loses a reference). Not modelled: an external
// data file, and L1 tables that must grow (sizes past 512 MiB): for those only the header's size
// changes.
import { allocOwner, metadataView, writeView } from './guest-image.js';
import { afterShrink, metadataAllocator, withMetaIo } from './snapshot-clusters.js';
import { qcow2Discards } from './discard-stats.js';
import { BITMAP_DEFAULT, dirtyBitmapCheck, findDirtyBitmap, qcow2Image } from './bitmaps.js';
import { growWrittenNodes } from './length.js';
import { noteWritePath } from './wr-highest.js';
import { firstFreeRun } from './qcow2-bitmap-clusters.js';
import { hostFileLength, qcow2FileSize, walkQcow2Layout } from './open.js';
import type { Proc } from './proc.js';
import type { Image } from './types.js';
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from './qemu-abort.js';

/**
 * qcow2_co_truncate's refusals after the size check: a v2 image (s->qcow_version < 3, the
 * image's header) with internal snapshots (s->nb_snapshots: the node's in-memory table,
 * graph/internal-snapshot.ts), whose snapshot table need not record each snapshot's disk size.
 */
export function qcow2TruncateCheck(p: Proc, node: string): void {
  const file = p.fileChild(node)?.child;
  const v2 = (file ? metadataView(p, node)?.img.compat : undefined) === '0.10';
  if (v2 && p.node(node)?.snapshots?.length) throw new QmpError("Can't resize a v2 image which has snapshots");
  qcow2TruncateBitmapsCheck(p, node);
}

/**
 * qcow2_truncate_bitmaps_check (block/qcow2-bitmap.c, the same on 7.2 and 10.0): with bitmaps in
 * the image's directory (s->nb_bitmaps; bitmap_list_load reads it in directory order), each
 * must be in memory ("were not loaded": e.g. a remove whose transaction failed took it out of
 * neither) and pass bdrv_dirty_bitmap_check(BDRV_BITMAP_DEFAULT): an inconsistent one (loaded
 * IN_USE from an image another writer holds) refuses the resize, as do busy and readonly ones.
 */
function qcow2TruncateBitmapsCheck(p: Proc, node: string): void {
  const dir = qcow2Image(p, node)?.bitmaps;
  if (!dir?.length) return;
  for (const e of dir) {
    const b = findDirtyBitmap(p, node, e.name);
    if (!b) throw new QmpError('Cannot resize qcow2 with persistent bitmaps that were not loaded into memory');
    dirtyBitmapCheck(b, BITMAP_DEFAULT);
  }
}

type Truncate = (p: Proc, node: string, size: number, depth?: number) => void;

/** offsetof(QCowHeader, size) + sizeof(uint64_t) */
const QCOW_HEADER_SIZE_END = 32;

/** The image behind `node` (a qcow2 node) after qcow2_co_truncate from `oldSize` to `size`. */
export function qcow2TruncateImage(p: Proc, node: string, oldSize: number, size: number, coTruncate: Truncate): void {
  // the image its metadata reach: a host image file, or a format node's guest view (graph/guest-image.ts)
  const file = p.fileChild(node)?.child;
  const view = metadataView(p, node);
  const img = view?.img;
  if (!file || !view || !img || img.format !== 'qcow2') return;
  // the header's new size: bdrv_co_pwrite_sync(bs->file, offsetof(QCowHeader, size), 8)
  noteWritePath(p, file, 0, QCOW_HEADER_SIZE_END);
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const simple = !img.snapshots?.length && !img.snapClusters && img.dataFile === undefined
    && Math.ceil(size / l2Span) <= Math.ceil(img.size / l2Span);
  if (size < oldSize && !simple && img.dataFile === undefined && Math.ceil(size / l2Span) <= Math.ceil(img.size / l2Span)) {
    // an image with snapshot metadata or freed clusters: where its clusters are comes from
    // qcow2_alloc_clusters (graph/snapshot-clusters.ts afterShrink), the same steps on them
    const { result: r, io } = withMetaIo(() => afterShrink(img, size, allocOwner(p, node)));
    writeView(p, view.key, r.img);
    // qcow2_cluster_discard(QCOW2_DISCARD_ALWAYS) and qcow2_shrink_l1_table's frees reach bs->file
    qcow2Discards(p, node, io.freed, cs);
    if (r.end > hostFileLength(img)) growWrittenNodes(p, file, r.end);
    if (r.cut !== undefined) {
      try {
        coTruncate(p, file, r.cut);
      } catch (e) {
        if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      }
    }
    return;
  }
  const oldL1 = Math.ceil(img.size / l2Span), newL1 = Math.ceil(size / l2Span);
  const l1ClustersOf = (entries: number) => Math.ceil((8 * entries) / cs);
  if (size > oldSize && newL1 > oldL1 && l1ClustersOf(newL1) === l1ClustersOf(oldL1)) {
    // qcow2_grow_l1_table(new_l1_size, exact): the new table goes into the first free clusters
    // while the old one is still in use (qcow2_alloc_clusters), its new_l1_size * L1E_SIZE bytes
    // written there (bdrv_pwrite_sync: the file grows to their end), then the header points at it
    // and the old table is freed. The layout's L1 clusters keep their place in the model (later
    // allocations that would reuse them are not followed).
    // on an image whose clusters qcow2_alloc_clusters placed, the new table is in use there from
    // now on (metadataAllocator); the old one's reuse is not followed
    const shared = img.snapClusters ? metadataAllocator(img, allocOwner(p, node)) : undefined;
    const at = shared ? shared.alloc(l1ClustersOf(newL1)) : firstFreeRun(img, newL1 * 8, qcow2FileSize);
    if (shared && at !== undefined) {
      // then the old table is freed (qcow2_free_clusters, QCOW2_DISCARD_OTHER): the first-fit
      // search reuses it (a snapshot's L1 copy after the grow: qr3-snap-resize-grow)
      const [old, n] = img.snapClusters!.activeL1 ?? [3, l1ClustersOf(oldL1)];
      for (let c = old; c < old + n; c++) shared.free(c);
      shared.meta().activeL1 = [at, l1ClustersOf(newL1)];
    }
    if (at !== undefined) {
      const end = at * cs + newL1 * 8;
      writeView(p, view.key, { ...img, size, fileLength: Math.max(hostFileLength(img), end), ...(shared ? { snapClusters: shared.meta() } : {}) });
      growWrittenNodes(p, file, end);
      noteWritePath(p, file, 0, end);
      return;
    }
  }
  if (size >= oldSize || !simple) {
    writeView(p, view.key, { ...img, size });
    return;
  }
  const discardStart = Math.ceil(size / cs) * cs;
  if (discardStart >= oldSize) {
    writeView(p, view.key, { ...img, size });
    return;
  }
  const regionsOf = (data: [number, number][]) => {
    const out = new Set<number>();
    for (const [s, e] of data) for (let r = Math.floor(s / l2Span); r <= Math.floor((e - 1) / l2Span); r++) out.add(r);
    return out;
  };
  const before = img.data ?? [];
  const withL2 = regionsOf(before);
  // the regions the discard touches that have no L2 table yet get one (l2_allocate)
  const touched: number[] = [];
  for (let r = Math.floor(discardStart / l2Span); r <= Math.floor((oldSize - 1) / l2Span); r++) touched.push(r);
  const newL2 = touched.filter((r) => !withL2.has(r));
  const usedBefore = Math.ceil(qcow2FileSize(img) / cs);
  const fileBefore = hostFileLength(img);
  const grown = newL2.length ? Math.max(fileBefore, (usedBefore + newL2.length) * cs) : fileBefore;
  // what stays: the data before the discard, the L2 tables of the regions inside the new L1 size
  // that hold some of it or that the discard touched
  const kept: [number, number][] = [];
  for (const [s, e] of before) if (s < discardStart) kept.push([s, Math.min(e, discardStart)]);
  const l1Entries = Math.ceil(size / l2Span);
  const keptL2 = new Set([...regionsOf(kept), ...touched].filter((r) => r < l1Entries));
  const keptClusters = kept.reduce((n, [s, e]) => n + Math.ceil((e - s) / cs), 0);
  const l1Clusters = Math.ceil((8 * Math.ceil(img.size / l2Span)) / cs);
  const usedAfter = 3 + l1Clusters + keptL2.size + keptClusters;
  const next: Image = { ...img, size, data: kept.length ? kept : undefined, fileLength: grown };
  if (!next.data) delete next.data;
  writeView(p, view.key, next);
  shrinkIo(p, node, file, img, discardStart, size, touched, newL2, usedBefore);
  // the L2 tables' writes reach the file (bdrv_co_write_req_finish grows the nodes on the way)
  if (grown > fileBefore) growWrittenNodes(p, file, grown);
  // qcow2_co_truncate: bdrv_co_truncate(bs->file, (last_cluster + 1) * cluster_size), a failure
  // only warned about (warn_reportf_err)
  if (usedAfter * cs < grown) {
    try {
      coTruncate(p, file, usedAfter * cs);
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    }
  }
}

/**
 * The simple shrink's I/O on bs->file: qcow2_cluster_discard(full_discard, QCOW2_DISCARD_ALWAYS)
 * frees the data clusters past the new end in one cache_discards section, qcow2_shrink_l1_table
 * frees each L2 table past the new L1 size with a qcow2_free_clusters of its own (both discarded
 * as the node passes them: graph/discard-stats.ts), and the L2 tables the discard changed inside
 * the new L1 size are written back whole (the L2 cache's flush; the ones past it are dropped from
 * the cache first): wr_highest_offset.
 */
function shrinkIo(p: Proc, node: string, file: string, img: Image, discardStart: number, size: number, touched: number[], newL2: number[], usedBefore: number): void {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const l1Entries = Math.ceil(size / l2Span);
  const freed: number[] = [];
  const l2Freed: number[] = [];
  let wrote = 0;
  walkQcow2Layout(img, (c, host, l2) => {
    if (c * cs >= discardStart) freed.push(host);
    const r = Math.floor((c * cs) / l2Span);
    if (l2 !== undefined) {
      if (r >= l1Entries) l2Freed.push(l2);
      else if (touched.includes(r)) wrote = Math.max(wrote, (l2 + 1) * cs);
    }
    return undefined;
  });
  newL2.forEach((r, i) => { if (r < l1Entries) wrote = Math.max(wrote, (usedBefore + i + 1) * cs); });
  qcow2Discards(p, node, [{ type: 'always', clusters: freed }, ...l2Freed.map((c) => ({ type: 'always' as const, clusters: [c] }))], cs);
  if (wrote > 0) noteWritePath(p, file, 0, wrote);
}
