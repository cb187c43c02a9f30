// bdrv_co_truncate (block/io.c, 7.2) as the model follows it down the graph: block_resize and
// the jobs that grow their target (mirror_run for an active commit into a shorter base).
import { QmpError } from '../errors/index.js';
import { dirtyBitmapTruncate } from './bitmaps.js';
import { driverInfo } from './drivers.js';
import { qcow2TruncateCheck, qcow2TruncateImage } from './qcow2-truncate.js';
import { filterChild } from './jobs/chain.js';
import { getLength } from './length.js';
import type { Proc } from './proc.js';
import { HOST, type Image } from './types.js';
import { imageBehind, withRawFill } from './images.js';
import { qedTruncateError } from './qed.js';
import { QemuAbortRefusal } from './qemu-abort.js';


/**
 * The errno a job's blk_co_truncate returns where coTruncate refused (the job fails with its
 * strerror): bdrv_co_truncate's read-only check -EACCES, qcow2's whole-sector check -EINVAL,
 * anything else (fixed-size raw, a driver without truncate) -ENOTSUP.
 */
export function truncateErrno(e: QmpError): string {
  // (bdrv_qed_co_truncate's invalid size and nbd_co_truncate's growth are -EINVAL too)
  return /read-only/.test(e.desc) ? 'Permission denied' : /multiple of 512|Invalid image size|Cannot grow NBD nodes/.test(e.desc) ? 'Invalid argument' : 'Operation not supported';
}

/** The preallocate filters a failed truncate passed through (preallocate_co_truncate's fail path), innermost first. */
const PREALLOC_FAILED = Symbol('preallocFailed');
type WithPreallocFailed = QmpError & { [PREALLOC_FAILED]?: string[] };

/**
 * preallocate_co_truncate (block/preallocate.c, 7.2 and 10.0): when the truncate of its file
 * fails, `s->file_end = s->zero_start = s->data_end = ret`, the negative errno. Only -EINVAL is
 * the filter's "not valid" value: any other errno (-ENOTSUP from a driver without truncate,
 * -EACCES from a read-only file) leaves data_end != -EINVAL, which 10.0's preallocate_child_perm
 * takes for a preallocation to keep: it claims write and resize on its file and shares neither
 * from then on, and preallocate_drop_resize (data_end < 0: nothing to drop) never lets go. Only a
 * parent taking write and resize again (preallocate_set_perm: data_end < 0 becomes the file's
 * length) ends it (graph/preallocate-bh.ts). The truncate's other changes are undone with the
 * failed command or job; this state is not: the caller applies it to the state it keeps
 * (fuzz --qemu 10.0 2641913471). No refresh here: QEMU sets the field and the claim shows at the
 * next bdrv_refresh_perms (the truncating BlockBackend's release).
 */
export function keepPreallocTruncateFailures(p: Proc, e: unknown): void {
  const names = (e as WithPreallocFailed | undefined)?.[PREALLOC_FAILED];
  if (!names?.length || !(e instanceof QmpError) || truncateErrno(e) === 'Invalid argument') return;
  for (const name of names) {
    const n = p.node(name);
    if (!n || n.driver !== 'preallocate') continue;
    const { preallocated: _gone, ...rest } = (n.extra ?? {}) as { preallocHeld?: boolean; preallocated?: boolean; preallocError?: boolean };
    p.patchNode(name, { extra: { ...rest, preallocHeld: false, preallocError: true } });
  }
}

/** The preallocate filters whose s->data_end a failed truncate set to another errno than -EINVAL (keepPreallocTruncateFailures). */
export function preallocTruncateFailures(e: unknown): string[] {
  const names = (e as WithPreallocFailed | undefined)?.[PREALLOC_FAILED] ?? [];
  return e instanceof QmpError && truncateErrno(e) !== 'Invalid argument' ? names : [];
}

/** Drivers whose .bdrv_getlength asks their file (filtered) child: raw_getlength (the slice of it), cor_getlength, throttle_getlength, compress_getlength, blkdebug_getlength. */
const LENGTH_FROM_CHILD = new Set(['raw', 'copy-on-read', 'throttle', 'compress', 'blkdebug']);
const roundUp = (n: number) => Math.ceil(n / 512) * 512;

/**
 * bdrv_co_truncate ends with refresh_total_sectors(bs, offset >> BDRV_SECTOR_BITS) (10.0:
 * bdrv_co_refresh_total_sectors): a driver with .bdrv_getlength takes its length from it, not
 * from the size asked for, so a raw slice at an offset that is not a whole number of sectors
 * gets the file's length in whole sectors less the offset (raw over r.raw at offset 1000,
 * resized to 16 MiB: the file is 16 MiB + 1000, 16 MiB + 1024 in sectors, the slice 16 MiB +
 * 24, 16 MiB + 512 in sectors: a backup to a 16 MiB target has "different sizes"; fuzz
 * 3697693572, where 10.0's fixed lengths (rule variable-length-drivers) kept the size asked for).
 */
function refreshedSize(p: Proc, node: string, child: string | undefined, size: number): number {
  const n = p.node(node)!;
  if (!child || !p.node(child) || !LENGTH_FROM_CHILD.has(n.driver)) return size;
  const len = getLength(p, child);
  if (n.driver !== 'raw') return len;
  // raw_getlength without a fixed size (raw_co_truncate refused that): the rest of the file
  const offset = Number(n.options.offset ?? 0);
  return len < offset ? 0 : len - offset;
}

/**
 * bdrv_co_truncate (block/io.c, 7.2) down the graph: a read-only node refuses ("Image is
 * read-only", checked at every level), then the driver's own truncate (qcow2_co_truncate: whole
 * sectors only; raw_co_truncate: not with a fixed `size`, the slice's offset added for its file),
 * a filter without one passes it to its filtered child, anything else cannot resize.
 */
