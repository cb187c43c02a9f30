// Inactive nodes (BDRV_O_INACTIVE, block.c of QEMU 10.0): a node opened with `active: false`
// or inactivated by blockdev-set-active takes no permission beyond consistent read and shares
// write and resize (bdrv_default_perms_for_cow/_for_storage); an active node cannot have an
// inactive child (bdrv_attach_child_noperm); a BlockBackend that may go inactive drops its
// permissions over such a node (blk_insert_bs, blk_root_inactivate: blk->disable_perm).
// QEMU 7.2 has the flag for incoming migration only, which a storage daemon never is in: no
// 7.2 process can reach it (its schema has no `active`, no blockdev-set-active: graph/rules.ts
// qapi-schema).
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import { QmpErrorAfterAbort } from './abort-residue.js';
import type { Proc } from './proc.js';
import { rule } from './rules.js';
import { loadPersistentBitmaps, storePersistentBitmaps } from './bitmaps.js';
import type { BlockBackend, Edge } from './types.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, permNames } from './perm.js';
import { cumulative, refreshPerms } from './refresh.js';
import { tryRefresh } from './ops.js';
import { strerror } from './read.js';

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
  // 7.2 attaches to an inactive node as to any other: the permission refresh refuses what writes
  if (!rule(p, 'inactive-attach-checks')) return perm;
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

/**
 * bdrv_activate: children first, then the node (its perms refreshed), then its BlockBackend
 * parents (blk_root_activate). Not a transaction: a child that fails stops it with the children
 * before it active; a refresh that fails puts BDRV_O_INACTIVE back on this node only, its perms
 * as they were (bdrv_refresh_perms' transaction aborted); a BlockBackend that cannot take its
 * permissions back sets disable_perm again and bdrv_activate puts BDRV_O_INACTIVE back, the
 * node's child links staying as the refresh left them.
 */
export function bdrvActivate(p: Proc, node: string): void {
  for (const c of childrenNewestFirst(p, node)) bdrvActivate(p, c.child);
  const n = p.node(node)!;
  if (n.inactive) {
    p.step(`activate ${node}`);
    p.patchNode(node, { inactive: false });
    reinactivateOnError(p, node, undefined, () => refreshPerms(p, [node]));
    if (n.driver === 'qcow2') {
      // qcow2_co_invalidate_cache: qcow2_do_close(bs, false) runs qcow2_inactivate again when
      // s->flags never had BDRV_O_INACTIVE (a node inactivated after an active open): the
      // persistent bitmaps added while inactive are stored and released, now that the node is
      // writable (vm/vm-i-bitmaps-runstates #14). A node opened inactive skips it (s->flags has
      // BDRV_O_INACTIVE: combo-c8-b2-add-inactive-open-stored-names): what was added stays in
      // memory. qcow2_do_open then loads the whole directory, inserted ahead of those
      if (!n.qcow2OpenedInactive) storePersistentBitmaps(p, node, true);
      else p.patchNode(node, { qcow2OpenedInactive: false });
      loadPersistentBitmaps(p, node);
    }
  }
  for (const e of p.parents(node)) {
    if (e.parent.kind !== 'bb') continue;
    const bb = p.bb(e.parent.bb);
    if (!bb?.disablePerm) continue;
    // blk_root_activate: blk_set_perm_locked(blk, blk->perm, BLK_PERM_ALL), then with
    // blk->shared_perm (not in migration); either failing sets disable_perm again, the first
    // one's perms staying when the second fails
    p.putBB({ ...bb, disablePerm: false });
    reinactivateOnError(p, node, bb.id, () => {
      p.putEdge({ ...p.edge(e.id)!, perm: bb.perm, shared: PERM_ALL });
      refreshPerms(p, [node]);
    });
    // in incoming migration the shared permissions wait for its end (blk->vmsh,
    // blk_vm_state_changed): the BlockBackend shares everything until then
    if (p.meta().runState === 'inmigrate') continue;
    reinactivateOnError(p, node, bb.id, () => {
      p.putEdge({ ...p.edge(e.id)!, perm: bb.perm, shared: bb.shared });
      refreshPerms(p, [node]);
    });
  }
}

