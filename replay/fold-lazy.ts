// A lazy fold (issue 15, replay): replay to a seq needs only the entities that survive to it, and
// on an add/del log most are created and deleted again before the end of the range. So for each
// record of format version 5 that holds a whole transaction ending in it (the engine's every
// command), the fold does what foldRedo (replay/fold.ts) does, in the same order, except that an
// entity's value is not built: the state's entry holds a Pending (where the stored value keeps its
// image text, store/redo-scan.ts locates it without JSON.parse) and the patches since, and a
// delete drops it with its entry. Only `materialize` (at the end of the range, or before a
// record the lazy path does not fold) builds the survivors: each image parsed and expanded, then
// its patches merged in seq order, by the same functions as foldRedo (expandImage, merged).
// The entries are set and deleted on an overlay of the state (LazyFold #top: its scopes and
// collections as ordered Maps, following applyChangesInPlace's steps: key order, pruning of an
// emptied collection and scope) and written back at materialize, so that the entities,
// collections and scopes made and removed again within the range never become objects of the
// state; a collection the state already held is changed in place through graph/adjacency.ts
// setEntry, as the eager fold changes it. The protocol table (feedWhole) and the protocol errors
// at the same records are the eager fold's own code. specs/store/fold-raw.spec.ts compares both folds at every seq of the golden and random
// engine logs. What the lazy fold gives up: an image whose text is not JSON (a CRC-sound value
// only a forger writes) is reported (LogCorruptError of its record) when the entity is built,
// not when its record is read, and not at all if it is deleted before the end of the range;
// `verify` decodes every record in full.
//
// The fold must own its state from a fresh start (emptyFold, or a snapshot's structuredClone, as
// replay and the engine's load do): a Pending never meets an edge index or a perm-dirty record
// (graph/adjacency.ts, graph/perm-dirty-state.ts), which only readers build, after materialize
// (which drops the index of a collection it writes and marks a scope's record to be computed
// again).
import { LogCorruptError } from '../errors/index.js';
import { CURRENT_VERSION } from '../events/types.js';
import { collectionWritten, setEntry } from '../graph/adjacency.js';
import { newCollection } from '../graph/apply.js';
import { dirtyRecord } from '../graph/perm-dirty-state.js';
import { TABLE4, type ChainReader } from '../store/codec.js';
import { merged } from '../store/image-delta.js';
import { expandImage, TEMPLATE_PROBE, templateFor } from '../store/image-template.js';
import { newRedoScan, sameMembers, scanRedo, txnOf } from '../store/redo-scan.js';
import { feedWhole, foldRaw, protocol, wholeProtocolOk, type Fold } from './fold.js';

type Obj = Record<string, unknown>;
const PROTO = '__proto__';
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: unknown, k: string): unknown => (o !== undefined && Object.prototype.hasOwnProperty.call(o, k) ? (o as Obj)[k] : undefined);

/**
 * Work counted (specs assert it, never time it): records folded lazily or the full way, entities
 * built, texts parsed, entries of the state's objects set or deleted (in place, or written at
 * materialize), entities deleted before they were ever built or written (`cancelled`), scopes
 * and collections made in the overlay (`levelsMade`), patch pairs handed to sameMembers and their
 * chars (`compared`, `comparedChars`).
 */
export const lazyWork = { lazy: 0, full: 0, built: 0, parses: 0, patchesFolded: 0, entriesSet: 0, cancelled: 0, levelsMade: 0, compared: 0, comparedChars: 0 };

/**
 * Pending patches of one entity at most before it is built: bounds what a long-lived entity
 * patched by every record keeps (each patch holds its record's value) and the merges left to
 * the end. A patch with the same members as the one before it replaces it (sameMembers).
 */
const MAX_PATCHES = 8;

/** Patches compared by sameMembers at most this long (chars, each of the two). */
const SHORT_PATCH = 128;

interface Patch { v: string; a: number; b: number; ua: number; ub: number; seq: number }

/** An entry of the state whose value is not built yet. */
class Pending {
  constructor(
    readonly s: string,
    readonly c: string,
    readonly id: string,
    /** The record its image is in (errors name it), or of its first patch over `base`. */
    public seq: number,
    /** The stored value holding its image text [a, b), or undefined where `base` is the entity. */
    public v: string | undefined,
    public a: number,
    public b: number,
    /** 1: a templated image; 2: an image as is; 0: `base`. */
    public kind: number,
    public base: unknown,
    /** Is the value a plain object (what a patch needs)? */
    public plain: boolean,
    public patches: Patch[] | undefined,
  ) {}
}

