// Dirty bitmaps as graph state (block/dirty-bitmap.c, block/qcow2-bitmap.c, QEMU 7.2). A bitmap
// lives in its node's bs->dirty_bitmaps list (BdsNode.bitmaps, newest first as QLIST_INSERT_HEAD
// keeps it) and goes away with the node. Existence, name, granularity and flags are modelled, and
// the contents where the model can follow them (graph/bitmap-contents.ts). Persistent bitmaps of
// a qcow2 node are written to the image's bitmap directory in the host catalogue when the node
// closes or is reopened read-only, and loaded again when a qcow2 node opens the image, as
// qcow2_store_persistent_dirty_bitmaps and qcow2_load_dirty_bitmaps do.
//
// Public API for other engines (backup: sync=bitmap/incremental, copy-before-write, exports):
// findDirtyBitmap (bdrv_find_dirty_bitmap), dirtyBitmapLookup (block_dirty_bitmap_lookup),
// dirtyBitmapCheck (bdrv_dirty_bitmap_check), setDirtyBitmapBusy (bdrv_dirty_bitmap_set_busy),
// createDirtyBitmap / releaseDirtyBitmap / patchDirtyBitmap.
import { WRITE_PASS_THROUGH } from './pass-through.js';
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import { driverInfo } from './drivers.js';
import { imageBehind } from './images.js';
import { getLength, growWrittenNodes } from './length.js';
import { noteWritePath } from './wr-highest.js';
import type { Proc } from './proc.js';
import { refuseChildlessCorLength } from './cor-length.js';
import { rangesBytes, setRange } from './bitmap-contents.js';
import { HOST, type BdsNode, type DirtyBitmap, type Image, type ImageBitmap } from './types.js';
import { qcow2FileSize } from './open.js';
import { dirInPlaceWriteEnd, removeBitmapWrites, storeBitmapWrites, type StoredBits } from './qcow2-bitmap-clusters.js';
import { qcow2Discards } from './discard-stats.js';
import { deviceOrNodeName } from './named-blk.js';

export type { DirtyBitmap, ImageBitmap } from './types.js';

// include/block/dirty-bitmap.h
export const BITMAP_BUSY = 1;
export const BITMAP_RO = 2;
export const BITMAP_INCONSISTENT = 4;
export const BITMAP_DEFAULT = BITMAP_BUSY | BITMAP_RO | BITMAP_INCONSISTENT;
export const BITMAP_ALLOW_RO = BITMAP_BUSY | BITMAP_INCONSISTENT;
export const BITMAP_MAX_NAME_SIZE = 1023;

// block/qcow2-bitmap.c
const BME_MAX_TABLE_SIZE = 0x8000000;
const BME_MAX_PHYS_SIZE = 0x20000000;
const BME_MAX_GRANULARITY_BITS = 31;
const BME_MIN_GRANULARITY_BITS = 9;
const BME_MAX_NAME_SIZE = 1023;
const QCOW2_MAX_BITMAPS = 65535;
const QCOW2_MAX_BITMAP_DIRECTORY_SIZE = 1024 * QCOW2_MAX_BITMAPS;

/** bs->dirty_bitmaps, newest first. */
export function bitmapsOf(p: Proc, node: string): DirtyBitmap[] {
  return p.node(node)?.bitmaps ?? [];
}

/** bdrv_find_dirty_bitmap */
export function findDirtyBitmap(p: Proc, node: string, name: string): DirtyBitmap | undefined {
  // an anonymous bitmap (graph/anon-bitmaps.ts) has no name to find it by
  return bitmapsOf(p, node).find((b) => b.owner === undefined && b.name === name);
}

/** bs->dirty_bitmaps := list (graph/anon-bitmaps.ts adds and releases the anonymous ones through it). */
export function setBitmaps(p: Proc, node: string, list: DirtyBitmap[]): void {
  const n = p.node(node);
  if (!n) return;
  const patch: Partial<BdsNode> = { bitmaps: list };
  if (list.length === 0) {
    // keep a node without bitmaps byte-identical to one that never had any
    const { bitmaps: _b, ...rest } = n;
    p.putNode(rest as BdsNode);
    return;
  }
  p.patchNode(node, patch);
}

/** bdrv_dirty_bitmap_recording: enabled, or its successor (a running backup's) is. */
export function bitmapRecording(b: DirtyBitmap): boolean {
  return !b.disabled || b.successorEnabled === true;
}

