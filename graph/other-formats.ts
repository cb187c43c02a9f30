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
