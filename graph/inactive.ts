// Inactive nodes (BDRV_O_INACTIVE, block.c of QEMU 10.0): a node opened with `active: false`
// or inactivated by blockdev-set-active takes no permission beyond consistent read and shares
// write and resize (bdrv_default_perms_for_cow/_for_storage); an active node cannot have an
// inactive child (bdrv_attach_child_noperm); a BlockBackend that may go inactive drops its
// permissions over such a node (blk_insert_bs, blk_root_inactivate: blk->disable_perm).
// QEMU 7.2 has the flag for incoming migration only, which a storage daemon never is in: no
// 7.2 process can reach it (its schema has no `active`, no blockdev-set-active: graph/rules.ts
// qapi-schema).
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';
import type { BlockBackend, Edge } from './types.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, permNames } from './perm.js';
import { cumulative, refreshPerms } from './refresh.js';
import { tryRefresh } from './ops.js';

export const isInactive = (p: Proc, node: string): boolean => p.node(node)?.inactive === true;

/** blk_can_inactivate: a guest device's BlockBackend, one taking no more than consistent read, or an export's with allow-inactive. */
export function blkCanInactivate(bb: BlockBackend): boolean {
  if (bb.dev) return true;
  if (!(bb.perm & ~PERM_R)) return true;
  return bb.forceAllowInactivate === true;
}

/**
 * bdrv_attach_child_noperm's check and bdrv_attach_child_common's, for an edge about to be made
 * from `parent` to the inactive `child` asking `perm`; blk_insert_bs first drops the
 * permissions of a BlockBackend that may go inactive (disable_perm: 0, all shared). Returns the
 * perms to attach with.
 */
export function inactiveAttach(p: Proc, parent: Edge['parent'], child: string, name: string, perm: { perm: number; shared: number } | undefined): { perm: number; shared: number } | undefined {
  if (!isInactive(p, child)) return perm;
  if (parent.kind === 'node' && !isInactive(p, parent.node)) {
    throw new QmpError(`Inactive '${child}' can't be a ${name} child of active '${parent.node}'`);
  }
  if (parent.kind === 'bb') {
    const bb = p.bb(parent.bb);
    if (bb && blkCanInactivate(bb)) {
      p.putBB({ ...bb, disablePerm: true });
      perm = { perm: 0, shared: PERM_ALL };
    }
  }
  if (perm && perm.perm & ~PERM_R) throw new QmpError(`Permission '${permNames(perm.perm)}' unavailable on inactive node`);
  return perm;
}

/** The children of `node`, as QLIST_FOREACH(child, &bs->children, next) walks them: newest first. */
const childrenNewestFirst = (p: Proc, node: string) => p.childrenOf(node).sort((a, b) => b.at - a.at);

/** bdrv_activate: children first, then the node (its perms refreshed), then its BlockBackend parents (blk_root_activate). */
export function bdrvActivate(p: Proc, node: string): void {
  for (const c of childrenNewestFirst(p, node)) bdrvActivate(p, c.child);
  const n = p.node(node)!;
  if (n.inactive) {
    p.step(`activate ${node}`);
    p.patchNode(node, { inactive: false });
    refreshPerms(p, [node]);
  }
  for (const e of p.parents(node)) {
    if (e.parent.kind !== 'bb') continue;
    const bb = p.bb(e.parent.bb);
    if (!bb?.disablePerm) continue;
    // blk_root_activate: blk_set_perm_locked(blk, blk->perm, blk->shared_perm) (not in migration)
    p.putBB({ ...bb, disablePerm: false });
    p.putEdge({ ...p.edge(e.id)!, perm: bb.perm, shared: bb.shared });
    refreshPerms(p, [node]);
  }
}

/** bdrv_has_bds_parent */
function hasBdsParent(p: Proc, node: string, onlyActive: boolean): boolean {
  return p.parents(node).some((e) => e.parent.kind === 'node' && (!onlyActive || !isInactive(p, e.parent.node)));
}

/** bdrv_inactivate_recurse: the errno of a refusal, or 0. */
function inactivateRecurse(p: Proc, node: string): number {
  if (hasBdsParent(p, node, true)) return 0;
  if (isInactive(p, node)) return 0;
  for (const e of p.parents(node)) {
    if (e.parent.kind !== 'bb') continue;
    // blk_root_inactivate
    const bb = p.bb(e.parent.bb)!;
    if (bb.disablePerm) continue;
    if (!blkCanInactivate(bb)) return 1; // EPERM
    p.putBB({ ...bb, disablePerm: true });
    p.putEdge({ ...p.edge(e.id)!, perm: 0, shared: PERM_ALL });
    tryRefresh(p, [node]);
  }
  // "Our inactive parents still need write access. Inactivation failed."
  if (cumulative(p, node).perm & (PERM_W | PERM_U)) return 1;
  p.step(`inactivate ${node}`);
  p.patchNode(node, { inactive: true });
  // "We only tried to loosen restrictions, so errors are not fatal"
  tryRefresh(p, [node]);
  for (const c of childrenNewestFirst(p, node)) {
    const r = inactivateRecurse(p, c.child);
    if (r) return r;
  }
  return 0;
}

/** bdrv_inactivate */
export function bdrvInactivate(p: Proc, node: string): void {
  if (hasBdsParent(p, node, true)) throw new QmpError('Node has active parent node');
  if (inactivateRecurse(p, node)) throw new QmpError('Failed to inactivate node: Operation not permitted');
}

/** bdrv_next's order: the monitor's BlockBackends' roots (none in a storage daemon), then the monitor-owned nodes. */
function monitorOwned(p: Proc): string[] {
  return p.nodes().filter((n) => n.monitor).map((n) => n.name);
}

/** qmp_blockdev_set_active without a node name: bdrv_activate_all / bdrv_inactivate_all. */
export function setActiveAll(p: Proc, active: boolean): void {
  for (const n of monitorOwned(p)) {
    if (!p.node(n)) continue;
    if (active) { bdrvActivate(p, n); continue; }
    if (hasBdsParent(p, n, false)) continue;
    if (inactivateRecurse(p, n)) throw new QmpError('Failed to inactivate all nodes: Operation not permitted');
  }
}
