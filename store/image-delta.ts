// The changes of a step (or a compensation) as frame 2 stores them: each entity's images without
// duplicates. In memory a change is {s, c, id, before, after} (graph/draft.ts Change: the
// ARIES-style undo/redo pair); stored, it keeps only what cannot be derived from the rest:
//
//   create  {s, c, id, a}            after-image (before is null)
//   delete  {s, c, id, b}            before-image (after is null)
//   update  {s, c, id, b, p, u?}     before-image, the fields whose value changed or appeared
//                                    (p), the fields that went away (u, sorted)
//   other   {s, c, id, a, b}         both (an image that is not a plain object)
//
// `monitor-ref` flipping one boolean thus stores one image and `{"monitor":true}` instead of two
// ~500-byte images. Decoding is a pure function of the stored change, so every reader (replay,
// audit, history, fixtures) sees the full pair without the state, and a change encodes to one
// byte string (the hash chain needs that). Pure; no store access.
import { canonicalJson } from './codec.js';

/** Record types whose data carries `changes` with images. */
export function hasImages(type: string): boolean {
  return type === 'txn.step' || type === 'txn.compensated';
}

type Obj = Record<string, unknown>;
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** JSON drops undefined members: so do the images. */
const present = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;

export function compactChanges(changes: unknown[]): unknown[] {
  return changes.map((ch) => {
    if (!isPlain(ch)) return ch;
    const { before, after, ...rest } = ch as Obj & { before?: unknown; after?: unknown };
    const b = before ?? null;
    const a = after ?? null;
    if (b === null && a === null) return rest;
    if (b === null) return { ...rest, a };
    if (a === null) return { ...rest, b };
    if (!isPlain(b) || !isPlain(a)) return { ...rest, a, b };
    const p: Obj = {};
    const u: string[] = [];
    for (const k of Object.keys(a)) {
      if (!present(a, k)) continue;
      if (!present(b, k) || canonicalJson(a[k]) !== canonicalJson(b[k])) p[k] = a[k];
    }
    for (const k of Object.keys(b)) if (present(b, k) && !present(a, k)) u.push(k);
    return u.length ? { ...rest, b, p, u: u.sort() } : { ...rest, b, p };
  });
}

/**
 * The full {before, after} pairs back, in the shape a frame-1 body parses to (keys sorted, as
 * canonical JSON stores them). Works in place on freshly parsed JSON.
 */
export function expandChanges(changes: unknown[]): unknown[] {
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i];
    if (!isPlain(ch)) continue;
    const { a, b, p, u } = ch as { a?: unknown; b?: unknown; p?: unknown; u?: unknown };
    let after: unknown = a ?? null;
    if (isPlain(p) && isPlain(b)) after = merged(b, p, Array.isArray(u) ? (u as string[]) : []);
    // Key order as canonical JSON sorts them: after, before, c, id, s (a change has no others;
    // any other member is kept, in sorted order, after them).
    const out: Obj = { after, before: b ?? null, c: ch.c, id: ch.id, s: ch.s };
    let extra: string[] | undefined;
    for (const k in ch) if (!CHANGE_KEYS.has(k)) (extra ??= []).push(k);
    if (extra) {
      const all: Obj = { after, before: b ?? null };
      for (const k of [...extra, 'c', 'id', 's'].sort()) if (k in ch) all[k] = ch[k];
      changes[i] = all;
      continue;
    }
    if (!('c' in ch)) delete out.c;
    if (!('id' in ch)) delete out.id;
    if (!('s' in ch)) delete out.s;
    changes[i] = out;
  }
  return changes;
}

const CHANGE_KEYS = new Set(['a', 'b', 'p', 'u', 'c', 'id', 's']);

/** before + patch - removed, keys in sorted order (as a canonical body parses). */
function merged(before: Obj, patch: Obj, removed: string[]): Obj {
  const gone = removed.length ? new Set(removed) : undefined;
  const keys = Object.keys(before);
  let extra = false;
  for (const k in patch) if (!(k in before)) { keys.push(k); extra = true; }
  if (extra) keys.sort();
  const out: Obj = {};
  for (const k of keys) {
    if (gone?.has(k)) continue;
    out[k] = k in patch ? patch[k] : before[k];
  }
  return out;
}
