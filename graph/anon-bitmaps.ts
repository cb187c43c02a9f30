// Anonymous dirty bitmaps (no name; query-named-block-nodes lists them without one): the
// block-copy state's copy_bitmap on the copy-before-write filter's source (block_copy_state_new),
// the filter's own done_bitmap and access_bitmap (cbw_open), and a backup's successor of its
// sync bitmap (bdrv_dirty_bitmap_create_successor). Each is created at the head of its node's
// list, like every bitmap, and carries an `anon` key so that its owner can find it again.
import { getLength } from './length.js';
import type { Proc } from './proc.js';
import type { DirtyBitmap } from './types.js';

export type AnonBitmap = DirtyBitmap & { anon: string };

const listOf = (p: Proc, node: string): DirtyBitmap[] => p.node(node)?.bitmaps ?? [];

function setList(p: Proc, node: string, list: DirtyBitmap[]): void {
  const n = p.node(node);
  if (!n) return;
  if (list.length === 0) {
    const { bitmaps: _b, ...rest } = n;
    p.putNode(rest as typeof n);
    return;
  }
  p.patchNode(node, { bitmaps: list });
}

/** bdrv_create_dirty_bitmap(bs, granularity, NULL), disabled unless said otherwise. */
export function addAnonBitmap(p: Proc, node: string, anon: string, granularity: number, disabled = true): void {
  // bitmap->size: the node's bdrv_getlength now (graph/bitmaps.ts dirtyBitmapSize)
  const b: AnonBitmap = { name: '', granularity, persistent: false, disabled, busy: false, readonly: false, inconsistent: false, size: getLength(p, node), anon };
  setList(p, node, [b, ...listOf(p, node)]);
}

/** bdrv_release_dirty_bitmap of an anonymous bitmap. */
export function releaseAnonBitmap(p: Proc, node: string, anon: string): void {
  if (!p.node(node)) return;
  setList(p, node, listOf(p, node).filter((b) => (b as Partial<AnonBitmap>).anon !== anon));
}

/** The named bitmap replaces its anonymous successor in the list (bdrv_dirty_bitmap_abdicate). */
export function abdicateTo(p: Proc, node: string, anon: string, name: string, patch: Partial<DirtyBitmap>): void {
  const list = listOf(p, node);
  const parent = list.find((b) => b.name === name);
  if (!parent) return;
  const out: DirtyBitmap[] = [];
  for (const b of list) {
    if (b.name === name) continue;
    if ((b as Partial<AnonBitmap>).anon === anon) {
      // the successor itself takes the name: its own size stays (bdrv_dirty_bitmap_abdicate)
      const { successorEnabled: _s, size: _z, ...rest } = parent;
      out.push({ ...rest, ...(b.size !== undefined ? { size: b.size } : {}), ...patch });
    } else out.push(b);
  }
  setList(p, node, out);
}

/** Where a copy-before-write filter keeps its block-copy bitmap (its source, the `file` child). */
export const bcsKey = (cbw: string) => `bcs:${cbw}`;

/** cbw_close + block_copy_state_free: the filter's bitmaps go with it, the copy bitmap from the source. */
export function releaseCbwBitmaps(p: Proc, cbw: string): void {
  // the filter may already be out of the chain (bdrv_drop_filter before bdrv_unref): cbw_open noted its source
  const src = (p.node(cbw)?.extra as { bcsSource?: string } | undefined)?.bcsSource;
  if (src) releaseAnonBitmap(p, src, bcsKey(cbw));
}
