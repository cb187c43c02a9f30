// The other image formats qemu-storage-daemon opens over a `file` child (block/vdi.c, vpc.c,
// vhdx.c, parallels.c, qcow.c, vmdk.c; the same on 7.2 and 10.0.2): the images `qemu-img create`
// makes of them, and what each driver's open answers over bytes that are its image, a zeroed
// file, or a qcow2 header. Bytes the model does not keep (a qcow2 header's fields past its
// version, a raw file's data) are refused as not modelled rather than guessed.
import { QmpError } from '../errors/index.js';
import { rawFill } from './images.js';
import type { Image } from './types.js';

export const OTHER_FORMATS = ['vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk'] as const;

export function isOtherFormat(f: string): boolean {
  return (OTHER_FORMATS as readonly string[]).includes(f);
}

/** Formats of these whose create options have backing_file (qcow_create_opts, vmdk_create_opts, parallels has none in qemu-img). */
export function otherFormatHasBacking(f: string): boolean {
  return f === 'qcow';
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
  if (img?.format === driver) return undefined;
  const zeroes = img?.format === 'raw' && (img.size === 0 || rawFill(img, 0, Math.min(img.size, 4096)) === 0);
  const qcow2 = img?.format === 'qcow2';
  if (zeroes || qcow2) {
    switch (driver) {
      // vdi_open: the disk size check comes first, then the signature at 0x40; a qcow2 header's
      // bytes there are not kept, so only a zeroed file is answered
      case 'vdi': if (zeroes) return 'Image not in VDI format (bad signature 00000000)'; break;
      // vpc_open: no "conectix" cookie at 0 nor in the footer at the end
      case 'vpc': return 'invalid VPC image';
      // vhdx_parse_header: no "vhdxfile" signature, -EINVAL without an error of its own:
      // bdrv_open_common's "Could not open '%s': %s"
      case 'vhdx': return `Could not open '${filename}': Invalid argument`;
      case 'parallels': return 'Image not in Parallels format';
      // qcow_open: QCOW_MAGIC ("QFI\xfb") is qcow2's too; the version follows
      case 'qcow': return zeroes ? 'Image not in qcow format' : `qcow (v1) does not support qcow version ${img!.compat === '0.10' ? 2 : 3}`;
      // vmdk_open: no VMDK3/VMDK4 magic, and the bytes are no text descriptor either
      case 'vmdk': return 'invalid VMDK image descriptor';
    }
  }
  throw new QmpError(`blockgraph does not model a ${driver} node over ${img ? `a ${img.format} image's bytes` : 'bytes that are no image it knows'}`);
}
