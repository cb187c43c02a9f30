// The other image formats qemu-storage-daemon opens over a `file` child (block/vdi.c, vpc.c,
// vhdx.c, parallels.c, qcow.c, vmdk.c; the same on 7.2 and 10.0.2): the images `qemu-img create`
// makes of them, and what each driver's open answers over bytes that are its image, a zeroed
// file, or a qcow2 header. Bytes the model does not keep (a qcow2 header's fields past its
// version, a raw file's data) are refused as not modelled rather than guessed.
import { QmpError } from '../errors/index.js';
import { rawFill } from './images.js';
import { headerWord } from './header-bytes.js';
import type { Image } from './types.js';
import { qcow2HeaderBytes, readLe } from './qcow2-header-bytes.js';

// block/vdi.c VDI_DISK_SIZE_MAX: (uint64_t)VDI_BLOCKS_IN_IMAGE_MAX * DEFAULT_CLUSTER_SIZE, where
// VDI_BLOCKS_IN_IMAGE_MAX = (INT_MAX + 1u - BDRV_SECTOR_SIZE) / sizeof(uint32_t) = 0x1fffff80
// and DEFAULT_CLUSTER_SIZE 1 MiB: 0x1fffff8000000 (the text vdi_open and vdi_co_do_create print)
export const VDI_DISK_SIZE_MAX = 0x1fffff80n * 0x100000n;

export const OTHER_FORMATS = ['vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk'] as const;

export function isOtherFormat(f: string): boolean {
  return (OTHER_FORMATS as readonly string[]).includes(f);
}

/**
 * Formats of these whose create options have backing_file (qcow_create_opts, vmdk_create_opts;
 * parallels has none in qemu-img). vmdk writes the name as the descriptor's parentFileNameHint
 * with the parent's CID (vmdk_co_do_create), and vmdk_open's vmdk_parse_description reads it back
 * as bs->auto_backing_file, no format (probed), as qcow_open does from its header.
 */
export function otherFormatHasBacking(f: string): boolean {
  return f === 'qcow' || f === 'vmdk';
}

/**
 * What qemu-img create refuses of a backing file for `format` before it writes anything:
 * vmdk_co_do_create's "backing_file must be a vmdk image" (a backing format other than vmdk; it
 * opens the parent as vmdk to read its CID).
 */
export function otherFormatBackingError(format: string, backingFormat: string | undefined): string | undefined {
  if (format === 'vmdk' && backingFormat !== undefined && backingFormat !== 'vmdk') return 'backing_file must be a vmdk image';
  return undefined;
}

/**
 * The cluster_size the format's .bdrv_get_info answers for an image `qemu-img create` made with
 * `options` (block_copy_calculate_cluster_size takes it, at least 64 KiB, for a copy-before-write
 * filter's bitmaps and a backup's cluster): vdi_get_info the header's block_size (always
 * DEFAULT_CLUSTER_SIZE, 1 MiB: CONFIG_VDI_BLOCK_SIZE is off); vpc_get_info the dynamic header's
 * block_size (vpc_co_create: 0x200000), nothing for a fixed image; vhdx_get_info the block size
 * (vhdx_co_create: block_size, else by image size); qcow_get_info 1 << cluster_bits (12, or 9
 * with a backing file); vmdk_get_info a sparse extent's grain (64 KiB), nothing for a flat one;
 * parallels has no .bdrv_get_info (-ENOTSUP: undefined). Unchanged from 7.2 to 10.0.
 */
