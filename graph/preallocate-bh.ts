// QEMU 10.0's preallocate filter keeps write and resize on its file after its parents gave them
// up, until a bottom half drops them (rule 'preallocate-drop-resize-bh').
import { tryRefresh } from './ops.js';
import { PERM_W, PERM_Z } from './perm.js';
import type { Proc } from './proc.js';
import type { Edge } from './types.js';
import { rule } from './rules.js';

/**
 * block/preallocate.c (10.0): preallocate_set_perm with write and resize makes s->data_end valid
 * and cancels drop_resize_bh; without them it schedules the bottom half. preallocate_child_perm
 * claims write and resize (unshared) while data_end is valid. The main loop runs the bottom half
 * after the QMP command that changed the permissions: preallocate_drop_resize resets data_end and
 * refreshes the file child's permissions (bdrv_child_refresh_perms). Within a command the old
 * claim stands, so a parent that swaps the filter out for the filter's own file in one
 * blockdev-reopen meets it (combo-c3-long-filters-jobs-reopen). Run at the end of every command.
 */
export function preallocateDropResizeBh(p: Proc): void {
  // the flag is kept on both versions (7.2's preallocate_set_perm sets data_end too), so that a
  // state differs between them only where a permission does (replay/upgrade.ts diffs whole states);
  // only 10.0's preallocate_child_perm reads it
  const held = rule(p, 'preallocate-drop-resize-bh');
  for (const name of touchedPreallocateNodes(p)) {
    const n = p.node(name);
    if (!n || n.driver !== 'preallocate') continue;
    let perm = 0;
    for (const e of p.parents(n.name)) perm |= e.perm;
    const canWriteResize = (perm & PERM_W) !== 0 && (perm & PERM_Z) !== 0;
    const extra = (n.extra ?? {}) as { preallocHeld?: boolean; preallocated?: boolean; preallocError?: boolean; preallocDropKept?: boolean };
    if (extra.preallocDropKept === true) {
      // a failed reopen's preallocate_drop_resize (preallocateReopenRoDropResidue): no
      // preallocate_set_perm ran on this node in the command (tran_abort), so nothing makes
      // data_end valid again although its parents still write and resize
      const { preallocDropKept: _k, ...keep } = extra;
      p.patchNode(n.name, { extra: keep });
      continue;
    }
    if ((extra.preallocHeld === true) === canWriteResize) continue;
    // preallocate_set_perm without write and resize also forgets file_end (graph/preallocate-truncate.ts);
    // with them, a data_end a failed truncate left negative becomes the file's length again
    const { preallocated: _gone, preallocError: _err, ...rest } = extra;
    const { preallocError: _err2, ...kept } = extra;
    p.patchNode(n.name, { extra: { ...(canWriteResize ? kept : { ...rest, ...(extra.preallocError ? { preallocError: true } : {}) }), preallocHeld: canWriteResize } });
    // the bottom half's bdrv_child_refresh_perms (a gain needs none: the perm already claims them)
    if (!canWriteResize && held) tryRefresh(p, [n.name]);
  }
}

/**
 * The preallocate nodes whose parents' permissions the command can have changed: a node it wrote
 * (added, reopened) and the child of every edge it wrote (attached, detached, permissions
 * refreshed), before and after. The rest keep their flag, so a command's cost stays by the edges
 * it touched, not the graph (issue 15; specs/engine/locality).
 */
function touchedPreallocateNodes(p: Proc): Set<string> {
  const out = new Set<string>();
  for (const id of p.d.written(p.name, 'nodes')) out.add(id);
  const base = (p.d.base[p.name]?.edges ?? {}) as Record<string, Edge>;
  for (const id of p.d.written(p.name, 'edges')) {
    const was = Object.prototype.hasOwnProperty.call(base, id) ? base[id] : undefined;
    if (was) out.add(was.child);
    const now = p.edge(id);
    if (now) out.add(now.child);
  }
  return out;
}

/**
 * preallocate_reopen_prepare (10.0) of an entry going read-only: "Drop the preallocation already
 * here if reopening read-only. The child might also be reopened read-only and then scheduling a
 * BH during the permission update is too late": preallocate_drop_resize resets data_end (when
 * valid) and refreshes the file child's perms (bdrv_child_refresh_perms, errors ignored), before
 * the queue's permission update. 7.2's prepare only absorbs the options (rule
 * 'preallocate-drop-resize-bh': its child perm never reads the flag).
 */
export function preallocateReopenRoDrop(p: Proc, name: string): boolean {
  if (!rule(p, 'preallocate-drop-resize-bh')) return false;
  const n = p.node(name);
  const extra = (n?.extra ?? {}) as { preallocHeld?: boolean; preallocated?: boolean };
  if (!n || extra.preallocHeld !== true) return false; // s->data_end < 0
  const { preallocated: _gone, ...rest } = extra;
  p.patchNode(name, { extra: { ...rest, preallocHeld: false } });
  tryRefresh(p, [name]);
  return true;
}

/**
 * What preallocateReopenRoDrop leaves when the reopen then fails (fuzz --qemu 10.0 1333905168):
 * bdrv_reopen_multiple's tran_abort undoes the permission update, and preallocate_reopen_abort
 * only frees the options, so s->data_end stays -EINVAL (and the file truncated to its real size)
 * although the parents still write and resize. The file link keeps its claim for now
 * (preallocate_child_perm: the parents' write and resize), but once they give them up nothing
 * is held any more: an inactivation of the parent then succeeds. Only a preallocate_set_perm with
 * write and resize (the filter's next refresh) makes data_end valid again; the end-of-command
 * bottom half, which takes the state from the parents, is told to leave this one
 * (preallocDropKept, consumed by preallocateDropResizeBh in the same command).
 */
export function preallocateReopenRoDropResidue(p: Proc, name: string): void {
  const n = p.node(name);
  if (!n || n.driver !== 'preallocate') return;
  const extra = (n.extra ?? {}) as { preallocHeld?: boolean; preallocated?: boolean };
  if (extra.preallocHeld !== true) return;
  // 10.0's drop truncated the preallocation away; 7.2 ran no drop (the flag alone, unread there)
  const { preallocated: _gone, ...rest } = extra;
  p.patchNode(name, { extra: { ...(rule(p, 'preallocate-drop-resize-bh') ? rest : extra), preallocHeld: false, preallocDropKept: true } });
}
