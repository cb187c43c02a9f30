// A lazy fold (issue 15, replay): replay to a seq needs only the entities that survive to it, and
// on an add/del log most are created and deleted again before the end of the range. So for each
// record of format version 5 that holds a whole transaction ending in it (the engine's every
// command), the fold does what foldRedo (replay/fold.ts) does, in the same order, except that an
// entity's value is not built: the state's entry holds a Pending (where the stored value keeps its
// image text, store/redo-scan.ts locates it without JSON.parse) and the patches since, and a
// delete drops it with its entry. Only `materialize` (at the end of the range, or before a
// record the lazy path does not fold) builds the survivors: each image parsed and expanded, then
// its patches merged in seq order, by the same functions as foldRedo (expandImage, merged), into
// the entry that held the Pending. Everything else is the eager fold's own code: the protocol
// table (feedWhole), the entries set and deleted by applyChangesInPlace (so collection and scope
// key order, counts and pruning are exactly the eager fold's: a Pending takes the entry's place
// when it is made, and the built value the Pending's), the same protocol errors at the same
// records. specs/store/fold-raw.spec.ts compares both folds at every seq of the golden and random
// engine logs. What the lazy fold gives up: an image whose text is not JSON (a CRC-sound value
// only a forger writes) is reported (LogCorruptError of its record) when the entity is built,
// not when its record is read, and not at all if it is deleted before the end of the range;
// `verify` decodes every record in full.
//
// The fold must own its state from a fresh start (emptyFold, or a snapshot's structuredClone, as
// replay and the engine's load do): a Pending never meets an edge index or a perm-dirty record
// (graph/adjacency.ts, graph/perm-dirty-state.ts), which only readers build, after materialize.
import { LogCorruptError } from '../errors/index.js';
import { CURRENT_VERSION } from '../events/types.js';
import { applyChangesInPlace } from '../graph/apply.js';
import type { Change } from '../graph/draft.js';
import { TABLE4, type ChainReader } from '../store/codec.js';
import { merged } from '../store/image-delta.js';
import { expandImage, TEMPLATE_PROBE, templateFor } from '../store/image-template.js';
import { newRedoScan, sameMembers, scanRedo, txnOf } from '../store/redo-scan.js';
import { feedWhole, foldRaw, protocol, wholeProtocolOk, type Fold } from './fold.js';

type Obj = Record<string, unknown>;
const PROTO = '__proto__';
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: unknown, k: string): unknown => (o !== undefined && Object.prototype.hasOwnProperty.call(o, k) ? (o as Obj)[k] : undefined);

/** Work counted (specs assert it, never time it): records folded lazily or the full way, entities built, texts parsed. */
export const lazyWork = { lazy: 0, full: 0, built: 0, parses: 0, patchesFolded: 0, entriesSet: 0, cancelled: 0 };

/**
 * Pending patches of one entity at most before it is built: bounds what a long-lived entity
 * patched by every record keeps (each patch holds its record's value) and the merges left to
 * the end. A patch with the same members as the one before it replaces it (sameMembers).
 */
const MAX_PATCHES = 8;

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

