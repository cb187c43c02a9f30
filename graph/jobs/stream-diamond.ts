// QEMU 7.2's stream_prepare drains the subtree of the node above the base
// (bdrv_subtree_drained_begin(above_base)) and then calls bdrv_set_backing_hd(unfiltered_bs, base),
// which detaches the base and attaches it again: bdrv_unapply_subtree_drain and
// bdrv_apply_subtree_drain walk the base's subtree once per path. When a node below the base is
// reached by two paths (a diamond: a backup's copy-before-write filter above the base's node whose
// target has that node as its backing; a quorum over a node and over a raw on the same node), the
// closing bdrv_subtree_drained_end ends a drained section on a parent edge that has none left:
// `bdrv_parent_drained_end_single_no_poll: Assertion 'c->parent_quiesce_counter > 0' failed`
// (probed live on 7.2.22: each diamond below the base aborts, the same graphs without the second
// path finalize; fuzz seed 3824531501). QEMU 10.0 has no subtree drains (stream_prepare drains
// unfiltered_bs and its COW child only) and finalizes. Rule 'stream-prepare-diamond-asserts'; the
// same per-link drain as a reopen's attach (graph/reopen/diamond.ts, whose traversal this uses).
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { rule } from '../rules.js';
import { reachedTwice } from '../reopen/diamond.js';

/** stream_prepare's backing change over a subtree with a diamond: refused on 7.2, as the abort it is. */
export function refuseStreamPrepareDiamond(p: Proc, jobId: string, base: string | null): void {
  if (base === null || !rule(p, 'stream-prepare-diamond-asserts')) return;
  const twice = reachedTwice(p, base);
  if (twice === undefined) return;
  throw new QemuAbortRefusal(
    `Finishing stream job '${jobId}' re-attaches its base '${base}', below which node '${twice}' is reached by two paths ` +
    "(QEMU 7.2 aborts here: stream_prepare's subtree drain -> bdrv_parent_drained_end_single_no_poll: Assertion " +
    "`c->parent_quiesce_counter > 0' failed); refused by blockgraph: remove the second path (end the backup, delete the " +
    'node that leads to it) before the stream finishes',
    'stream_prepare',
  );
}
