// Sorted, disjoint [start, end) byte ranges, as the model keeps a host file's data or a cluster map.

/** The extents with [s, e) taken out (sorted and disjoint in, sorted and disjoint out). */
export function subtractExtent(ext: [number, number][], s: number, e: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ext) {
    if (b <= s || a >= e) out.push([a, b]);
    else {
      if (a < s) out.push([a, s]);
      if (b > e) out.push([e, b]);
    }
  }
  return out;
}
