// throttle-group objects (block/throttle-groups.c, util/throttle.c, 7.2): the limits are a
// ThrottleConfig of six leaky buckets; object-add sets the properties (the `x-` ones one by one
// through throttle_group_set, `limits` in one go through throttle_group_set_limits ->
// throttle_limits_to_config, which validates at once) and throttle_group_obj_complete validates
// the whole config again (throttle_is_valid). Nothing here is stored beyond the object's props.
import { QmpError } from '../errors/index.js';

/** THROTTLE_VALUE_MAX */
const VALUE_MAX = 1000000000000000n;
const UINT_MAX = 4294967295n;
/** BucketType order: bps-total, bps-read, bps-write, iops-total, iops-read, iops-write */
const BUCKETS = ['bps-total', 'bps-read', 'bps-write', 'iops-total', 'iops-read', 'iops-write'] as const;

interface Bucket { avg: bigint; max: bigint; burst: bigint }
interface Config { b: Record<(typeof BUCKETS)[number], Bucket>; opSize: bigint }

/** throttle_config_init: all zero, burst length 1 */
function initConfig(): Config {
  const b = {} as Config['b'];
  for (const k of BUCKETS) b[k] = { avg: 0n, max: 0n, burst: 1n };
  return { b, opSize: 0n };
}

/** the fields are uint64_t in C: a negative int64 wraps */
const u64 = (v: unknown): bigint => BigInt.asUintN(64, BigInt(Math.trunc(Number(v))));

/** Which bucket field an option name (without prefix) sets: "iops-total-max-length" -> iops-total burst. */
function fieldOf(name: string): { bucket: (typeof BUCKETS)[number]; field: 'avg' | 'max' | 'burst' } | 'size' | null {
  if (name === 'iops-size') return 'size';
  for (const k of BUCKETS) {
    if (name === k) return { bucket: k, field: 'avg' };
    if (name === `${k}-max`) return { bucket: k, field: 'max' };
    if (name === `${k}-max-length`) return { bucket: k, field: 'burst' };
  }
  return null;
}

/** throttle_is_valid */
export function throttleIsValid(cfg: Config): string | null {
  const b = cfg.b;
  const bpsFlag = b['bps-total'].avg && (b['bps-read'].avg || b['bps-write'].avg);
  const opsFlag = b['iops-total'].avg && (b['iops-read'].avg || b['iops-write'].avg);
  const bpsMaxFlag = b['bps-total'].max && (b['bps-read'].max || b['bps-write'].max);
  const opsMaxFlag = b['iops-total'].max && (b['iops-read'].max || b['iops-write'].max);
  if (bpsFlag || opsFlag || bpsMaxFlag || opsMaxFlag) return 'bps/iops/max total values and read/write values cannot be used at the same time';
  if (cfg.opSize && !b['iops-total'].avg && !b['iops-read'].avg && !b['iops-write'].avg) return 'iops size requires an iops value to be set';
  for (const k of BUCKETS) {
    const x = b[k];
    if (x.avg > VALUE_MAX || x.max > VALUE_MAX) return `bps/iops/max values must be within [0, ${VALUE_MAX}]`;
    if (!x.burst) return 'the burst length cannot be 0';
    if (x.burst > 1n && !x.max) return 'burst length set without burst rate';
    if (x.max && x.burst > VALUE_MAX / x.max) return 'burst length too high for this burst rate';
    if (x.max && !x.avg) return 'bps_max/iops_max require corresponding bps/iops values';
    if (x.max && x.max < x.avg) return 'bps_max/iops_max cannot be lower than bps/iops';
  }
  return null;
}

/**
 * throttle_limits_to_config (util/throttle.c): the members given set their fields of `cfg` (the
 * lengths checked against UINT_MAX in bucket order), then throttle_is_valid.
 */
