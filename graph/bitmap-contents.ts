// What a dirty bitmap holds (util/hbitmap.c through block/dirty-bitmap.c), where the model knows
// it: sorted, disjoint byte ranges [start, end) on the bitmap's granules. A bitmap created by
// block-dirty-bitmap-add or emptied by block-dirty-bitmap-clear holds none; bdrv_set_dirty sets
// the granules a write request touches (hbitmap_set), a merge is a union (hbitmap_merge). A bitmap
// whose bits the model cannot follow (one loaded from an image, one on a node below a format node,
// whose writes land at host offsets) has no contents on record (DirtyBitmap.dirty absent).
import type { DirtyBitmap } from './types.js';

export type DirtyRanges = [number, number][];

/** The granules of `granularity` bytes that [offset, offset + bytes) touches, as one range. */
function granules(offset: number, bytes: number, granularity: number): [number, number] {
  const g = Math.max(1, granularity);
  return [Math.floor(offset / g) * g, Math.floor((offset + bytes - 1) / g) * g + g];
}

/** The union of two range lists (both sorted and disjoint). */
export function unionRanges(a: DirtyRanges, b: DirtyRanges): DirtyRanges {
  const all = [...a, ...b].sort((x, y) => x[0] - y[0]);
  const out: DirtyRanges = [];
  for (const [s, e] of all) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** hbitmap_set: the granules [offset, offset + bytes) touches, up to the bitmap's last granule. */
export function setRange(ranges: DirtyRanges, offset: number, bytes: number, granularity: number, size: number): DirtyRanges {
  if (bytes <= 0) return ranges;
  const [s, e0] = granules(offset, bytes, granularity);
  const end = Math.min(e0, Math.ceil(size / granularity) * granularity);
  return s < end ? unionRanges(ranges, [[s, end]]) : ranges;
}

/** Re-granulates `ranges` for another bitmap (hbitmap_merge of bitmaps of different granularity). */
export function regranulate(ranges: DirtyRanges, granularity: number, size: number): DirtyRanges {
  let out: DirtyRanges = [];
  for (const [s, e] of ranges) out = setRange(out, s, e - s, granularity, size);
  return out;
}

/** hbitmap_count (bdrv_get_dirty_count): the bytes of the set granules. */
export function rangesBytes(ranges: DirtyRanges): number {
  return ranges.reduce((n, [s, e]) => n + (e - s), 0);
}

/** The parts of `ranges` inside [a, b). */
export function clipRanges(ranges: DirtyRanges, a: number, b: number): DirtyRanges {
  const out: DirtyRanges = [];
  for (const [s, e] of ranges) {
    const x = Math.max(s, a);
    const y = Math.min(e, b);
    if (x < y) out.push([x, y]);
  }
  return out;
}

/** A bitmap's contents after a merge of `from` into it: known only when both are. */
export function mergedContents(into: DirtyBitmap, from: DirtyRanges | undefined, size: number): DirtyRanges | undefined {
  if (!into.dirty || !from) return undefined;
  return unionRanges(into.dirty, regranulate(from, into.granularity, size));
}
