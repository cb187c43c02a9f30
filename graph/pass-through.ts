import type { Proc } from './proc.js';

// The filters a read or write request goes through unchanged: the child each passes it to at the
// same offset (each driver's .bdrv_co_preadv / .bdrv_co_pwritev calls bdrv_co_preadv /
// bdrv_co_pwritev on that child: throttle_co_pwritev, cor_co_preadv_part, compress_co_preadv_part,
// cbw_co_preadv, preallocate_co_pwritev_part, blk_log_writes_co_do_file_pwritev,
// blkdebug_co_preadv's bs->file, which is its `image`). raw passes it to `file` shifted by its
// `offset` (raw_adjust_offset), which callers add themselves. Callers that model more of a filter
// (blkdebug's rules, copy-on-read's writes) handle it before looking here.
export const PASS_THROUGH: Readonly<Record<string, string>> = {
  throttle: 'file', 'copy-on-read': 'file', compress: 'file', 'copy-before-write': 'file', preallocate: 'file',
  blklogwrites: 'file', blkdebug: 'image',
};

/** The same table where a write is meant (the bitmap contents, wr_highest_offset, a job's write). */
export const WRITE_PASS_THROUGH = PASS_THROUGH;

/**
 * The node and offset a write at `offset` of `node` reaches through the filters (WRITE_PASS_THROUGH,
 * each driver's .bdrv_co_pwritev / .bdrv_co_pwrite_zeroes handing the request to that child at
 * the same offset) and raw nodes (raw_co_pwritev / raw_co_pwrite_zeroes: raw_adjust_offset adds
 * the slice's `offset`) on the way down: `node` and `offset` themselves when it is neither.
 */
export function writeReaches(p: Proc, node: string, offset: number): { node: string; offset: number } {
  let cur = node;
  let off = offset;
  for (let i = 0; i < 1000; i++) {
    const n = p.node(cur);
    const via = n === undefined ? undefined : WRITE_PASS_THROUGH[n.driver] ?? (n.driver === 'raw' ? 'file' : undefined);
    const next = via === undefined ? undefined : p.child(cur, via)?.child;
    if (next === undefined) break;
    if (n!.driver === 'raw') off += Number(n!.options.offset ?? 0) || 0;
    cur = next;
  }
  return { node: cur, offset: off };
}