/** The error paths of bdrv_activate and blk_root_activate: `fn`'s changes undone, BDRV_O_INACTIVE (and disable_perm) set again. */
function reinactivateOnError(p: Proc, node: string, bb: string | undefined, fn: () => void): void {
  try {
    p.d.atomically(fn);
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    if (bb !== undefined) p.putBB({ ...p.bb(bb)!, disablePerm: true });
    p.patchNode(node, { inactive: true });
    throw e;
  }
}

/** bdrv_has_bds_parent */
function hasBdsParent(p: Proc, node: string, onlyActive: boolean): boolean {
  return p.parents(node).some((e) => e.parent.kind === 'node' && (!onlyActive || !isInactive(p, e.parent.node)));
}

const EPERM = 1;
const EINVAL = 22;

/** bdrv_inactivate_recurse: the errno of a refusal, or 0. */
function inactivateRecurse(p: Proc, node: string, topLevel: boolean): number {
  if (hasBdsParent(p, node, true)) return 0;
  if (isInactive(p, node)) {
    // "if a child is already inactive before its parent, that's bad": assert(top_level). A node
    // that is two children of one parent (file and backing after a blockdev-reopen) is
    // inactivated through the first link and met again through the second (fuzz --qemu 10.0
    // 3705470636: the daemon dies)
    if (!topLevel) {
      throw new QemuAbortRefusal(`Node '${node}' is reached again below a parent that just inactivated it (QEMU 10.0 aborts here: ` +
        "bdrv_inactivate_recurse: Assertion `top_level' failed); refused by blockgraph", 'bdrv_inactivate_recurse');
    }
    return 0;
  }
  // bs->drv->bdrv_inactivate before the parents: qcow2_inactivate stores the persistent bitmaps
  // and releases them from the node (qcow2_store_persistent_dirty_bitmaps(bs, true, ...)); a
  // store that fails is reported on stderr and fails the inactivation with -EINVAL. Done even
  // where a parent then refuses (fuzz --qemu 10.0 859234880)
  if (p.node(node)?.driver === 'qcow2' && storePersistentBitmaps(p, node, true) !== undefined) return EINVAL;
  for (const e of p.parents(node)) {
    if (e.parent.kind !== 'bb') continue;
    // blk_root_inactivate
    const bb = p.bb(e.parent.bb)!;
    if (bb.disablePerm) continue;
    if (!blkCanInactivate(bb)) return EPERM;
    p.putBB({ ...bb, disablePerm: true });
    p.putEdge({ ...p.edge(e.id)!, perm: 0, shared: PERM_ALL });
    tryRefresh(p, [node]);
  }
  // "Our inactive parents still need write access. Inactivation failed."
  if (cumulative(p, node).perm & (PERM_W | PERM_U)) return EPERM;
  p.step(`inactivate ${node}`);
  p.patchNode(node, { inactive: true });
  // "We only tried to loosen restrictions, so errors are not fatal"
  tryRefresh(p, [node]);
  for (const c of childrenNewestFirst(p, node)) {
    const r = inactivateRecurse(p, c.child, false);
    if (r) return r;
  }
  return 0;
}

/** bdrv_inactivate */
export function bdrvInactivate(p: Proc, node: string): void {
  if (hasBdsParent(p, node, true)) throw new QmpError('Node has active parent node');
  const r = inactivateRecurse(p, node, true);
  if (r) throw new QmpError(`Failed to inactivate node: ${strerror(r)}`);
}

/** bdrv_first_blk: the BlockBackend of `node`'s parent list that comes first (QLIST_INSERT_HEAD: the newest attached). */
function firstBlk(p: Proc, node: string): string | undefined {
  const e = p.parents(node).find((x) => x.parent.kind === 'bb');
  return e?.parent.kind === 'bb' ? e.parent.bb : undefined;
}