export function otherFormatInfoCluster(format: string, size: number, options = '', backing = false): number | undefined {
  const opt = (k: string) => new RegExp(`(?:^|,)${k}=([^,]+)`).exec(options)?.[1];
  switch (format) {
    case 'vdi': return 1048576;
    case 'vpc': return opt('subformat') === 'fixed' ? 0 : 0x200000;
    case 'vhdx': {
      const bs = opt('block_size');
      if (bs !== undefined) return Number(bs);
      const MiB = 1048576, GiB = 1024 * MiB, TiB = 1024 * GiB;
      return size > 32 * TiB ? 64 * MiB : size > 100 * GiB ? 32 * MiB : size > GiB ? 16 * MiB : 8 * MiB;
    }
    case 'qcow': return backing ? 512 : 4096;
    case 'vmdk': return /Flat$/.test(opt('subformat') ?? '') ? 0 : 65536;
    default: return undefined;
  }
}

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * The host file length `qemu-img create` leaves for an image of `format` whose virtual size is
 * `size` (what a file node over it measures: bdrv_getlength of the protocol node), with the
 * default options; undefined where options the model does not follow change the layout.
 * vdi_co_do_create: a 512-byte header, then the block map (one uint32 per 1 MiB block) rounded
 * to sectors (a dynamic image ends there, a static one, preallocation=metadata, after every block);
 * vpc_co_create: a fixed image is its data plus the
 * footer, a dynamic one footer + dynamic header (1536 bytes), the BAT (one uint32 per 2 MiB
 * block) rounded to sectors, the footer again; vhdx_create_new_region_table and
 * vhdx_create_bat: the BAT at ROUND_UP(1 MiB header section + log, 1 MiB), its length rounded to
 * 1 MiB, and the file truncated 5 MiB past the BAT's end (plus the data, fixed);
 * parallels_co_create: the 64-byte header and BAT rounded up to whole clusters (1 MiB);
 * qcow_co_create: the 48-byte header and backing file name (8-aligned), then the L1 table written
 * as whole sectors; vmdk_init_extent (monolithicSparse): the grain directories and tables up to
 * grain_offset, rounded to the 64 KiB grain (streamOptimized too).
 */
export function otherFormatFileLength(format: string, size: number, options = '', backing?: string): number | undefined {
  const opt = (k: string) => new RegExp(`(?:^|,)${k}=([^,]+)`).exec(options)?.[1];
  const MiB = 1048576;
  switch (format) {
    case 'vdi': {
      // a static image (preallocation=metadata, qemu-img's static=on: VDI_TYPE_STATIC) is then
      // truncated to hold every block (blk_co_truncate to offset + blocks * block_size)
      const blocks = Math.ceil(size / MiB);
      const stat = opt('preallocation') === 'metadata' || opt('static') === 'on';
      if ((opt('preallocation') !== undefined && opt('preallocation') !== 'off' && !stat) || (opt('static') !== undefined && opt('static') !== 'off' && !stat)) return undefined;
      return 512 + roundUp(blocks * 4, 512) + (stat ? blocks * MiB : 0);
    }
    case 'vpc': {
      if (opt('subformat') === 'fixed') return size + 512;
      const nbat = Math.ceil(size / 512 / (0x200000 / 512));
      return 1536 + roundUp(nbat * 4, 512) + 512;
    }
    case 'vhdx': {
      const log = opt('log_size') !== undefined ? Number(opt('log_size')) : MiB;
      const block = otherFormatInfoCluster('vhdx', size, options)!;
      // vhdx_calc_bat_entries, 512-byte logical sectors: chunk_ratio = 2^23 * 512 / block_size
      const chunkRatio = (2 ** 23 * 512) / block;
      const data = Math.ceil(size / block);
      const entries = data + Math.floor((data - 1) / chunkRatio);
      const bat = roundUp(MiB + log, MiB);
      const end = bat + roundUp(entries * 8, MiB) + 5 * MiB;
      return opt('subformat') === 'fixed' ? end + size : end;
    }
    case 'parallels': {
      const cl = opt('cluster_size') !== undefined ? Number(opt('cluster_size')) : MiB;
      return roundUp(64 + Math.ceil(size / cl) * 4, cl);
    }
    case 'qcow': {
      const header = roundUp(48 + (backing ? backing.length : 0), 8);
      const shift = backing ? 9 + 12 : 12 + 9;
      const l1 = Math.ceil(size / 2 ** shift);
      return header + Math.ceil((l1 * 8) / 512) * 512;
    }
    case 'vmdk': {
      // streamOptimized is the same extent (vmdk_init_extent's compress only sets the header's
      // version 3 and flags; no footer is written at create): fuzz --against vm 2185654206, a
      // backup of a 32 MiB streamOptimized vmdk onto its 64 KiB file node ("different sizes")
      const sub = opt('subformat') ?? 'monolithicSparse';
      if (sub !== 'monolithicSparse' && sub !== 'streamOptimized') return undefined;
      const { gd, gdSectors, gtSize, gtCount } = vmdkSparseLayout(size);
      return roundUp(gd + gdSectors + gtSize * gtCount, 128) * 512;
    }
    default: return undefined;
  }
}

