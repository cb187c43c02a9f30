// JSON.stringify(a) === JSON.stringify(b) without writing either text (issue 15): a step's
// changes are filtered for those that changed nothing, and stringifying both images of every
// change was most of that. Key order counts, as in the texts. Whatever JSON.stringify treats
// specially (toJSON, boxed primitives, a bigint: it throws) is left to the texts themselves.

/** Comparisons answered from the texts, counted (specs assert the hot path writes none). */
export const jsonEqualWork = { byText: 0 };

export function jsonTextEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true; // (as the draft always did: the same value is no change)
  const r = skipped(a) || skipped(b) ? undefined : eq(a, b); // (no text at all: let JSON.stringify say)
  if (r !== undefined) return r;
  jsonEqualWork.byText++;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A member JSON.stringify leaves out of an object (and writes as null in an array). */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';
const plainProto = (o: object): boolean => {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === Array.prototype || p === null;
};

/** Does JSON.stringify write `v` (a member's value) without throwing or calling anything? */
function plain(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'number':
    case 'undefined':
    case 'function':
    case 'symbol':
      return true;
    case 'object': {
      if (v === null) return true;
      if (!plainProto(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
      for (const k of Object.keys(v)) if (!plain((v as Record<string, unknown>)[k])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** true / false: the texts are (un)equal, and neither throws; undefined: only the texts can tell. */
function eq(a: unknown, b: unknown): boolean | undefined {
  // an array's undefined, function or symbol element is written as null; a non-finite number too
  const na = typeof a === 'number' && !Number.isFinite(a) ? null : a;
  const nb = typeof b === 'number' && !Number.isFinite(b) ? null : b;
  if (na === nb) return typeof na === 'object' && na !== null ? (plain(na) ? true : undefined) : true;
  const ta = typeof na;
  const tb = typeof nb;
  if (ta === 'bigint' || tb === 'bigint') return undefined;
  if (ta !== 'object' || tb !== 'object' || na === null || nb === null) {
    // unequal primitives, or a primitive against an object: unequal if the object is plain
    const o = ta === 'object' && na !== null ? na : tb === 'object' && nb !== null ? nb : undefined;
    return o === undefined || plain(o) ? false : undefined;
  }
  const oa = na as Record<string, unknown>;
  const ob = nb as Record<string, unknown>;
  if (!plainProto(oa) || !plainProto(ob) || typeof oa.toJSON === 'function' || typeof ob.toJSON === 'function') return undefined;
  const arr = Array.isArray(oa);
  if (arr !== Array.isArray(ob)) return plain(oa) && plain(ob) ? false : undefined;
  let r = true;
  if (arr) {
    const xa = oa as unknown as unknown[];
    const xb = ob as unknown as unknown[];
    if (xa.length !== xb.length) r = false;
    const n = Math.min(xa.length, xb.length);
    for (let i = 0; i < n && r; i++) {
      const e = eq(skipped(xa[i]) ? null : xa[i], skipped(xb[i]) ? null : xb[i]);
      if (e === undefined) return undefined;
      r = e;
    }
  } else {
    // the members each text writes, in order
    const ka = Object.keys(oa);
    const kb = Object.keys(ob);
    let i = 0;
    let j = 0;
    for (;;) {
      while (i < ka.length && skipped(oa[ka[i]!])) i++;
      while (j < kb.length && skipped(ob[kb[j]!])) j++;
      if (i === ka.length || j === kb.length) {
        if (i !== ka.length || j !== kb.length) r = false;
        break;
      }
      if (ka[i] !== kb[j]) { r = false; break; }
      const e = eq(oa[ka[i]!], ob[kb[j]!]);
      if (e === undefined) return undefined;
      if (!e) { r = false; break; }
      i++;
      j++;
    }
  }
  // unequal: only if neither text would throw (or call a toJSON) further on
  return r ? true : plain(oa) && plain(ob) ? false : undefined;
}