function parseAt(v: string, a: number, b: number, seq: number): unknown {
  lazyWork.parses++;
  try {
    return JSON.parse(v.substring(a, b));
  } catch {
    throw new LogCorruptError(seq, 'body is not a record');
  }
}

/** The value foldRedo would have put in the entry: the image expanded, then each patch merged. */
function build(p: Pending): unknown {
  lazyWork.built++;
  let cur = p.base;
  if (p.v !== undefined) {
    const x = parseAt(p.v, p.a, p.b, p.seq);
    if (p.kind === 1) {
      // a templated after-image (store/image-template.ts); feed checked the template exists
      cur = expandImage(templateFor(p.c, TEMPLATE_PROBE)!, x);
      if (cur === undefined) throw new LogCorruptError(p.seq, 'body is not a record');
    } else cur = x;
  }
  if (p.patches !== undefined) {
    for (const q of p.patches) {
      lazyWork.patchesFolded++;
      const x = parseAt(q.v, q.a, q.b, q.seq);
      if (!isPlain(x) || !isPlain(cur)) throw new LogCorruptError(q.seq, 'body is not a record');
      const u = q.ua >= 0 ? parseAt(q.v, q.ua, q.ub, q.seq) : undefined;
      cur = merged(cur, x, Array.isArray(u) ? (u as string[]) : []);
    }
  }
  return cur;
}

/** Builds `p` now and keeps the result as its base (its entry still holds `p`). */
function settle(p: Pending): void {
  const v = build(p);
  p.base = v;
  p.v = undefined;
  p.kind = 0;
  p.patches = undefined;
  p.plain = isPlain(v);
}

/**
 * A collection as the overlay holds it (LazyFold #top): either one of the state's own
 * collection objects, changed in place through graph/adjacency.ts setEntry (counts and pruning
 * as the eager fold does them; only collections the state held when the overlay was made), or,
 * for a collection made since, a Map of its entries (each a Pending), written into a new object
 * only at materialize.
 */
class Coll {
  constructor(
    readonly obj: Obj | undefined,
    readonly m: Map<string, Pending> | undefined,
  ) {}
}

/** A scope as the overlay holds it: its collections in the order the state's object would hold them. */
class Scope {
  constructor(
    /** The state's scope object, or undefined: made since (written at materialize). */
    public obj: Obj | undefined,
    readonly m: Map<string, Coll>,
    /** Was a collection added or removed (its object is then written again at materialize)? */
    public moved: boolean,
  ) {}
}

/** An object of the state the overlay can mirror: a plain object, with no own `__proto__` member. */
const mirrorable = (o: unknown): o is Obj => typeof o === 'object' && o !== null && Object.getPrototypeOf(o) === Object.prototype && !Object.prototype.hasOwnProperty.call(o, PROTO);

export class LazyFold {
  readonly fold: Fold;
  /** The Pendings the state's own collection objects hold (each in its entry), to build at materialize. */
  readonly #live = new Set<Pending>();
  readonly #scan = newRedoScan();
  /**
   * The overlay (issue 15, replay of a log with edges): the state's scopes and collections as
   * ordered Maps, made from the state on the first lazy record after materialize and written
   * back into it at the next one. Every key level of the state (scopes, a scope's collections,
   * a collection's entities) is an ordered dictionary whose order is that of insertion (integer
   * keys aside, which an object sorts first whichever way it is filled), a key removed and made
   * again going to the end: a Map keeps the same order under the same sets and deletes, so the
   * eager fold's applyChangesInPlace (graph/apply.ts: `??=` a scope and a collection, setEntry,
   * prune when a collection's count reaches 0 and then the scope when it is empty) is followed
   * here on Maps, step by step, and materialize writes each level in the Maps' order. What that
   * saves on a log with edges (a chain made, reopened, streamed and deleted every 9 records):
   * the entities, collections and scopes made and removed again within the range are never
   * objects of the state: no dictionary-mode collection made, counted (a WeakMap), indexed and
   * pruned per cycle, no `hasOwnProperty` walks; a change costs a Map lookup or two.
   * Undefined: not made yet (or written back).
   */
  #top: Map<string, Scope> | undefined = undefined;
  /** Was a scope added to or removed from the state (its object written again at materialize)? */
  #topMoved = false;
  /**
   * A create not made in the overlay yet: its entity is new to its collection, and every change
   * folded since it was deferred replaced a value in place (a patch, an image of an entity the
   * overlay holds), which moves no key. Made now (#insert) or cancelled by its delete, it gives
   * the eager fold's state: every level is ordered by insertion, so an entry made and then
   * removed with no key made or removed in between (the collection and scope it may have made,
   * pruned again) leaves every level as if it had never been made; and an entry made late with
   * no key moved in between lands where it would have. So before anything that makes or removes
   * a key (another create, a delete), it is made for real. The add/del workload's node lives
   * from one record to the next unmade.
   */
  #deferred: Pending | undefined = undefined;
  /** A collection of the overlay pruned (its Map empty), made again by the next create of a collection. */
  #spare: Coll | undefined = undefined;
  /**
   * A name `__proto__` was met (in a change, or in the state as an own member): an assignment of
   * it reaches the prototype where the eager fold makes it, and a prototype changes what `for…in`
   * (prune) sees, which no Map follows. Every record from then on is folded the full way
   * (foldRaw, the eager fold itself), which is exact by definition.
   */
  #eager = false;

