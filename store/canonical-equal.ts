// Equality of two values' canonical JSON (store/codec.ts canonicalJson) without writing either
// text (issue 15): the record encoder compares an image's members with their template defaults
// and an update's after-image with its before-image member by member, and encoding both sides
// of each comparison was a tenth of a durable command's CPU. Whatever canonicalJson treats
// specially (toJSON, a bigint, a non-finite number: it refuses the last two) is left to the
// texts themselves, so the answer, or the BG_BAD_INPUT canonicalJson throws, is always theirs.
import { canonicalJson } from './codec.js';

/**
 * Comparisons answered from the texts, and all comparisons, counted (specs assert the hot path
 * encodes nothing, and how many comparisons storing a command makes).
 */
export const equalWork = { byText: 0, calls: 0 };

/** canonicalJson(a) === canonicalJson(b), by walking both values. */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  equalWork.calls++;
  const r = eq(a, b);
  if (r === true) return true; // every member compared was plain JSON: neither text throws
  if (r === false && plain(a) && plain(b)) return false;
  equalWork.byText++;
  return canonicalJson(a) === canonicalJson(b);
}

/** A member canonicalJson leaves out of an object (and writes as null in an array). */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** Does canonicalJson write `v` as JSON.parse would read it back, without throwing and without toJSON? */
function plain(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!skipped(v[i]) && !plain(v[i])) return false;
        return true;
      }
      const o = v as Record<string, unknown>;
      if (typeof o.toJSON === 'function') return false;
      for (const k of Object.keys(o)) if (!skipped(o[k]) && !plain(o[k])) return false;
      return true;
    }
    default:
      return false;
  }
}

/**
 * true: equal texts, all of it plain; false: unequal texts if both are plain (the caller
 * checks); undefined: something only the texts can settle.
 */
function eq(a: unknown, b: unknown): boolean | undefined {
  if (a === b) return typeof a === 'object' ? (plain(a) ? true : undefined) : plain(a) ? true : undefined;
  switch (typeof a) {
    case 'number':
      if (!Number.isFinite(a)) return undefined;
      return typeof b === 'number' && !Number.isFinite(b) ? undefined : false; // (a === b was above; -0 === 0)
    case 'string':
    case 'boolean':
      return false;
    case 'object':
      break;
    default:
      return undefined; // undefined, bigint, function, symbol
  }
  if (a === null || typeof b !== 'object' || b === null) return false;
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  if (typeof oa.toJSON === 'function' || typeof ob.toJSON === 'function') return undefined;
  const arr = Array.isArray(a);
  if (arr !== Array.isArray(b)) return false; // '[' against '{'
  if (arr) {
    const xa = a as unknown[];
    const xb = b as unknown[];
    if (xa.length !== xb.length) return false;
    for (let i = 0; i < xa.length; i++) {
      const e = eq(skipped(xa[i]) ? null : xa[i], skipped(xb[i]) ? null : xb[i]);
      if (e !== true) return e;
    }
    return true;
  }
  // the same members (those canonicalJson writes), each equal; key order does not matter
  let n = 0;
  for (const k of Object.keys(oa)) {
    const va = oa[k];
    if (skipped(va)) continue;
    n++;
    const vb = Object.prototype.hasOwnProperty.call(ob, k) ? ob[k] : undefined;
    if (skipped(vb)) return false;
    const e = eq(va, vb);
    if (e !== true) return e;
  }
  for (const k of Object.keys(ob)) if (!skipped(ob[k])) n--;
  return n === 0;
}