/**
 * The nodes bdrv_first/bdrv_next (block/block-backend.c of 10.0) return, in order. First the
 * roots of all BlockBackends (blk_all_next: exports' and jobs' too, in creation order), each
 * once, at the BlockBackend that is its bdrv_first_blk. Then the monitor-owned nodes without a
 * BlockBackend (bdrv_has_blk) — but 10.0's backend phase leaves it->bs at the last root it
 * returned, and the monitor phase goes on with bdrv_next_monitor_owned(it->bs), i.e.
 * QTAILQ_NEXT in monitor_bdrv_states: it starts after that root when the root is monitor-owned
 * and finds none when it is not (its monitor_list link is empty). Recorded: 245-f-inactive-nodes
 * (10.0), an export over hd1 and blockdev-set-active {active: false} leaves hd0, added before
 * hd1, active. (7.2's bdrv_next kept it->bs NULL through the backend phase; 7.2 has no
 * blockdev-set-active to show it.)
 */
export function bdrvNextOrder(p: Proc): string[] {
  const out: string[] = [];
  let last: string | undefined;
  for (const bb of p.bbs()) {
    const root = p.children({ kind: 'bb', bb: bb.id })[0]?.child;
    if (root === undefined || firstBlk(p, root) !== bb.id) continue;
    out.push(root);
    last = root;
  }
  const monitor = p.nodes().filter((n) => n.monitor).map((n) => n.name);
  // 7.2: the monitor phase starts from it->bs NULL, at the head of monitor_bdrv_states
  if (rule(p, 'bdrv-next-monitor-phase') === 'head') last = undefined;
  const from = last === undefined ? 0 : monitor.indexOf(last) + 1;
  if (last !== undefined && from === 0) return out;
  for (const n of monitor.slice(from)) if (firstBlk(p, n) === undefined) out.push(n);
  return out;
}

/** qmp_blockdev_set_active without a node name: bdrv_activate_all / bdrv_inactivate_all. */
export function setActiveAll(p: Proc, active: boolean): void {
  for (const n of bdrvNextOrder(p)) {
    if (!p.node(n)) continue;
    if (active) { bdrvActivate(p, n); continue; }
    if (hasBdsParent(p, n, false)) continue;
    const r = inactivateRecurse(p, n, true);
    if (r) throw new QmpError(`Failed to inactivate all nodes: ${strerror(r)}`);
  }
}

/**
 * bdrv_inactivate_all and bdrv_inactivate undo nothing when bdrv_inactivate_recurse fails: the
 * walk breaks at the first -EPERM and the nodes it already inactivated stay inactive, the
 * BlockBackends blk_root_inactivate already disabled stay at 0/ALL (fuzz --qemu 10.0 3406071331:
 * qcow2 nodes walked before a copy-before-write whose target link still needs write; VM fuzz
 * 2026121037: a scsi-hd's BlockBackend before an active commit's job BlockBackend). The refusal
 * keeps that partial state as its residue: the same walk, run again on the pre-command state
 * (deterministic: the same order, the same refusal), its error dropped. A walk that refuses
 * before changing anything (bdrv_inactivate's "Node has active parent node", a first node that
 * refuses at once) leaves an empty residue: a plain refusal (commands/model.ts afterAbort).
 * bdrv_activate_all and bdrv_activate are no transaction either: the nodes activated before the
 * one whose bdrv_refresh_perms fails stay active (bdrvActivate).
 */
export function keepingPartial(p: Proc, walk: (q: Proc) => void): void {
  try {
    walk(p);
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QmpErrorAfterAbort || e instanceof QemuAbortRefusal) throw e;
    throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => {
      try { walk(q); } catch (x) { if (!(x instanceof QmpError) || x instanceof QemuAbortRefusal) throw x; }
    });
  }
}