  constructor(fold: Fold) {
    this.fold = fold;
  }

  /**
   * Folds the next stored value, which `chain` checks (CRC, seq, link) as ChainReader.nextRaw
   * would: lazily when it is a whole transaction of format version 5 the scanner reads,
   * otherwise (after materialize) the full way, replay/fold.ts foldRaw over nextRaw.
   * `crcChecked`: its CRC was checked with its chunk's (EventLog.feedChunks, store/crc-chunk.ts).
   */
  feed(chain: ChainReader, value: string, crcChecked = false): void {
    const undoAt = chain.frame3At(value, crcChecked);
    const r = this.#scan;
    if (undoAt > 0 && !this.#eager && CURRENT_VERSION['txn.begun'] === 5 && scanRedo(value, chain.redoAt, undoAt, r, chain.version, TABLE4, chain.entries)
      && this.#lazyOk(r.n) && (this.#top !== undefined || this.#mirror())) {
      const seq = chain.expect;
      chain.advance(value);
      lazyWork.lazy++;
      this.#apply(seq, value);
      return;
    }
    lazyWork.full++;
    this.materialize();
    foldRaw(this.fold, chain.nextRaw(value));
  }

  /**
   * Does every templated image of the scan have its collection's template (else the full path
   * reports the record)? Is no name `__proto__` (else this record and every one after it go the
   * full way: #eager)?
   */
  #lazyOk(n: number): boolean {
    const { kind, s, c, id } = this.#scan;
    for (let k = 0; k < n; k++) {
      const ck = c[k]!;
      if ((ck.length === 9 && ck === PROTO) || (id[k]!.length === 9 && id[k] === PROTO) || (s[k]!.length === 9 && s[k] === PROTO)) {
        this.#eager = true;
        return false;
      }
      if (kind[k] !== 1) continue;
      // the last collection found to have one (templates are fixed at build time: store/image-template.ts)
      if (ck === this.#hasTemplate) continue;
      if (templateFor(ck, TEMPLATE_PROBE) === undefined) return false;
      this.#hasTemplate = ck;
    }
    return true;
  }

  #hasTemplate = '';

