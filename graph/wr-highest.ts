// BlockDriverState.wr_highest_offset (query-blockstats' `wr_highest_offset`): the end of the
// highest write request a node has finished. bdrv_co_write_req_finish does
// stat64_max(&bs->wr_highest_offset, offset + bytes) for every BDRV_TRACKED_WRITE (data and
// writes of zeroes alike; not discards or truncates) that reached the node through its request
// layer (bdrv_co_pwritev_part, bdrv_co_pwrite_zeroes). Kept where the model knows the writes it
// makes: jobs' copies into their targets and the filters and raw nodes below them, a qcow2 node's
// host writes of the clusters it allocates, qcow2_co_truncate's header rewrite and
// qcow2_co_create's metadata. Other nodes answer 0, as an idle node does.
import type { Proc } from './proc.js';
import { WRITE_PASS_THROUGH } from './pass-through.js';


/** stat64_max(&bs->wr_highest_offset, end) on `node`. */
export function noteWrite(p: Proc, node: string, end: number): void {
  const n = p.node(node);
  if (!n || !(end > (n.wrHighest ?? 0))) return;
  p.patchNode(node, { wrHighest: end });
}

/**
 * A write request of [offset, offset + bytes) into `dest`, and the requests it becomes below it
 * through filters (same offsets) and raw (shifted by its offset). driverLevel: the write entered
 * `dest` below its request layer (bdrv_driver_pwritev: copy-on-read), so only the nodes below count it.
 */
export function noteWritePath(p: Proc, dest: string, offset: number, bytes: number, driverLevel = false): void {
  if (bytes <= 0) return;
  let cur: string | undefined = dest;
  let off = offset;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return;
    if (!(driverLevel && cur === dest)) noteWrite(p, cur, off + bytes);
    const via: string | undefined = WRITE_PASS_THROUGH[n.driver] ?? (n.driver === 'raw' ? 'file' : undefined);
    if (via === undefined) return;
    if (n.driver === 'raw') off += Number(n.options.offset ?? 0) || 0;
    const from: string = cur;
    cur = p.childrenOf(from).find((e) => e.name === via)?.child;
  }
}

/** The wr_highest_offset a node reports (0: no write finished). */
export function wrHighestOffset(p: Proc, node: string): number {
  return p.node(node)?.wrHighest ?? 0;
}
