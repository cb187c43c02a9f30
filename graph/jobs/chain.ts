// Backing-chain navigation as block.c does it: a filter's chain link is its filtered child
// (file/image, or `backing` for commit_top and mirror_top), a format node's is its COW child.
import { ROLE_COW, ROLE_FILTERED } from '../perm.js';
import type { Proc } from '../proc.js';
import type { Edge } from '../types.js';

/** bdrv_filter_child */
export function filterChild(p: Proc, node: string): Edge | undefined {
  if (!isFilter(p, node)) return undefined;
  return p.childrenOf(node).find((e) => e.role & ROLE_FILTERED);
}
/** bdrv_cow_child: only for non-filters. */
export function cowChild(p: Proc, node: string): Edge | undefined {
  if (isFilter(p, node)) return undefined;
  return p.childrenOf(node).find((e) => e.role & ROLE_COW);
}
/** drv->is_filter (raw is not one in 7.2, even over a FILTERED file edge). */
// (blklogwrites too: bdrv_blk_log_writes .is_filter = true, its `file` the filtered child; fuzz 3524264937)
const FILTER_DRIVERS = new Set(['commit_top', 'mirror_top', 'copy-on-read', 'throttle', 'blkdebug', 'blkverify', 'blklogwrites', 'compress', 'preallocate', 'copy-before-write']);
export function isFilter(p: Proc, node: string): boolean {
  const n = p.node(node);
  return !!n && FILTER_DRIVERS.has(n.driver);
}
/** bdrv_filter_or_cow_child */
export function filterOrCowChild(p: Proc, node: string): Edge | undefined {
  return isFilter(p, node) ? filterChild(p, node) : cowChild(p, node);
}
export function filterOrCowBs(p: Proc, node: string | null): string | null {
  if (!node) return null;
  return filterOrCowChild(p, node)?.child ?? null;
}
export function cowBs(p: Proc, node: string | null): string | null {
  if (!node) return null;
  return cowChild(p, node)?.child ?? null;
}
/** bdrv_skip_filters */
export function skipFilters(p: Proc, node: string | null): string | null {
  let cur = node;
  for (let i = 0; cur && isFilter(p, cur) && i < 10000; i++) cur = filterChild(p, cur)?.child ?? null;
  return cur;
}
/** bdrv_skip_implicit_filters */
export function skipImplicitFilters(p: Proc, node: string): string {
  let cur = node;
  for (let i = 0; i < 10000; i++) {
    const n = p.node(cur);
    if (!n?.implicit || !isFilter(p, cur)) break;
    const c = filterChild(p, cur)?.child;
    if (!c) break;
    cur = c;
  }
  return cur;
}
/** bdrv_backing_chain_next */
export function backingChainNext(p: Proc, node: string | null): string | null {
  return skipFilters(p, cowBs(p, skipFilters(p, node)));
}
/** bdrv_chain_contains: `base` is `top` or below it on the filter-or-COW chain (null base: always). */
export function chainContains(p: Proc, top: string, base: string | null): boolean {
  let cur: string | null = top;
  for (let i = 0; cur && i < 100000; i++) {
    if (cur === base) return true;
    cur = filterOrCowBs(p, cur);
  }
  return base === null;
}
/** bdrv_find_overlay: the COW overlay of `bs` in the chain of `active` (filters skipped). */
export function findOverlay(p: Proc, active: string, bs: string | null): string | null {
  const target = skipFilters(p, bs);
  let cur = skipFilters(p, active);
  for (let i = 0; cur && i < 100000; i++) {
    const next = backingChainNext(p, cur);
    if (next === target) return cur;
    cur = next;
  }
  return null;
}
/** bdrv_find_base: the bottom of the COW chain. */
export function findBase(p: Proc, node: string): string | null {
  return findOverlay(p, node, null);
}
