// Command arguments as QEMU's parser reads them may hold what JSON cannot store: integers past
// 2^53 (bigint), 1e400 (Infinity, a valid double to QEMU), -0. The log keeps the same information
// as plain JSON: big integers and non-finite numbers as their decimal text. Iterative, so no
// nesting depth can overflow the stack while a refusal is being logged.

/** Copies made, counted (specs assert that plain arguments are not copied per command; issue 15). */
export const jsonSafeWork = { copies: 0 };

export function jsonSafe(v: unknown): unknown {
  // Arguments that hold nothing to convert (every command a client sends in plain JSON) are
  // their own JSON-safe form: the record takes them as they are. Before, each command copied
  // them member by member: an entries array, a closure, a tuple and a defineProperty per member
  // (issue 15).
  if (alreadySafe(v, 0)) return v;
  jsonSafeWork.copies++;
  const leaf = (x: unknown): unknown => {
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'number') return Number.isFinite(x) ? (Object.is(x, -0) ? 0 : x) : String(x);
    return x;
  };
  if (typeof v !== 'object' || v === null) return leaf(v);
  const root: { v: unknown } = { v: undefined };
  const work: [unknown, (x: unknown) => void][] = [[v, (x) => { root.v = x; }]];
  while (work.length) {
    const [src, put] = work.pop()!;
    if (typeof src !== 'object' || src === null) { put(leaf(src)); continue; }
    if (Array.isArray(src)) {
      const out: unknown[] = new Array(src.length);
      put(out);
      src.forEach((e, i) => work.push([e, (x) => { out[i] = x; }]));
    } else {
      const out: Record<string, unknown> = {};
      put(out);
      for (const [k, e] of Object.entries(src as Record<string, unknown>)) {
        work.push([e, (x) => { Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true }); }]);
      }
    }
  }
  return root.v;
}

/** Deeper than this, the check gives up and the iterative copy decides (no stack overflow). */
const MAX_CHECK_DEPTH = 64;

/**
 * Is `v` what jsonSafe would copy it to, as canonical JSON writes it: no bigint, no non-finite
 * number, no -0, and only objects the copy would not change — plain objects (Object.prototype
 * or none, as the QMP reader makes them) and plain arrays. Anything else (a class instance, a
 * Date, a boxed value) is copied as before, so its stored form is what it always was.
 */
function alreadySafe(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'function':
    case 'symbol':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_CHECK_DEPTH) return false;
      const proto = Object.getPrototypeOf(v);
      if (Array.isArray(v)) {
        if (proto !== Array.prototype) return false;
        for (let i = 0; i < v.length; i++) if (i in v && !alreadySafe(v[i], depth + 1)) return false;
        return true;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!alreadySafe(o[k], depth + 1)) return false;
      return true;
    }
    default:
      return false; // bigint
  }
}