/**
 * vmdk_init_extent's sparse layout in sectors: granularity 128 sectors, 512 entries per grain
 * table, a 20-sector descriptor at sector 1, the redundant grain directory and its tables, then the
 * grain directory and its tables.
 */
function vmdkSparseLayout(size: number): { gd: number; gdSectors: number; gtSize: number; gtCount: number } {
  const sectors = Math.ceil(size / 512);
  const gtCount = Math.ceil(sectors / (128 * 512));
  const gtSize = (512 * 4) / 512;
  const gdSectors = Math.ceil((gtCount * 4) / 512);
  const rgd = 1 + 20;
  return { gd: rgd + gdSectors + gtSize * gtCount, gdSectors, gtSize, gtCount };
}

/**
 * The end of the last write request of a monolithicSparse or streamOptimized vmdk's create
 * (vmdk_init_extent): after blk_co_truncate to the grain offset it writes the redundant grain
 * directory, then the grain directory at gd_offset, gd_sectors long (the tables are left to the
 * truncate's zeroes). Its end is the file node's wr_highest_offset, short of the file's length.
 */
export function vmdkSparseCreateWriteEnd(size: number): number {
  const { gd, gdSectors } = vmdkSparseLayout(size);
  return (gd + gdSectors) * 512;
}

/**
 * parallels_open's refusals of a header parallels_co_create wrote for `size` bytes in clusters of
 * `cl`: its tracks (sectors per cluster) against INT32_MAX / 513 ("Too big cluster"), then its
 * bat_entries, DIV_ROUND_UP(size, cl), against INT_MAX / sizeof(uint32_t) (fuzz --qemu 10.0
 * 2026120454 case 1890725573: 2 TiB in 4 KiB clusters, 2^29 entries). The create takes both.
 */
export function parallelsOpenError(size: number, cl: number): string | undefined {
  const tracks = Math.floor(cl / 512) % 2 ** 32;
  if (tracks === 0) return 'Invalid image: Zero sectors per track';
  if (tracks > Math.floor(0x7fffffff / 513)) return 'Invalid image: Too big cluster';
  if (Math.ceil(size / cl) % 2 ** 32 > Math.floor(0x7fffffff / 4)) return 'Catalog too large';
  return undefined;
}

const VHD_MAX_GEOMETRY = 65535 * 16 * 255;

/** vpc.c calculate_geometry */
function calculateGeometry(totalSectors: number): { cyls: number; heads: number; secs: number } {
  const total = Math.min(totalSectors, VHD_MAX_GEOMETRY);
  let secs: number, heads: number, cth: number;
  if (total >= 65535 * 16 * 63) {
    secs = 255; heads = 16; cth = Math.floor(total / secs);
  } else {
    secs = 17;
    cth = Math.floor(total / secs);
    heads = Math.ceil(cth / 1024);
    if (heads < 4) heads = 4;
    if (cth >= heads * 1024 || heads > 16) { secs = 31; heads = 16; cth = Math.floor(total / secs); }
    if (cth >= heads * 1024) { secs = 63; heads = 16; cth = Math.floor(total / secs); }
  }
  return { cyls: Math.floor(cth / heads) & 0xffff, heads, secs };
}

