// The graph mutations every QMP command is built from, each as QEMU does it: attach
// (with a permission refresh below the child), detach, and reference counting that
// closes a node, and its implicitly opened children, when its last reference goes.
import { refuseNodeNameOfDrive } from './named-blk.js';
import { unfreezeToBottom } from './cor-bottom.js';
import { versionOf } from './version.js';
import { QmpError } from '../errors/index.js';
import { MAIN_CONTEXT, tryMoveToContext } from './aio.js';
import { storePersistentBitmaps } from './bitmaps.js';
import { anonBitmapOwner, cbwOwnBitmaps, releaseCbwBitmaps } from './anon-bitmaps.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import { driverInfo } from './drivers.js';
import type { Proc } from './proc.js';
import { cumulative, refreshPerms } from './refresh.js';
import { nextAutoName } from './id-counter.js';
import { hasParents } from './probe.js';
import { inactiveAttach } from './inactive.js';
import type { BdsNode, Edge, ParentRef } from './types.js';

export const NODE_NAME_MAX = 31;

/** id_wellformed(): a letter first, then letters, digits, '-', '.', '_'. */
export function nameWellFormed(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9\-._]*$/.test(name);
}

/** bdrv_assign_node_name */
export function assignNodeName(p: Proc, requested: string | undefined): { name: string; auto: boolean } {
  if (requested === undefined) {
    // id_generate(ID_BLOCK): a process-wide counter that no rollback takes back (graph/id-counter.ts)
    const n = nextAutoName(p);
    // QEMU appends two random digits; ours come from the counter so replay is exact.
    return { name: `#block${n}${String((n * 37 + 11) % 100).padStart(2, '0')}`, auto: true };
  }
  if (!nameWellFormed(requested)) throw new QmpError(`Invalid node-name: '${requested}'`);
  // "takes care of avoiding namespaces collisions": a legacy drive's name (blk_by_name)
  refuseNodeNameOfDrive(p, requested);
  if (p.node(requested)) throw new QmpError(`Duplicate nodes with node-name='${requested}'`);
  if (requested.length > NODE_NAME_MAX) throw new QmpError('Node name too long');
  return { name: requested, auto: false };
}

export function newNode(p: Proc, init: Pick<BdsNode, 'name' | 'driver'> & Partial<BdsNode>): BdsNode {
  const n: BdsNode = {
    auto: false, ro: false, filename: '', options: {}, monitor: false, implicit: false, neverFreeze: false,
    inheritsFrom: null, aio: 'main', size: 0, align: 1, header: null, lock: null, forceShare: false,
    order: p.nextSeq(), ...init,
  };
  p.putNode(n);
  return n;
}

export function nodeOrError(p: Proc, name: string): BdsNode {
  const n = p.node(name);
  if (!n) throw new QmpError(`Cannot find device='' nor node-name='${name}'`);
  return n;
}

/** The perms a node parent asks of a new or existing child edge (bdrv_child_perm). */
export function childPermFor(p: Proc, parent: BdsNode, e: Edge, newRo?: Map<string, boolean>) {
  const info = driverInfo(parent.driver);
  const c = cumulative(p, parent.name);
  let np = info?.childPerm
    // bdrv_is_writable_after_reopen: (flags & (BDRV_O_RDWR | BDRV_O_INACTIVE)) == BDRV_O_RDWR
    ? info.childPerm({ node: parent, edge: e, perm: c.perm, shared: c.shared, writableAfter: !(newRo?.get(parent.name) ?? parent.ro) && !parent.inactive, hasParents: hasParents(p, parent.name), qemu: versionOf(p) })
    : { perm: 0, shared: 0xf };
  if (p.node(e.child)?.forceShare) np = { perm: np.perm, shared: 0xf };
  return np;
}

/**
 * bdrv_root_attach_child / bdrv_attach_child: a new edge, then a refresh of the child's
 * subtree. Fixed perms are for BlockBackend and job parents.
 */
export function attachChild(
  p: Proc, parent: ParentRef, child: string, name: string, role: number,
  fixed?: { perm: number; shared: number }, opts: { refresh?: boolean } = {},
): Edge {
  p.step(`attach ${parent.kind === 'node' ? parent.node : parent.kind === 'bb' ? 'bb' : parent.job}.${name} -> ${child}`);
  const e: Edge = { id: 'e' + p.nextSeq(), parent, name, child, role, perm: 0, shared: 0xf, frozen: false, at: 0 };
  e.at = Number(e.id.slice(1));
  // bdrv_attach_child_noperm / blk_insert_bs / bdrv_attach_child_common over an inactive child (graph/inactive.ts)
  const asked = fixed ?? (parent.kind === 'node' ? childPermFor(p, p.node(parent.node)!, e) : undefined);
  const perms = inactiveAttach(p, parent, child, name, asked);
  if (perms) Object.assign(e, perms);
  p.putEdge(e);
  if (opts.refresh !== false) refreshPerms(p, [child]);
  return p.edge(e.id)!;
}

/** Total references on a node: edges into it, the monitor's, and any a job holds. */
export function refcount(p: Proc, node: string): number {
  const n = p.node(node);
  if (!n) return 0;
  return p.parents(node).length + (n.monitor ? 1 : 0) + Number((n.extra as { refs?: number } | undefined)?.refs ?? 0);
}