  /** Makes the overlay from the state (its scopes and their collections; O(scopes × collections)); false where it cannot (#eager). */
  #mirror(): boolean {
    const state = this.fold.state as Obj;
    const top = new Map<string, Scope>();
    let ok = mirrorable(state);
    for (const sk in state) {
      if (!ok) break;
      const so = state[sk];
      if (!mirrorable(so)) ok = false;
      else {
        const m = new Map<string, Coll>();
        for (const ck in so) {
          const co = so[ck];
          if (!mirrorable(co)) ok = false;
          m.set(ck, new Coll(co as Obj, undefined));
        }
        top.set(sk, new Scope(so, m, false));
      }
    }
    if (!ok) {
      this.#eager = true;
      return false;
    }
    this.#top = top;
    this.#topMoved = false;
    return true;
  }

  /**
   * foldRedo over the scan on the overlay, each entry's value left pending: applyChangesInPlace's
   * steps on Maps (see #top), so the entities made and deleted again within the range cost no
   * entry of the state.
   */
  #apply(seq: number, value: string): void {
    const f = this.fold;
    const r = this.#scan;
    const { s, c, id, kind, xa, xb, ua, ub, steps, n, commit } = r;
    // feedWhole's checks; its transaction id made only where they read it: with no transaction
    // open, a non-empty id cannot be a duplicate, and the protocol table's answer for a whole
    // transaction depends on its steps and decision alone (wholeProtocolOk)
    if (seq === f.seq + 1 && f.open.size === 0 && r.txn === undefined && r.tb > r.ta && wholeProtocolOk(steps, commit)) f.seq = seq;
    else feedWhole(f, seq, txnOf(value, r), steps, commit);
    const top = this.#top!;
    const live = this.#live;
    for (let k = 0; k < n; k++) {
      const sk = s[k]!;
      const ck = c[k]!;
      const ik = id[k]!;
      const kk = kind[k]!;
      const d = this.#deferred;
      if (d !== undefined && d.id === ik && d.c === ck && d.s === sk) {
        // the deferred entity itself (ids compared first: they differ most): its changes stay
        // off the overlay; a new image replaces it where it waits, a delete cancels it
        if (kk === 3) {
          if (!d.plain) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
          this.#patch(d, seq, value, xa[k]!, xb[k]!, ua[k]!, ub[k]!);
        } else if (kk !== 0) {
          const a = xa[k]!;
          this.#deferred = new Pending(sk, ck, ik, seq, value, a, xb[k]!, kk, undefined, kk === 1 || value.charCodeAt(a) === 123, undefined);
        } else {
          this.#deferred = undefined;
          lazyWork.cancelled++;
        }
        continue;
      }
      let sc = top.get(sk);
      let co = sc === undefined ? undefined : sc.m.get(ck);
      if (kk === 3) {
        // a patch of the entity as the state holds it (foldRedo's check, at the same record)
        let p: Pending;
        const m = co === undefined ? undefined : co.m;
        if (m !== undefined) {
          const cur = m.get(ik);
          if (cur === undefined || !cur.plain) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
          p = cur;
        } else {
          const obj = co === undefined ? undefined : co.obj!;
          const cur = own(obj, ik);
          if (cur instanceof Pending) {
            if (!cur.plain) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
            p = cur;
          } else {
            if (!isPlain(cur)) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
            // the built entity becomes a Pending's base, in the same entry (its key keeps its place)
            p = new Pending(sk, ck, ik, seq, undefined, 0, 0, 0, cur, true, undefined);
            obj![ik] = p;
            live.add(p);
          }
        }
        this.#patch(p, seq, value, xa[k]!, xb[k]!, ua[k]!, ub[k]!);
        continue;
      }
      if (kk !== 0) {
        const a = xa[k]!;
        // an image as is is a plain object when its text is one (JSON.parse of `{...}`)
        const after = new Pending(sk, ck, ik, seq, value, a, xb[k]!, kk, undefined, kk === 1 || value.charCodeAt(a) === 123, undefined);
        if (co !== undefined && (co.m !== undefined ? co.m.has(ik) : Object.prototype.hasOwnProperty.call(co.obj!, ik))) {
          // a new image of an entity the overlay holds: its key stays where it is
          if (co.m !== undefined) co.m.set(ik, after);
          else this.#setIn(co.obj!, ck, ik, after);
          continue;
        }
        // a create makes a key: the one deferred before it is made first (one waits at a time)
        if (d !== undefined) this.#insert(d);
        this.#deferred = after;
        continue;
      }
      // a delete takes a key away: the deferred create, made before it in the log, is made first
      if (d !== undefined) {
        this.#insert(d);
        sc = top.get(sk);
        co = sc === undefined ? undefined : sc.m.get(ck);
      }
      if (co === undefined) {
        // applyChangesInPlace makes the collection, finds it empty and prunes it: a scope left
        // empty goes too (one the state holds empty); no scope: made and removed, nothing
        if (sc !== undefined && sc.m.size === 0) {
          top.delete(sk);
          this.#topMoved = true;
        }
        continue;
      }
      let left: number;
      if (co.m !== undefined) {
        // an entity made since the overlay was: never built (the edges workload's every node)
        if (co.m.delete(ik)) lazyWork.cancelled++;
        left = co.m.size;
      } else {
        const obj = co.obj!;
        const old = own(obj, ik);
        if (old instanceof Pending) this.#live.delete(old);
        lazyWork.entriesSet++;
        left = setEntry(obj, ck, ik, null);
      }
      if (left === 0) {
        // prune: the collection, then the scope if it is left empty
        sc!.m.delete(ck);
        if (co.m !== undefined) this.#spare = co;
        sc!.moved = true;
        if (sc!.m.size === 0) {
          top.delete(sk);
          this.#topMoved = true;
        }
      }
    }
  }

  /** Sets entry `ik` of one of the state's own collections to a Pending (setEntry: its count). */
  #setIn(obj: Obj, ck: string, ik: string, after: Pending): void {
    const old = own(obj, ik);
    if (old instanceof Pending) this.#live.delete(old);
    this.#live.add(after);
    lazyWork.entriesSet++;
    setEntry(obj, ck, ik, after);
  }

  /**
   * Makes the deferred create `p` in the overlay now, as applyChangesInPlace makes one:
   * `state[s] ??= {}`, `scope[c] ??= newCollection()` (each new level at the end of its
   * parent), then the entry at the end of its collection.
   */
  #insert(p: Pending): void {
    this.#deferred = undefined;
    const top = this.#top!;
    let sc = top.get(p.s);
    let co = sc === undefined ? undefined : sc.m.get(p.c);
    if (co === undefined) {
      if (sc === undefined) {
        sc = new Scope(undefined, new Map(), true);
        top.set(p.s, sc);
        this.#topMoved = true;
        lazyWork.levelsMade++;
      }
      lazyWork.levelsMade++;
      // the last collection pruned, if it was made in the overlay: empty, and held by nothing else
      co = this.#spare ?? new Coll(undefined, new Map());
      this.#spare = undefined;
      sc.m.set(p.c, co);
      sc.moved = true;
    }
    if (co.m !== undefined) co.m.set(p.id, p);
    else this.#setIn(co.obj!, p.c, p.id, p);
  }

  /** A patch of `p` (v[qa, qb), its removed fields v[qua, qub) where qua ≥ 0), kept pending. */
  #patch(p: Pending, seq: number, value: string, qa: number, qb: number, qua: number, qub: number): void {
    const ps = p.patches;
    if (ps === undefined) {
      p.patches = [{ v: value, a: qa, b: qb, ua: qua, ub: qua >= 0 ? qub : 0, seq }];
      return;
    }
    const last = ps[ps.length - 1]!;
    // the same members, no removals: merging the earlier patch first changes nothing
    // (merged keeps or sorts the same key set either way, and the later values win); the
    // last patch's record is overwritten in place (no other holder: each Pending owns its list).
    // Only short patches are compared (a counter's, a lock's): sameMembers walks each member's
    // value bracket by bracket, and a long patch (a job's data) is seldom followed by one with
    // the same members before its entity goes; a patch not compared is appended, which is
    // always exact (MAX_PATCHES bounds the list)
    // (the first char of the first member's name compared first: most pairs differ there)
    if (qua < 0 && last.ua < 0 && qb - qa <= SHORT_PATCH && last.b - last.a <= SHORT_PATCH && value.charCodeAt(qa + 2) === last.v.charCodeAt(last.a + 2)
      && (lazyWork.compared++, lazyWork.comparedChars += qb - qa + last.b - last.a, sameMembers(last.v, last.a, last.b, value, qa, qb))) {
      last.v = value;
      last.a = qa;
      last.b = qb;
      last.seq = seq;
    } else {
      ps.push({ v: value, a: qa, b: qb, ua: qua, ub: qua >= 0 ? qub : 0, seq });
      if (ps.length >= MAX_PATCHES) settle(p);
    }
  }

  /**
   * Builds every pending entity into the state and writes the overlay back (each level whose
   * keys moved written again in the Maps' order, a collection made since as a new object): the
   * fold's state is then what the eager fold gives, its counts known (graph/adjacency.ts).
   */
  materialize(): Fold {
    const top = this.#top;
    if (top === undefined) return this.fold;
    if (this.#deferred !== undefined) this.#insert(this.#deferred);
    this.#top = undefined;
    // the state's own collections: their Pendings built in place (no key moves)
    for (const p of this.#live) {
      const obj = top.get(p.s)!.m.get(p.c)!.obj!;
      obj[p.id] = build(p);
    }
    this.#live.clear();
    for (const sc of top.values()) {
      let so = sc.obj;
      if (so !== undefined) {
        // a record of its permission-inconsistent nodes (graph/perm-dirty-state.ts), made by a
        // reader since the last materialize: computed again from scratch on its next use
        const d = dirtyRecord(so);
        if (d !== undefined) {
          d.resolved = null;
          d.self.clear();
          d.withParents.clear();
        }
      }
      if (!sc.moved) continue;
      if (so === undefined) sc.obj = so = {};
      else for (const ck of Object.keys(so)) delete so[ck];
      for (const [ck, co] of sc.m) so[ck] = co.obj ?? written(co.m!);
    }
    if (this.#topMoved) {
      const state = this.fold.state as Obj;
      for (const sk of Object.keys(state)) delete state[sk];
      for (const [sk, sc] of top) state[sk] = sc.obj;
    }
    return this.fold;
  }
}

/** A collection made since the overlay was, as the eager fold makes it (newCollection), its entities built in order. */
function written(m: Map<string, Pending>): Obj {
  const o = newCollection();
  for (const [id, p] of m) {
    lazyWork.entriesSet++;
    o[id] = build(p);
  }
  collectionWritten(o, m.size);
  return o;
}
