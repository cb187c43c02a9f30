// bs->inherits_from bookkeeping (block.c, 7.2): which parent a node takes inherited options
// from, and so whose reopen may pass it options as "child-name.*" (bdrv_reopen_queue_child).
// Shared by blockdev-reopen's child replacement and the jobs' bdrv_set_backing_hd, which both
// go through bdrv_set_file_or_backing_noperm in QEMU.
import type { Proc } from './proc.js';
import type { Edge } from './types.js';

/** bdrv_inherits_from_recursive: `child` inherits, directly or through others, from `parent`. */
export function inheritsFromRecursive(p: Proc, child: string, parent: string): boolean {
  let cur: string | null = child;
  for (let i = 0; cur !== null && cur !== parent && i < 100000; i++) cur = p.node(cur)?.inheritsFrom ?? null;
  return cur !== null;
}

/** bdrv_unset_inherits_from: `child` (an edge of `root`) is going away. */
export function unsetInheritsFrom(p: Proc, root: string, child: Edge, depth = 0): void {
  const c = p.node(child.child);
  if (!c || depth > 10000) return;
  if (c.inheritsFrom === root) {
    // only when the last link between root and the node goes
    const other = p.childrenOf(root).some((e) => e.id !== child.id && e.child === child.child);
    if (!other) p.patchNode(c.name, { inheritsFrom: null });
  }
  for (const g of p.childrenOf(c.name)) unsetInheritsFrom(p, root, g, depth + 1);
}
