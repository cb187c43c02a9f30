// bdrv_recurse_can_replace (block.c, 7.2): asked by check_to_replace_node when a mirror with
// `replaces` starts (commands/blockdev-mirror.ts) and again by mirror_exit_common before the
// completing mirror replaces the node (graph/jobs/mirror.ts), since parents may have come since.
import type { Proc } from '../proc.js';
import { filterChild } from './chain.js';

/**
 * bdrv_recurse_can_replace: `toReplace` is `bs` or reached from it through filters, or through a
 * driver's own .bdrv_recurse_can_replace (quorum_recurse_can_replace, blkverify_recurse_can_replace).
 */
export function recurseCanReplace(p: Proc, bs: string | undefined, toReplace: string, depth = 0): boolean {
  if (!bs || depth > 10000) return false;
  const n = p.node(bs);
  if (!n) return false;
  if (bs === toReplace) return true;
  if (n.driver === 'quorum') {
    // quorum_recurse_can_replace: only an immediate child, and only when the quorum's edge is
    // its one and only parent (no recursion down a child's chain)
    const edge = p.childrenOf(bs).find((e) => e.name.startsWith('children.') && e.child === toReplace);
    if (!edge) return false;
    const parents = p.parents(toReplace);
    return parents.length === 1 && parents[0]!.id === edge.id;
  }
  if (n.driver === 'blkverify') {
    // blkverify_recurse_can_replace: both children must match bs
    return recurseCanReplace(p, p.child(bs, 'file')?.child, toReplace, depth + 1)
      || recurseCanReplace(p, p.child(bs, 'test')?.child, toReplace, depth + 1);
  }
  return recurseCanReplace(p, filterChild(p, bs)?.child, toReplace, depth + 1);
}
