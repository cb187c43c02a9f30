// Query replies (`"replies": true`, oracle/transcripts/README.md "Query replies"): which steps keep
// their `return`, how it is normalised, and how two replies are compared. A query's reply is a
// view of the block graph, so the comparison scores a mismatch as the step's graph.
import type { Json, JsonObject } from './format.js';
import { normalizeJson } from './normalize.js';

/**
 * The read-only queries of the block graph whose reply a `replies` scenario records: the ones
 * libvirt and QEMU's iotests read field by field. Other queries (query-version, query-commands,
 * query-qmp-schema, qom-list, ...) keep only their outcome: they describe the program, not the graph.
 */
export const RECORDED_QUERIES: ReadonlySet<string> = new Set([
  'query-named-block-nodes', 'query-block', 'query-blockstats', 'query-block-jobs', 'query-jobs',
  'query-block-exports', 'x-debug-query-block-graph', 'query-iothreads',
]);

export const recordsReply = (execute: string): boolean => RECORDED_QUERIES.has(execute);

const isObj = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Job statuses at which a job's progress no longer moves and is the same on every run. */
export const SETTLED_PROGRESS = new Set(['ready', 'waiting', 'pending', 'concluded', 'null']);

/**
 * Fields QEMU fills from something other than the scenario, each removed by name where it occurs
 * (never the whole reply):
 * - `actual-size` (ImageInfo, at any depth: backing-image, vmdk extents): the host file system's
 *   allocation (bdrv_get_allocated_file_size: st_blocks), not the image's.
 * - LUKS header (QCryptoBlockInfoLUKS, `format-specific` of luks, qcow2's `encrypt`): `uuid`
 *   (random at create), `master-key-iters` and `slots[].iters` (qemu-img's PBKDF benchmark).
 * - vmdk (ImageInfoSpecificVmdk): `cid` and `parent-cid` (vmdk_co_do_create: g_random_int).
 * - SnapshotInfo (image.snapshots): `date-sec` and `date-nsec` (qmp_blockdev_snapshot_internal_sync:
 *   g_get_real_time, the wall clock), `vm-clock-sec` and `vm-clock-nsec` (QEMU_CLOCK_VIRTUAL:
 *   on qemu-storage-daemon, without a guest, the host's clock; seen as 2026's epoch seconds).
 * - query-blockstats' BlockDeviceStats: `idle_time_ns` and `*_total_time_ns` (clock readings).
 * - query-iothreads: `thread-id` (the host's thread id).
 * - query-jobs `current-progress` / `total-progress` and query-block-jobs `offset` / `len` /
 *   `busy` of a job still copying (or cancelled while copying: it has an `error`): how far its
 *   coroutine got before the query. A ready, waiting, pending or concluded job without an error
 *   keeps them: its copy is done.
 */
function stripUnstable(v: Json, execute: string): Json {
  if (Array.isArray(v)) return v.map((x) => stripUnstable(x, execute));
  if (!isObj(v)) return v;
  const out: JsonObject = {};
  const jobStill = (execute === 'query-jobs' || execute === 'query-block-jobs') && typeof v.status === 'string'
    && (!SETTLED_PROGRESS.has(v.status) || v.error !== undefined);
  for (const [k, x] of Object.entries(v)) {
    if (k === 'actual-size') continue;
    if (k === 'uuid' || k === 'master-key-iters' || k === 'iters') continue;
    if (k === 'date-sec' || k === 'date-nsec' || k === 'vm-clock-sec' || k === 'vm-clock-nsec') continue;
    if ((k === 'cid' || k === 'parent-cid') && execute !== 'x-debug-query-block-graph') continue;
    if (execute === 'query-blockstats' && (k === 'idle_time_ns' || /_total_time_ns$/.test(k))) continue;
    if (execute === 'query-iothreads' && k === 'thread-id') continue;
    if (jobStill && execute === 'query-jobs' && (k === 'current-progress' || k === 'total-progress')) continue;
    if (jobStill && execute === 'query-block-jobs' && (k === 'offset' || k === 'len' || k === 'busy')) continue;
    out[k] = stripUnstable(x, execute);
  }
  return out;
}

/** A recorded query's reply as a transcript keeps it: names and dir as the graph's, unstable fields gone. */
export function normalizeReply(execute: string, reply: unknown, rename: ReadonlyMap<string, string>, dir?: string): Json {
  return stripUnstable(normalizeJson((reply ?? null) as Json, rename, dir), execute);
}

/** The paths where two replies differ (`[2].image.format-specific.data.compat: expected "1.1", got absent`), at most `limit`. */
export function diffReplies(expected: Json | undefined, actual: Json | undefined, limit = 12): string[] {
  const out: string[] = [];
  const show = (v: Json | undefined) => (v === undefined ? 'absent' : JSON.stringify(v));
  const walk = (a: Json | undefined, b: Json | undefined, path: string): void => {
    if (out.length >= limit) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) out.push(`${path || '.'}: expected ${a.length} entries, got ${b.length}`);
      for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`);
      return;
    }
    if (isObj(a) && isObj(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], `${path}.${k}`);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path || '.'}: expected ${show(a)}, got ${show(b)}`);
  };
  walk(expected, actual, '');
  return out;
}
