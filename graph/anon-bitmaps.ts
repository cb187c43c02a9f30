// Anonymous dirty bitmaps: bdrv_create_dirty_bitmap(bs, granularity, NULL), the one mechanism
// behind every bitmap a user cannot name (query-named-block-nodes lists them without a name):
// a mirror's dirty_bitmap (mirror_start_job), the block-copy state's copy_bitmap on the
// copy-before-write filter's source (block_copy_state_new), the filter's own done_bitmap and
// access_bitmap (cbw_open), and a backup's successor of its sync bitmap
// (bdrv_dirty_bitmap_create_successor). Each is created at the head of its node's list, like
// every bitmap (graph/bitmaps.ts), with the name '' and an `owner`: the key its creator finds it
// by again (`job:JOB`, `bcs:CBW`, `successor:JOB`, `cbw:done`, `cbw:access`; a kind before the
// colon, so that no job id can take another's key).
import { bitmapsOf, setBitmaps } from './bitmaps.js';
import { getLength } from './length.js';
import type { Proc } from './proc.js';
import type { DirtyBitmap } from './types.js';

/** bdrv_create_dirty_bitmap(bs, granularity, NULL), disabled unless said otherwise. */
export function addAnonBitmap(p: Proc, node: string, owner: string, granularity: number, disabled = true, init: Partial<DirtyBitmap> = {}): void {
  const b: DirtyBitmap = { name: '', granularity, persistent: false, disabled, busy: false, readonly: false, inconsistent: false, size: getLength(p, node), owner, ...init };
  setBitmaps(p, node, [b, ...bitmapsOf(p, node)]);
}

/** bdrv_release_dirty_bitmap of the anonymous bitmaps `owner` holds on a node. */
export function releaseAnonBitmap(p: Proc, node: string, owner: string): void {
  const list = bitmapsOf(p, node);
  if (list.some((b) => b.owner === owner)) setBitmaps(p, node, list.filter((b) => b.owner !== owner));
}

/** The named bitmap replaces its anonymous successor in the list (bdrv_dirty_bitmap_abdicate). */
export function abdicateTo(p: Proc, node: string, owner: string, name: string, patch: Partial<DirtyBitmap>): void {
  const list = bitmapsOf(p, node);
  const parent = list.find((b) => b.owner === undefined && b.name === name);
  if (!parent) return;
  const out: DirtyBitmap[] = [];
  for (const b of list) {
    if (b === parent) continue;
    if (b.owner === owner) {
      // the successor itself takes the name: its own size and bits stay (bdrv_dirty_bitmap_abdicate)
      const { successorEnabled: _s, size: _z, empty: _e, dirty: _d, ...rest } = parent;
      out.push({
        ...rest, ...(b.size !== undefined ? { size: b.size } : {}), ...(b.dirty !== undefined ? { dirty: b.dirty } : {}),
        ...(b.dirty?.length === 0 ? { empty: true as const } : {}), ...patch,
      });
    } else out.push(b);
  }
  setBitmaps(p, node, out);
}

/** A job's own bitmap (mirror's dirty_bitmap). */
export const jobKey = (job: string) => `job:${job}`;
/** Where a copy-before-write filter keeps its block-copy bitmap (its source, the `file` child). */
export const bcsKey = (cbw: string) => `bcs:${cbw}`;
/** The owner of a backup job's successor of its sync bitmap. */
export const successorKey = (job: string) => `successor:${job}`;
/** cbw_open's done_bitmap and access_bitmap, on the filter itself. */
export const CBW_BITMAPS = ['cbw:done', 'cbw:access'] as const;
/** The bitmaps a copy-before-write filter holds itself (the copy bitmap too where 10.0 puts it there). */
export const cbwOwnBitmaps = (cbw: string) => new Set<string>([...CBW_BITMAPS, bcsKey(cbw)]);

/** Whose anonymous bitmap this is, in words (the refusals that name it). */
export function anonBitmapOwner(owner: string | undefined): string {
  const colon = owner?.indexOf(':') ?? -1;
  const kind = owner?.slice(0, colon);
  const rest = owner?.slice(colon + 1);
  if (kind === 'bcs') return `the block-copy bitmap of copy-before-write filter '${rest}'`;
  if (kind === 'successor') return `the successor bitmap of backup job '${rest}'`;
  if (kind === 'cbw') return `a copy-before-write filter's ${rest} bitmap`;
  if (kind === 'job') return `the dirty bitmap of job '${rest}'`;
  return 'an anonymous dirty bitmap';
}

/** cbw_close + block_copy_state_free: the filter's bitmaps go with it, the copy bitmap from the source. */
export function releaseCbwBitmaps(p: Proc, cbw: string): void {
  // the filter may already be out of the chain (bdrv_drop_filter before bdrv_unref): cbw_open noted its source
  const src = (p.node(cbw)?.extra as { bcsSource?: string } | undefined)?.bcsSource;
  if (src) releaseAnonBitmap(p, src, bcsKey(cbw));
}
