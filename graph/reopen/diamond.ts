// A blockdev-reopen that attaches a node reaching some node over two links: QEMU 7.2 aborts.
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { rule } from '../rules.js';

/** A node of `root`'s subtree that two links inside that subtree point to (a diamond), if any. */
export function reachedTwice(p: Proc, root: string): string | undefined {
  const seen = new Set<string>([root]);
  const todo = [root];
  const links = new Map<string, number>();
  while (todo.length) {
    const n = todo.pop()!;
    for (const e of p.childrenOf(n)) {
      links.set(e.child, (links.get(e.child) ?? 0) + 1);
      if (!seen.has(e.child)) { seen.add(e.child); todo.push(e.child); }
    }
  }
  for (const [n, k] of links) if (k > 1) return n;
  return undefined;
}

/**
 * qmp_blockdev_reopen subtree-drains each listed node (bdrv_subtree_drained_begin), and
 * bdrv_set_file_or_backing_noperm's attach applies that drain to the new child's whole subtree
 * link by link (bdrv_child_cb_attach → bdrv_apply_subtree_drain, recursive bdrv_do_drained_begin);
 * the detach (tran_abort after a failed permission refresh) or the final bdrv_subtree_drained_end
 * undoes it link by link too. A node reached over two links of that subtree (a copy-before-write
 * with file and target on one node, or target a raw over its file) ends more drained sections
 * for its parents than it began: bdrv_parent_drained_end_single_no_poll: Assertion
 * `c->parent_quiesce_counter > 0' failed (fuzz seed 241757295; recorded surviving without the
 * second link: abort-11-reopen-attach-no-diamond-survives). 10.0 has no subtree drains (8.0,
 * "block: Remove subtree drains") and carries on (graph/rules.ts 'reopen-attach-diamond-aborts').
 */
export function refuseDiamondAttach(p: Proc, parent: string, target: string, key: string): void {
  if (!rule(p, 'reopen-attach-diamond-aborts')) return;
  const twice = reachedTwice(p, target);
  if (!twice) return;
  throw new QemuAbortRefusal(
    `Cannot attach '${target}' as ${key} of '${parent}' in blockdev-reopen: node '${twice}' is reached twice below it ` +
    "(QEMU 7.2 aborts here: bdrv_parent_drained_end_single_no_poll: Assertion 'c->parent_quiesce_counter > 0' failed); refused by blockgraph",
    'bdrv_parent_drained_end_single_no_poll',
  );
}

/**
 * The same miscount on the way out (fuzz seed 1224044685): the detach of an old `file`/`backing`
 * child (bdrv_remove_child → bdrv_replace_child_noperm → bdrv_child_cb_detach →
 * bdrv_unapply_subtree_drain) ends the listed node's subtree drain link by link below it, and a
 * node reached over two links there (a drive-backup's copy-before-write: `file` the source and
 * `target` an overlay backed by the source) is ended twice: the same assertion, whether the
 * reopen then succeeds or fails. Recorded surviving: the same reopen keeping that child
 * (abort-13-reopen-keep-cbw-diamond-survives).
 */
export function refuseDiamondDetach(p: Proc, parent: string, old: string, key: string): void {
  if (!rule(p, 'reopen-attach-diamond-aborts')) return;
  const twice = reachedTwice(p, old);
  if (!twice) return;
  throw new QemuAbortRefusal(
    `Cannot detach '${old}' (${key} of '${parent}') in blockdev-reopen: node '${twice}' is reached twice below it ` +
    "(QEMU 7.2 aborts here: bdrv_parent_drained_end_single_no_poll: Assertion 'c->parent_quiesce_counter > 0' failed); refused by blockgraph",
    'bdrv_parent_drained_end_single_no_poll',
  );
}
