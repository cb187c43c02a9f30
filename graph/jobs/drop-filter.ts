// bdrv_drop_filter (block.c): a job's filter goes (backup's copy-before-write in bdrv_cbw_drop,
// stream's copy-on-read in bdrv_cor_filter_drop): every parent of the filter moves to its child and
// the filter's own link to the child is removed (bdrv_replace_node_common, detach_subchain).
//
// QEMU 7.2 drains the filter (`from`, referenced for the duration) around the replacement. QEMU
// 10.0 drains the filter's *child* instead (bdrv_drained_begin(child_bs) ... bdrv_drained_end(
// child_bs)) and holds no reference on it: when the filter's link was the child's last reference
// (the filter has no parents left once the job's links are gone, and the child is no monitor node,
// e.g. a blockdev-snapshot-sync overlay appended under a backup's filter), removing the link frees
// the child, and bdrv_drained_end reads the freed node: `bdrv_do_drained_end: Assertion
// `bs->quiesce_counter > 0' failed` (fuzz --qemu 10.0 3776961068; gdb: bdrv_cbw_drop ->
// bdrv_drop_filter). The model refuses it on 10.0 (rule 'drop-filter-frees-child-asserts').
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { replaceNode } from '../replace.js';
import { rule } from '../rules.js';
import { filterChild } from './chain.js';

/** bdrv_drop_filter(filter): the filter's parents go to its child; the filter keeps its own reference. */
export function dropFilter(p: Proc, filter: string): void {
  const child = filterChild(p, filter)?.child;
  if (!child) return;
  replaceNode(p, filter, child, { autoSkip: true, detachSubchain: true });
  if (!p.node(child) && rule(p, 'drop-filter-frees-child-asserts')) {
    throw new QemuAbortRefusal(
      `Dropping job filter '${filter}' frees its child '${child}', which nothing else references ` +
      "(QEMU 10.0 aborts here: bdrv_drop_filter -> bdrv_drained_end of the freed child: bdrv_do_drained_end: Assertion " +
      "`bs->quiesce_counter > 0' failed); refused by blockgraph: add the overlay with blockdev-add and blockdev-snapshot " +
      'instead of blockdev-snapshot-sync, or keep another user of it',
      'bdrv_drop_filter',
    );
  }
}
