// bdrv_dirname (block.c, 7.2 and 10.0): the directory a node's relative names (a backing file
// name given to a job, the header's backing file) are made absolute in. Not the node's own
// filename: a driver without .bdrv_dirname asks its primary child (bdrv_primary_bs), down to a
// node with none, whose exact_filename gives the directory (path_combine(exact_filename, "")).
// So a qcow2 node over a copy-on-read filter (its own name a json:{...} one) resolves in its
// file's directory (fuzz 4061474418).
import { ROLE_PRIMARY } from './perm.js';
import type { Proc } from './proc.js';

/** Drivers whose .bdrv_dirname refuses: nbd_dirname, quorum_dirname, blkverify_dirname. */
const NO_DIRNAME = new Set(['nbd', 'quorum', 'blkverify']);

/**
 * The name whose directory bdrv_dirname(node) is (to pass to pathCombine as its base), or
 * undefined where QEMU fails ("Cannot generate a base directory …": no exact_filename, or a
 * driver that has no directories).
 */
export function dirnameBase(p: Proc, node: string): string | undefined {
  let cur = node;
  for (let i = 0; i < 10000; i++) {
    const n = p.node(cur);
    // an ejected node (!drv) has no directory either
    if (!n || NO_DIRNAME.has(n.driver)) return undefined;
    const primary = p.childrenOf(cur).find((e) => e.role & ROLE_PRIMARY);
    if (!primary) return n.filename || undefined;
    cur = primary.child;
  }
  return undefined;
}
