// Entity images as records of version 3 store them (issue 15, log size): the members that hold
// their collection's usual value are left out. A node image is ~520 bytes of JSON of which most
// is defaults (aio "main", monitor false, lock null, ...) and `options`, which nearly always
// repeats `explicit` (QEMU's bs->options vs bs->explicit_options: the same QDict unless the
// driver added defaults). Stored, it keeps only what differs:
//
//   - a member equal to its template default is omitted;
//   - a template member the image does not have is listed in "~" (sorted), so absence survives;
//   - `explicit` is itself templated: the usual "off" flags, and `driver` / `node-name` omitted
//     when they equal the image's own `driver` / `name`;
//   - `options` is omitted when it equals `explicit`, else stored as a delta over it
//     ({p: changed or added members, u?: sorted removed keys}).
//
// The templates are part of the record format: version 3 means these templates, forever (a
// change to them is a new version with its own decoder). Decoding is a pure function of the
// stored image, so every reader (fold, audit, history, fixtures) gets the full image back
// without the state, in sorted key order as canonical JSON parses; one image encodes to one
// byte string (the hash chain needs that). Pure; no store access.
import { canonicalEqual } from './canonical-equal.js';

type Obj = Record<string, unknown>;
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** JSON drops undefined members: so do the images. */
const present = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;

/**
 * A default: a JSON primitive, a JSON value (`{lit}`), or the value of a member of the
 * enclosing image (`{up}`).
 */
type Default = string | number | boolean | null | { up: string } | { lit: unknown };
export interface Template {
  defaults: Record<string, Default>;
  /** Members stored templated in their turn (nested). */
  nested?: Record<string, Template>;
  /** member -> the sibling it is stored as a delta of (omitted when equal). */
  deltaOf?: Record<string, string>;
}

const ABSENT = '~';

// Version 3's templates: the most frequent value of each member over the conformance set's
// images (5,424 node images; see docs/drills.md "Record format").
const EXPLICIT: Template = {
  defaults: {
    'auto-read-only': 'off', 'cache.direct': 'off', 'cache.no-flush': 'off', 'read-only': 'off',
    driver: { up: 'driver' }, 'node-name': { up: 'name' },
  },
};
export const TEMPLATES_V3: Readonly<Record<string, Template>> = {
  nodes: {
    defaults: {
      aio: 'main', align: 1, auto: false, forceShare: false, header: null, implicit: false, inheritsFrom: null,
      lock: null, monitor: false, neverFreeze: false, ro: false, unmap: false,
    },
    nested: { explicit: EXPLICIT },
    deltaOf: { options: 'explicit' },
  },
  edges: { defaults: { frozen: false, perm: 0, shared: 15 } },
  bbs: { defaults: { aio: 'main', allowAioChange: true } },
  exports: { defaults: { fixed: false, iothread: null, writable: false } },
  jobs: { defaults: { autoDismiss: false, autoFinalize: false, cancelled: false, error: null, paused: 0, speed: 0 } },
  meta: { defaults: { nbd: null } },
};

/**
 * Version 3 of txn.decided: the data of a decision as most are (commit, no events, an empty
 * return) stores only its end (`ended`, events/ends.ts); a decision the template cannot express
 * is stored as `[data]` (store/codec.ts).
 */
export const DECIDED_V3: Template = {
  defaults: { outcome: 'commit', events: { lit: [] }, reply: { lit: { return: {} } } },
};

/** Can `data` be stored templated under `t` (a plain object without a "~" member, nor nested ones)? */
export function templates(t: Template, data: unknown): data is Obj {
  if (!isPlain(data) || present(data, ABSENT)) return false;
  for (const k of compile(t).nestedKeys) if (isPlain(data[k]) && present(data[k] as Obj, ABSENT)) return false;
  return true;
}

// the same canonical text, compared without writing it (store/canonical-equal.ts)
const same = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && canonicalEqual(a, b));

/** The template of collection `c` if `img` can be stored templated (a plain object without a "~" member). */
export function templateFor(c: unknown, img: unknown): Template | undefined {
  if (typeof c !== 'string') return undefined;
  const t = Object.prototype.hasOwnProperty.call(TEMPLATES_V3, c) ? TEMPLATES_V3[c] : undefined;
  // an image with a "~" member (or a nested one) could not be told from its templated form
  return t && (img === TEMPLATE_PROBE || templates(t, img)) ? t : undefined;
}