/** bdrv_dirty_bitmap_check */
export function dirtyBitmapCheck(b: DirtyBitmap, flags: number): void {
  if (flags & BITMAP_BUSY && b.busy) {
    throw new QmpError(`Bitmap '${b.name}' is currently in use by another operation and cannot be used`);
  }
  if (flags & BITMAP_RO && b.readonly) {
    throw new QmpError(`Bitmap '${b.name}' is readonly and cannot be modified`);
  }
  if (flags & BITMAP_INCONSISTENT && b.inconsistent) {
    throw new QmpError(`Bitmap '${b.name}' is inconsistent and cannot be used`);
  }
}

/** block_dirty_bitmap_lookup (block/monitor/bitmap-qmp-cmds.c): the node by name, then the bitmap. */
export function dirtyBitmapLookup(p: Proc, node: string, name: string): { node: string; bitmap: DirtyBitmap } {
  if (!p.node(node)) throw new QmpError(`Node '${node}' not found`);
  const bitmap = findDirtyBitmap(p, node, name);
  if (!bitmap) throw new QmpError(`Dirty bitmap '${name}' not found`);
  return { node, bitmap };
}

/**
 * bdrv_dirty_bitmap_size: bitmap->size, set by bdrv_create_dirty_bitmap to the node's
 * bdrv_getlength at the time (whole sectors: a file node over a 196616-byte image makes
 * 197120-byte bitmaps) and changed only by bdrv_dirty_bitmap_truncate (dirtyBitmapTruncate).
 */
export function dirtyBitmapSize(p: Proc, node: string, b: DirtyBitmap): number {
  return b.size ?? getLength(p, node);
}

/**
 * bdrv_dirty_bitmap_truncate(bs, bytes): every bitmap of the node, named or anonymous, takes the
 * node's new length. bdrv_co_write_req_finish calls it with the new total_sectors * 512 when a
 * truncate of the node (bdrv_co_truncate, at each level it passes) or a write past its end
 * grows total_sectors; a node whose length only changes below it (a raw node over a resized
 * file) keeps its bitmaps' sizes.
 */
export function dirtyBitmapTruncate(p: Proc, node: string, bytes: number): void {
  const n = p.node(node);
  if (!n?.bitmaps?.length) return;
  const size = Math.ceil(bytes / 512) * 512;
  if (n.bitmaps.every((b) => b.size === size)) return;
  p.patchNode(node, { bitmaps: n.bitmaps.map((b) => ({ ...b, size, ...shrunkBits(b, size) })) });
}

/**
 * hbitmap_truncate to a shorter length: the bits from the first whole granule past the new end
 * (ROUND_UP(size, granularity)) are reset, so the count drops with them. Known contents only.
 */
function shrunkBits(b: DirtyBitmap, size: number): Partial<DirtyBitmap> {
  if (!b.dirty || (b.size !== undefined && size >= b.size)) return {};
  const end = Math.ceil(size / b.granularity) * b.granularity;
  const dirty = b.dirty.filter(([s]) => s < end).map(([s, e]) => [s, Math.min(e, end)] as [number, number]);
  return dirty.length ? { dirty } : { dirty, empty: true };
}

/**
 * bdrv_create_dirty_bitmap: a named bitmap at the head of the list, bdrv_getlength bytes long.
 */
export function createDirtyBitmap(p: Proc, node: string, granularity: number, name: string, init: Partial<DirtyBitmap> = {}): DirtyBitmap {
  if (findDirtyBitmap(p, node, name)) throw new QmpError(`Bitmap already exists: ${name}`);
  if (name.length > BITMAP_MAX_NAME_SIZE) throw new QmpError(`Bitmap name too long: ${name}`);
  refuseChildlessCorLength(p, node, 'bdrv_create_dirty_bitmap');
  const b: DirtyBitmap = { name, granularity, persistent: false, disabled: false, busy: false, readonly: false, inconsistent: false, size: getLength(p, node), ...init };
  setBitmaps(p, node, [b, ...bitmapsOf(p, node)]);
  return b;
}

/** bdrv_release_dirty_bitmap */
export function releaseDirtyBitmap(p: Proc, node: string, name: string): void {
  setBitmaps(p, node, bitmapsOf(p, node).filter((b) => b.owner !== undefined || b.name !== name));
}

