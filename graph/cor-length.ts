// bdrv_getlength of a copy-on-read filter with no file child: a stream's, after stream_clean's
// bdrv_cor_filter_drop, while the undismissed job still holds it. 7.2's bdrv_nb_sectors refreshes a
// has_variable_length driver's length (copy-on-read is one) through refresh_total_sectors ->
// cor_getlength, which dereferences bs->file = NULL (SIGSEGV, probed live on 7.2.22); 10.0's
// bdrv_co_nb_sectors asks bs->bl.has_variable_length, which bdrv_refresh_limits ORs from the
// children: none, so the cached total_sectors answers (rule cor-getlength-variable-length).
// Callers: bdrv_create_dirty_bitmap (block-dirty-bitmap-add) and nbd_export_create's
// blk_getlength (block-export-add; 7.2's backtrace: blk_exp_add -> bdrv_getlength ->
// refresh_total_sectors).
import { QemuAbortRefusal } from './qemu-abort.js';
import type { Proc } from './proc.js';
import { rule } from './rules.js';

export function refuseChildlessCorLength(p: Proc, node: string, caller: string): void {
  if (p.node(node)?.driver !== 'copy-on-read' || p.childrenOf(node).length > 0 || !rule(p, 'cor-getlength-variable-length')) return;
  throw new QemuAbortRefusal(
    `Copy-on-read node '${node}' has no file child left (QEMU 7.2 crashes here: ${caller} -> bdrv_getlength -> ` +
    'refresh_total_sectors -> cor_getlength dereferences bs->file = NULL, segmentation fault); refused by blockgraph',
    'cor_getlength',
  );
}