/** templateFor(c, TEMPLATE_PROBE): the template of collection c, whatever the image. */
export const TEMPLATE_PROBE = Object.freeze({});

function defaultValue(d: Default, parent: Obj | undefined): unknown {
  if (d !== null && typeof d === 'object') {
    if ('lit' in d) return d.lit;
    return parent && present(parent, d.up) ? parent[d.up] : undefined;
  }
  return d;
}

/** The stored form of `img` under template `t` (`parent`: the enclosing image, for `{up}` defaults). */
export function compactImage(t: Template, img: Obj, parent?: Obj): Obj {
  if (parent === undefined) imageWork.compacted++;
  // the template's member lists, made once per template (compile): three Object.keys arrays
  // per image before, one per nested image too (issue 15)
  const ct = compile(t);
  const out: Obj = {};
  let absent: string[] | undefined;
  for (const k of ct.defaultKeys) if (!present(img, k)) (absent ??= []).push(k);
  for (const k of ct.nestedKeys) if (!present(img, k)) (absent ??= []).push(k);
  for (const k of ct.deltaKeys) if (!present(img, k)) (absent ??= []).push(k);
  for (const k in img) {
    // own members only, as Object.keys gives them (images are plain objects: no inherited keys)
    if (!present(img, k)) continue;
    const v = img[k];
    const d = Object.prototype.hasOwnProperty.call(t.defaults, k) ? t.defaults[k]! : undefined;
    if (d !== undefined) {
      const dv = defaultValue(d, parent);
      if (dv !== undefined && same(v, dv)) continue;
      out[k] = v;
      continue;
    }
    const sub = t.nested?.[k];
    if (sub && isPlain(v)) {
      out[k] = compactImage(sub, v, img);
      continue;
    }
    const base = t.deltaOf?.[k];
    if (base !== undefined && isPlain(v) && present(img, base) && isPlain(img[base])) {
      if (same(v, img[base])) continue;
      out[k] = delta(img[base] as Obj, v);
      continue;
    }
    out[k] = v;
  }
  if (absent) out[ABSENT] = absent.sort();
  return out;
}

/** `to` as {p, u?} over `from`: the members that differ or are new, the keys that went away. */
function delta(from: Obj, to: Obj): Obj {
  const p: Obj = {};
  const u: string[] = [];
  for (const k of Object.keys(to)) if (present(to, k) && (!present(from, k) || !same(to[k], from[k]))) p[k] = to[k];
  for (const k of Object.keys(from)) if (present(from, k) && !present(to, k)) u.push(k);
  return u.length ? { p, u: u.sort() } : { p };
}

/** A deep copy of parsed JSON (a default shared by two images, or an image two changes share, must not be one object). */
export function copyJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(copyJson);
  const o: Obj = {};
  for (const k of Object.keys(v)) o[k] = copyJson((v as Obj)[k]);
  return o;
}

/**
 * Image work of decoding, counted (specs assert how much a replay expands and copies, never how
 * long it takes): whole images expanded from their templated form, and images deep-copied
 * because a record refers to one twice (store/whole-txn.ts `R`); and of encoding: whole images
 * put in their templated form.
 */
export const imageWork = { expanded: 0, copied: 0, compacted: 0, compiled: 0 };

/** A template's member names, sorted once: the decoder merges them with an image's stored keys. */
interface Compiled {
  /** Every member the template knows (defaults, nested, deltas), sorted. */
  keys: string[];
  kind: Map<string, 'default' | 'nested' | 'delta'>;
  /** The encoder's: each kind's members in the template's own order. */
  defaultKeys: string[];
  nestedKeys: string[];
  deltaKeys: string[];
}
const compiled = new WeakMap<Template, Compiled>();
function compile(t: Template): Compiled {
  let c = compiled.get(t);
  if (!c) {
    const kind = new Map<string, 'default' | 'nested' | 'delta'>();
    for (const k of Object.keys(t.defaults)) kind.set(k, 'default');
    for (const k of Object.keys(t.nested ?? {})) kind.set(k, 'nested');
    for (const k of Object.keys(t.deltaOf ?? {})) kind.set(k, 'delta');
    c = { keys: [...kind.keys()].sort(), kind, defaultKeys: Object.keys(t.defaults), nestedKeys: Object.keys(t.nested ?? {}), deltaKeys: Object.keys(t.deltaOf ?? {}) };
    compiled.set(t, c);
    imageWork.compiled++;
  }
  return c;
}

