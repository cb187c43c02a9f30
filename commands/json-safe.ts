// Command arguments as QEMU's parser reads them may hold what JSON cannot store: integers past
// 2^53 (bigint), 1e400 (Infinity, a valid double to QEMU), -0. The log keeps the same information
// as plain JSON: big integers and non-finite numbers as their decimal text. Iterative, so no
// nesting depth can overflow the stack while a refusal is being logged.
export function jsonSafe(v: unknown): unknown {
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
