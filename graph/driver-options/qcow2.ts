// block/qcow2.c (QEMU 7.2) qcow2_update_options_prepare, run by qcow2_open (qcow2_do_open →
// qcow2_update_options) and by qcow2_reopen_prepare: the cache-size family (read_cache_sizes),
// the cache entry counts, cache-clean-interval and the encryption format.
import { QmpError } from '../../errors/index.js';
import type { NegativeSizeText } from './raw.js';

const MIN_REFCOUNT_CACHE_SIZE = 4; // clusters
const DEFAULT_L2_CACHE_MAX_SIZE = 32 * 1024 * 1024; // Linux
const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;
const isPow2 = (n: number) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** `compat`: the image's header version as graph/images.ts keeps it ("0.10": qcow_version 2; absent: 3) */
export interface Qcow2Geometry { clusterSize: number; virtualSize: number; compat?: string; /** the header's crypt_method, 'luks' (absent: none) */ encrypted?: 'luks' }

/** qcow2_runtime_opts' QEMU_OPT_SIZE members (the cache sizes). */
const SIZE_OPTS = ['cache-size', 'l2-cache-size', 'l2-cache-entry-size', 'refcount-cache-size'];

/**
 * Flattened options as the QemuOpts see them; only given keys count as "set". `negative`: the
 * version's text for a negative QEMU_OPT_SIZE (graph/rules.ts 'qemuopts-size-negative-text').
 */
export function qcow2UpdateOptions(o: Record<string, unknown>, g: Qcow2Geometry, negative: NegativeSizeText = 'expects'): void {
  const cs = g.clusterSize;
  const has = (k: string) => o[k] !== undefined;
  const num = (k: string, d: number) => (has(k) ? Number(o[k]) : d);

  // qemu_opts_absorb_qdict(qcow2_runtime_opts) comes first: each number reaches QemuOpts as its
  // string (qemu_opts_from_qdict_entry: qnum_to_string), so a QEMU_OPT_SIZE refuses a negative
  // one (parse_option_size) while the QEMU_OPT_NUMBER cache-clean-interval takes it through
  // parse_option_number -> qemu_strtou64, which wraps it like strtoull (-1 -> 2^64-1)
  for (const k of SIZE_OPTS) {
    if (has(k) && Number(o[k]) < 0) {
      throw new QmpError(negative === 'out-of-range'
        ? `Value '${String(o[k])}' is out of range for parameter '${k}'`
        : `Parameter '${k}' expects a non-negative number below 2^64`);
    }
  }
  const u64 = (v: number) => (v < 0 ? 2 ** 64 + v : v);

  // read_cache_sizes
  const maxL2Entries = Math.ceil(g.virtualSize / cs);
  const maxL2Cache = Math.ceil((maxL2Entries * 8) / cs) * cs;
  const minRefcountCache = MIN_REFCOUNT_CACHE_SIZE * cs;
  const combined = num('cache-size', 0);
  const l2Setting = num('l2-cache-size', DEFAULT_L2_CACHE_MAX_SIZE);
  let refcount = num('refcount-cache-size', 0);
  let l2 = Math.min(maxL2Cache, l2Setting);
  let entry = num('l2-cache-entry-size', cs);
  if (has('cache-size')) {
    if (has('l2-cache-size') && has('refcount-cache-size')) {
      throw new QmpError('cache-size, l2-cache-size and refcount-cache-size may not be set at the same time');
    } else if (has('l2-cache-size') && l2Setting > combined) {
      throw new QmpError('l2-cache-size may not exceed cache-size');
    } else if (refcount > combined) {
      throw new QmpError('refcount-cache-size may not exceed cache-size');
    }
    if (has('l2-cache-size')) refcount = combined - l2;
    else if (has('refcount-cache-size')) l2 = combined - refcount;
    else if (combined >= maxL2Cache + minRefcountCache) {
      l2 = maxL2Cache;
      refcount = combined - l2;
    } else {
      refcount = Math.min(combined, minRefcountCache);
      l2 = combined - refcount;
    }
  }
  if (l2 < maxL2Cache && !has('l2-cache-entry-size')) entry = Math.min(cs, 4096);
  if (entry < 512 || entry > cs || !isPow2(entry)) {
    throw new QmpError(`L2 cache entry size must be a power of two between 512 and the cluster size (${cs})`);
  }

  // qcow2_update_options_prepare: entry counts
  if (Math.floor(l2 / entry) > INT_MAX) throw new QmpError('L2 cache size too big');
  if (Math.floor(refcount / cs) > INT_MAX) throw new QmpError('Refcount cache size too big');
  if (u64(num('cache-clean-interval', 600)) > UINT_MAX) throw new QmpError('Cache clean interval too big');

  // lazy-refcounts defaults to the header's QCOW2_COMPAT_LAZY_REFCOUNTS bit, which only a v3
  // header can carry, so only an explicit true reaches the check on a compat=0.10 image
  const lazy = o['lazy-refcounts'];
  if ((lazy === true || lazy === 'on') && g.compat === '0.10') {
    throw new QmpError('Lazy refcounts require a qcow2 image with at least qemu 1.1 compatibility level');
  }

  // 10.0 (since 8.1): discard-no-unref keeps discarded clusters allocated, which needs the
  // QCOW_OFLAG_ZERO flag of a v3 image (no 7.2 process gets here: its schema has no such member)
  const noUnref = o['discard-no-unref'];
  if ((noUnref === true || noUnref === 'on') && g.compat === '0.10') {
    throw new QmpError('discard-no-unref is only supported since qcow2 version 3');
  }

  // the encryption format against the header's crypt_method (QCOW_CRYPT_NONE or QCOW_CRYPT_LUKS;
  // the model's images never have QCOW_CRYPT_AES)
  const fmt = o['encrypt.format'];
  if (!g.encrypted) {
    if (fmt !== undefined) throw new QmpError(`No encryption in image header, but options specified format '${String(fmt)}'`);
  } else if (fmt !== undefined && fmt !== g.encrypted) {
    throw new QmpError(`Header reported '${g.encrypted}' encryption format but options specify '${String(fmt)}'`);
  }
}
