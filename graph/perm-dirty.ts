// What lets a permission refresh stop early (graph/refresh.ts refreshPerms): which nodes are
// *consistent*, and the two proofs a walk that did not enter every node below its roots needs.
//
// A node is consistent when its turn of bdrv_list_refresh_perms, run on the state as it is, would
// pass every check (bdrv_parent_perms_conflict, the read-only and alignment checks of
// bdrv_node_refresh_perm, raw_handle_perm_lock's lock bytes) and change nothing: each child edge
// holds what the driver's .bdrv_child_perm gives for the node's cumulative perms, and its lock
// bytes are those perms. This reads only the node, its parent and child edges, its children's
// force-share flag, whether it has parents (and the process's QEMU version), so whether a node is
// consistent is a function of the state: the set of inconsistent nodes is derived, kept beside
// the state (graph/perm-dirty-state.ts) and re-checked only where a change touched it. It is
// not empty in states QEMU itself leaves so: a job filter's perms set by the job code without a
// refresh (mirror_top, commit_top), the stale perms bdrv_replace_node leaves on a moved edge's
// parents, an edge patched by a command without its refresh.
import { adjacencyWork } from './adjacency.js';
import { Draft } from './draft.js';
import { driverInfo } from './drivers.js';
import { PERM_ALL, PERM_U, PERM_W, PERM_Z } from './perm.js';
import { dirtyRecord, setDirtyRecord } from './perm-dirty-state.js';
import { hasParents, probeNodes } from './probe.js';
import { Proc } from './proc.js';
import { alignment, cumulative, lockKey, permLength, refreshWork } from './refresh.js';
import type { Edge, State } from './types.js';
import { versionIn, versionOf } from './version.js';

/** Nodes a draft touched beyond which the early stop is not tried (the full walk is then no worse). */
const TOUCHED_MAX = 2048;
/** Nodes the ancestor walks of one proof may visit before it gives up (and the full walk runs). */
const WALK_MAX = 4096;

/** bdrv_parent_perms_conflict's question (does any pair conflict?) in O(parents), without its counters. */
function parentsConflict(parents: readonly Edge[]): boolean {
  const n = parents.length;
  if (n < 2) return false;
  let before = 0;
  const after = new Array<number>(n + 1);
  after[n] = 0;
  for (let i = n - 1; i >= 0; i--) after[i] = after[i + 1]! | parents[i]!.perm;
  for (let i = 0; i < n; i++) {
    if ((before | after[i + 1]!) & ~parents[i]!.shared) return true;
    before |= parents[i]!.perm;
  }
  return false;
}

