// QEMU's QDict as reopen sees it: options are flattened ("file.driver"), and QEMU walks a
// QDict by hash bucket, not by insertion order. Which key an error names ("Option '%s'
// cannot be reset…", "Cannot change the option '%s'") depends on that walk, so we keep
// insertion order in the object and derive QEMU's visiting order from tdb_hash.

export type Flat = Record<string, unknown>;

import { tdbHash } from '../tdb-hash.js';

const BUCKETS = 512;

/** qobject/qdict.c tdb_hash(), all arithmetic mod 2^32 (graph/tdb-hash.ts: kept per key). */
export { tdbHash };

export const bucketOf = (key: string): number => tdbHash(key) % BUCKETS;

/**
 * The keys of `d` in qdict_first/qdict_next order: buckets ascending, and inside a bucket the
 * newest insert first (qdict_put inserts at the bucket's head). JS objects keep insertion order
 * for non-integer keys, which is what option keys are.
 */
export function qdictKeys(d: Flat): string[] {
  const keys = Object.keys(d);
  const idx = new Map(keys.map((k, i) => [k, i]));
  return keys.slice().sort((a, b) => bucketOf(a) - bucketOf(b) || idx.get(b)! - idx.get(a)!);
}

/**
 * qdict_clone_shallow: a new QDict filled by walking `d` in qdict_first/qdict_next order, each key
 * inserted at its bucket's head again, so keys that share a bucket come out in reverse.
 */
export function cloneShallow(d: Flat): Flat {
  const out: Flat = {};
  for (const k of qdictKeys(d)) out[k] = d[k];
  return out;
}

/** withBucketOrder calls that had keys sharing a bucket to order (specs count them). */
export const bucketWork = { ordered: 0 };

/** Do two of `keys` fall in the same QDict bucket? */
function sharesBucket(keys: readonly string[]): boolean {
  if (keys.length < 2) return false;
  if (keys.length > 32) return new Set(keys.map(bucketOf)).size < keys.length;
  const seen: number[] = [];
  for (const k of keys) {
    const b = bucketOf(k);
    if (seen.includes(b)) return true;
    seen.push(b);
  }
  return false;
}

/**
 * `d` with the keys that share a bucket in the relative order they have in `order` (keys `order`
 * lacks keep theirs, after those it names), each bucket's keys on the positions they hold in `d`:
 * a QDict's walk depends on nothing else, and the object keeps its other keys where they are.
 * `d` itself when nothing moves.
 */
export function withBucketOrder<T extends Flat>(d: T, order: readonly string[]): T {
  const keys = Object.keys(d);
  // No two keys share a bucket (most option sets: a blockdev-add's explicit options): nothing can
  // move, so no rank or bucket maps are built (issue 15; specs/graph/tdb-hash.spec.ts)
  if (!sharesBucket(keys)) return d;
  bucketWork.ordered++;
  const rank = new Map(order.map((k, i) => [k, i]));
  const byBucket = new Map<number, string[]>();
  for (const k of keys) (byBucket.get(bucketOf(k)) ?? byBucket.set(bucketOf(k), []).get(bucketOf(k))!).push(k);
  const next = new Map<number, string[]>();
  for (const [b, ks] of byBucket) {
    if (ks.length < 2) continue;
    next.set(b, [...ks].sort((x, y) => (rank.get(x) ?? order.length + ks.indexOf(x)) - (rank.get(y) ?? order.length + ks.indexOf(y))));
  }
  if (!next.size) return d;
  const taken = new Map<number, number>();
  const out: Flat = {};
  let moved = false;
  for (const k of keys) {
    const b = bucketOf(k);
    const list = next.get(b);
    if (!list) { out[k] = d[k]; continue; }
    const i = taken.get(b) ?? 0;
    taken.set(b, i + 1);
    const key = list[i]!;
    if (key !== k) moved = true;
    out[key] = d[key];
  }
  return moved ? out as T : d;
}

/** qdict_clone_shallow as withBucketOrder keeps it: keys sharing a bucket reversed, the rest in place. */
export function cloneInPlace<T extends Flat>(d: T): T {
  return withBucketOrder(d, Object.keys(d).reverse());
}

/** qdict_flatten: nested dicts and lists become "a.b" / "a.0" keys; null stays a value. */
export function flatten(opts: Record<string, unknown>, prefix = '', out: Flat = {}): Flat {
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined) continue;
    const key = prefix + k;
    if (Array.isArray(v)) {
      if (v.length === 0) out[key] = v;
      v.forEach((x, i) => {
        if (x !== null && typeof x === 'object') flatten(x as Record<string, unknown>, `${key}.${i}.`, out);
        else out[`${key}.${i}`] = x;
      });
    } else if (v !== null && typeof v === 'object') flatten(v as Record<string, unknown>, key + '.', out);
    else out[key] = v;
  }
  return out;
}

/** qdict_extract_subqdict: moves every "prefix.*" key out of `d` (prefix stripped). */
export function extractSub(d: Flat, prefix: string): Flat {
  const sub: Flat = {};
  for (const k of Object.keys(d)) {
    if (k.startsWith(prefix)) {
      sub[k.slice(prefix.length)] = d[k];
      delete d[k];
    }
  }
  return sub;
}

/** bdrv_join_options (generic part): keys of `old` missing in `into` are added. */
export function joinOptions(into: Flat, old: Flat): void {
  for (const [k, v] of Object.entries(old)) if (!(k in into)) into[k] = v;
}

/** qobject_is_equal: same type and value; an int never equals a string. */
export function qobjEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === null || b === null) return a === b;
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => qobjEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** How QemuOpts gives a value back (qemu_opts_to_qdict): always a string. */
export function optString(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}