/**
 * The virtual size `qemu-img create -f FMT FILE SIZE` gives: whole sectors; vpc_co_create (no
 * force-size) takes the smallest CHS geometry that covers the size, and vpc_open reports
 * cylinders * heads * sectors (1M: 31 * 4 * 17 sectors, 1079296 bytes).
 */
export function otherFormatVirtualSize(format: string, size: number): number {
  const sectors = Math.ceil(size / 512);
  if (format !== 'vpc') return sectors * 512;
  let g = { cyls: 0, heads: 0, secs: 0 };
  for (let i = 0; sectors > g.cyls * g.heads * g.secs && i < 1_000_000; i++) g = calculateGeometry(sectors + i);
  if (g.cyls * g.heads * g.secs === VHD_MAX_GEOMETRY) return sectors * 512;
  return g.cyls * g.heads * g.secs * 512;
}

/**
 * What `driver`'s open answers over the bytes of `img` (the image behind its file child, read
 * from offset 0; undefined: bytes that are no image the model knows). `filename`: the new node's
 * bs->filename, which bdrv_open_common names when a driver fails without an error of its own.
 */
export function otherFormatOpenError(driver: string, img: Image | undefined, filename: string): string | undefined {
  // vmdk_open over a sparse extent whose descriptor was never written: -EINVAL without a message
  if (img?.format === driver && img.brokenDescriptor) return `Could not open '${filename}': Invalid argument`;
  if (img?.format === driver && img.openError !== undefined) return img.openError;
  if (img?.format === driver) return undefined;
  const zeroes = img?.format === 'raw' && (img.size === 0 || rawFill(img, 0, Math.min(img.size, 4096)) === 0);
  // vpc_open: the "conectix" cookie is only a VHD's, at 0 (a dynamic image's footer copy) or in
  // the footer at the end of the file: any other format's header, or data of at least a footer's
  // size, has it in neither place (fuzz 2026120453 case 3107506098: a vpc node over a vmdk's bytes;
  // wt-vm15's fuzz --against vm finding, probed by wt-fz16 over qed, vdi, vmdk, vhdx, parallels, qcow)
  if (driver === 'vpc' && img && !zeroes && (img.format !== 'raw' || img.size >= 512)) return 'invalid VPC image';
  const qcow2 = img?.format === 'qcow2';
  if (zeroes || qcow2) {
    switch (driver) {
      case 'vdi': {
        if (zeroes) return 'Image not in VDI format (bad signature 00000000)';
        // over a qcow2 header (fuzz 3845790059): VdiHeader's disk_size (le64 at 0x170) lands in
        // the feature name table ("efcounts" of "lazy refcounts" for an image without a backing
        // format extension); the signature (le32 at 0x40) is the high half of the big-endian
        // snapshots_offset, 0 below 4 GiB
        const h = qcow2HeaderBytes(img!, 0x178);
        const diskSize = readLe(h, 0x170, 8);
        if (diskSize > VDI_DISK_SIZE_MAX) return `Unsupported VDI image size (size is 0x${diskSize.toString(16)}, max supported is 0x${VDI_DISK_SIZE_MAX.toString(16)})`;
        return 'Image not in VDI format (bad signature 00000000)';
      }
      // vpc_open: no "conectix" cookie at 0; a file shorter than the footer has none at the end
      // either, else none in the footer at the end
      case 'vpc': return zeroes && img!.size < 512 ? 'File too small for a VHD header' : 'invalid VPC image';
      // vhdx_parse_header: no "vhdxfile" signature, -EINVAL without an error of its own:
      // bdrv_open_common's "Could not open '%s': %s"
      case 'vhdx': return `Could not open '${filename}': Invalid argument`;
      case 'parallels': return 'Image not in Parallels format';
      // qcow_open: QCOW_MAGIC ("QFI\xfb") is qcow2's too; the version follows
      case 'qcow': return zeroes ? 'Image not in qcow format' : `qcow (v1) does not support qcow version ${img!.compat === '0.10' ? 2 : 3}`;
      // vmdk_open: no VMDK3/VMDK4 magic, and the bytes are no text descriptor either
      // (vmdk_read_desc refuses a file of less than 4 bytes first)
      case 'vmdk': return zeroes && img!.size < 4 ? 'File is too small, not a valid image' : 'invalid VMDK image descriptor';
    }
  }
  // qcow_open checks QCOW_MAGIC ("QFI\xfb", big-endian at 0) before anything else in the header;
  // every other format's header starts with its own magic or text ("QED\0", VDI's "<<< QEMU VM",
  // "conectix", "vhdxfile", "WithoutFreeSpace", "KDMV" or a vmdk descriptor's "# Disk"), and a
  // fixed vpc starts with its data: "Image not in qcow format" (fuzz --qemu 10.0 3610476175: a
  // qcow node over a vmdk a failed blockdev-create left)
  if (driver === 'qcow' && img && ['qed', 'vdi', 'vpc', 'vhdx', 'parallels', 'vmdk'].includes(img.format)) return 'Image not in qcow format';
  // vmdk_open over another format's header (fuzz --qemu 10.0 1742360405, a qed image; probed on 7.2 and
  // 10.0 for qed, vdi, vpc, vhdx, parallels, qcow): no VMDK3/VMDK4 magic, so vmdk_open_desc_file
  // parses the bytes vmdk_read_desc NUL-terminated as a text descriptor; every header has a NUL
  // before any "createType" (vmdk_parse_description finds none)
  if (driver === 'vmdk' && img && ['qed', 'vdi', 'vpc', 'vhdx', 'parallels', 'qcow'].includes(img.format)) return 'invalid VMDK image descriptor';
  // vdi_open over a vhdx: vhdx_create's file type identifier is "vhdxfile" and the creator ("QEMU v"
  // QEMU_VERSION as UTF-16, 24 bytes at offset 8 on 7.2.22 and 10.0.2) in a 64 KiB region otherwise
  // zero, so the VDI header's disk_size (0x170) passes its checks and its signature (0x40) reads 0
  if (driver === 'vdi' && img?.format === 'vhdx') return 'Image not in VDI format (bad signature 00000000)';
  // vhdx_open reads the file type identifier at 0 ("vhdxfile", -EINVAL without an error of its
  // own) and parallels_open the magic at 0 ("WithoutFreeSpace"/"WithouFreSpacExt"): no other
  // format's header starts so (each has its own magic there; a fixed vpc's data, a raw image's
  // one-byte patterns neither), so any image the model knows byte 0 of is refused alike
  if (img && img.format !== driver && !(img.format === 'raw' && img.bytesUnknown)) {
    if (driver === 'vhdx') return `Could not open '${filename}': Invalid argument`;
    if (driver === 'parallels') return 'Image not in Parallels format';
    // qcow_open: QCOW_MAGIC at 0, which only qcow and qcow2 headers have
    if (driver === 'qcow' && img.format !== 'qcow2') return 'Image not in qcow format';
    // vdi_open: the header's disk_size (le64 at 0x170) against VDI_DISK_SIZE_MAX, then the
    // signature (le32 at 0x40), where the creating driver's layout says what lies there
    if (driver === 'vdi') {
      const lo = headerWord(img, 0x170, true), hi = headerWord(img, 0x174, true), sig = headerWord(img, 0x40, true);
      if (lo === 0 && hi === 0 && sig !== undefined && sig !== 0xbeda107f) return `Image not in VDI format (bad signature ${sig.toString(16).padStart(8, '0')})`;
    }
  }
  throw new QmpError(`blockgraph does not model a ${driver} node over ${img ? `a ${img.format} image's bytes` : 'bytes that are no image it knows'}`);
}
