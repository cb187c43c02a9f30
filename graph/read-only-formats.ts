// The read-only image formats of qemu-storage-daemon (block/bochs.c, block/cloop.c, block/dmg.c,
// 7.2 and 10.0 alike) and vvfat's option checks (block/vvfat.c vvfat_open). None of them can be
// created (no .bdrv_co_create), so the model meets them only over bytes it knows: a file of zeroes
// (a raw image without data, or an empty one). Their header checks over anything else, and a
// successful open, are not modelled (the open is refused by blockgraph).
import { QmpError } from '../errors/index.js';
import type { Image } from './types.js';
import { headerWord } from './header-bytes.js';

export const READ_ONLY_FORMATS = ['bochs', 'cloop', 'dmg'] as const;

export function isReadOnlyFormat(driver: string): boolean {
  return (READ_ONLY_FORMATS as readonly string[]).includes(driver);
}

/**
 * bdrv_apply_auto_read_only(bs, NULL, errp), the first thing bochs_open, cloop_open and dmg_open
 * (and vvfat_open without `rw`) do: a writable node without auto-read-only is refused with the
 * default message; with auto-read-only it becomes read-only (not modelled further: every path
 * below ends in an error or a refusal).
 */
export function applyAutoReadOnly(ro: boolean, autoRo: boolean): void {
  if (!ro && !autoRo) throw new QmpError('Image is read-only');
}

/**
 * The header checks over a file of zeroes (`zeroes`: the bytes behind the file child read as
 * zeroes, a short file reading zeroes past its end, bdrv_aligned_preadv; `length`: the file
 * node's length). bochs_open: the magic ("Bochs Virtual HD Image") is missing; cloop_open: the
 * block size at offset 128 is 0; dmg_open -> dmg_find_koly_offset: a file shorter than 512 bytes,
 * else no "koly" trailer in its last 512-byte sectors.
 */
export function readOnlyFormatOpenError(driver: string, img: Image | undefined, zeroes: boolean, length: number): string {
  const refuse = () => new QmpError(`blockgraph does not model a ${driver} node over ${img ? `a ${img.format} image's bytes` : 'bytes that are no image it knows'}`);
  // over another format's image (or data) the model knows: none has bochs' magic strings at 0
  // or dmg's "koly" trailer; cloop's block size is whatever lies at offset 128
  const known = zeroes || (img !== undefined && !(img.format === 'raw' && img.bytesUnknown));
  if (!known) throw refuse();
  switch (driver) {
    case 'bochs': return 'Image not in Bochs format';
    case 'cloop': {
      const bs = zeroes ? 0 : headerWord(img!, 128, false);
      if (bs === undefined) throw refuse();
      // cloop_open's checks of the big-endian block_size, in order
      if (bs % 512 !== 0) return `block_size ${bs} must be a multiple of 512`;
      if (bs === 0) return 'block_size cannot be zero';
      if (bs > 64 * 1024 * 1024) return `block_size ${bs} must be 64 MB or less`;
      throw refuse();
    }
    // dmg_find_koly_offset: bdrv_getlength of the file first, then the search for the trailer
    default: return length < 512 ? 'dmg file must be at least 512 bytes long' : 'Could not locate UDIF trailer in dmg file';
  }
}

/**
 * vvfat_open up to its directory scan: the label's length, the FAT type, then `rw` (a read-only
 * node cannot take it) or bdrv_apply_auto_read_only. What follows (init_directories reading the
 * host directory) is not modelled: the open is refused by blockgraph.
 */
export function vvfatOpenChecks(eff: Record<string, unknown>, ro: boolean, autoRo: boolean): never {
  const label = eff.label !== undefined ? String(eff.label) : undefined;
  if (label !== undefined && Buffer.byteLength(label) > 11) throw new QmpError('vvfat label cannot be longer than 11 bytes');
  const floppy = eff.floppy === true || eff.floppy === 'on' || eff.floppy === 'true';
  const fat = eff['fat-type'] !== undefined ? Number(eff['fat-type']) : 0;
  const type = fat === 0 ? (floppy ? 12 : 16) : fat;
  if (![12, 16, 32].includes(type)) throw new QmpError('Valid FAT types are only 12, 16 and 32');
  const rw = eff.rw === true || eff.rw === 'on' || eff.rw === 'true';
  if (rw && ro) throw new QmpError("Unable to set VVFAT to 'rw' when drive is read-only");
  if (!rw) applyAutoReadOnly(ro, autoRo);
  throw new QmpError("blockgraph does not model vvfat's directory (init_directories)");
}
