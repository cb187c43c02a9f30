// Sorting the keys of one object for canonical JSON (store/codec.ts, graph/hash.ts), in place and
// without allocating (issue 15): Array.prototype.sort copies its array into a work array on every
// call, and a command's records and digests sort ~20 small key lists (~12 KB of garbage per
// command, a tenth of what a durable command allocates). Insertion sort by UTF-16 code units,
// the order of sort()'s default comparison for strings, so the same text and hashes.

/** Sorts `keys` in place as `keys.sort()` would (all strings); returns it. */
export function sortKeys(keys: string[]): string[] {
  const n = keys.length;
  if (n > 32) return keys.sort(); // long lists (a state's map of nodes): the library's n log n
  for (let i = 1; i < n; i++) {
    const k = keys[i]!;
    let j = i - 1;
    if (!(k < keys[j]!)) continue;
    do { keys[j + 1] = keys[j]!; j--; } while (j >= 0 && k < keys[j]!);
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * A copy of `v` whose objects have their keys in canonical order (sortKeys, as canonicalJson
 * writes them) at every level; arrays keep their order. For output that must be the same bytes
 * for the same value however it was built (a fold from a snapshot, whose parts are canonical
 * JSON, vs one from the records, in insertion order).
 */
export function canonicalOrder<T>(v: T): T {
  if (Array.isArray(v)) return v.map(canonicalOrder) as T;
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of sortKeys(Object.keys(o))) out[k] = canonicalOrder(o[k]);
  return out as T;
}