function limitsToConfig(cfg: Config, lim: Record<string, unknown>): void {
  const given = Object.entries(lim).map(([name, val]) => ({ name, val, f: fieldOf(name) }));
  for (const { val, f } of given) {
    if (f === null || f === 'size' || f.field === 'burst') continue;
    cfg.b[f.bucket][f.field] = u64(val);
  }
  for (const k of BUCKETS) {
    const g = given.find((x) => x.f !== null && x.f !== 'size' && x.f.bucket === k && x.f.field === 'burst');
    if (!g) continue;
    // ThrottleLimits' lengths are int64: `arg->..._max_length > UINT_MAX` compares signed, so a
    // negative length passes, and the uint64_t burst_length takes it modulo 2^64 (-1: UINT64_MAX,
    // which throttle_is_valid then refuses: no burst rate, or too high for the one set)
    if (BigInt.asIntN(64, u64(g.val)) > UINT_MAX) throw new QmpError(`${g.name} value must be in the range [0, ${UINT_MAX}]`);
    cfg.b[k].burst = u64(g.val);
  }
  const size = given.find((x) => x.f === 'size');
  if (size) cfg.opSize = u64(size.val);
  const err = throttleIsValid(cfg);
  if (err) throw new QmpError(err);
}

/** The properties object-add sets, in order, on `cfg`; throws the first error a setter reports. */
function applyProps(cfg: Config, props: Record<string, unknown>): void {
  for (const [key, v] of Object.entries(props)) {
    if (key === 'limits' && v && typeof v === 'object') {
      // throttle_group_set_limits -> throttle_limits_to_config
      limitsToConfig(cfg, v as Record<string, unknown>);
      continue;
    }
    if (!key.startsWith('x-')) continue;
    // throttle_group_set
    const f = fieldOf(key.slice(2));
    if (f === null) continue;
    const n = BigInt(Math.trunc(Number(v)));
    if (n < 0n) throw new QmpError('Property values cannot be negative');
    if (f === 'size') { cfg.opSize = n; continue; }
    if (f.field === 'burst') {
      // "must be in the" "range …": QEMU's string lacks the space
      if (n > UINT_MAX) throw new QmpError(`${key} value must be in therange [0, ${UINT_MAX}]`);
      cfg.b[f.bucket].burst = n;
    } else cfg.b[f.bucket][f.field] = n;
  }
}

/**
 * The property-setting half of object-add for a throttle-group (before the object is added to
 * the container): throws the first error a setter reports. Returns the validation to run at
 * completion (after the duplicate-id check), as throttle_group_obj_complete does.
 */
export function setThrottleGroupProps(props: Record<string, unknown>): () => void {
  const cfg = initConfig();
  applyProps(cfg, props);
  return () => {
    const err = throttleIsValid(cfg);
    if (err) throw new QmpError(err);
  };
}

/** The ThrottleLimits members throttle_limits_to_config knows (the `limits` property's struct). */
export const LIMIT_NAMES: readonly string[] = [...BUCKETS.flatMap((k) => [k, `${k}-max`, `${k}-max-length`]), 'iops-size'];

/** throttle_config_to_limits: every member of a config, as the `limits` property reads it. */
function configToLimits(cfg: Config): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of BUCKETS) {
    out[k] = Number(cfg.b[k].avg);
    out[`${k}-max`] = Number(cfg.b[k].max);
    out[`${k}-max-length`] = Number(cfg.b[k].burst);
  }
  out['iops-size'] = Number(cfg.opSize);
  return out;
}

/** A whole config given as configToLimits wrote it (no validation: it was valid when set). */
function configFromLimits(all: Record<string, number>): Config {
  const cfg = initConfig();
  for (const k of BUCKETS) cfg.b[k] = { avg: BigInt(all[k] ?? 0), max: BigInt(all[`${k}-max`] ?? 0), burst: BigInt(all[`${k}-max-length`] ?? 1) };
  cfg.opSize = BigInt(all['iops-size'] ?? 0);
  return cfg;
}

/**
 * A live group's config: what object-add set — or, once a BlockBackend joined the group, the whole
 * config block_set_io_throttle gave it (`base`: blk_set_io_limits -> throttle_group_config) —
 * then every `limits` a qom-set applied since (`sets`, in order; a failed one changed nothing:
 * throttle_group_set_limits configures only on success).
 */
function liveConfig(props: Record<string, unknown>, sets: Record<string, unknown>[], base?: Record<string, number>): Config {
  const cfg = base ? configFromLimits(base) : initConfig();
  if (!base) applyProps(cfg, props);
  for (const lim of sets) limitsToConfig(cfg, lim);
  return cfg;
}