/** Changes flags of one bitmap (bdrv_enable/disable_dirty_bitmap, set_persistence, set_readonly, …). */
export function patchDirtyBitmap(p: Proc, node: string, name: string, patch: Partial<DirtyBitmap>): DirtyBitmap {
  let out: DirtyBitmap | undefined;
  const list = bitmapsOf(p, node).map((b) => (b.owner === undefined && b.name === name ? (out = { ...b, ...patch }) : b));
  if (!out) throw new Error(`patch of missing bitmap ${node}/${name}`);
  setBitmaps(p, node, list);
  return out;
}

/** A named bitmap that may now hold bits loses its `empty` (the key goes, as if never set). */
export function bitmapMayHoldBits(p: Proc, node: string, name: string): void {
  const list = bitmapsOf(p, node);
  if (!list.some((b) => b.owner === undefined && b.name === name && b.empty)) return;
  setBitmaps(p, node, list.map((b) => {
    if (b.owner !== undefined || b.name !== name) return b;
    const { empty: _e, ...rest } = b;
    return rest;
  }));
}

/** Replaces a named bitmap whole (a key the new one lacks goes). */
export function replaceDirtyBitmap(p: Proc, node: string, b: DirtyBitmap): void {
  setBitmaps(p, node, bitmapsOf(p, node).map((x) => (x.owner === undefined && x.name === b.name ? b : x)));
}

/**
 * A write request (bdrv_co_write_req_finish -> bdrv_set_dirty) of [offset, offset + bytes) sets
 * the granules it touches in the enabled bitmaps of the node written (a disabled one records
 * nothing), and, through the driver's own writes (data, metadata, a filter's), bits in the
 * bitmaps of every node below it but its backing file (a COW layer is only read): at the same
 * offsets through a filter, shifted by a raw node's `offset`, at host offsets the model does not
 * follow below any other driver (those bitmaps lose their known contents). Without a range
 * (offset undefined) every bitmap on the way may hold bits.
 */
export function writeMayDirtyBitmaps(p: Proc, dest: string, offset?: number, bytes?: number, driverLevel = false): void {
  const seen = new Set<string>();
  const walk = (node: string, off: number | undefined) => {
    if (seen.has(node) || seen.size > 10_000) return;
    seen.add(node);
    const n = p.node(node);
    // driverLevel: the write enters `dest` below its request layer (bdrv_driver_pwritev, as
    // bdrv_co_do_copy_on_readv writes): no bdrv_co_write_req_finish there, so its own bitmaps
    // stay as they were; the driver's own requests to its children dirty theirs
    const list = driverLevel && node === dest ? [] : n?.bitmaps ?? [];
    if (list.some((b) => !b.disabled && (b.empty || b.dirty !== undefined))) {
      setBitmaps(p, node, list.map((b) => {
        if (b.disabled || (!b.empty && b.dirty === undefined)) return b;
        const { empty: _e, dirty, ...rest } = b;
        if (off === undefined || bytes === undefined || dirty === undefined) return rest;
        return { ...rest, dirty: setRange(dirty, off, bytes, b.granularity, dirtyBitmapSize(p, node, b)) };
      }));
    }
    for (const e of p.childrenOf(node)) {
      if (e.name === 'backing') continue;
      const same = off !== undefined && (WRITE_PASS_THROUGH[n?.driver ?? ''] === e.name);
      const raw = off !== undefined && n?.driver === 'raw' && e.name === 'file';
      walk(e.child, same ? off : raw ? off + Number(n!.options.offset ?? 0) : undefined);
    }
  };
  walk(dest, offset);
}

/** bdrv_dirty_bitmap_set_busy: a job or an export holds the bitmap. */
export function setDirtyBitmapBusy(p: Proc, node: string, name: string, busy: boolean): void {
  patchDirtyBitmap(p, node, name, { busy });
}

/**
 * The node whose .bdrv_get_info answers for `node` (bdrv_get_info): drivers without one pass to
 * their filtered child (bdrv_filter_bs); raw_get_info asks its file. undefined: -ENOTSUP.
 */
