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
// ~500-byte images. Records of version 3 (txn.step, txn.compensated) also store each image
// templated (store/image-template.ts: the members at their collection's usual value left out),
// under `A` / `B` instead of `a` / `b`; an image with no template keeps `a` / `b`. Decoding is a pure function of the stored change, so every reader (replay,
// audit, history, fixtures) sees the full pair without the state, and a change encodes to one
// byte string (the hash chain needs that). Pure; no store access.
import { canonicalEqual } from './canonical-equal.js';
import { compactImage, expandImage, TEMPLATE_PROBE, templateFor, type Template } from './image-template.js';

/** Record types whose data carries `changes` with images. */
export function hasImages(type: string): boolean {
  return type === 'txn.step' || type === 'txn.compensated';
}

type Obj = Record<string, unknown>;
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** JSON drops undefined members: so do the images. */
const present = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;

/** `templated`: version 3 (images without their template's defaults, store/image-template.ts). */
export function compactChanges(changes: unknown[], templated = false): unknown[] {
  return changes.map((ch) => compactChange(ch, templated));
}

/**
 * One change's stored form. `noBefore`: the caller stores the before-image otherwise (a whole
 * transaction's `R`, store/whole-txn.ts), so it is not templated only to be dropped (issue 15);
 * the rest (the patch of an update) is the same.
 */
export function compactChange(ch: unknown, templated: boolean, noBefore = false): unknown {
  if (!isPlain(ch)) return ch;
  // Built by assignment on a fresh object, never by spreading: V8 gives the properties added to
  // a spread's result a hidden class of their own on every call (a detached map), an old-space
  // object per change that is never shared (issue 15). The members are the same; canonical JSON
  // sorts them anyway.
  const out = restOf(ch);
  const b = (ch.before ?? null) as unknown;
  const a = (ch.after ?? null) as unknown;
  if (b === null && a === null) return out;
  if (b === null) {
    const ta = templated ? templateFor(out.c, a) : undefined;
    if (ta) out.A = compactImage(ta, a as Obj);
    else out.a = a;
    return out;
  }
  // the stored before-image: templated under B where it can be
  const tb = templated && !noBefore ? templateFor(out.c, b) : undefined;
  const putBefore = (): void => {
    if (noBefore) return;
    if (tb) out.B = compactImage(tb, b as Obj);
    else out.b = b;
  };
  if (a === null) {
    putBefore();
    return out;
  }
  if (!isPlain(b) || !isPlain(a)) {
    out.a = a;
    if (!noBefore) out.b = b;
    return out;
  }
  const p: Obj = {};
  const u: string[] = [];
  for (const k of Object.keys(a)) {
    const av = a[k];
    if (av === undefined) continue; // (an own member: present(a, k) is this)
    if (!present(b, k)) { p[k] = av; continue; }
    const bv = b[k];
    // the same string, boolean or finite number: canonicalEqual's answer (true) without the call.
    // An update copies most members over unchanged (monitor-ref: 24 of 25; issue 15)
    if (av === bv && (typeof av === 'string' || typeof av === 'boolean' || (typeof av === 'number' && Number.isFinite(av)))) continue;
    if (!canonicalEqual(av, bv)) p[k] = av;
  }
  for (const k of Object.keys(b)) if (present(b, k) && !present(a, k)) u.push(k);
  putBefore();
  out.p = p;
  if (u.length) out.u = u.sort();
  return out;
}

/**
 * A change without its `before` and `after` (what `const { before, after, ...rest } = ch`
 * gives): the model's {s, c, id, before, after} as one literal, anything else member by member.
 */
function restOf(ch: Obj): Obj {
  let plainChange = true;
  let n = 0;
  for (const k in ch) {
    if (!Object.prototype.hasOwnProperty.call(ch, k)) continue;
    n++;
    if (k !== 's' && k !== 'c' && k !== 'id' && k !== 'before' && k !== 'after') { plainChange = false; break; }
  }
  const has = (k: string) => Object.prototype.hasOwnProperty.call(ch, k);
  if (plainChange && has('s') && has('c') && has('id') && n === 3 + (has('before') ? 1 : 0) + (has('after') ? 1 : 0)) {
    return { s: ch.s, c: ch.c, id: ch.id };
  }
  const { before: _b, after: _a, ...rest } = ch;
  return rest;
}

/**
 * The full {before, after} pairs back, in the shape a frame-1 body parses to (keys sorted, as
 * canonical JSON stores them). Works in place on freshly parsed JSON.
 */
export function expandChanges(changes: unknown[]): unknown[] {
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i];
    if (!isPlain(ch)) continue;
    const { p, u } = ch as { p?: unknown; u?: unknown };
    let { a, b } = ch as { a?: unknown; b?: unknown };
    if ('A' in ch || 'B' in ch) {
      // version 3: templated images (store/image-template.ts); their collection names the template
      const t = templateFor(ch.c, TEMPLATE_PROBE);
      if (!t) throw new Error(`templated image of collection ${JSON.stringify(ch.c)}, which has no template`);
      if ('A' in ch) a = expandImage(t, ch.A) ?? bad('A');
      if ('B' in ch) b = expandImage(t, ch.B) ?? bad('B');
    }
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

const CHANGE_KEYS = new Set(['a', 'b', 'A', 'B', 'p', 'u', 'c', 'id', 's']);

/**
 * The after-image alone of a stored change: what expandChanges gives as its `after`, without
 * expanding a before-image the after does not need (a delete's). For a fold that reads the
 * stored form (replay/fold.ts foldRaw, issue 15). `before`: the before-image when the change
 * refers to one outside itself (store/whole-txn.ts `R`). Does not touch `ch`. Undefined for a
 * form it does not know: the caller then decodes the record in full, which reports it.
 */
export function storedAfter(ch: Obj, before?: unknown): unknown {
  let t: Template | undefined;
  if ('A' in ch || 'B' in ch) {
    t = templateFor(ch.c, TEMPLATE_PROBE);
    if (!t) return undefined;
  }
  let a: unknown = ch.a;
  if ('A' in ch) {
    a = expandImage(t!, ch.A);
    if (a === undefined) return undefined;
  }
  const p = ch.p;
  if (!isPlain(p)) return a ?? null;
  // an update: the before-image plus the patch
  let b = before;
  if (b === undefined) {
    if ('B' in ch) {
      b = expandImage(t!, ch.B);
      if (b === undefined) return undefined;
    } else b = ch.b;
  }
  const u = ch.u;
  return isPlain(b) ? merged(b, p, Array.isArray(u) ? (u as string[]) : []) : a ?? null;
}


function bad(k: string): never {
  throw new Error(`malformed templated image ${k}`);
}

/** before + patch - removed, keys in sorted order (as a canonical body parses). */
export function merged(before: Obj, patch: Obj, removed: string[]): Obj {
  if (removed.length === 0) {
    // the usual update (a flag flipped, a counter moved): every patched member is one `before`
    // has, so the result has before's keys in before's order; a spread copies them at once
    let within = true;
    for (const k in patch) if (!Object.prototype.hasOwnProperty.call(before, k)) { within = false; break; }
    if (within) {
      const out: Obj = { ...before };
      for (const k in patch) out[k] = patch[k];
      return out;
    }
  }
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
