// Derived indexes kept with the state, so that a command costs what it touches, not the graph:
//
// - the parent/child index of a scope's edges (QEMU keeps bs->parents and bs->children as
//   lists on each BlockDriverState, so bdrv_get_parent/child lookups are O(degree) there too);
// - the number of entries of each collection, so that removing the last node can drop the
//   empty collection without enumerating it (for…in over a 50k-key dictionary-mode object
//   builds V8's enum cache of every key: O(n) per delete).
//
// Both live beside the state in WeakMaps keyed by the collection object, never inside it: the
// state stays the plain JSON that is hashed, snapshotted and compared. They are built once on
// first use (O(n), counted in `adjacencyWork`) and then kept up to date by applyChangesInPlace,
// the one in-place writer of a folded state. A collection copied by the immutable
// applyChanges is a new object and gets its own index on first use.
import type { Edge } from './types.js';
import { setOwn } from './own.js';

export interface EdgeIndex {
  byChild: Map<string, Set<string>>;
  byParent: Map<string, Set<string>>;
}

/**
 * Work counters, for specs that assert complexity by counting rather than timing (as the
 * AioContext scaling spec does): entries visited to build an index or count a collection,
 * whole-collection enumerations by a Draft, and edges visited by parent/child lookups (the
 * degree of what a command touches), parent pairs compared by permission checks. Plain integers;
 * no clock is read.
 */
export const adjacencyWork = { edgesIndexed: 0, entriesCounted: 0, entriesEnumerated: 0, edgesVisited: 0, permComparisons: 0 };

const indexes = new WeakMap<object, EdgeIndex>();
const counts = new WeakMap<object, number>();

export function parentKey(p: Edge['parent']): string {
  return p.kind === 'node' ? 'node:' + p.node : p.kind === 'bb' ? 'bb:' + p.bb : 'job:' + p.job;
}

export function emptyIndex(): EdgeIndex {
  return { byChild: new Map(), byParent: new Map() };
}

export function indexAdd(ix: EdgeIndex, e: Edge, id: string): void {
  let a = ix.byChild.get(e.child);
  if (!a) ix.byChild.set(e.child, (a = new Set()));
  a.add(id);
  const pk = parentKey(e.parent);
  let b = ix.byParent.get(pk);
  if (!b) ix.byParent.set(pk, (b = new Set()));
  b.add(id);
}

export function indexRemove(ix: EdgeIndex, e: Edge, id: string): void {
  const a = ix.byChild.get(e.child);
  if (a && a.delete(id) && a.size === 0) ix.byChild.delete(e.child);
  const pk = parentKey(e.parent);
  const b = ix.byParent.get(pk);
  if (b && b.delete(id) && b.size === 0) ix.byParent.delete(pk);
}

/** The index of one edges collection: built on first use, then maintained in place. */
export function edgeIndexOf(edges: Record<string, unknown>): EdgeIndex {
  let ix = indexes.get(edges);
  if (!ix) {
    ix = emptyIndex();
    for (const id of Object.keys(edges)) {
      indexAdd(ix, edges[id] as Edge, id);
      adjacencyWork.edgesIndexed++;
    }
    indexes.set(edges, ix);
  }
  return ix;
}

/** Entries in a collection: counted on first use, then maintained in place. */
export function countOf(coll: object): number {
  let n = counts.get(coll);
  if (n === undefined) {
    n = Object.keys(coll).length;
    adjacencyWork.entriesCounted += n;
    counts.set(coll, n);
  }
  return n;
}

/**
 * A collection written whole by a fold that kept it elsewhere meanwhile (replay/fold-lazy.ts, at
 * materialize): its count is `n`, and any parent/child index of it is dropped (built again on
 * first use), since the entries it indexed may be gone.
 */
export function collectionWritten(coll: object, n: number): void {
  counts.set(coll, n);
  indexes.delete(coll);
}

/**
 * Sets (value non-null) or deletes entry `id` of `coll` in place, keeping its count and, for a
 * scope's edges, its parent/child index. Returns the entries left.
 */
export function setEntry(coll: Record<string, unknown>, c: string, id: string, value: unknown): number {
  const had = Object.prototype.hasOwnProperty.call(coll, id);
  const old = had ? coll[id] : undefined;
  const n = countOf(coll);
  const ix = c === 'edges' ? indexes.get(coll) : undefined;
  if (ix && had) indexRemove(ix, old as Edge, id);
  if (value === null || value === undefined) {
    if (!had) return n;
    delete coll[id];
    counts.set(coll, n - 1);
    return n - 1;
  }
  setOwn(coll, id, value);
  if (ix) indexAdd(ix, value as Edge, id);
  if (!had) counts.set(coll, n + 1);
  return had ? n : n + 1;
}
