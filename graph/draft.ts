// A copy-on-write view over a State. Operations read and write through it; it records,
// per step, each entity's before- and after-image. Those images are the log's undo/redo
// information (ARIES-style physical logging), so a step can be compensated from the log alone.
import { adjacencyWork, countOf, edgeIndexOf, emptyIndex, indexAdd, indexRemove, parentKey, type EdgeIndex } from './adjacency.js';
import type { Edge, State } from './types.js';
import { jsonTextEqual } from './json-equal.js';
import { own, ownEntry } from './own.js';

const ownScopeColl = (base: State, s: string, c: string): Record<string, unknown> | undefined => {
  const sc = own(base, s);
  return sc === undefined ? undefined : (own(sc, c) as Record<string, unknown> | undefined);
};

export { parentKey } from './adjacency.js';

export interface Change { s: string; c: string; id: string; before: unknown; after: unknown }
export interface Step { name: string; changes: Change[] }

const GONE = Symbol('gone');
type Slot = unknown | typeof GONE;

export class Draft {
  private readonly over = new Map<string, Map<string, Slot>>();
  private readonly done: Step[] = [];
  private cur: { name: string; changes: Map<string, Change> } = { name: 'main', changes: new Map() };
  /** Per scope: the edges this draft wrote, indexed by their current value (the base's index is kept with the state). */
  private adj = new Map<string, EdgeIndex>();
  private journal: (() => void)[] = [];
  private floor = 0;
  private depth = 0;

  constructor(readonly base: State) {}

  get<T>(s: string, c: string, id: string): T | undefined {
    const o = this.over.get(s + '\0' + c);
    if (o && o.has(id)) {
      const v = o.get(id);
      return v === GONE ? undefined : (v as T);
    }
    return ownEntry(this.base, s, c, id) as T | undefined;
  }

  /** Ids written through this draft so far (any step) in one collection: what a derived value must revisit. */
  written(s: string, c: string): string[] {
    const o = this.over.get(s + '\0' + c);
    return o ? [...o.keys()] : [];
  }

  has(s: string, c: string, id: string): boolean {
    return this.get(s, c, id) !== undefined;
  }

  ids(s: string, c: string): string[] {
    const baseColl = ownScopeColl(this.base, s, c);
    const o = this.over.get(s + '\0' + c);
    const baseIds = baseColl ? Object.keys(baseColl) : [];
    adjacencyWork.entriesEnumerated += baseIds.length;
    if (!o) return baseIds;
    const out: string[] = [];
    for (const k of baseIds) if (!o.has(k)) out.push(k);
    for (const [k, v] of o) if (v !== GONE) out.push(k);
    return out;
  }

  /**
   * Whether the collection holds any entity: the count kept with the state (countOf) adjusted by
   * what this draft wrote, never an enumeration of the collection.
   */
  any(s: string, c: string): boolean {
    const baseColl = ownScopeColl(this.base, s, c);
    let n = baseColl ? countOf(baseColl) : 0;
    const o = this.over.get(s + '\0' + c);
    if (o) {
      for (const [k, v] of o) {
        const inBase = baseColl !== undefined && Object.prototype.hasOwnProperty.call(baseColl, k);
        if (v === GONE) { if (inBase) n--; } else if (!inBase) n++;
      }
    }
    return n > 0;
  }

  values<T>(s: string, c: string): T[] {
    return this.ids(s, c).map((id) => this.get<T>(s, c, id) as T);
  }

  scopes(): string[] {
    const set = new Set(Object.keys(this.base));
    for (const k of this.over.keys()) set.add(k.split('\0')[0]!);
    return [...set].sort();
  }

  put(s: string, c: string, id: string, value: unknown): void {
    this.write(s, c, id, value);
  }

  del(s: string, c: string, id: string): void {
    if (this.get(s, c, id) === undefined) return;
    this.write(s, c, id, GONE);
  }

  /** Shallow-merge a patch into an existing entity. */
  patch<T extends object>(s: string, c: string, id: string, p: Partial<T>): T {
    const old = this.get<T>(s, c, id);
    if (old === undefined) throw new Error(`patch of missing ${s}/${c}/${id}`);
    const next = { ...old, ...p } as T;
    this.write(s, c, id, next);
    return next;
  }

  private write(s: string, c: string, id: string, value: Slot): void {
    const key = s + '\0' + c;
    const before = this.get<unknown>(s, c, id);
    let o = this.over.get(key);
    if (!o) this.over.set(key, (o = new Map()));
    const had = o.has(id) ? { v: o.get(id) } : null;
    o.set(id, value);
    if (c === 'edges') this.reindex(s, id, before as Edge | undefined, value === GONE ? undefined : (value as Edge));
    const ck = key + '\0' + id;
    const after = value === GONE ? null : value;
    const changes = this.cur.changes;
    const prev = changes.get(ck);
    const oldAfter = prev?.after;
    if (prev) prev.after = after;
    else changes.set(ck, { s, c, id, before: before ?? null, after });
    const ov = o;
    this.journal.push(() => {
      if (had) ov.set(id, had.v);
      else ov.delete(id);
      if (c === 'edges') this.reindex(s, id, value === GONE ? undefined : (value as Edge), before as Edge | undefined);
      if (prev) prev.after = oldAfter;
      else changes.delete(ck);
    });
  }