export function infoNode(p: Proc, node: string): BdsNode | undefined {
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    // (bdrv_qed_get_info: the header's cluster_size)
    if (n.driver === 'qcow2' || n.driver === 'qed' || n.driver === 'file') return n;
    // vdi_get_info, vpc_get_info, vhdx_get_info, qcow_get_info, vmdk_get_info (parallels has none)
    if (['vdi', 'vpc', 'vhdx', 'qcow', 'vmdk'].includes(n.driver)) return n;
    // host_device's is file-posix's raw_get_info too
    if (n.driver === 'host_device') return n;
    // raw_get_info and block_crypto_get_info_luks: bdrv_get_info of bs->file (luks keeps only its
    // cluster_size, which file-posix leaves 0)
    if (n.driver === 'raw' || n.driver === 'luks') { cur = p.fileChild(cur)?.child; continue; }
    if (driverInfo(n.driver)?.kind === 'filter') {
      cur = (p.fileChild(cur) ?? p.backing(cur))?.child;
      continue;
    }
    return undefined;
  }
  return undefined;
}

/** The image a qcow2 node reads its header (and bitmap directory) from. */
export function qcow2Image(p: Proc, node: string): Image | undefined {
  const f = p.fileChild(node);
  return f ? imageBehind(p, f.child) : undefined;
}

/**
 * bdrv_get_info's cluster_size for `node`: the header's for qcow2 and qed, what the other
 * formats' .bdrv_get_info answer (Image.infoCluster), 0 for file-posix's raw_get_info;
 * undefined where bdrv_get_info fails with -ENOTSUP.
 */
export function infoClusterSize(p: Proc, node: string): number | undefined {
  const n = infoNode(p, node);
  if (!n) return undefined;
  if (n.driver === 'file' || n.driver === 'host_device') return 0;
  if (n.driver === 'qcow2' || n.driver === 'qed') return qcow2Image(p, n.name)?.clusterSize ?? 65536;
  // vdi_get_info, vpc_get_info, vhdx_get_info, qcow_get_info, vmdk_get_info: the state vdi_open
  // and the others read from the header (graph/open.ts openInfoCluster), whatever file is below now
  const atOpen = (n.extra as { openInfoCluster?: number } | undefined)?.openInfoCluster;
  if (atOpen !== undefined) return atOpen;
  return qcow2Image(p, n.name)?.infoCluster ?? 0;
}

/** bdrv_get_default_bitmap_granularity: the cluster size clamped to [4K, 64K], else 64K. */
export function defaultBitmapGranularity(p: Proc, node: string): number {
  const cluster = infoClusterSize(p, node);
  // file-posix's raw_get_info leaves cluster_size 0
  if (cluster) return Math.min(65536, Math.max(4096, cluster));
  return 65536;
}

/** calc_dir_entry_size(name_size, 0): the 24-byte entry header plus the name, 8-aligned. */
function dirEntrySize(nameLen: number): number {
  return Math.ceil((24 + nameLen) / 8) * 8;
}

/** check_constraints_on_bitmap (block/qcow2-bitmap.c) */
function checkConstraintsOnBitmap(p: Proc, node: string, name: string, granularity: number): void {
  const bits = Math.log2(granularity);
  if (bits > BME_MAX_GRANULARITY_BITS) throw new QmpError(`Granularity exceeds maximum (${2 ** BME_MAX_GRANULARITY_BITS} bytes)`);
  if (bits < BME_MIN_GRANULARITY_BITS) throw new QmpError(`Granularity is under minimum (${2 ** BME_MIN_GRANULARITY_BITS} bytes)`);
  const len = p.node(node)!.size;
  const bitmapBytes = Math.ceil(Math.ceil(len / granularity) / 8);
  const cluster = qcow2Image(p, node)?.clusterSize ?? 65536;
  if (bitmapBytes > BME_MAX_PHYS_SIZE || bitmapBytes > BME_MAX_TABLE_SIZE * cluster) {
    throw new QmpError('Too much space will be occupied by the bitmap. Use larger granularity');
  }
  if (name.length > BME_MAX_NAME_SIZE) throw new QmpError(`Name length exceeds maximum (${BME_MAX_NAME_SIZE} characters)`);
}

/**
 * bdrv_can_store_new_dirty_bitmap: only qcow2 has .bdrv_co_can_store_new_dirty_bitmap; the
 * refusal names the node by bdrv_get_device_or_node_name (a legacy drive's name above it first).
 */
