// bdrv_open_inherit (block.c, 7.2): before a non-protocol node is opened, its `file` child is
// opened (or looked up) on its own and put behind a BlockBackend "only used for probing":
//     file = blk_new(bdrv_get_aio_context(file_bs), 0, BLK_PERM_ALL);
//     blk_insert_bs(file, file_bs, &local_err);
// blk_insert_bs -> bdrv_root_attach_child refreshes the file node's permissions with that new
// parent, and the BlockBackend stays attached through bdrv_open_common (the driver's own open
// and its option checks) until blk_unref(file), before the backing file is opened.
//
// The probe asks nothing (perm 0) and shares everything (BLK_PERM_ALL), so it never takes part in
// a permission conflict itself; what it changes is that the file node has a parent. A driver whose
// child perms depend on that (cbw_child_perm: `if (!QLIST_EMPTY(&bs->parents))` the source child
// unshares write and resize) recomputes them at once, and the conflict that follows is QEMU's
// error for the open, ahead of every check of the driver's own (raw_read_options' `offset`,
// qcow2's header, ...) and with the probe's edge order (the target's `write` before the new
// parent's `resize`). The BlockBackend is never visible outside the open, so it is held here, per
// Draft, rather than written to the state: it leaves no record in the log.
import type { Draft } from './draft.js';
import type { Proc } from './proc.js';

const held = new WeakMap<Draft, Map<string, number>>();
const key = (p: Proc, node: string) => `${p.name}\0${node}`;

/** blk_insert_bs of the probing BlockBackend (the caller refreshes the node's perms). */
export function probeAttach(p: Proc, node: string): void {
  let m = held.get(p.d);
  if (!m) held.set(p.d, (m = new Map()));
  m.set(key(p, node), (m.get(key(p, node)) ?? 0) + 1);
}

/** blk_unref of the probing BlockBackend (the caller relaxes the node's perms). */
export function probeDetach(p: Proc, node: string): void {
  const m = held.get(p.d);
  const n = m?.get(key(p, node)) ?? 0;
  if (n <= 1) m?.delete(key(p, node));
  else m!.set(key(p, node), n - 1);
}

/** !QLIST_EMPTY(&bs->parents): a parent edge, or a probing BlockBackend of an open in progress. */
export function hasParents(p: Proc, node: string): boolean {
  return p.d.anyEdgeTo(p.name, node) || (held.get(p.d)?.has(key(p, node)) ?? false);
}

/** A probing BlockBackend of an open in progress sits on `node` (blk_root_change_aio_ctx refuses to move it). */
export function probeHeld(p: Proc, node: string): boolean {
  return held.get(p.d)?.has(key(p, node)) ?? false;
}

/** The nodes of `p`'s process a probing BlockBackend sits on now (hasParents answers differently for them). */
export function probeNodes(p: Proc): string[] {
  const m = held.get(p.d);
  if (!m) return [];
  const prefix = `${p.name}\0`;
  return [...m.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}
