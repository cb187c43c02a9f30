// The dirty-bitmap lookups backup and copy-before-write need (bdrv_find_dirty_bitmap), over
// the bitmap state of graph/bitmaps.ts.
import { findDirtyBitmap } from './bitmaps.js';
import type { Proc } from './proc.js';

/** bdrv_find_dirty_bitmap(bs, name) != NULL */
export function dirtyBitmapExists(p: Proc, node: string, name: string): boolean {
  return findDirtyBitmap(p, node, name) !== undefined;
}
