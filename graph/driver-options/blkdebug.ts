// block/blkdebug.c (QEMU 7.2) blkdebug_open: the config file is read before the image child
// is opened (read_config), the alignment overrides are checked after it.
import { QmpError } from '../../errors/index.js';
import type { NegativeSizeText } from './raw.js';

/**
 * Host files the model knows besides the image catalogue: device nodes every Linux host has,
 * which read_config opens (fopen "r") and reads as an empty config (iotests 245 uses /dev/null).
 */
export const HOST_DEVICE_FILES = new Set(['/dev/null']);

/** read_config: a config file that does not exist (fopen fails with ENOENT). */
export function blkdebugConfigCheck(o: Record<string, unknown>, exists: (file: string) => boolean): void {
  const cfg = o.config;
  if (cfg !== undefined && !HOST_DEVICE_FILES.has(String(cfg)) && !exists(String(cfg))) {
    throw new QmpError('Could not read blkdebug config file: No such file or directory');
  }
}

/** blkdebug's runtime_opts that are QEMU_OPT_SIZE (the alignment overrides). */
const SIZE_OPTS = ['align', 'max-transfer', 'opt-write-zero', 'max-write-zero', 'opt-discard', 'max-discard'];

/**
 * blkdebug_open's first step, qemu_opts_absorb_qdict(runtime_opts): each number reaches
 * QemuOpts as its string, and parse_option_size refuses a negative one, before the config file
 * is read and the image opened. `negative`: the version's text (graph/rules.ts
 * 'qemuopts-size-negative-text').
 */
export function blkdebugAbsorb(o: Record<string, unknown>, negative: NegativeSizeText): void {
  for (const k of SIZE_OPTS) {
    if (o[k] !== undefined && Number(o[k]) < 0) {
      throw new QmpError(negative === 'out-of-range'
        ? `Value '${String(o[k])}' is out of range for parameter '${k}'`
        : `Parameter '${k}' expects a non-negative number below 2^64`);
    }
  }
}

const INT_MAX = 2 ** 31 - 1;
const isPow2 = (n: number) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const aligned = (n: number, a: number) => n % a === 0;

/**
 * The alignment overrides of blkdebug_open, in its order: align (a power of two below
 * INT_MAX), then max-transfer, opt-write-zero, max-write-zero, opt-discard, max-discard, each
 * a multiple of MAX(align, the image child's request alignment) (the max-* ones of their opt-*).
 * Returns the node's own request alignment override (blkdebug_refresh_limits), 1 when none.
 */
export function blkdebugLimits(o: Record<string, unknown>, childAlign: number): number {
  const get = (k: string) => Number(o[k] ?? 0);
  const align = get('align');
  if (align && (align >= INT_MAX || !isPow2(align))) throw new QmpError(`Cannot meet constraints with align ${align}`);
  const a = Math.max(align, childAlign);
  const check = (k: string, base: number) => {
    const v = get(k);
    if (v && (v >= INT_MAX || !aligned(v, base))) throw new QmpError(`Cannot meet constraints with ${k} ${v}`);
    return v;
  };
  check('max-transfer', a);
  const owz = check('opt-write-zero', a);
  check('max-write-zero', Math.max(owz, a));
  const od = check('opt-discard', a);
  check('max-discard', Math.max(od, a));
  return align || 1;
}
