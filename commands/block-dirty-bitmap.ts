// block-dirty-bitmap-add/-remove/-clear/-enable/-disable/-merge as QEMU 7.2 runs them
// (block/monitor/bitmap-qmp-cmds.c qmp_block_dirty_bitmap_*, checks in QEMU's order). The same
// functions serve the transaction actions (commands/bitmap-actions.ts), which call them in
// .prepare. Contents where the model follows them (graph/bitmap-contents.ts): add and clear leave
// none, merge ORs them.
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import {
  BITMAP_ALLOW_RO, BITMAP_BUSY, BITMAP_DEFAULT, BITMAP_RO, canStoreNewDirtyBitmap, createDirtyBitmap, dirtyBitmapSize, defaultBitmapGranularity,
  bitmapMayHoldBits, dirtyBitmapCheck, dirtyBitmapLookup, findDirtyBitmap, patchDirtyBitmap, releaseDirtyBitmap, removePersistentBitmap,
  replaceDirtyBitmap,
  type DirtyBitmap,
} from '../graph/bitmaps.js';
import type { Proc } from '../graph/proc.js';
import { mergedContents } from '../graph/bitmap-contents.js';
import type { CommandDef } from './types.js';

export interface BitmapAddArgs { node: string; name: string; granularity?: number; persistent?: boolean; disabled?: boolean }

/** qmp_block_dirty_bitmap_add */
export function bitmapAdd(p: Proc, a: BitmapAddArgs): void {
  if (!a.name) throw new QmpError('Bitmap name cannot be empty');
  // bdrv_lookup_bs(node, node, errp): looked up as a device name too
  if (!p.node(a.node)) throw new QmpError(`Cannot find device='${a.node}' nor node-name='${a.node}'`);
  const bs = a.node;
  let granularity: number;
  if (a.granularity !== undefined) {
    const g = a.granularity;
    if (g < 512 || (g & (g - 1)) !== 0) throw new QmpError('Granularity must be power of 2 and at least 512');
    granularity = g;
  } else {
    granularity = defaultBitmapGranularity(p, bs);
  }
  const persistent = a.persistent ?? false;
  if (persistent) canStoreNewDirtyBitmap(p, bs, a.name, granularity);
  p.step(`bitmap ${bs}/${a.name} added`);
  createDirtyBitmap(p, bs, granularity, a.name, { disabled: a.disabled ?? false, persistent, empty: true, dirty: [] });
}

/** block_dirty_bitmap_remove(release): busy or readonly refuse; a persistent one leaves the image too. */
export function bitmapRemove(p: Proc, node: string, name: string, release = true): { node: string; bitmap: DirtyBitmap } {
  const found = dirtyBitmapLookup(p, node, name);
  dirtyBitmapCheck(found.bitmap, BITMAP_BUSY | BITMAP_RO);
  p.step(`bitmap ${node}/${name} removed`);
  if (found.bitmap.persistent) removePersistentBitmap(p, node, name);
  if (release) releaseDirtyBitmap(p, node, name);
  return found;
}

/** qmp_block_dirty_bitmap_clear: BDRV_BITMAP_DEFAULT checks; no bit is left. */
export function bitmapClear(p: Proc, node: string, name: string): DirtyBitmap {
  const { bitmap } = dirtyBitmapLookup(p, node, name);
  dirtyBitmapCheck(bitmap, BITMAP_DEFAULT);
  // bdrv_clear_dirty_bitmap: hbitmap_reset_all (a transaction's abort restores the state whole)
  return bitmap.empty && bitmap.dirty?.length === 0 ? bitmap : patchDirtyBitmap(p, node, name, { empty: true, dirty: [] });
}

/** qmp_block_dirty_bitmap_enable / _disable: BDRV_BITMAP_ALLOW_RO. */
export function bitmapSetEnabled(p: Proc, node: string, name: string, enabled: boolean): DirtyBitmap {
  const { bitmap } = dirtyBitmapLookup(p, node, name);
  dirtyBitmapCheck(bitmap, BITMAP_ALLOW_RO);
  p.step(`bitmap ${node}/${name} ${enabled ? 'enabled' : 'disabled'}`);
  patchDirtyBitmap(p, node, name, { disabled: !enabled });
  return bitmap;
}

export type BitmapSource = string | { node: string; name: string };

/**
 * block_dirty_bitmap_merge: the target by lookup, each source on the target's node (a string)
 * or by lookup (node and name), then bdrv_merge_dirty_bitmap's checks for each in turn.
 */
