// A read through a copy-on-read filter that has a `bottom` (block-stream's filter, or one added
// with `bottom`): cor_co_preadv_part (block/copy-on-read.c, 7.2 and 10.0) asks, for a range its
// file child does not hold, bdrv_is_allocated_above(bdrv_backing_chain_next(file), bottom, true).
// That walk (bdrv_co_common_block_status_above) goes down the filter-or-COW chain until a layer
// holds the range or it meets `bottom`; when `bottom` is not below the file's backing (a stream
// with nothing to stream: the device has no backing, or its base is its own backing, so bottom
// is the file node itself) and no layer holds the range, it reaches NULL and dereferences it:
// SIGSEGV on both QSD 7.2.22 and 10.0.2 (fuzz seed 754698230,
// oracle/scenarios/qemu-aborts/abort-9-add-qcow2-read-through-stream-filter). The only read the
// model carries out is a format driver's header read at open (qcow2_do_open reads bs->file at 0):
// that read is followed down here as the block layer would route it.
import { QemuAbortRefusal } from './qemu-abort.js';
import { layerStatus, type Status } from './jobs/allocation.js';
import { backingChainNext, cowChild, filterChild, filterOrCowBs, isFilter, skipFilters } from './jobs/chain.js';
import type { Proc } from './proc.js';

/** bdrv_co_block_status of one layer (a filter answers with its filtered child's status). */
function blockStatus(p: Proc, node: string, offset: number, bytes: number): Status {
  const below = isFilter(p, node) ? skipFilters(p, node) : node;
  return below ? layerStatus(p, below, offset, bytes) : { alloc: false, n: 0 };
}

/** Whether bdrv_co_common_block_status_above(top, base, include_base = true) dereferences NULL. */
function statusAboveCrashes(p: Proc, top: string | null, base: string, offset: number, bytes: number): boolean {
  if (!top) return true;
  const first = blockStatus(p, top, offset, bytes);
  if (first.n === 0 || first.alloc || top === base) return false;
  for (let cur = filterOrCowBs(p, top), i = 0; i < 100000; cur = filterOrCowBs(p, cur), i++) {
    if (!cur) return true;
    const st = blockStatus(p, cur, offset, first.n);
    if (st.n === 0 || st.alloc || cur === base) return false;
  }
  return false;
}

/**
 * Follows a read of `node` at [offset, offset + bytes) down the graph (bdrv_co_preadv_part:
 * filters pass it to their child, a qcow2 layer that does not hold the range to its backing)
 * and refuses where cor_co_preadv_part would crash. `reader` says who reads, for the message.
 */
export function refuseCorReadCrash(p: Proc, node: string, offset: number, bytes: number, reader: string): void {
  for (let cur: string | null = node, i = 0; cur && i < 100000; i++) {
    const n = p.node(cur);
    if (!n || offset >= n.size) return;
    if (n.driver === 'copy-on-read') {
      const file: string | undefined = filterChild(p, cur)?.child;
      const bottom = n.options?.bottom;
      if (!file) return;
      if (typeof bottom === 'string' && !blockStatus(p, file, offset, bytes).alloc &&
        statusAboveCrashes(p, backingChainNext(p, file), bottom, offset, bytes)) {
        throw new QemuAbortRefusal(
          `${reader} reads through copy-on-read filter '${cur}': '${file}' does not hold the range and the chain below it ` +
          `never reaches the filter's bottom '${bottom}' ` +
          `(QEMU crashes here: cor_co_preadv_part -> bdrv_is_allocated_above reaches the end of the chain, segmentation fault); ` +
          'refused by blockgraph', 'cor_co_preadv_part',
        );
      }
      cur = file;
    } else if (isFilter(p, cur)) cur = filterChild(p, cur)?.child ?? null;
    else if (n.driver === 'raw') {
      // raw_co_preadv: the slice's offset added (raw_adjust_offset), read from its file, which a
      // stream started after the slice was opened put its filter over (fuzz --qemu 10.0 2060426732)
      offset += Number(n.options.offset ?? 0) || 0;
      cur = p.fileChild(cur)?.child ?? null;
    } else if (n.driver === 'qcow2') {
      // qcow2_co_preadv_part: an unallocated cluster is read from the backing file
      if (layerStatus(p, cur, offset, bytes).alloc) return;
      cur = cowChild(p, cur)?.child ?? null;
    } else return;
  }
}
