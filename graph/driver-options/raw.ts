// block/raw-format.c (QEMU 7.2): raw_read_options + raw_apply_options, run by raw_open after
// the file child is open and by raw_reopen_prepare against the current file child.
import { QmpError } from '../../errors/index.js';

export interface RawLayout { offset: number; hasSize: boolean; size: number }

/** raw_read_options: offset defaults to 0; `size` counts only when given. */
function rawReadOptions(o: Record<string, unknown>, negative: NegativeSizeText): { offset: number; hasSize: boolean; size: number } {
  // qemu_opts_absorb_qdict: QEMU_OPT_SIZE options parse through parse_option_size, which
  // refuses a negative number (the QAPI schema lets any int through); offset is read first.
  // Its text is versioned (graph/rules.ts 'qemuopts-size-negative-text')
  for (const k of ['offset', 'size']) {
    if (o[k] !== undefined && Number(o[k]) < 0) {
      throw new QmpError(negative === 'out-of-range'
        ? `Value '${String(o[k])}' is out of range for parameter '${k}'`
        : `Parameter '${k}' expects a non-negative number below 2^64`);
    }
  }
  return { offset: Number(o.offset ?? 0), hasSize: o.size !== undefined, size: Number(o.size ?? 0) };
}

/**
 * raw_apply_options: the slice must lie inside the containing file (`realSize` =
 * bdrv_getlength(bs->file->bs), in whole sectors) and a given size must be a multiple of BDRV_SECTOR_SIZE.
 * QEMU's text has two spaces before "actual" (the string literal pieces meet so).
 */
export type NegativeSizeText = 'expects' | 'out-of-range';

export function rawApplyOptions(o: Record<string, unknown>, childLength: number, negative: NegativeSizeText = 'expects'): RawLayout {
  const { offset, hasSize, size } = rawReadOptions(o, negative);
  // bdrv_getlength: total_sectors * BDRV_SECTOR_SIZE (refresh_total_sectors rounds the length up)
  const realSize = Math.ceil(childLength / 512) * 512;
  if (offset > realSize) {
    throw new QmpError(`Offset (${offset}) cannot be greater than size of the containing file (${realSize})`);
  }
  if (hasSize && realSize - offset < size) {
    throw new QmpError(
      `The sum of offset (${offset}) and size (${size}) has to be smaller or equal to the  actual size of the containing file (${realSize})`,
    );
  }
  if (hasSize && size % 512 !== 0) throw new QmpError('Specified size is not multiple of 512');
  return { offset, hasSize, size: hasSize ? size : realSize - offset };
}

/** raw_open: with an offset or a size limit the file child is a data child, else a filtered one. */
export const rawIsSlice = (o: Record<string, unknown>, negative: NegativeSizeText = 'expects'): boolean => {
  const { offset, hasSize } = rawReadOptions(o, negative);
  return offset !== 0 || hasSize;
};

/**
 * raw_getlength: a raw node's length is not fixed at open. Its driver has a variable length, so
 * bdrv_getlength asks it each time, and it answers from its file child's current length
 * (bdrv_getlength(bs->file->bs), in whole sectors): nothing past the offset, a given size as far as
 * it still fits. A node whose file was swapped by blockdev-reopen thus has the new file's length
 * (raw_reopen_prepare checked the options against the old one).
 */
export function rawGetLength(layout: RawLayout, childLength: number): number {
  const len = Math.ceil(childLength / 512) * 512;
  if (len < layout.offset) return 0;
  return layout.hasSize ? Math.min(layout.size, len - layout.offset) : len - layout.offset;
}