export function bitmapMerge(p: Proc, node: string, target: string, sources: readonly BitmapSource[]): DirtyBitmap {
  const dst = dirtyBitmapLookup(p, node, target);
  for (const s of sources) {
    let src: { node: string; bitmap: DirtyBitmap };
    if (typeof s === 'string') {
      const b = findDirtyBitmap(p, node, s);
      if (!b) throw new QmpError(`Dirty bitmap '${s}' not found`);
      src = { node, bitmap: b };
    } else {
      src = dirtyBitmapLookup(p, s.node, s.name);
    }
    // bdrv_merge_dirty_bitmap
    dirtyBitmapCheck(dst.bitmap, BITMAP_DEFAULT);
    dirtyBitmapCheck(src.bitmap, BITMAP_ALLOW_RO);
    const dsize = dirtyBitmapSize(p, dst.node, dst.bitmap);
    const ssize = dirtyBitmapSize(p, src.node, src.bitmap);
    if (dsize !== ssize) {
      throw new QmpError(`Bitmaps are of different sizes (destination size is ${dsize}, source size is ${ssize}) and can't be merged`);
    }
  }
  // qmp_block_dirty_bitmap_merge ORs every source into the target (hbitmap_merge): its bits where
  // every source's are known, else a target that may hold bits
  const srcOf = (s: BitmapSource) => (typeof s === 'string' ? findDirtyBitmap(p, node, s) : findDirtyBitmap(p, s.node, s.name));
  const srcEmpty = (s: BitmapSource) => srcOf(s)?.empty === true;
  const size = dirtyBitmapSize(p, dst.node, dst.bitmap);
  let dirty = dst.bitmap.dirty;
  for (const s of sources) dirty = dirty && mergedContents({ ...dst.bitmap, dirty }, srcOf(s)?.dirty, size);
  if (dst.bitmap.empty && !sources.every(srcEmpty)) bitmapMayHoldBits(p, dst.node, dst.bitmap.name);
  const now = findDirtyBitmap(p, dst.node, dst.bitmap.name)!;
  if (JSON.stringify(now.dirty) !== JSON.stringify(dirty)) {
    const { dirty: _d, ...rest } = now;
    replaceDirtyBitmap(p, dst.node, { ...rest, ...(dirty ? { dirty } : {}) });
  }
  return dst.bitmap;
}

export const blockDirtyBitmapAdd: CommandDef = {
  name: 'block-dirty-bitmap-add',
  mutates: true,
  run({ p, args }) {
    bitmapAdd(p, args as BitmapAddArgs);
    return {};
  },
};

export const blockDirtyBitmapRemove: CommandDef = {
  name: 'block-dirty-bitmap-remove',
  mutates: true,
  run({ p, args }) {
    bitmapRemove(p, String(args.node), String(args.name));
    return {};
  },
};

export const blockDirtyBitmapClear: CommandDef = {
  name: 'block-dirty-bitmap-clear',
  mutates: true,
  run({ p, args }) {
    bitmapClear(p, String(args.node), String(args.name));
    return {};
  },
};

export const blockDirtyBitmapEnable: CommandDef = {
  name: 'block-dirty-bitmap-enable',
  mutates: true,
  run({ p, args }) {
    bitmapSetEnabled(p, String(args.node), String(args.name), true);
    return {};
  },
};

export const blockDirtyBitmapDisable: CommandDef = {
  name: 'block-dirty-bitmap-disable',
  mutates: true,
  run({ p, args }) {
    bitmapSetEnabled(p, String(args.node), String(args.name), false);
    return {};
  },
};

export const blockDirtyBitmapMerge: CommandDef = {
  name: 'block-dirty-bitmap-merge',
  mutates: true,
  run({ p, args }) {
    const sources = (args.bitmaps ?? []) as BitmapSource[];
    bitmapMerge(p, String(args.node), String(args.target), sources);
    // qmp_block_dirty_bitmap_merge passes no backup pointer, so block_dirty_bitmap_merge frees its
    // local one, which only the first source's merge allocates: with an empty list it calls
    // hbitmap_free(NULL), which reads hb->meta: QSD 7.2.22 and 10.0.2 both die (SIGSEGV; stop 42,
    // oracle/scenarios/qemu-aborts/abort-42-merge-empty-list; the lookups' errors come first)
    if (sources.length === 0) {
      throw new QemuAbortRefusal(`Merging no bitmaps into '${String(args.target)}' (QEMU crashes here: block_dirty_bitmap_merge ` +
        'calls hbitmap_free(NULL), segmentation fault); refused by blockgraph', 'block_dirty_bitmap_merge');
    }
    return {};
  },
};

export const bitmapCommands: CommandDef[] = [
  blockDirtyBitmapAdd, blockDirtyBitmapRemove, blockDirtyBitmapClear, blockDirtyBitmapEnable, blockDirtyBitmapDisable, blockDirtyBitmapMerge,
];