export function coTruncate(p: Proc, node: string, size: number, depth = 0): void {
  const n = p.node(node);
  if (!n || depth > 10000) return;
  if (n.ro) throw new QmpError('Image is read-only');
  // bdrv_co_truncate -> bdrv_co_write_req_prepare: assert(!(bs->open_flags & BDRV_O_INACTIVE)).
  // Reached on 7.2 only, whose BlockBackends attach to inactive nodes with no check (graph/rules.ts
  // inactive-attach-checks): block_resize after a completed migration
  // (qemu-aborts/abort-36-vm-resize-inactive)
  if (n.inactive) {
    throw new QemuAbortRefusal(`Node '${node}' is inactive (a completed migration handed it over): truncating it makes QEMU abort ` +
      "(bdrv_co_write_req_prepare: Assertion `!(bs->open_flags & BDRV_O_INACTIVE)' failed); refused by blockgraph: cont first", 'bdrv_co_write_req_prepare');
  }
  switch (n.driver) {
    case 'qcow2': {
      if (size % 512 !== 0) throw new QmpError('The new size must be a multiple of 512');
      qcow2TruncateCheck(p, node);
      // the header's new size, and a shrink's discarded clusters (graph/qcow2-truncate.ts)
      qcow2TruncateImage(p, node, n.size, size, coTruncate);
      p.patchNode(node, { size });
      dirtyBitmapTruncate(p, node, size);
      return;
    }
    case 'qed': {
      // bdrv_qed_co_truncate: grow only, to a valid size; qed_write_header_sync writes the new
      // image_size into the header through bs->file
      const f = p.fileChild(node)?.child;
      const img = f ? imageBehind(p, f) : undefined;
      const bad = qedTruncateError(img ?? { size: n.size }, size, 'off');
      if (bad) throw new QmpError(bad);
      if (img) p.d.put(HOST, 'images', img.file, { ...img, size });
      p.patchNode(node, { size });
      dirtyBitmapTruncate(p, node, size);
      return;
    }
    case 'raw': {
      if (n.options.size !== undefined) throw new QmpError('Cannot resize fixed-size raw disks');
      const file = p.fileChild(node)?.child;
      if (file) coTruncate(p, file, size + Number(n.options.offset ?? 0), depth + 1);
      const now = refreshedSize(p, node, file, size);
      p.patchNode(node, { size: now });
      dirtyBitmapTruncate(p, node, roundUp(now));
      return;
    }
    case 'luks': {
      // block_crypto_co_truncate: the file is truncated to the payload offset plus the size;
      // refresh_total_sectors then asks block_crypto_getlength (the file's length less it)
      const payload = Number((n.extra as { payloadOffset?: number } | undefined)?.payloadOffset ?? 0);
      const file = p.fileChild(node)?.child;
      if (file) coTruncate(p, file, size + payload, depth + 1);
      const now = file && p.node(file) ? Math.max(0, getLength(p, file) - payload) : size;
      p.patchNode(node, { size: now });
      dirtyBitmapTruncate(p, node, roundUp(now));
      return;
    }
    case 'file': {
      // raw_co_truncate (file-posix) -> raw_regular_truncate: ftruncate of the host file, which
      // every process sees; a file node opened on it later (raw_open) takes the new length
      p.patchNode(node, { size });
      dirtyBitmapTruncate(p, node, size);
      const img = p.image(n.filename);
      // ftruncate's new bytes read zeroes; a shrink drops the bytes past the end
      if (img) p.d.put(HOST, 'images', img.file, img.format === 'raw' ? { ...resizedRawBytes(img, size), size } : { ...img, fileLength: size });
      return;
    }
    case 'nbd': {
      // nbd_co_truncate (block/nbd.c, 7.2 and 10.0): an NBD client cannot change the export's
      // size. Every caller here passes exact=false (qmp_block_resize, a job growing its target), so
      // only a size past the one the handshake reported (s->info.size, kept from the open even when
      // the server's node is resized later) is refused (-EINVAL); anything else returns 0 and
      // refresh_total_sectors takes nbd_getlength, the same info.size, so nothing changes
      if (size > n.size) throw new QmpError('Cannot grow NBD nodes');
      return;
    }
    default: {
      // a filter's own .bdrv_co_truncate or bdrv_co_truncate's `filtered` branch
      // (bdrv_filter_child: every driver with is_filter, copy-before-write included) passes
      // the truncate to the filtered child
      const filtered = driverInfo(n.driver)?.kind === 'filter' ? filterChild(p, node)?.child : undefined;
      if (!filtered) throw new QmpError('Image format driver does not support resize');
      try {
        coTruncate(p, filtered, size, depth + 1);
      } catch (e) {
        // preallocate_co_truncate keeps the failure's errno in s->data_end (keepPreallocTruncateFailures)
        if (n.driver === 'preallocate' && e instanceof QmpError) {
          const w = e as WithPreallocFailed;
          w[PREALLOC_FAILED] = [...(w[PREALLOC_FAILED] ?? []), node];
        }
        throw e;
      }
      const now = refreshedSize(p, node, filtered, size);
      p.patchNode(node, { size: now });
      dirtyBitmapTruncate(p, node, now === size ? size : roundUp(now));
    }
  }
}

/** A raw image's known bytes (Image.fills) after ftruncate to `size`: zeroes past the old end, nothing past the new one. */
function resizedRawBytes(img: Image, size: number): Image {
  if (img.fills === undefined || size === img.size) return img;
  return size > img.size ? withRawFill(img, img.size, size, 0) : withRawFill(img, size, img.size, undefined);
}
