// The dirty-bitmap lookups backup and copy-before-write need (bdrv_find_dirty_bitmap,
// block_dirty_bitmap_lookup). Dirty bitmaps are modelled on another branch (issue 18, part A);
// until they are merged no node has a bitmap, so every lookup fails with QEMU's text.
import type { Proc } from './proc.js';

/** bdrv_find_dirty_bitmap(bs, name) != NULL */
export function dirtyBitmapExists(_p: Proc, _node: string, _name: string): boolean {
  return false;
}
