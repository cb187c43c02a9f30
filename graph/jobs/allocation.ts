// Block status as the jobs' copy loops ask for it (block/io.c bdrv_is_allocated and
// bdrv_is_allocated_above -> bdrv_co_common_block_status_above): which bytes a layer holds
// itself. A qcow2 layer holds the clusters its image has data in; raw and protocol layers hold
// everything (file-posix reports data or zeroes, both count as allocated); null-co only with
// read-zeroes; filters pass their child's status through. Beyond a short layer's end, the
// zeroes it synthesises count as allocated there.
import { imageBehind } from '../images.js';
import type { Proc } from '../proc.js';
import { filterOrCowBs, isFilter } from './chain.js';
import { getLength } from '../length.js';
import { staleL2Garbage, staleQcow2Image } from './stale-qcow2.js';

export interface Status { alloc: boolean; n: number }

/** One layer's own status at `offset` for at most `bytes` (n = 0: offset at or beyond its end). */
export function layerStatus(p: Proc, node: string, offset: number, bytes: number): Status {
  const n = p.node(node);
  if (!n) return { alloc: false, n: 0 };
  // bdrv_co_do_block_status: total_size = bdrv_co_getlength(bs), whole sectors
  // (bs->total_sectors * BDRV_SECTOR_SIZE): a file node over a host file of 196616 bytes answers
  // for 197120, so a stream from it copies the tail sector too (fuzz 3531562645)
  const size = getLength(p, node);
  if (offset >= size) return { alloc: false, n: 0 };
  const max = Math.min(bytes, size - offset);
  switch (n.driver) {
    case 'qcow2': {
      // an L2 table read from a blockdev-snapshot overlay's data: a compressed entry, data
      // (qcow2_co_block_status: BDRV_BLOCK_DATA; graph/jobs/stale-qcow2.ts)
      const stale = staleL2Garbage(p, node, offset);
      if (stale?.garbage) return { alloc: true, n: Math.min(stale.end - offset, max) };
      // where the L2 table is read from the image's own bytes (the overlay holds none there), its
      // entries are the image's: the node's allocation is the stale image's, one L2 table's
      // region at a time (qcow2_get_host_offset answers within one L2 slice)
      const file = p.fileChild(node)?.child;
      const img = stale ? staleQcow2Image(p, node)?.image : file ? imageBehind(p, file) : undefined;
      const lim = stale ? Math.min(max, stale.end - offset) : max;
      for (const [s, e] of img?.data ?? []) {
        if (offset < s) return { alloc: false, n: Math.min(s - offset, lim) };
        if (offset < e) return { alloc: true, n: Math.min(e - offset, lim) };
      }
      return { alloc: false, n: lim };
    }
    case 'qed': {
      // bdrv_qed_co_block_status: qed_find_cluster's QED_CLUSTER_FOUND is DATA, QED_CLUSTER_ZERO
      // ZERO (both allocated), an unallocated L1 or L2 entry 0: the clusters the image's writes
      // (qed_aio_write_alloc) have linked into its tables
      const file = p.fileChild(node)?.child;
      const img = file ? imageBehind(p, file) : undefined;
      for (const [s, e] of img?.format === 'qed' ? img.data ?? [] : []) {
        if (offset < s) return { alloc: false, n: Math.min(s - offset, max) };
        if (offset < e) return { alloc: true, n: Math.min(e - offset, max) };
      }
      return { alloc: false, n: max };
    }
    case 'raw': {
      // raw_co_block_status answers BDRV_BLOCK_RAW (at its offset into the file), and
      // bdrv_co_block_status takes its file's own status instead: over a protocol node that is
      // data or zeroes (allocated), over a format node (raw over qcow2) that node's clusters
      // (fuzz 1100792543: a stream whose bottom is raw over an empty qcow2 copies nothing)
      let file = p.fileChild(node)?.child;
      // ... and through filters below it: a filter's block status is its child's (io.c
      // bdrv_co_block_status: BDRV_BLOCK_RAW at the same offset for a driver without
      // .bdrv_co_block_status; blkdebug_co_block_status answers the same unless a rule injects an
      // error into block-status), so raw over blkdebug over an empty qcow2 holds nothing (fuzz 1322587509)
      for (let i = 0; file !== undefined && isFilter(p, file) && !injectsBlockStatus(p, file) && i < 10000; i++) file = filterOrCowBs(p, file) ?? undefined;
      const off = Number(n.options.offset ?? 0) || 0;
      const st = file ? layerStatus(p, file, offset + off, max) : undefined;
      if (!st || st.n === 0) return { alloc: true, n: max };
      return { alloc: st.alloc, n: Math.min(st.n, max) };
    }
    case 'null-co': case 'null-aio':
      return { alloc: n.options['read-zeroes'] === true || n.options['read-zeroes'] === 'on', n: max };
    default:
      return { alloc: true, n: max };
  }
}

/** A blkdebug rule that fails block-status requests (blkdebug rule_check, iotype 'block-status'; not in the default mask). */
function injectsBlockStatus(p: Proc, node: string): boolean {
  const n = p.node(node);
  if (n?.driver !== 'blkdebug') return false;
  const rules = n.options['inject-error'];
  return Array.isArray(rules) && rules.some((r) => typeof r === 'object' && r !== null && (r as Record<string, unknown>).iotype === 'block-status');
}

/**
 * bdrv_is_allocated_above(top, base, include_base, offset, bytes): the first layer from `top`
 * down (to `base`, inclusive when asked) that holds the bytes decides; the run length shrinks
 * to the shortest unallocated run above it.
 */
export function allocatedAbove(p: Proc, top: string | null, base: string | null, includeBase: boolean, offset: number, bytes: number): Status {
  let n = bytes;
  // bdrv_co_common_block_status_above: the first layer asked (a filter answers with its child's
  // status) at or beyond its end gives pnum 0, unallocated; only a lower layer the top deferred
  // to synthesises zeroes there that count as allocated. block/io.c is the same on 7.2 and 10.0:
  // a speed-limited stream whose backing ends before the top's unallocated rest copies nothing
  // and ends at once on both (fuzz --qemu 10.0 243363828); rule 'block-status-first-layer-eof'
  // keeps only mirror_dirty_init's versioned abort (graph/jobs/mirror-dirty.ts)
  let first = true;
  for (let cur = top, i = 0; cur && i < 100000; cur = filterOrCowBs(p, cur), i++) {
    if (!includeBase && cur === base) break;
    if (!isFilter(p, cur)) {
      const st = layerStatus(p, cur, offset, n);
      if (st.n === 0 && first) return { alloc: false, n: 0 };
      first = false;
      if (st.n === 0) return { alloc: true, n };   // short layer: synthesised zeroes
      if (st.alloc) return st;
      n = Math.min(n, st.n);
    }
    if (cur === base) break;
  }
  return { alloc: false, n };
}