export function canStoreNewDirtyBitmap(p: Proc, node: string, name: string, granularity: number): void {
  const n = p.node(node)!;
  if (n.driver !== 'qcow2') throw new QmpError(`Can't store persistent bitmaps to ${deviceOrNodeName(p, node)}: Operation not supported`);
  // qcow2_co_can_store_new_dirty_bitmap
  if (findDirtyBitmap(p, node, name)) throw new QmpError(`Bitmap already exists: ${name}`);
  try {
    if ((qcow2Image(p, node)?.compat ?? '1.1') === '0.10') throw new QmpError('Cannot store dirty bitmaps in qcow2 v2 files');
    checkConstraintsOnBitmap(p, node, name, granularity);
    let count = 1;
    let dirSize = dirEntrySize(name.length);
    for (const b of bitmapsOf(p, node)) {
      if (!b.persistent) continue;
      count++;
      dirSize += dirEntrySize(b.name.length);
    }
    if (count > QCOW2_MAX_BITMAPS) throw new QmpError('Maximum number of persistent bitmaps is already reached');
    if (dirSize > QCOW2_MAX_BITMAP_DIRECTORY_SIZE) throw new QmpError('Not enough space in the bitmap directory');
  } catch (e) {
    if (e instanceof QmpError) throw new QmpError(`Can't make bitmap '${name}' persistent in '${node}': ${e.desc}`);
    throw e;
  }
}

/**
 * bdrv_get_dirty_count of a bitmap whose bits the model does not follow (graph/bitmap-contents.ts
 * keeps the others'): a copy-before-write filter's access_bitmap starts equal to the block-copy
 * bitmap (cbw_open's bdrv_dirty_bitmap_merge_internal), all set where no `bitmap` option restricts
 * it (block_copy_state_new), in whole granules; only a fleecing reader's discard resets it, which
 * the model does not follow. Any other such bitmap counts 0.
 */
function bitmapCount(n: BdsNode, b: DirtyBitmap, p?: Proc): number {
  const whole = () => Math.ceil((b.size ?? n.size) / b.granularity) * b.granularity;
  const restricted = (o: BdsNode['options']) => Object.keys(o).some((k) => k === 'bitmap' || k.startsWith('bitmap.'));
  if (b.owner === 'cbw:access' && !restricted(n.options)) return whole();
  // the block-copy bitmap (block_copy_state_new: on the source in 7.2, on the filter in 10.0):
  // created all set (bdrv_set_dirty_bitmap(copy_bitmap, 0, size)) where no `bitmap` option
  // restricts it, and cleared only by block-copy tasks (block_copy_task_create) and the resets of
  // sync top and bitmap (backup_init_bcs_bitmap). A filter no backup runs over, and a sync none
  // backup (backup_run only yields: no task is ever made), keep it whole (fuzz 345932728); a
  // copying backup's bits follow its tasks, which the model does not count here.
  if (b.owner?.startsWith('bcs:') && p) {
    const cbw = b.owner.slice('bcs:'.length);
    const filter = p.node(cbw);
    if (!filter || restricted(filter.options)) return 0;
    const job = p.jobs().find((j) => (j.data as { kind?: string; cbw?: string | null }).kind === 'backup' && (j.data as { cbw?: string | null }).cbw === cbw);
    if (!job || (job.data as { sync?: string }).sync === 'none') return whole();
  }
  return 0;
}