/**
 * What expandImage does for one stored shape (a template and a stored image's own keys, in
 * order): the result's keys and, for each, where its value comes from. Replay expands images of
 * a handful of shapes again and again (a node image of the add/del workload: one), so the key
 * merge and the per-key lookups are done once per shape.
 */
interface Shape { keys: string[]; kinds: (0 | 1 | 2 | 3)[] } // 0 stored, 1 nested, 2 default, 3 delta
const shapes = new WeakMap<Template, Map<string, Shape | null>>();
const MAX_SHAPES = 256;

/**
 * The full image back from its stored form, keys sorted. Works on freshly parsed JSON (stored
 * members are taken over, not copied). Undefined when the stored form is not one compactImage
 * writes (the caller reports a damaged record). The hot path of replay: the stored keys come
 * sorted (canonical JSON), so they are merged with the template's sorted keys, not re-sorted.
 * Through a shape cache (Shape): an image of a shape seen before is built from its key list
 * alone (issue 15, replay: 2.5x faster on the add/del workload's node images); anything the
 * cache cannot vouch for goes through expandSlow, the definition.
 */
export function expandImage(t: Template, stored: unknown, parent?: Obj): Obj | undefined {
  if (!isPlain(stored)) return undefined;
  if (parent === undefined) imageWork.expanded++;
  // the shape: stored keys (and "~"'s list) as one string
  let sig = '';
  for (const k in stored) {
    const v = stored[k];
    // a key (or an absent member) holding a separator could make two shapes one string: no cache
    if (v === undefined || !Object.prototype.hasOwnProperty.call(stored, k) || k.indexOf('\u0000') >= 0 || k.indexOf('\u0001') >= 0) return expandSlow(t, stored, parent);
    if (k === ABSENT && Array.isArray(v)) {
      if (!v.every((x) => typeof x === 'string')) return expandSlow(t, stored, parent);
      const list = v.join('\u0000');
      if (list.indexOf('\u0001') >= 0 || list.split('\u0000').length !== v.length) return expandSlow(t, stored, parent);
      sig += '\u0001' + list + '\u0001';
    } else sig += k + '\u0000';
  }
  let byShape = shapes.get(t);
  if (byShape === undefined) shapes.set(t, (byShape = new Map()));
  let shape = byShape.get(sig);
  if (shape === undefined) {
    shape = shapeOf(t, stored);
    if (byShape.size < MAX_SHAPES) byShape.set(sig, shape);
  }
  if (shape === null) return expandSlow(t, stored, parent);
  const out: Obj = {};
  const { keys, kinds } = shape;
  let deltas = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    switch (kinds[i]) {
      case 0:
        out[k] = stored[k];
        break;
      case 1: {
        const v = stored[k];
        const e = isPlain(v) ? expandImage(t.nested![k]!, v, stored) : undefined;
        if (e === undefined) return isPlain(v) ? undefined : expandSlow(t, stored, parent);
        out[k] = e;
        break;
      }
      case 2: {
        const dv = defaultValue(t.defaults[k]!, parent);
        if (dv === undefined) return undefined;
        out[k] = typeof dv === 'object' ? copyJson(dv) : dv;
        break;
      }
      default:
        out[k] = stored[k];
        deltas = true;
    }
  }
  return deltas ? settleDeltas(t, stored, out) : out;
}

/** The shape of `stored` under `t` (expandSlow's key merge, once), or null where the slow path decides per image. */
function shapeOf(t: Template, stored: Obj): Shape | null {
  const ct = compile(t);
  const keys = resultKeys(ct, stored);
  if (keys === undefined) return null;
  const kinds: (0 | 1 | 2 | 3)[] = [];
  for (const k of keys) {
    const kind = ct.kind.get(k);
    const has = Object.prototype.hasOwnProperty.call(stored, k);
    if (kind === 'delta') kinds.push(3);
    else if (has) {
      if (kind === 'nested') {
        if (!isPlain(stored[k])) return null;
        kinds.push(1);
      } else kinds.push(0);
    } else if (kind === 'default') kinds.push(2);
    else return null;
  }
  return { keys, kinds };
}