  /** A point to roll back to: QEMU's nested transactions whose errors are ignored. */
  savepoint(): number {
    return this.journal.length;
  }

  rollback(sp: number): void {
    if (sp < this.floor) throw new Error('rollback across a finished step');
    while (this.journal.length > sp) this.journal.pop()!();
  }

  /**
   * Runs fn; on a thrown error undoes its writes and rethrows. Inside, step() does not
   * cut a new step: what may still be rolled back cannot be a finished step of the plan.
   */
  atomically<T>(fn: () => T): T {
    const sp = this.savepoint();
    this.depth++;
    try {
      return fn();
    } catch (e) {
      this.rollback(sp);
      throw e;
    } finally {
      this.depth--;
    }
  }

  /** As atomically, but a refusal (an error `swallow` accepts) is undone and reported as false. */
  attempt(fn: () => void, swallow: (e: unknown) => boolean): boolean {
    try {
      this.atomically(fn);
      return true;
    } catch (e) {
      if (!swallow(e)) throw e;
      return false;
    }
  }

  /**
   * Runs fn only to see what it would do (QEMU's order tried before the real run): its writes
   * are always undone, its error rethrown. Steps are not cut inside, as in atomically.
   */
  trial<T>(fn: () => T): T {
    const sp = this.savepoint();
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      this.rollback(sp);
    }
  }

  /** Ends the current step and names the next one. */
  step(name: string): void {
    if (this.depth > 0) return;
    this.flush();
    this.floor = this.journal.length; // a finished step is in the plan: no rollback into it
    this.cur = { name, changes: new Map() };
  }

  private flush(): void {
    const changes = [...this.cur.changes.values()].filter((ch) => !sameJson(ch.before, ch.after));
    if (changes.length) this.done.push({ name: this.cur.name, changes });
    this.cur.changes = new Map();
  }

  /** The current step's changes so far, in the order they were first written (read-only: no step is cut). */
  currentChanges(): Change[] {
    return [...this.cur.changes.values()].map((ch) => ({ ...ch }));
  }

  steps(): Step[] {
    this.flush();
    return this.done.slice();
  }

  // Parent/child lookups are O(degree): the base state's index (built once, then kept with
  // the state by applyChangesInPlace) plus this draft's own writes. A base entry whose edge the
  // draft changed or deleted is filtered out by checking the edge's current value.
  private reindex(s: string, id: string, before: Edge | undefined, after: Edge | undefined) {
    let ix = this.adj.get(s);
    if (!ix) this.adj.set(s, (ix = emptyIndex()));
    if (before) indexRemove(ix, before, id);
    if (after) indexAdd(ix, after, id);
  }
  private lookup(s: string, key: string, by: 'byChild' | 'byParent', matches: (e: Edge) => boolean): Edge[] {
    const baseEdges = this.base[s]?.edges;
    const fromBase = baseEdges ? edgeIndexOf(baseEdges)[by].get(key) : undefined;
    const fromDraft = this.adj.get(s)?.[by].get(key);
    const out: Edge[] = [];
    adjacencyWork.edgesVisited += (fromBase?.size ?? 0) + (fromDraft?.size ?? 0);
    if (fromBase) {
      // An edge this draft did not write is the base's, which its index describes exactly: no
      // re-check (and no key built) per edge; only the written ones are looked at again.
      const o = this.over.get(s + '\0edges');
      for (const id of fromBase) {
        if (o?.has(id)) {
          const v = o.get(id);
          if (v !== GONE && matches(v as Edge)) out.push(v as Edge);
        } else out.push(baseEdges![id] as Edge);
      }
    }
    if (fromDraft) {
      for (const id of fromDraft) {
        if (fromBase?.has(id)) continue;
        const e = this.get<Edge>(s, 'edges', id);
        if (e && matches(e)) out.push(e);
      }
    }
    return out;
  }
  /** Whether any edge has `child` as its child: stops at the first (edgesTo's answer is non-empty). */
  anyEdgeTo(s: string, child: string): boolean {
    const baseEdges = this.base[s]?.edges;
    const fromBase = baseEdges ? edgeIndexOf(baseEdges).byChild.get(child) : undefined;
    const fromDraft = this.adj.get(s)?.byChild.get(child);
    for (const ids of [fromBase, fromDraft]) {
      if (!ids) continue;
      for (const id of ids) {
        adjacencyWork.edgesVisited++;
        if (this.get<Edge>(s, 'edges', id)?.child === child) return true;
      }
    }
    return false;
  }
  edgesTo(s: string, child: string): Edge[] {
    return this.lookup(s, child, 'byChild', (e) => e.child === child);
  }
  edgesFrom(s: string, pk: string): Edge[] {
    return this.lookup(s, pk, 'byParent', (e) => parentKey(e.parent) === pk);
  }
}

/** JSON.stringify(a) === JSON.stringify(b), walked instead of written (graph/json-equal.ts). */
const sameJson = jsonTextEqual;
