// The set of permission-inconsistent nodes of a state, kept beside it (graph/perm-dirty.ts says
// what it is and resolves it). This module is the light half the reducers (graph/apply.ts) call:
// it only notes which nodes a change may have made consistent or not, so that the set is
// brought up to date by re-checking those nodes when a refresh next asks for it.
//
// Like the parent/child index (graph/adjacency.ts), the record lives in a WeakMap keyed by the
// scope object, never inside the state: the state stays the plain JSON that is hashed,
// snapshotted and compared. A scope object without a record (a snapshot just loaded, a scope
// created anew) gets its set computed from scratch on first use.
import type { Change } from './draft.js';
import type { Edge } from './types.js';

export interface DirtyRecord {
  /** Names of the scope's nodes that are not consistent; null: not known, compute from scratch. */
  resolved: Set<string> | null;
  /** Nodes to re-check: an edge of theirs (parent or child) was written. */
  self: Set<string>;
  /** Nodes to re-check with their node parents: the node itself was written (a parent's child perms read its forceShare). */
  withParents: Set<string>;
}

const records = new WeakMap<object, DirtyRecord>();
/** No record was ever made in this process (a replay or a read-only CLI run): the reducers skip the lookup. */
let anyRecord = false;
/** Beyond this many pending nodes the immutable reducer's copy drops the record (recomputed on use): bounds its copies. */
const PENDING_MAX = 4096;

export function dirtyRecord(scope: object): DirtyRecord | undefined {
  return records.get(scope);
}

export function setDirtyRecord(scope: object, r: DirtyRecord): void {
  anyRecord = true;
  records.set(scope, r);
}

/** The immutable reducer copies a scope: its copy starts from the old scope's record. */
export function copyDirtyRecord(from: object, to: object): void {
  if (!anyRecord) return;
  const r = records.get(from);
  if (!r || r.resolved === null || r.self.size + r.withParents.size > PENDING_MAX) return;
  records.set(to, { resolved: new Set(r.resolved), self: new Set(r.self), withParents: new Set(r.withParents) });
}

/** Notes, on the record of the scope `ch` is applied to, the nodes whose consistency it may change. */
export function noteChange(scope: object | undefined, ch: Change): void {
  if (!anyRecord) return;
  const r = scope ? records.get(scope) : undefined;
  if (!r || r.resolved === null) return;
  if (ch.c === 'nodes') r.withParents.add(ch.id);
  else if (ch.c === 'edges') {
    for (const v of [ch.before, ch.after]) {
      if (!v) continue;
      const e = v as Edge;
      r.self.add(e.child);
      if (e.parent.kind === 'node') r.self.add(e.parent.node);
    }
  } else if (ch.c === 'meta') {
    // the process's QEMU version decides version-dependent child perms of every node
    const q = (v: unknown) => (v as { qemu?: string } | null)?.qemu;
    if (q(ch.before) !== q(ch.after)) r.resolved = null;
  }
  if (r.resolved === null) {
    r.self.clear();
    r.withParents.clear();
  }
}
