// blockdev-create of qcow2 with `preallocation` (fuzz 742733146): how long qcow2_co_create leaves
// the image file. qcow2_co_create writes the header (cluster 0), a refcount table (cluster 1) with
// one refcount block (cluster 2), opens the image (qcow2_alloc_clusters of those 3) and gives it its
// size with blk_co_truncate(size, preallocation): qcow2_co_truncate first grows the L1 table
// (qcow2_grow_l1_table: its clusters from s->free_cluster_index, 3), then preallocates.
// Modelled where every host cluster the create takes lies in the range the first refcount block
// covers and the refcount structures are the ones qcow2_refcount_area lays out from it (no
// alloc_refcount_block on the way); undefined elsewhere (the model then keeps the file as an
// unallocated image leaves it).

export type Qcow2Prealloc = 'metadata' | 'falloc' | 'full';

export interface Qcow2PreallocLayout {
  clusterSize: number;
  size: number;
  refcountBits: number;
  extendedL2: boolean;
}

const REFTABLE_ENTRY_SIZE = 8;

/**
 * qcow2_refcount_metadata_size (block/qcow2.c) with generous_increase false: the fixed point of
 * refcount blocks and table clusters covering `clusters` and themselves; the number of blocks.
 */
export function refcountBlockCount(clusters: number, cs: number, refcountBits: number): number {
  const perTableCluster = cs / REFTABLE_ENTRY_SIZE;
  const perBlock = (cs * 8) / refcountBits;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  do {
    last = n;
    blocks = Math.ceil((clusters + table + blocks) / perBlock);
    table = Math.ceil(blocks / perTableCluster);
    n = clusters + blocks + table;
  } while (n !== last);
  return blocks;
}

/**
 * The image file's length once qcow2_co_create's blk_co_truncate has preallocated, or undefined
 * where the layout is not modelled (above).
 */
export function qcow2PreallocFileLength(l: Qcow2PreallocLayout, mode: Qcow2Prealloc): number | undefined {
  const cs = l.clusterSize;
  const perL2 = cs / (l.extendedL2 ? 16 : 8); // l2_entry_size
  const perBlock = (cs * 8) / l.refcountBits; // s->refcount_block_size
  // size_to_l1, and qcow2_grow_l1_table's qcow2_alloc_clusters(new_l1_size * L1E_SIZE) at cluster 3
  const l1Entries = Math.ceil(l.size / (cs * perL2));
  const l1Clusters = Math.ceil((l1Entries * 8) / cs);
  const afterL1 = 3 + l1Clusters;
  const data = Math.ceil(l.size / cs);
  const l2Used = Math.ceil(data / perL2);
  if (data === 0) return undefined;
  if (mode === 'metadata') {
    // preallocate_co: qcow2_alloc_host_offset over the whole range; handle_alloc's
    // get_cluster_table allocates each L2 table (l2_allocate -> qcow2_alloc_clusters) before the
    // data clusters it maps (do_alloc_cluster_offset), both from s->free_cluster_index, so they
    // alternate from cluster `afterL1` on
    const end = afterL1 + l2Used + data;
    if (end > perBlock) return undefined;
    // "Extend the image to the last allocated sector": bdrv_co_truncate(host_offset + cur_bytes)
    // of the last chunk, whose bytes end with the image; an image ending inside a cluster had its
    // cow_end (calculate_l2_meta: to the cluster's end) written by qcow2_handle_l2meta's
    // perform_cow first, which already took the file to the end of that cluster (16 MiB + 512:
    // 17,170,432, recorded)
    return end * cs;
  }
  // falloc/full: old_file_size is the end of the last cluster in use (qcow2_get_last_cluster: the
  // L1 table's); qcow2_refcount_area(old_file_size, data + L2 tables (+1 for a head/tail), exact)
  // puts the new refcount blocks there (refcount table entry 0, cluster 2, is kept) and the new
  // refcount table after them, and frees the old table (cluster 1); qcow2_alloc_clusters_at takes
  // the data clusters right after, and the file is truncated (with the mode) to their end
  const start = afterL1;
  const blocks = refcountBlockCount(start + data + l2Used + 1, cs, l.refcountBits);
  if (start >= perBlock) return undefined;
  const tableEntries = Math.ceil(blocks / (cs / REFTABLE_ENTRY_SIZE)) * (cs / REFTABLE_ENTRY_SIZE);
  const tableClusters = (tableEntries * REFTABLE_ENTRY_SIZE) / cs;
  const allocationStart = start + (blocks - 1) + tableClusters;
  const newFileEnd = allocationStart + data;
  // qcow2_alloc_cluster_link_l2's L2 tables (l2_allocate -> qcow2_alloc_clusters): the first in
  // the freed old refcount table (s->free_cluster_index went back to 1), the rest past the data
  // (every cluster between is in use), written whole when the cache is flushed
  const end = newFileEnd + Math.max(0, l2Used - 1);
  if (end > blocks * perBlock) return undefined;
  return end * cs;
}
