// copy-on-read's `bottom` (block/copy-on-read.c cor_open): the node is looked up by node name, may
// not be a filter, and the filter-or-COW chain from the new filter down to it is frozen
// (bdrv_freeze_backing_chain), so nothing replaces those links while the filter lives; cor_close
// and bdrv_cor_filter_drop unfreeze it.
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { filterOrCowChild, isFilter } from './jobs/chain.js';
import { chainFrozenError, freezeChain, unfreezeChain } from './jobs/freeze.js';

/** cor_open's bottom handling for filter `name`, already attached to its file child. */
export function freezeToBottom(p: Proc, name: string, bottom: string): void {
  if (!p.node(bottom)) throw new QmpError(`Bottom node '${bottom}' not found`);
  if (isFilter(p, bottom)) throw new QmpError(`Bottom node '${bottom}' is a filter`);
  // bdrv_freeze_backing_chain begins with bdrv_is_backing_chain_frozen, which walks
  // i = bdrv_filter_or_cow_bs(i) until i == base: a frozen link on the way is its error, and it
  // returns there, so a bottom outside the chain is answered as well when the walk meets a frozen
  // link first (another copy-on-read filter's bottom, a job's chain: combo-c9-b3-cor-bottom-chain-reopen);
  // a bottom the walk never meets leaves i NULL for ever (QEMU 7.2 and 10.0 stop answering, a
  // busy loop in the main thread)
  const frozen = chainFrozenError(p, name, bottom);
  if (frozen) throw new QmpError(frozen);
  let cur = name;
  for (let i = 0; cur !== bottom; i++) {
    const e = filterOrCowChild(p, cur);
    if (!e || i > 100000) {
      throw new QemuHangRefusal(
        `Bottom node '${bottom}' is not in the backing chain of copy-on-read node '${name}' (QEMU hangs here: cor_open -> bdrv_freeze_backing_chain -> bdrv_is_backing_chain_frozen walks past the chain's end without end); refused by blockgraph`,
        'bdrv_is_backing_chain_frozen');
    }
    cur = e.child;
  }
  freezeChain(p, name, bottom);
}

/** cor_close: the chain the filter froze is released with it (where bdrv_cor_filter_drop has not already). */
export function unfreezeToBottom(p: Proc, name: string): void {
  const bottom = p.node(name)?.extra?.bottom;
  if (typeof bottom === 'string' && p.node(bottom)) unfreezeChain(p, name, bottom);
}