/** Whether a refresh's turn of `name` (graph/refresh.ts refreshNode, no pending reopen) would pass and change nothing. */
export function isConsistent(p: Proc, name: string): boolean {
  const n = p.node(name);
  if (!n) return true;
  refreshWork.proofNodes++;
  const parents = p.parents(name);
  if (parentsConflict(parents)) return false;
  const { perm, shared } = cumulative(p, name, parents);
  if (perm & (PERM_W | PERM_U) && n.ro) return false;
  if (perm & (PERM_W | PERM_U) && !(perm & PERM_Z) && permLength(p, n) % alignment(p, n) !== 0) return false;
  // raw_check_lock_bytes finds nothing new to take, and the commit nothing to change
  if (n.driver === 'file' && n.lock && (n.lock.perm !== perm || n.lock.shared !== shared)) return false;
  const info = driverInfo(n.driver);
  if (!info?.childPerm) return true;
  const ctx = { node: n, perm, shared, writableAfter: !n.ro && !n.inactive, hasParents: hasParents(p, name), qemu: versionOf(p) };
  for (const e of p.childrenOf(name)) {
    let np: { perm: number; shared: number };
    try {
      np = info.childPerm({ ...ctx, edge: e });
    } catch {
      return false;
    }
    if (p.node(e.child)?.forceShare) np = { perm: np.perm, shared: PERM_ALL };
    if (np.perm !== e.perm || np.shared !== e.shared) return false;
  }
  if (n.driver !== 'file' && n.lock) {
    const fe = p.fileChild(name);
    if (lockKey(p, n) && fe && (n.lock.perm !== fe.perm || n.lock.shared !== fe.shared)) return false;
  }
  return true;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The inconsistent nodes of scope `s` of a (folded, not drafted) state: computed from scratch
 * once per scope object, then brought up to date by re-checking what the reducers noted.
 */
export function baseDirty(state: State, s: string): ReadonlySet<string> {
  const scope = state[s];
  if (!scope) return NONE;
  const r = dirtyRecord(scope);
  if (!r || r.resolved === null) {
    const p = new Proc(new Draft(state), s);
    const ids = Object.keys(scope.nodes ?? {});
    adjacencyWork.entriesEnumerated += ids.length;
    const resolved = new Set<string>();
    for (const id of ids) if (!isConsistent(p, id)) resolved.add(id);
    setDirtyRecord(scope, { resolved, self: new Set(), withParents: new Set() });
    return resolved;
  }
  if (r.self.size || r.withParents.size) {
    const p = new Proc(new Draft(state), s);
    const todo = new Set(r.self);
    for (const x of r.withParents) {
      todo.add(x);
      if (p.node(x)) for (const e of p.parents(x)) if (e.parent.kind === 'node') todo.add(e.parent.node);
    }
    for (const x of todo) {
      if (p.node(x) && !isConsistent(p, x)) r.resolved.add(x);
      else r.resolved.delete(x);
    }
    r.self.clear();
    r.withParents.clear();
  }
  return r.resolved;
}

/**
 * The inconsistent nodes as `p`'s draft sees them now: the base state's, re-checked where the
 * draft wrote (a node, either end of an edge, the node parents of a written node) or holds a
 * probing BlockBackend. Null when the draft touched too much to be worth it, or changed the
 * process's QEMU version.
 */
export function draftDirty(p: Proc): Set<string> | null {
  if (versionOf(p) !== versionIn(p.d.base, p.name)) return null;
  const base = baseDirty(p.d.base, p.name);
  const touched = new Set<string>(probeNodes(p));
  for (const id of p.d.written(p.name, 'nodes')) {
    touched.add(id);
    if (p.node(id)) for (const e of p.parents(id)) if (e.parent.kind === 'node') touched.add(e.parent.node);
  }
  const baseEdges = p.d.base[p.name]?.edges as Record<string, Edge> | undefined;
  for (const id of p.d.written(p.name, 'edges')) {
    for (const e of [p.edge(id), baseEdges?.[id]]) {
      if (!e) continue;
      touched.add(e.child);
      if (e.parent.kind === 'node') touched.add(e.parent.node);
    }
    if (touched.size > TOUCHED_MAX) return null;
  }
  if (touched.size > TOUCHED_MAX) return null;
  const out = new Set<string>();
  for (const x of base) if (!touched.has(x)) out.add(x);
  for (const x of touched) if (p.node(x) && !isConsistent(p, x)) out.add(x);
  return out;
}

/**
 * Proof (1) of the early stop: the leaves (found, not entered) that are inconsistent or have an
 * inconsistent node below them, i.e. that are the dirty nodes or their ancestors. Null when that
 * cannot be told within the walk budget.
 */
export function taintedLeaves(p: Proc, leaves: readonly string[]): string[] | null {
  const dirty = draftDirty(p);
  if (dirty === null) return null;
  if (!dirty.size) return [];
  // the dirty nodes and all their ancestors (node parents, transitively)
  const up = new Set<string>(dirty);
  const stack = [...dirty];
  while (stack.length) {
    const x = stack.pop()!;
    for (const e of p.parents(x)) {
      if (e.parent.kind !== 'node' || up.has(e.parent.node)) continue;
      if (up.size >= WALK_MAX) return null;
      refreshWork.proofNodes++;
      up.add(e.parent.node);
      stack.push(e.parent.node);
    }
  }
  return leaves.filter((l) => up.has(l));
}

/**
 * Proof (2): no entered node is reachable from a leaf, so the entered nodes come in the order
 * bdrv_topological_dfs gives them. The topmost entered node on a path from a leaf would have a
 * node parent that is a leaf, or neither found nor entered but below a found node: each entered
 * node's other parents are walked up until a found node (proof fails) or the top. A lone root's
 * own parents need no walk (one below it would make a cycle).
 */
export function entryOrderKept(p: Proc, roots: readonly string[], found: readonly string[], entered: ReadonlySet<string>): boolean {
  const foundSet = new Set(found);
  const clear = new Set<string>(); // walked up to the top without meeting a found node
  let budget = WALK_MAX;
  const reachesFound = (start: string): boolean => {
    const stack = [start];
    const seen = new Set<string>([start]);
    while (stack.length) {
      const x = stack.pop()!;
      if (foundSet.has(x)) return true;
      if (clear.has(x)) continue;
      if (--budget < 0) return true;
      refreshWork.proofNodes++;
      for (const e of p.parents(x)) {
        if (e.parent.kind !== 'node' || seen.has(e.parent.node)) continue;
        seen.add(e.parent.node);
        stack.push(e.parent.node);
      }
    }
    for (const x of seen) clear.add(x);
    return false;
  };
  const loneRoot = new Set(roots).size === 1 ? roots[0] : undefined;
  for (const x of found) {
    if (!entered.has(x) || x === loneRoot) continue;
    for (const e of p.parents(x)) {
      if (e.parent.kind !== 'node') continue;
      const q = e.parent.node;
      if (entered.has(q)) continue;
      if (reachesFound(q)) return false;
    }
  }
  return true;
}
