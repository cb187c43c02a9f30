// Member names as JSON strings, each quoted once: record payloads and entity images reuse a small
// vocabulary of keys (a node image: ~25 names, the same in every image), so the canonical encoder
// (store/codec.ts) and the state digest (graph/hash.ts) look the quoted form up instead of a
// JSON.stringify per member (issue 15). Bounded so that data-driven keys cannot grow it without limit.
const quotedKeys = new Map<string, string>();

export function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 4096) quotedKeys.set(k, q);
  }
  return q;
}
