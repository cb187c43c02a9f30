// State hashing. A state's hash is a multiset hash of its entities: the sum, mod 2^256, of
// sha256(scope, collection, id, canonical JSON of the entity). Equal states hash equal
// whatever order their maps were filled in, and the hash can be kept up to date from a
// transaction's changes alone (subtract each before-image, add each after-image), so the
// engine records a state hash per transaction in O(changes), not O(state).
import { hash } from 'node:crypto';
import type { Change } from './draft.js';

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
  if (keys.length > 1) keys.sort();
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

export const digestHex = (d: bigint): string => d.toString(16).padStart(64, '0');
export const digestOf = (hex: string): bigint => BigInt('0x' + hex);

export function stateHash(state: unknown): string {
  return digestHex(stateDigest(state as Record<string, Record<string, Record<string, unknown>>>));
}
