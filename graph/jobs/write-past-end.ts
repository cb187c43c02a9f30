// fuzz --qemu 10.0 4197392066 and 3430820474: a job's copy written into a raw node (or a filter)
// that is longer than the node below it. bdrv_co_pwritev goes down level by level (raw_co_pwritev
// adds the raw node's offset, a filter passes the request on), and at each level
// bdrv_co_write_req_prepare asserts `offset + bytes <= bs->total_sectors * BDRV_SECTOR_SIZE ||
// child->perm & BLK_PERM_RESIZE` for the child it writes. On 7.2 raw and the filters measure
// their length again at every request (has_variable_length, graph/rules.ts
// 'variable-length-drivers'), so what the job may write never passes the node below. On 10.0
// they keep the length they had at open (raw_refresh_limits copies its file's
// has_variable_length, false for a regular file or a format node): after a block_resize shrank
// the node below, or an external snapshot put a shorter overlay there, the job's writes pass
// that node's end, and a job's target link holds BLK_PERM_RESIZE only when mirror_start_job
// means to grow it (an active commit into a shorter base). QEMU dies during the copy; the model
// refuses the command that starts it (like graph/jobs/cbw-growth.ts).
import { PERM_Z } from '../perm.js';
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { rule } from '../rules.js';
import { filterChild, isFilter } from './chain.js';

const roundUp = (n: number) => Math.ceil(n / 512) * 512;

/** Refuses (QemuAbortRefusal) a job's write of [offset, offset + bytes) into `dest` that passes the end of a node below a stale-length layer. */
export function refuseWritePastEnd(p: Proc, dest: string, offset: number, bytes: number): void {
  if (bytes <= 0) return;
  const variable = rule(p, 'variable-length-drivers');
  let cur = dest;
  let off = offset;
  for (let i = 0; i < 10000; i++) {
    const n = p.node(cur);
    if (!n || variable.includes(n.driver)) return;
    let edge;
    if (n.driver === 'raw') {
      // raw_adjust_offset: a `size` window refuses the write itself (-ENOSPC) before its file sees it
      if (n.options.size !== undefined) return;
      edge = p.fileChild(cur);
      off += Number(n.options.offset ?? 0);
    } else if (isFilter(p, cur)) edge = filterChild(p, cur);
    else return;
    const child = edge ? p.node(edge.child) : undefined;
    if (!edge || !child) return;
    if (off + bytes > roundUp(child.size) && !(edge.perm & PERM_Z)) {
      throw new QemuAbortRefusal(
        `A write of ${bytes} bytes at offset ${off} of '${child.name}' through '${n.name}' passes its end (${roundUp(child.size)} bytes): ` +
        `'${n.name}' kept the length it had at open, and its '${edge.name}' link holds no resize permission ` +
        "(QEMU 10.0 aborts here: bdrv_co_write_req_prepare: Assertion `offset + bytes <= bs->total_sectors * BDRV_SECTOR_SIZE || child->perm & BLK_PERM_RESIZE' failed); refused by blockgraph",
        'bdrv_co_write_req_prepare',
      );
    }
    cur = child.name;
  }
}