/** The result's keys: stored keys and the template's members not listed absent, sorted; undefined for a bad "~". */
function resultKeys(ct: Compiled, stored: Obj): string[] | undefined {
  const absentList = stored[ABSENT];
  let absent: Set<string> | undefined;
  if (absentList !== undefined) {
    if (!(Array.isArray(absentList) && absentList.every((k) => typeof k === 'string'))) return undefined;
    absent = new Set(absentList as string[]);
  }
  const own = Object.keys(stored);
  const keys: string[] = [];
  let sorted = true;
  let i = 0;
  let j = 0;
  const tk = ct.keys;
  for (;;) {
    const k = i < own.length ? own[i]! : undefined;
    if (k === ABSENT) { i++; continue; }
    const m = j < tk.length ? tk[j]! : undefined;
    if (k === undefined && m === undefined) break;
    if (m === undefined || (k !== undefined && k < m)) {
      if (keys.length && keys[keys.length - 1]! >= k!) sorted = false;
      keys.push(k!);
      i++;
    } else if (k === m) {
      keys.push(k);
      i++;
      j++;
    } else {
      if (!absent?.has(m) && stored[m] === undefined) keys.push(m);
      j++;
    }
  }
  if (!sorted) keys.sort();
  return keys;
}

/** Delta members last: they refer to a sibling's full value. */
function settleDeltas(t: Template, stored: Obj, out: Obj): Obj | undefined {
  const absentList = stored[ABSENT];
  for (const [k, base] of Object.entries(t.deltaOf!)) {
    if ((Array.isArray(absentList) && absentList.includes(k)) || !(k in out)) continue;
    const from = out[base];
    const v = stored[k];
    if (v === undefined) {
      if (!isPlain(from)) return undefined;
      out[k] = copyJson(from);
    } else if (isPlain(from) && isPlain(v)) {
      const dl = v as { p?: unknown; u?: unknown };
      if (!isPlain(dl.p) || (dl.u !== undefined && !(Array.isArray(dl.u) && dl.u.every((x) => typeof x === 'string')))) return undefined;
      out[k] = applyDelta(from, dl.p, (dl.u as string[] | undefined) ?? []);
    }
  }
  return out;
}

/** expandImage without the shape cache: the definition the cached path must agree with. */
export function expandSlow(t: Template, stored: Obj, parent?: Obj): Obj | undefined {
  const ct = compile(t);
  // the result's keys: stored keys and the template's members not listed absent, in sorted order
  const keys = resultKeys(ct, stored);
  if (keys === undefined) return undefined;
  // `{up}` defaults of nested members refer to members with no default (driver, name), which
  // are stored literally: the stored image serves as their parent
  const out: Obj = {};
  let deltas = false;
  for (const k of keys) {
    const kind = ct.kind.get(k);
    const v = stored[k];
    if (kind === 'delta') {
      out[k] = v; // its place in key order; the value is settled below
      deltas = true;
    } else if (v !== undefined && Object.prototype.hasOwnProperty.call(stored, k)) {
      if (kind === 'nested' && isPlain(v)) {
        const e = expandImage(t.nested![k]!, v, stored);
        if (e === undefined) return undefined;
        out[k] = e;
      } else out[k] = v;
    } else if (kind === 'default') {
      const dv = defaultValue(t.defaults[k]!, parent);
      if (dv === undefined) return undefined;
      out[k] = typeof dv === 'object' ? copyJson(dv) : dv;
    }
  }
  // delta members last: they refer to a sibling's full value
  return deltas ? settleDeltas(t, stored, out) : out;
}

/** from + p - u, keys sorted (as a canonical body parses). */
function applyDelta(from: Obj, p: Obj, u: string[]): Obj {
  const gone = new Set(u);
  const keys = Object.keys(from).filter((k) => !gone.has(k));
  for (const k of Object.keys(p)) if (!present(from, k) || gone.has(k)) keys.push(k);
  keys.sort();
  const out: Obj = {};
  for (const k of keys) out[k] = present(p, k) ? p[k] : copyJson(from[k]);
  return out;
}