/** BlockDirtyInfo list as query-named-block-nodes / query-block print it (bdrv_query_dirty_bitmaps). */
export function queryDirtyBitmaps(n: BdsNode, p?: Proc): Record<string, unknown>[] {
  return (n.bitmaps ?? []).map((b) => ({
    // an anonymous bitmap (graph/anon-bitmaps.ts) has no name member
    ...(b.name !== '' ? { name: b.name } : {}), recording: bitmapRecording(b), persistent: b.persistent, busy: b.busy,
    granularity: b.granularity, count: b.dirty ? rangesBytes(b.dirty) : bitmapCount(n, b, p), ...(b.inconsistent ? { inconsistent: true } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// persistence in the qcow2 image's bitmap directory

/** The image (its bitmap directory and clusters) written back to the host. */
function putImage(p: Proc, img: Image): void {
  const { bitmaps, ...rest } = img;
  p.d.put(HOST, 'images', img.file, bitmaps?.length ? img : rest);
}

/**
 * The bitmap metadata writes of qcow2 node `node` ended at `end` of its bs->file:
 * bdrv_co_write_req_finish grows the nodes they went through (bs->total_sectors, down bs->file's
 * filters and raw nodes) and stat64_max's their wr_highest_offset.
 */
function metadataWritten(p: Proc, node: string, end: number): void {
  const f = p.fileChild(node)?.child;
  if (f === undefined || end <= 0) return;
  growWrittenNodes(p, f, end);
  noteWritePath(p, f, 0, end);
}

function putImageBitmaps(p: Proc, img: Image, list: ImageBitmap[]): void {
  const { bitmaps: _b, ...rest } = img;
  p.d.put(HOST, 'images', img.file, list.length ? { ...rest, bitmaps: list } : rest);
}

/**
 * qcow2_load_dirty_bitmaps (qcow2_do_open): every directory entry becomes a persistent bitmap,
 * created in directory order at the list head (so the node lists them in reverse); one marked
 * IN_USE by a writer that did not store it back is inconsistent; one without AUTO is disabled.
 * A writable open marks them IN_USE in the image; a read-only one makes them readonly.
 */
export function loadPersistentBitmaps(p: Proc, node: string): void {
  const img = qcow2Image(p, node);
  if (!img?.bitmaps?.length) return;
  const ro = p.node(node)!.ro;
  for (const e of img.bitmaps) {
    if (e.inUse && findDirtyBitmap(p, node, e.name)) continue;
    // bdrv_dirty_bitmap_set_inconsistent also disables it
    // load_bitmap: the bits stored with a consistent entry come back
    const bits = !e.inUse && e.dirty ? { dirty: e.dirty, ...(e.dirty.length === 0 ? { empty: true as const } : {}) } : {};
    createDirtyBitmap(p, node, e.granularity, e.name, {
      persistent: true, inconsistent: e.inUse, disabled: !e.auto || e.inUse, readonly: ro, ...bits,
    });
  }
  if (!ro) {
    // needs_update (an entry not IN_USE was loaded) and can_write: update_ext_header_and_dir_in_place
    const needsUpdate = img.bitmaps.some((e) => !e.inUse);
    putImageBitmaps(p, img, img.bitmaps.map((e) => ({ ...e, inUse: true })));
    if (needsUpdate && !p.node(node)!.inactive) dirRewrittenInPlace(p, node, img);
  }
}

/** update_ext_header_and_dir_in_place's writes through bs->file: wr_highest_offset (qcow2-bitmap-clusters dirInPlaceWriteEnd). */
function dirRewrittenInPlace(p: Proc, node: string, img: Image): void {
  const end = dirInPlaceWriteEnd(img);
  const f = p.fileChild(node)?.child;
  if (end !== undefined && f !== undefined) noteWritePath(p, f, 0, end);
}

/**
 * qcow2_store_persistent_dirty_bitmaps: each persistent, consistent, writable bitmap is written
 * (a new name appended to the directory, an existing entry rewritten in place with AUTO as
 * enabled and IN_USE cleared). release: bdrv_close's qcow2_inactivate drops what it stored.
 * Returns an error text where QEMU's store fails (the caller decides whether that is fatal).
 */
export function storePersistentBitmaps(p: Proc, node: string, release: boolean): string | undefined {
  const img = qcow2Image(p, node);
  const n = p.node(node)!;
  if (!img) {
    // bs->file shows no host image the model knows (an external snapshot's overlay took its
    // place: fuzz 3841584352): the directory and the writes are not followed, but can_write
    // comes before any of them, once a bitmap needs writing (need_write)
    const needWrite = (n.bitmaps ?? []).some((b) => b.persistent && !b.inconsistent && !b.readonly);
    return needWrite && n.ro ? 'No write access' : undefined;
  }
  const dir = (img.bitmaps ?? []).map((e) => ({ ...e }));
  let needWrite = false;
  const stored = new Set<string>();
  const written = new Map<string, StoredBits>();
  for (const b of n.bitmaps ?? []) {
    if (!b.persistent || b.inconsistent) continue;
    if (b.readonly) {
      if (dir.some((e) => e.name === b.name)) stored.add(b.name);
      continue;
    }
    needWrite = true;
    let e = dir.find((x) => x.name === b.name);
    if (!e) dir.push((e = { name: b.name, granularity: b.granularity, auto: false, inUse: false }));
    else if (!e.inUse) return `Bitmap '${b.name}' already exists in the image`;
    e.auto = !b.disabled;
    e.inUse = false;
    e.granularity = b.granularity;
    // store_bitmap_data: the bits go with it (known or not)
    if (b.dirty) e.dirty = b.dirty;
    else delete e.dirty;
    stored.add(b.name);
    written.set(b.name, { size: b.size ?? getLength(p, node), granularity: b.granularity, dirty: b.dirty ?? (b.empty ? [] : undefined) });
  }
  if (needWrite) {
    // can_write: writable and not BDRV_O_INACTIVE (an inactive node's image belongs to another process)
    if (n.ro || n.inactive) return 'No write access';
    // store_bitmap / bitmap_list_store: the tables and the directory go into new clusters
    const r = storeBitmapWrites(img, dir, written, qcow2FileSize);
    putImage(p, r.img);
    metadataWritten(p, node, r.wrote);
    qcow2Discards(p, node, r.freed, img.clusterSize ?? 65536);
  }
  if (release) {
    // bdrv_release_dirty_bitmap -> bdrv_release_dirty_bitmap_locked: assert(!bdrv_dirty_bitmap_busy(bitmap)).
    // A stored bitmap an export holds (nbd_export_create's bdrv_dirty_bitmap_set_busy) is released
    // here when blockdev-set-active inactivates its qcow2 node (qcow2_inactivate runs before the
    // parents are asked): QSD 10.0.2 dies (abort-37-set-inactive-exported-persistent-bitmap)
    const busy = [...stored].find((name) => findDirtyBitmap(p, node, name)?.busy);
    if (busy !== undefined) {
      throw new QemuAbortRefusal(
        `Bitmap '${busy}' of qcow2 node '${node}' is in use (busy) and would be released after it is stored ` +
        "(QEMU aborts here: qcow2_store_persistent_dirty_bitmaps -> bdrv_release_dirty_bitmap_locked: Assertion `!bdrv_dirty_bitmap_busy(bitmap)' failed); refused by blockgraph",
        'bdrv_release_dirty_bitmap_locked',
      );
    }
    for (const name of stored) releaseDirtyBitmap(p, node, name);
  }
  return undefined;
}

/** qcow2_reopen_bitmaps_ro (qcow2_reopen_prepare to read-only): store, then persistent ones readonly. */
export function reopenBitmapsRo(p: Proc, node: string): void {
  const err = storePersistentBitmaps(p, node, false);
  if (err) throw new QmpError(err);
  for (const b of bitmapsOf(p, node)) if (b.persistent) patchDirtyBitmap(p, node, b.name, { readonly: true });
}

/**
 * qcow2_reopen_bitmaps_rw (qcow2_reopen_commit_post to read-write): the image's entries marked
 * IN_USE again and their bitmaps writable. Its errors are only reported on stderr by QEMU.
 */
export function reopenBitmapsRw(p: Proc, node: string): void {
  const img = qcow2Image(p, node);
  if (!img?.bitmaps?.length) return;
  for (const e of img.bitmaps) {
    const b = findDirtyBitmap(p, node, e.name);
    if (!b) return; // "Unexpected bitmap … in image": left read-only
    if (!e.inUse && (!b.readonly || b.inconsistent)) return;
    if (e.inUse && b.readonly && !b.inconsistent) return;
  }
  putImageBitmaps(p, img, img.bitmaps.map((e) => ({ ...e, inUse: true })));
  dirRewrittenInPlace(p, node, img);
  for (const e of img.bitmaps) {
    if (findDirtyBitmap(p, node, e.name)?.readonly) patchDirtyBitmap(p, node, e.name, { readonly: false });
  }
}

/** qcow2_co_remove_persistent_dirty_bitmap: the directory entry goes (a bitmap not yet stored has none). */
export function removePersistentBitmap(p: Proc, node: string, name: string): void {
  const img = qcow2Image(p, node);
  if (!img?.bitmaps?.some((e) => e.name === name)) return;
  const r = removeBitmapWrites(img, img.bitmaps.filter((e) => e.name !== name), qcow2FileSize);
  putImage(p, r.img);
  metadataWritten(p, node, r.wrote);
  qcow2Discards(p, node, r.freed, img.clusterSize ?? 65536);
}

/** One bitmap for the views (show, render, diff): `name granularity` then the flags set. */
export function bitmapSummary(b: DirtyBitmap): string {
  const flags = [
    b.persistent && 'persistent', !bitmapRecording(b) && 'disabled', b.busy && 'busy', b.readonly && 'readonly', b.inconsistent && 'inconsistent',
  ].filter((f): f is string => typeof f === 'string');
  return [b.owner === undefined ? b.name : `(anonymous, ${b.owner})`, String(b.granularity), ...flags].join(' ');
}
