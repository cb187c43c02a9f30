// State hashing. A state's hash is a multiset hash of its entities: the sum, mod 2^256, of
// sha256(scope, collection, id, canonical JSON of the entity). Equal states hash equal
// whatever order their maps were filled in, and the hash can be kept up to date from a
// transaction's changes alone (subtract each before-image, add each after-image), so the
// engine records a state hash per transaction in O(changes), not O(state).
import { hash } from 'node:crypto';
import type { Change } from './draft.js';
import { sortKeys } from '../store/sort-keys.js';

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
    s += JSON.stringify(k) + ':' + canonicalJson(e);
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

/** The digest of a whole state, from scratch: O(entities). */
export function stateDigest(state: Record<string, Record<string, Record<string, unknown>>>): bigint {
  let d = 0n;
  for (const s of Object.keys(state)) {
    const scope = state[s]!;
    for (const c of Object.keys(scope)) {
      const coll = scope[c]!;
      for (const id of Object.keys(coll)) d += entityDigest(s, c, id, coll[id]);
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
export function digestApplySteps(d: bigint, steps: readonly { changes: readonly Change[] }[]): bigint {
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
    if (!skipBefore[j] && out !== null && out !== undefined) d -= entityDigest(ch.s, ch.c, ch.id, out);
    if (!skipAfter[j] && inn !== null && inn !== undefined) d += entityDigest(ch.s, ch.c, ch.id, inn);
  }
  return ((d % MOD) + MOD) % MOD;
}

export const digestHex = (d: bigint): string => d.toString(16).padStart(64, '0');
export const digestOf = (hex: string): bigint => BigInt('0x' + hex);

export function stateHash(state: unknown): string {
  return digestHex(stateDigest(state as Record<string, Record<string, Record<string, unknown>>>));
}