/**
 * bdrv_root_unref_child: drop the edge; the old child's perms relax (errors ignored,
 * as bdrv_child_try_set_perm does when loosening) and it closes if nothing holds it.
 */
export function detachChild(p: Proc, edgeId: string): void {
  const e = p.edge(edgeId);
  if (!e) return;
  p.delEdge(edgeId);
  tryRefresh(p, [e.child]);
  // A parent that needed a non-default AioContext is gone: back to the main loop if possible.
  if (p.node(e.child)) tryMoveToContext(p, e.child, MAIN_CONTEXT);
  unrefIfUnused(p, e.child);
}

export function tryRefresh(p: Proc, roots: string[]): void {
  p.d.attempt(() => refreshPerms(p, roots.filter((r) => p.node(r))), (e) => e instanceof QmpError);
}

/** bdrv_unref reaching zero: bdrv_close then delete (children first, newest first). */
export function unrefIfUnused(p: Proc, node: string): void {
  if (!p.node(node) || refcount(p, node) > 0) return;
  closeNode(p, node);
}

export function closeNode(p: Proc, node: string): void {
  // bdrv_close → qcow2_close → qcow2_inactivate: persistent bitmaps go to the image's bitmap
  // directory first (a failure is only reported: "Lost persistent bitmaps during inactivation")
  if (p.node(node)?.bitmaps?.length && p.node(node)!.driver === 'qcow2') storePersistentBitmaps(p, node, true);
  // cbw_close: block_copy_state_free releases the copy bitmap on the filter's source
  if (p.node(node)?.driver === 'copy-before-write') releaseCbwBitmaps(p, node);
  // cor_close: a chain its `bottom` froze is released
  if (p.node(node)?.driver === 'copy-on-read') unfreezeToBottom(p, node);
  refuseCloseWithBusyBitmap(p, node);
  refuseCloseWithAnonBitmap(p, node);
  for (const c of p.childrenOf(node)) detachChild(p, c.id);
  p.delNode(node);
}

/**
 * bdrv_close -> bdrv_release_named_dirty_bitmaps -> bdrv_release_dirty_bitmap_locked:
 * assert(!bdrv_dirty_bitmap_busy(bitmap)). An NBD export marks its bitmaps busy
 * (nbd_export_create: bdrv_dirty_bitmap_set_busy) but holds no reference to the node a bitmap
 * lives on when it was found below the exported node (bdrv_filter_or_cow_bs) or named by
 * node+name: a stream or commit that drops that node, or a reopen that detaches it, closes it
 * with the bitmap still busy, and QSD 7.2.22 and 10.0.2 both die (recorded: the combo-c8
 * stream's finalize; abort-37-stream-drops-base-with-exported-bitmap). A persistent one dies the
 * same way a step earlier, in qcow2_inactivate's release (storePersistentBitmaps).
 */
function refuseCloseWithBusyBitmap(p: Proc, node: string): void {
  const b = (p.node(node)?.bitmaps ?? []).find((x) => x.owner === undefined && x.busy);
  if (!b) return;
  throw new QemuAbortRefusal(
    `Node '${node}' would close with its bitmap '${b.name}' in use (busy) by an export that does not hold the node ` +
    "(QEMU aborts here: bdrv_close -> bdrv_release_named_dirty_bitmaps -> bdrv_release_dirty_bitmap_locked: Assertion `!bdrv_dirty_bitmap_busy(bitmap)' failed); refused by blockgraph",
    'bdrv_release_dirty_bitmap_locked',
  );
}

/**
 * bdrv_close releases the node's named bitmaps (bdrv_release_named_dirty_bitmaps) and then
 * asserts QLIST_EMPTY(&bs->dirty_bitmaps): an anonymous bitmap someone else created on the node
 * is still there when the node closes under its owner. Recorded on QSD 7.2 (fuzz seed
 * 3412715501): a copy-before-write filter over a stream's named filter keeps its block-copy
 * bitmap on the filter (block_copy_state_new on the source); job-finalize drops the filter
 * (bdrv_cor_filter_drop: every parent, the cbw's links included, moves to the filter's child,
 * then bdrv_unref closes it) and the daemon aborts. 10.0 keeps that bitmap on the cbw filter
 * itself (graph/rules.ts 'block-copy-bitmap-node'), so the same commands carry out there. A
 * copy-before-write node's own bitmaps (done, access, and the copy bitmap where it holds it)
 * go in cbw_close before the check.
 */
function refuseCloseWithAnonBitmap(p: Proc, node: string): void {
  const n = p.node(node);
  if (!n?.bitmaps?.length) return;
  const own = n.driver === 'copy-before-write' ? cbwOwnBitmaps(node) : new Set<string>();
  const left = n.bitmaps.find((b) => b.name === '' && !own.has(b.owner ?? ''));
  if (!left) return;
  const whose = anonBitmapOwner(left.owner);
  throw new QemuAbortRefusal(
    `Cannot close node '${node}': ${whose} is still on it ` +
    "(QEMU 7.2 aborts here: bdrv_close: Assertion 'QLIST_EMPTY(&bs->dirty_bitmaps)' failed); refused by blockgraph",
    'bdrv_close',
  );
}

/** Moves one edge to another child (bdrv_replace_child_noperm): it becomes the newest parent. */
export function retarget(p: Proc, edgeId: string, child: string): Edge {
  return p.patchEdge(edgeId, { child, at: p.nextSeq() });
}
