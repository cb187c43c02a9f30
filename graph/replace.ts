// bdrv_replace_node and bdrv_append (block.c, 7.2), each as one transaction: the parent edges
// move first without permission updates, then one refresh over both subtrees decides; any error
// rolls the whole step back (Draft.atomically), exactly as tran_abort would.
//
// Why seed 001's bdrv_swap is not needed here: bdrv_swap exchanged the contents of two
// BlockDriverState structs so that everything pointing at the old struct (device, job, op
// blockers, refcnt) would see the new image, then swapped the "device" fields back — with
// preconditions (anonymous new node, no job, no BlockBackend, no bitmaps) that the active-layer
// case of bdrv_drop_intermediate broke. In this model, as in QEMU since 2.5, everything that
// refers to a node from above does so through an edge: BlockBackends (exports, job BBs) hold a
// `root` edge, overlays a `backing` edge, jobs their own edges. Moving those edges onto the new
// node (replaceNode) therefore gives the same observable result as the swap; nodes keep their
// identity (name, options, monitor reference), and edges that must not move (job edges, which are
// `stay_at_node`, and edges inside the new node's subtree) are skipped instead of swapped back.
import { QemuAbortRefusal } from './qemu-abort.js';
import { drained } from './drain.js';
import { QmpError } from '../errors/index.js';
import { attachAcrossContexts } from './aio.js';
import { attachChild, retarget, unrefIfUnused } from './ops.js';
import { ROLE_COW, ROLE_FILTERED, ROLE_PRIMARY } from './perm.js';
import type { Proc } from './proc.js';
import { refreshPerms } from './refresh.js';
import { rule } from './rules.js';
import type { Edge } from './types.js';
import { filterOrCowBs, filterOrCowChild, isFilter } from './jobs/chain.js';

/** should_update_child: job edges stay; an edge inside `to`'s subtree would make a loop. */
export function shouldUpdateChild(p: Proc, c: Edge, to: string): boolean {
  if (c.parent.kind === 'job') return false;
  const found = new Set<string>([to]);
  const queue = [to];
  while (queue.length) {
    const v = queue.shift()!;
    for (const c2 of p.childrenOf(v)) {
      if (c2.id === c.id) return false;
      if (found.has(c2.child)) continue;
      found.add(c2.child);
      queue.push(c2.child);
    }
  }
  return true;
}

/** bdrv_replace_node_noperm: parents of `from` (newest first) move to `to`. */
export function replaceNodeNoPerm(p: Proc, from: string, to: string, autoSkip: boolean): void {
  for (const c of p.parents(from)) {
    if (!shouldUpdateChild(p, c, to)) {
      if (autoSkip) continue;
      throw new QmpError(`Should not change '${c.name}' link to '${from}'`);
    }
    if (c.frozen) throw new QmpError(`Cannot change '${c.name}' link to '${from}'`);
    retarget(p, c.id, to);
  }
}

export interface ReplaceOpts {
  /** bdrv_replace_node has it; bdrv_drop_intermediate does not. */
  autoSkip?: boolean;
  /** bdrv_drop_filter: also remove the link from the chain above `to` down to `to`. */
  detachSubchain?: boolean;
}

/** bdrv_replace_node_common. Throws QEMU's error with nothing changed. */
export function replaceNode(p: Proc, from: string, to: string, opts: ReplaceOpts = {}): void {
  // bdrv_replace_node_common: bdrv_drained_begin(from) for the whole replacement
  drained(p, [from], false, () => replaceNodeDrained(p, from, to, opts));
}

function replaceNodeDrained(p: Proc, from: string, to: string, opts: ReplaceOpts): void {
  const autoSkip = opts.autoSkip ?? true;
  let removed: Edge | undefined;
  p.d.atomically(() => {
    let toCowParent: string | null = null;
    if (opts.detachSubchain) {
      toCowParent = from;
      for (let i = 0; toCowParent && filterOrCowBs(p, toCowParent) !== to && i < 100000; i++) toCowParent = filterOrCowBs(p, toCowParent);
    }
    replaceNodeNoPerm(p, from, to, autoSkip);
    if (toCowParent) {
      removed = filterOrCowChild(p, toCowParent);
      if (removed) p.delEdge(removed.id);
    }
    refreshPerms(p, [from, to].filter((n) => p.node(n)));
  });
  // The transaction's commit drops the references the moved edges held on `from`.
  unrefIfUnused(p, from);
  if (removed) unrefIfUnused(p, removed.child);
}

/**
 * bdrv_append on QEMU 10.0 ends with bdrv_refresh_limits(bs_top) under the graph writer lock
 * (bdrv_graph_wrlock_drained), whatever it decided; a compress filter's refresh_limits calls
 * bdrv_get_info, a co_wrapper that waits for the reader lock: the daemon hangs for good (rule
 * 'append-over-compress-hangs'; found by fuzz --qemu 10.0 seed 41 through blockdev-snapshot and
 * through block-commit's mirror_start_job). Every bdrv_append of the model comes here first:
 * external snapshots, mirror_top (blockdev-mirror, active commit) and commit_top.
 */
export function refuseAppendHang(p: Proc, bsTop: string): void {
  if (rule(p, 'append-over-compress-hangs') && p.node(bsTop)?.driver === 'compress') {
    throw new QemuAbortRefusal(`Node '${bsTop}' is a compress filter: a node appended above it refreshes its limits ` +
      'under the graph writer lock (QEMU 10.0 hangs here: compress_refresh_limits → bdrv_get_info in bdrv_append); refused by blockgraph', 'bdrv_append');
  }
}

/**
 * bdrv_append(bs_new, bs_top): bs_top becomes bs_new's `backing` (a filter's primary child),
 * then bs_new takes bs_top's place in every other parent; one permission refresh decides.
 */
export function appendNode(p: Proc, bsNew: string, bsTop: string, movedBack?: (edges: string[]) => void): Edge {
  refuseAppendHang(p, bsTop);
  let moved: string[] | undefined;
  try {
    return p.d.atomically(() => {
      const role = isFilter(p, bsNew) ? ROLE_FILTERED | ROLE_PRIMARY : ROLE_COW;
      // bdrv_set_backing_noperm -> bdrv_attach_child_common: bs_top's component moves into bs_new's
      // context (a job's filter starts in the main loop: bdrv_new_open_driver), else bs_new into bs_top's
      attachAcrossContexts(p, { kind: 'node', node: bsNew }, bsTop);
      const e = attachChild(p, { kind: 'node', node: bsNew }, bsTop, 'backing', role, undefined, { refresh: false });
      const before = p.parents(bsTop).filter((c) => c.id !== e.id);
      replaceNodeNoPerm(p, bsTop, bsNew, true);
      moved = before.filter((c) => p.edge(c.id)?.child === bsNew).sort((a, b) => a.at - b.at).map((c) => c.id);
      refreshPerms(p, [bsNew]);
      return p.edge(e.id)!;
    });
  } catch (err) {
    // the refresh failed after the parents moved: tran_finalize's abort puts each back with
    // bdrv_replace_child_abort -> bdrv_replace_child_noperm, whose detach/attach callbacks
    // (bdrv_child_cb_detach/attach) take the BdrvChild out of its parent's bs->children and
    // insert it at the head (and at the head of bs_top's parents): the rollback alone keeps
    // their old places. Aborted last added first, so oldest first: they keep their order among
    // themselves and become the newest of all. The caller keeps that as the residue of its refusal.
    if (moved?.length && movedBack) movedBack(moved);
    throw err;
  }
}