/**
 * qom-set of `limits` on a live group (throttle_group_set_limits): throttle_get_config, the
 * members applied by throttle_limits_to_config, which validates; throws its error.
 */
export function checkLimitsSet(props: Record<string, unknown>, sets: Record<string, unknown>[], lim: Record<string, unknown>, base?: Record<string, number>): void {
  limitsToConfig(liveConfig(props, sets, base), lim);
}

/**
 * throttle_enabled (util/throttle.c): whether any bucket of the live config has an average
 * limit. A group without one never makes a request wait (throttle_compute_wait skips a bucket
 * whose avg is 0), so a throttle node over it passes I/O through at full speed.
 */
export function throttleEnabled(props: Record<string, unknown>, sets: Record<string, unknown>[], base?: Record<string, number>): boolean {
  const cfg = liveConfig(props, sets, base);
  return BUCKETS.some((k) => cfg.b[k].avg > 0n);
}

/**
 * Whether `bytes` of I/O (in requests of at least `opBytes`, a sector unless the caller knows
 * better) can be made to wait longer than `forSeconds` (0: at all) by a group whose
 * buckets are empty: throttle_compute_wait lets a request through while a bucket's level stays
 * within its size, bkt->max * bkt->burst_length, or bkt->avg / 10 without a burst rate ("allow
 * short bursts"). A 100 MB/s group never holds back a 1 MiB job (combo-c3-txn-snapshot-over-filter);
 * a 1 KiB/s one does (iotests 129).
 */
export function throttleHoldsBack(props: Record<string, unknown>, sets: Record<string, unknown>[], bytes: number, base?: Record<string, number>, opBytes = 512, forSeconds = 0): boolean {
  const cfg = liveConfig(props, sets, base);
  return BUCKETS.some((k) => {
    const b = cfg.b[k];
    if (b.avg <= 0n) return false;
    const size = b.max > 0n ? Number(b.max * b.burst) : Number(b.avg) / 10;
    // an iops bucket counts requests (throttle_account: one each, no iops-size): at most
    // bytes / opBytes of them, opBytes the smallest request the I/O comes in
    const units = k.startsWith('bps') ? bytes : Math.ceil(bytes / opBytes);
    // throttle_compute_wait: what the bucket holds above its size leaks at avg per second
    // (throttle_do_compute_wait), so the I/O is through after (units - size) / avg seconds
    return (units - size) / Number(b.avg) > forSeconds;
  });
}

/** throttle_group_get_limits (throttle_config_to_limits): every member of the live config. */
export function limitsOf(props: Record<string, unknown>, sets: Record<string, unknown>[], base?: Record<string, number>): Record<string, number> {
  return configToLimits(liveConfig(props, sets, base));
}

/** block_set_io_throttle's members per bucket (BlockIOThrottle), in BucketType order. */
const QMP_BUCKETS = ['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_rd', 'iops_wr'] as const;

/**
 * qmp_block_set_io_throttle's ThrottleConfig: throttle_config_init, then each bucket's avg, the
 * `_max` and `_max_length` members given, `iops_size`; throttle_is_valid throws its error. The
 * QAPI ints land in uint64_t fields (a negative one wraps: "must be within [0, …]").
 * `enabled` is throttle_enabled (some avg above 0); `limits` the whole config.
 */
export function blockIoThrottleConfig(args: Record<string, unknown>): { enabled: boolean; limits: Record<string, number> } {
  const cfg = initConfig();
  QMP_BUCKETS.forEach((q, i) => {
    const b = cfg.b[BUCKETS[i]!];
    b.avg = u64(args[q]);
    if (args[`${q}_max`] !== undefined) b.max = u64(args[`${q}_max`]);
    if (args[`${q}_max_length`] !== undefined) b.burst = u64(args[`${q}_max_length`]);
  });
  if (args.iops_size !== undefined) cfg.opSize = u64(args.iops_size);
  const err = throttleIsValid(cfg);
  if (err) throw new QmpError(err);
  return { enabled: BUCKETS.some((k) => cfg.b[k].avg > 0n), limits: configToLimits(cfg) };
}
