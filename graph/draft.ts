// A copy-on-write view over a State. Operations read and write through it; it records,
// per step, each entity's before- and after-image. Those images are the log's undo/redo
// information (ARIES-style physical logging), so a step can be compensated from the log alone.
import type { Edge, State } from './types.js';

export interface Change { s: string; c: string; id: string; before: unknown; after: unknown }
export interface Step { name: string; changes: Change[] }

const GONE = Symbol('gone');
type Slot = unknown | typeof GONE;

export class Draft {
  private readonly over = new Map<string, Map<string, Slot>>();
  private readonly done: Step[] = [];
  private cur: { name: string; changes: Map<string, Change> } = { name: 'main', changes: new Map() };
  private adj = new Map<string, { byChild: Map<string, Set<string>>; byParent: Map<string, Set<string>> }>();
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
    return this.base[s]?.[c]?.[id] as T | undefined;
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
    const baseColl = this.base[s]?.[c];
    const o = this.over.get(s + '\0' + c);
    if (!o) return baseColl ? Object.keys(baseColl) : [];
    const out: string[] = [];
    if (baseColl) for (const k of Object.keys(baseColl)) if (!o.has(k)) out.push(k);
    for (const [k, v] of o) if (v !== GONE) out.push(k);
    return out;
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

  steps(): Step[] {
    this.flush();
    return this.done.slice();
  }

  // Adjacency indexes keep parent/child lookups O(degree); rebuilt once per scope per draft.
  private index(s: string) {
    let ix = this.adj.get(s);
    if (!ix) {
      ix = { byChild: new Map(), byParent: new Map() };
      this.adj.set(s, ix);
      for (const e of this.values<Edge>(s, 'edges')) add(ix, e);
    }
    return ix;
  }
  private reindex(s: string, id: string, before: Edge | undefined, after: Edge | undefined) {
    const ix = this.adj.get(s);
    if (!ix) return;
    if (before) remove(ix, before, id);
    if (after) add(ix, after);
  }
  edgesTo(s: string, child: string): Edge[] {
    const ids = this.index(s).byChild.get(child);
    return ids ? [...ids].map((id) => this.get<Edge>(s, 'edges', id)!) : [];
  }
  edgesFrom(s: string, parentKey: string): Edge[] {
    const ids = this.index(s).byParent.get(parentKey);
    return ids ? [...ids].map((id) => this.get<Edge>(s, 'edges', id)!) : [];
  }
}

export function parentKey(p: Edge['parent']): string {
  return p.kind === 'node' ? 'node:' + p.node : p.kind === 'bb' ? 'bb:' + p.bb : 'job:' + p.job;
}

function add(ix: { byChild: Map<string, Set<string>>; byParent: Map<string, Set<string>> }, e: Edge) {
  let a = ix.byChild.get(e.child);
  if (!a) ix.byChild.set(e.child, (a = new Set()));
  a.add(e.id);
  const pk = parentKey(e.parent);
  let b = ix.byParent.get(pk);
  if (!b) ix.byParent.set(pk, (b = new Set()));
  b.add(e.id);
}
function remove(ix: { byChild: Map<string, Set<string>>; byParent: Map<string, Set<string>> }, e: Edge, id: string) {
  ix.byChild.get(e.child)?.delete(id);
  ix.byParent.get(parentKey(e.parent))?.delete(id);
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}
