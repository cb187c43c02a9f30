// What a few bytes of a freshly created image's file hold, where the model knows them from the
// creating driver's layout (7.2 and 10.0 alike): what another driver's open reads there when it
// is pointed at the wrong image (vdi_open's signature, cloop_open's block size). undefined: not
// known (data written since, a name reaching there, a layout the model does not follow).
import type { Image } from './types.js';
import { rawFill } from './images.js';

/** vmdk_init_extent's grain_offset (in sectors) for a sparse extent of `bytes` capacity. */
export function vmdkGrainOffset(bytes: number): number {
  const sectors = Math.floor(bytes / 512);
  const granularity = 128, gtes = 512, gtSize = Math.ceil((gtes * 4) / 512);
  const grains = Math.ceil(sectors / granularity);
  const gtCount = Math.ceil(grains / gtes);
  const gdSectors = Math.ceil((gtCount * 4) / 512);
  const rgd = 1 + 20;
  const gd = rgd + gdSectors + gtSize * gtCount;
  return Math.ceil((gd + gdSectors + gtSize * gtCount) / granularity) * granularity;
}

/** The end of a fresh header's non-zero bytes, past which the first cluster or sector reads zeroes. */
function zeroFrom(img: Image): { from: number; to: number } | undefined {
  const name = img.backing?.length ?? 0;
  switch (img.format) {
    // vdi_co_do_create: the text (0x40), then signature..image_flags; the 256-byte description
    // (0x54..0x154) is zero; the fields after it (offsets, sizes, UUIDs) are not
    case 'vdi': return { from: 0x54, to: 0x154 };
    // qed_co_create: the 64-byte QEDHeader, then the backing file name; the L1 table at cluster 1
    case 'qed': return { from: 64 + name, to: img.clusterSize ?? 65536 };
    // qcow_co_create: the 48-byte header, the backing file name, the L1 table (fresh: zeroes)
    case 'qcow': return { from: 48 + name, to: 512 };
    // parallels_co_create: the 64-byte header, the BAT (fresh: zeroes) up to the first cluster
    case 'parallels': return { from: 64, to: 4096 };
    // vhdx_create: "vhdxfile" and the creator (UTF-16, 24 bytes at 8) in a 64 KiB region otherwise zero
    case 'vhdx': return { from: 32, to: 65536 };
    // vmdk_init_extent: "KDMV" and VMDK4Header's fields up to compressAlgorithm (file offset 79), padding to 512
    case 'vmdk': return img.extents ? undefined : { from: 80, to: 512 };
    default: return undefined;
  }
}

/** The 4 bytes at `offset` as a number (`le`: little-endian), where the model knows them. */
export function headerWord(img: Image, offset: number, le: boolean): number | undefined {
  if (img.format === 'raw') {
    if (img.size === 0) return 0;
    const v = rawFill(img, offset, offset + 4);
    return v === undefined ? undefined : (v * 0x01010101) >>> 0;
  }
  // vmdk's VMDK4Header.grain_offset (le64 at file offset 64): vdi_open's signature reads its low half
  if (img.format === 'vmdk' && !img.extents && offset === 64 && le) return vmdkGrainOffset(img.size);
  // qcow2_update_header of a v3 image with no backing format, encryption or data file: the
  // 112-byte header, then the feature name table first (magic, length, then 48-byte entries:
  // type, bit, name): "dirty bit" is the first name, from offset 122
  if (img.format === 'qcow2' && offset === 128 && !le && img.compat !== '0.10' && !img.backingFormat && !img.luks && !img.dataFile) return 0x62697400; // "bit\0"
  const z = zeroFrom(img);
  if (z && offset >= z.from && offset + 4 <= z.to) return 0;
  return undefined;
}
