// What a job's I/O meets at a snapshot-access node (block/snapshot-access.c, 7.2): reads and
// block status go to bdrv_co_preadv_snapshot / bdrv_co_snapshot_block_status of its file, which
// only copy-before-write implements (cbw_co_preadv_snapshot, cbw_co_snapshot_block_status):
// -ENOTSUP over anything else; writes, write-zeroes and discards always fail with -ENOTSUP
// (snapshot_access_co_pwritev_part, snapshot_access_co_pwrite_zeroes). Filters pass I/O and block
// status down to their filtered child (BDRV_BLOCK_RAW), and so does raw to its file, so what
// counts is the first node below the one the job uses that is neither.
import type { Proc } from '../proc.js';
import { filterChild, isFilter } from './chain.js';

function skipFilters(p: Proc, node: string): string {
  let cur = node;
  for (let i = 0; i < 10000; i++) {
    // raw passes I/O to its file child too (raw_co_preadv/pwritev), and its block status
    // (BDRV_BLOCK_RAW) is asked of the file again (bdrv_co_block_status)
    const next = isFilter(p, cur) ? filterChild(p, cur)?.child : p.node(cur)?.driver === 'raw' ? p.fileChild(cur)?.child : undefined;
    if (!next) break;
    cur = next;
  }
  return cur;
}

/** Reads and block status of `node` work as far as snapshot-access goes. */
export function snapshotAccessReadable(p: Proc, node: string): boolean {
  const cur = skipFilters(p, node);
  if (p.node(cur)?.driver !== 'snapshot-access') return true;
  const file = p.fileChild(cur)?.child;
  return !!file && p.node(file)?.driver === 'copy-before-write';
}

/** Writes to `node` do not end at a snapshot-access node. */
export function snapshotAccessWritable(p: Proc, node: string): boolean {
  return p.node(skipFilters(p, node))?.driver !== 'snapshot-access';
}
