// State hashing. A state's hash is a multiset hash of its entities: the sum, mod 2^256, of
// sha256(scope, collection, id, canonical JSON of the entity). Equal states hash equal
// whatever order their maps were filled in, and the hash can be kept up to date from a
// transaction's changes alone (subtract each before-image, add each after-image), so the
// engine records a state hash per transaction in O(changes), not O(state).
import { hash } from 'node:crypto';
import type { Change } from './draft.js';
import { ownEntry } from './own.js';
import { sortKeys } from '../store/sort-keys.js';
import { quoteKey } from '../store/quote-key.js';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  // Built by concatenation, without the intermediate arrays of map/filter/join (issue 15: two
  // of these per changed entity per command); the same text as the map/join form.
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ',';
      if (i in v) s += canonicalJson(v[i]);
    }
    return s + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 1) sortKeys(keys);
  let s = '{';
  let first = true;
  for (const k of keys) {
    const e = o[k];
    if (e === undefined) continue;
    if (!first) s += ',';
    first = false;
    s += quoteKey(k) + ':' + canonicalJson(e);
  }
  return s + '}';
}


const MOD = 1n << 256n;

/** Entity digests computed (a canonical encoding and a sha256 each): specs count them per command. */
export const digestWork = { entities: 0 };

export function entityDigest(s: string, c: string, id: string, value: unknown): bigint {
  digestWork.entities++;
  // the one-shot crypto.hash: about twice as fast as createHash for short inputs (store/codec.ts hashOf)
  const h = hash('sha256', s + '\0' + c + '\0' + id + '\0' + canonicalJson(value), 'hex');
  return BigInt('0x' + h);
}

/**
 * The digests of the images a state holds, by image object (issue 15): an image enters the state
 * as some transaction's after-image, whose digest that transaction computed, and leaves it as a
 * later one's before-image — the same object, read from the state — whose digest is then looked
 * up instead of computed again (blockdev-del of a node digests nothing). Sound because images
 * are never changed in place: a change replaces the whole image (graph/apply.ts), and the model
 * writes through a draft. An entry names its entity too: an image is only known under the
 * entity it was digested for. Weak: an image gone from the state is forgotten with it.
 */
export class DigestCache {
  readonly #known = new WeakMap<object, { s: string; c: string; id: string; d: bigint }>();
  /** After-images digested by the transaction being written, by entity: settled once it is folded. */
  readonly #pending = new Map<string, { s: string; c: string; id: string; d: bigint }>();

  get(s: string, c: string, id: string, img: unknown): bigint | undefined {
    if (typeof img !== 'object' || img === null) return undefined;
    const k = this.#known.get(img);
    return k !== undefined && k.s === s && k.c === c && k.id === id ? k.d : undefined;
  }

  set(s: string, c: string, id: string, img: unknown, d: bigint): void {
    if (typeof img === 'object' && img !== null) this.#known.set(img, { s, c, id, d });
  }

  /** An after-image's digest, computed for a transaction not yet folded (the last one per entity wins). */
  note(s: string, c: string, id: string, d: bigint): void {
    this.#pending.set(s + '\0' + c + '\0' + id, { s, c, id, d });
  }

  /**
   * After the fold: each noted digest belongs to the image the state now holds for its entity
   * (the record's own after-image, parsed back from the log: the image the model made, as
   * canonical JSON). An entity deleted later in the transaction holds none.
   */
  settle(state: Record<string, Record<string, Record<string, unknown>> | undefined>): void {
    for (const e of this.#pending.values()) this.set(e.s, e.c, e.id, ownEntry(state, e.s, e.c, e.id), e.d);
    this.#pending.clear();
  }

  /** Forget what was noted (the transaction was not folded). */
  drop(): void {
    this.#pending.clear();
  }
}

/** The digest of a whole state, from scratch: O(entities). `cache`: remembers each image's digest. */
export function stateDigest(state: Record<string, Record<string, Record<string, unknown>>>, cache?: DigestCache): bigint {
  let d = 0n;
  for (const s of Object.keys(state)) {
    const scope = state[s]!;
    for (const c of Object.keys(scope)) {
      const coll = scope[c]!;
      for (const id of Object.keys(coll)) {
        const e = entityDigest(s, c, id, coll[id]);
        cache?.set(s, c, id, coll[id], e);
        d += e;
      }
    }
  }
  return d % MOD;
}

/** The digest after applying `changes` (redo) or undoing them: O(changes). */
export function digestApply(d: bigint, changes: readonly Change[], dir: 'redo' | 'undo' = 'redo'): bigint {
  for (const ch of changes) {
    const out = dir === 'redo' ? ch.before : ch.after;
    const inn = dir === 'redo' ? ch.after : ch.before;
    if (out !== null && out !== undefined) d -= entityDigest(ch.s, ch.c, ch.id, out);
    if (inn !== null && inn !== undefined) d += entityDigest(ch.s, ch.c, ch.id, inn);
  }
  return ((d % MOD) + MOD) % MOD;
}

/**
 * The digest after a transaction's steps (redo), as digestApply over each step in turn, without
 * the digests that cancel: an after-image that a later change of the same transaction takes as
 * its before-image (the same object, as the model hands a step's image on: `open` then
 * `monitor-ref` of one node) is added and subtracted again, so neither is computed (issue 15).
 * Only the same object cancels; an equal copy is digested both times, as digestApply does.
 */
export function digestApplySteps(d: bigint, steps: readonly { changes: readonly Change[] }[], cache?: DigestCache): bigint {
  const all: Change[] = [];
  for (const st of steps) for (const ch of st.changes) all.push(ch);
  // by position: change i's after-image and change j's before-image cancel (never by image alone:
  // an entity set back to an earlier object must still count it)
  const skipAfter = new Uint8Array(all.length);
  const skipBefore = new Uint8Array(all.length);
  const latest = new Map<string, number>(); // entity -> the change holding its latest after-image
  for (let j = 0; j < all.length; j++) {
    const ch = all[j]!;
    const key = ch.s + '\0' + ch.c + '\0' + ch.id;
    const i = latest.get(key);
    const before = ch.before;
    if (i !== undefined && before !== null && before !== undefined && all[i]!.after === before) {
      skipAfter[i] = 1;
      skipBefore[j] = 1;
    }
    latest.set(key, j);
  }
  for (let j = 0; j < all.length; j++) {
    const ch = all[j]!;
    const out = ch.before;
    const inn = ch.after;
    if (!skipBefore[j] && out !== null && out !== undefined) d -= cache?.get(ch.s, ch.c, ch.id, out) ?? entityDigest(ch.s, ch.c, ch.id, out);
    if (!skipAfter[j] && inn !== null && inn !== undefined) {
      const e = entityDigest(ch.s, ch.c, ch.id, inn);
      cache?.note(ch.s, ch.c, ch.id, e);
      d += e;
    }
  }
  return ((d % MOD) + MOD) % MOD;
}

export const digestHex = (d: bigint): string => d.toString(16).padStart(64, '0');
export const digestOf = (hex: string): bigint => BigInt('0x' + hex);

export function stateHash(state: unknown): string {
  return digestHex(stateDigest(state as Record<string, Record<string, Record<string, unknown>>>));
}
