// block/preallocate.c (QEMU 7.2): preallocate_absorb_opts, run by preallocate_open after the
// file child is open and by preallocate_reopen_prepare against the current file child.
import { QmpError } from '../../errors/index.js';
import type { NegativeSizeText } from './raw.js';

/**
 * preallocate_absorb_opts: prealloc-align (default 1 MiB) and prealloc-size (default 128 MiB)
 * are QEMU_OPT_SIZE (qemu_opts_absorb_qdict -> parse_option_size refuses a negative number,
 * its text versioned: graph/rules.ts 'qemuopts-size-negative-text'); the alignment must be a
 * multiple of BDRV_SECTOR_SIZE, then of the file child's request alignment.
 */
export function preallocateAbsorbOpts(o: Record<string, unknown>, childAlign: number, negative: NegativeSizeText): void {
  // runtime_opts lists prealloc-align, then prealloc-size
  for (const k of ['prealloc-align', 'prealloc-size']) {
    if (o[k] !== undefined && Number(o[k]) < 0) {
      throw new QmpError(negative === 'out-of-range'
        ? `Value '${String(o[k])}' is out of range for parameter '${k}'`
        : `Parameter '${k}' expects a non-negative number below 2^64`);
    }
  }
  const align = o['prealloc-align'] !== undefined ? Number(o['prealloc-align']) : 1024 * 1024;
  if (align % 512 !== 0) throw new QmpError('prealloc-align parameter of preallocate filter is not aligned to 512');
  if (align % childAlign !== 0) {
    throw new QmpError(`prealloc-align parameter of preallocate filter is not aligned to underlying node request alignment (${childAlign})`);
  }
}