export class LazyFold {
  readonly fold: Fold;
  /** The Pendings the state holds (each in its entry), to build at materialize. */
  readonly #live = new Set<Pending>();
  readonly #scan = newRedoScan();
  /**
   * A create not yet made in the state: its entity (a Pending) is new to its collection, and
   * every change folded since it was deferred replaced a value in place (a patch, an image of an
   * entity the state holds), which moves no key. Made now (#flush) or cancelled by its delete, it
   * gives the eager fold's state: the collection, scope and state objects are ordered by
   * insertion, so an entry made and then removed with no key made or removed in between (the
   * collection and scope it may have made, pruned again by graph/apply.ts) leaves every object as
   * if it had never been made; and an entry made late with no key moved in between lands where
   * it would have. So before anything that makes or removes a key (another create, a delete),
   * it is made for real. The add/del workload's node lives from one record to the next unmade:
   * its collection is not made, counted and pruned again at every pair.
   */
  #deferred: Pending | undefined = undefined;
  /** The change applyChangesInPlace is handed, reused (it keeps nothing of it). */
  readonly #ch = { s: '', c: '', id: '', before: null, after: null as unknown };
  readonly #one: Change[] = [this.#ch as unknown as Change];

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
    if (undoAt > 0 && CURRENT_VERSION['txn.begun'] === 5 && scanRedo(value, chain.redoAt, undoAt, r, chain.version, TABLE4, chain.entries) && this.#templated(r.n)) {
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

  /** Does every templated image of the scan have its collection's template (else the full path reports the record)? */
  #templated(n: number): boolean {
    const { kind, c } = this.#scan;
    for (let k = 0; k < n; k++) {
      if (kind[k] !== 1) continue;
      const ck = c[k]!;
      // the last collection found to have one (templates are fixed at build time: store/image-template.ts)
      if (ck === this.#hasTemplate) continue;
      if (templateFor(ck, TEMPLATE_PROBE) === undefined) return false;
      this.#hasTemplate = ck;
    }
    return true;
  }

  #hasTemplate = '';

  /**
   * foldRedo over the scan, each entry's value left pending, and an entity's creation deferred
   * while nothing could tell (see #deferred): a create a later delete cancels costs no entry.
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
    const state = f.state;
    const live = this.#live;
    for (let k = 0; k < n; k++) {
      const sk = s[k]!;
      const ck = c[k]!;
      const ik = id[k]!;
      const kk = kind[k]!;
      const d = this.#deferred;
      // the deferred entity itself: its changes stay off the state (ids compared first: they differ most)
      const isD = d !== undefined && d.id === ik && d.c === ck && d.s === sk;
      if (kk === 3) {
        let p: Pending;
        if (isD) {
          if (!d.plain) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
          p = d;
        } else {
          const coll = own(own(state, sk), ck);
          const cur = own(coll, ik);
          // a patch of the entity as the state holds it (foldRedo's check, at the same record)
          if (cur instanceof Pending) {
            if (!cur.plain) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
            p = cur;
          } else {
            if (!isPlain(cur)) protocol({ seq, type: 'txn.step' }, `a patch of ${sk}/${ck}/${ik}, which the state does not hold`);
            // the built entity becomes a Pending's base, in the same entry (its key keeps its place)
            p = new Pending(sk, ck, ik, seq, undefined, 0, 0, 0, cur, true, undefined);
            (coll as Obj)[ik] = p;
            live.add(p);
          }
        }
        const ps = p.patches;
        const qa = xa[k]!;
        const qb = xb[k]!;
        const qua = ua[k]!;
        if (ps === undefined) p.patches = [{ v: value, a: qa, b: qb, ua: qua, ub: qua >= 0 ? ub[k]! : 0, seq }];
        else {
          const last = ps[ps.length - 1]!;
          // the same members, no removals: merging the earlier patch first changes nothing
          // (merged keeps or sorts the same key set either way, and the later values win); the
          // last patch's record is overwritten in place (no other holder: each Pending owns its list)
          if (qua < 0 && last.ua < 0 && sameMembers(last.v, last.a, last.b, value, qa, qb)) {
            last.v = value;
            last.a = qa;
            last.b = qb;
            last.seq = seq;
          } else {
            ps.push({ v: value, a: qa, b: qb, ua: qua, ub: qua >= 0 ? ub[k]! : 0, seq });
            if (ps.length >= MAX_PATCHES) settle(p);
          }
        }
        continue;
      }
      let after: Pending | null = null;
      if (kk !== 0) {
        const a = xa[k]!;
        // an image as is is a plain object when its text is one (JSON.parse of `{...}`)
        after = new Pending(sk, ck, ik, seq, value, a, xb[k]!, kk, undefined, kk === 1 || value.charCodeAt(a) === 123, undefined);
      }
      if (isD) {
        // a new image of the deferred entity replaces it where it waits; a delete cancels it:
        // as if it had never been made (#deferred says why that is exact)
        this.#deferred = after ?? undefined;
        if (after === null) lazyWork.cancelled++;
        continue;
      }
      // the entry's value before the change: is there one (a create?), was it a Pending?
      const coll = own(own(state, sk), ck);
      const had = coll !== undefined && Object.prototype.hasOwnProperty.call(coll, ik);
      if (after !== null && !had) {
        // a create makes a key: the one deferred before it is made for real first (one at a time)
        if (d !== undefined) this.#flush(d);
        // deferred, unless a name is __proto__ (applyChangesInPlace's assignments reach the
        // prototype there, which a cancel would not do as the eager fold does): made at once
        if (sk !== PROTO && ck !== PROTO && ik !== PROTO) {
          this.#deferred = after;
          continue;
        }
      } else if (after === null && d !== undefined) {
        // a delete takes a key away: the deferred create, made before it in the log, is made first
        // (a replacement keeps every key where it is: nothing to do)
        this.#flush(d);
      }
      const cur = had ? (coll as Obj)[ik] : undefined;
      if (cur instanceof Pending) live.delete(cur);
      if (after !== null) live.add(after);
      this.#set(sk, ck, ik, after);
    }
  }

  /** The entry set or deleted by the eager fold's own writer (counts, pruning, key order). */
  #set(sk: string, ck: string, ik: string, after: Pending | null): void {
    lazyWork.entriesSet++;
    const ch = this.#ch;
    ch.s = sk;
    ch.c = ck;
    ch.id = ik;
    ch.after = after;
    applyChangesInPlace(this.fold.state, this.#one);
    ch.after = null;
  }

  /** Makes the deferred create's entry now: nothing since it was deferred moved a key. */
  #flush(d: Pending): void {
    this.#deferred = undefined;
    this.#live.add(d);
    this.#set(d.s, d.c, d.id, d);
  }

  /** Builds every pending entity into its entry: the fold's state is then what the eager fold gives. */
  materialize(): Fold {
    if (this.#deferred !== undefined) this.#flush(this.#deferred);
    const live = this.#live;
    if (live.size === 0) return this.fold;
    const state = this.fold.state as Record<string, Record<string, Obj>>;
    for (const p of live) state[p.s]![p.c]![p.id] = build(p);
    live.clear();
    return this.fold;
  }
}
