// query-block, query-blockstats and query-block-jobs as qemu-storage-daemon 7.2 answers them
// (block/qapi.c, blockjob.c). Members are built in QAPI schema order, the order QEMU's output
// visitor fills its QDict, which fixes the wire order of colliding keys.
import type { CommandDef } from './types.js';
import { jobErrorText, jobProgress } from '../graph/jobs/progress.js';
import { rule } from '../graph/rules.js';
import { isBlockJob } from '../graph/types.js';
import { heldDrainPaused, heldStatus, mirrorExitDrained } from '../graph/jobs/held-drain.js';
import { bbRoot, devices, isVm } from '../graph/devices/ops.js';
import { filterOrCowBs, skipImplicitFilters } from '../graph/jobs/chain.js';
import { ROLE_DATA, ROLE_FILTERED, ROLE_PRIMARY } from '../graph/perm.js';
import type { Proc } from '../graph/proc.js';
import { wrHighestOffset } from '../graph/wr-highest.js';
import { queryBlockVm } from './vm/queries.js';
import { blkAccounting } from './vm/blk-stats.js';
import { attachedDevId } from './vm/block-info.js';
import { FILE_POSIX } from '../graph/drivers.js';

/** qmp_query_block() lists BlockBackends with a name or a device; QSD's (exports', jobs') have neither. */
export const queryBlock: CommandDef = {
  name: 'query-block',
  mutates: false,
  // a VM's guest devices have theirs attached (vm target)
  run: (ctx) => (isVm(ctx.p) ? queryBlockVm(ctx) : []),
};

const COUNTERS = [
  'rd_bytes', 'wr_bytes', 'unmap_bytes', 'rd_operations', 'wr_operations', 'flush_operations', 'unmap_operations',
  'rd_total_time_ns', 'wr_total_time_ns', 'flush_total_time_ns', 'unmap_total_time_ns', 'wr_highest_offset',
  'rd_merged', 'wr_merged', 'unmap_merged',
] as const;
const FAILURES = [
  'failed_rd_operations', 'failed_wr_operations', 'failed_flush_operations', 'failed_unmap_operations',
  'invalid_rd_operations', 'invalid_wr_operations', 'invalid_flush_operations', 'invalid_unmap_operations',
] as const;

/** BlockDeviceStats of a node no I/O went through: the model moves no data (idle_time_ns is absent until the first request). */
function idleStats(p: Proc): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const k of COUNTERS) s[k] = 0;
  for (const k of FAILURES) s[k] = 0;
  // 10.0's BlockDeviceStats has the zone append counters (since 8.1; bdrv_query_blk_stats'
  // BLOCK_ACCT_ZONE_APPEND)
  if (rule(p, 'qapi-schema') === '10.0') {
    for (const k of ['zone_append_bytes', 'zone_append_operations', 'zone_append_total_time_ns', 'zone_append_merged', 'failed_zone_append_operations', 'invalid_zone_append_operations']) s[k] = 0;
  }
  s.account_invalid = false;
  s.account_failed = false;
  s.timed_stats = [];
  return s;
}

/**
 * qmp_query_blockstats(): without query-nodes, one entry per named BlockBackend (none in QSD);
 * with it, one per node (auto-named ones too), in bdrv_next_node() order (oldest first), the protocol child
 * under "parent" (bdrv_query_bds_stats() with blk_level false: bs->file only, no backing).
 */
export const queryBlockstats: CommandDef = {
  name: 'query-blockstats',
  mutates: false,
  run({ p, args }) {
    if (!args['query-nodes']) return isVm(p) ? deviceBlockstats(p) : [];
    // bdrv_query_bds_stats(bs, false) of every node: the exact node, its data child as parent, no backing
    return p.nodes().map((n) => bdsStats(p, n.name, 0, false));
  },
};

/** file-posix's raw_get_specific_stats (file and host_device): BlockStatsSpecificFile, the discards counted (graph/discard-stats.ts). */

/**
 * bdrv_query_bds_stats(bs, blk_level true): the node past implicit filters (bdrv_skip_implicit_filters),
 * its node-name, node-level stats (all zero: no I/O in the model, account flags off), the driver's
 * specific stats, `parent` = the primary child when it holds data or is filtered, else the only
 * data child, and `backing` = bdrv_filter_or_cow_bs.
 */
function bdsStats(p: Proc, node: string | null, depth = 0, blkLevel = true): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (!node || depth > 64) return { stats: idleStats(p) };
  // implicit filters are skipped only in a BlockBackend-level query
  const bs = blkLevel ? skipImplicitFilters(p, node) : node;
  s['node-name'] = bs;
  // bdrv_query_bds_stats: stat64_get(&bs->wr_highest_offset) at either level (graph/wr-highest.ts)
  s.stats = { ...idleStats(p), wr_highest_offset: wrHighestOffset(p, bs) };
  const drv = p.node(bs)?.driver;
  // raw_get_specific_stats: the discards raw_co_pdiscard counted (graph/discard-stats.ts)
  const dc = p.node(bs)?.discards;
  if (drv && FILE_POSIX.has(drv)) s['driver-specific'] = { driver: drv, 'discard-nb-ok': dc?.nb ?? 0, 'discard-nb-failed': 0, 'discard-bytes-ok': dc?.bytes ?? 0 };
  const kids = p.childrenOf(bs);
  let parent = kids.find((e) => e.role & ROLE_PRIMARY);
  if (!parent || !(parent.role & (ROLE_DATA | ROLE_FILTERED))) {
    const data = kids.filter((e) => e.role & ROLE_DATA);
    parent = data.length === 1 ? data[0] : undefined;
  }
  if (parent) s.parent = bdsStats(p, parent.child, depth + 1, blkLevel);
  const next = blkLevel ? filterOrCowBs(p, bs) : null;
  if (next) s.backing = bdsStats(p, next, depth + 1, blkLevel);
  return s;
}

/**
 * qmp_query_blockstats without query-nodes on a VM: every BlockBackend with a name or a device
 * (blk_all_next, as query-block), `device` its name (""), `qdev` blk_get_attached_dev_id, its
 * root's bdrv_query_bds_stats, and bdrv_query_blk_stats: the BlockBackend's own accounting
 * (commands/vm/blk-stats.ts: account flags, timed intervals, latency histograms).
 * libvirt's domblkinfo / domblkstat look the disk up by qdev.
 */
function deviceBlockstats(p: Proc): unknown[] {
  const byBb = new Map(devices(p).filter((d) => d.bb).map((d) => [d.bb!, d]));
  const out: unknown[] = [];
  for (const bb of p.bbs()) {
    const d = byBb.get(bb.id);
    // a legacy drive is listed by its name (blk_name), with or without a device
    const qdev = attachedDevId(bb, d);
    if (qdev === undefined && !bb.name) continue;
    const { 'node-name': nodeName, stats, ...rest } = bdsStats(p, bbRoot(p, bb.id));
    out.push({
      device: bb.name ?? '', ...(qdev !== undefined ? { qdev } : {}), ...(nodeName !== undefined ? { 'node-name': nodeName } : {}),
      stats: { ...(stats as Record<string, unknown>), ...blkAccounting(p, bb, d) }, ...rest,
    });
  }
  return out;
}

/** block_job_query(): every job the model has is a block job. */
export const queryBlockJobs: CommandDef = {
  name: 'query-block-jobs',
  mutates: false,
  run({ p }) {
    // block_job_next_locked from NULL walks the jobs list from its head, and job_create puts each
    // new job there (QLIST_INSERT_HEAD): newest first
    return p.jobs().reverse().filter((j) => j.status !== 'null' && isBlockJob(j)).map((j) => {
      const ready = j.status === 'ready' || j.status === 'standby' || Boolean(j.data.ready);
      const pr = jobProgress(p, j);
      const info: Record<string, unknown> = {
        type: j.type, device: j.id, len: pr.total, offset: pr.current, busy: false,
        // `job->pause_count > 0` (block_job_query_locked): a held or leaked drained section's pause counts too
        // (and the drained section a finished mirror_run holds until prepare: mirrorExitDrained)
        paused: j.paused > 0 || heldDrainPaused(p, j.id) || mirrorExitDrained(j), speed: j.speed,
        'io-status': 'ok', ready, status: heldStatus(p, j) ?? j.status, 'auto-finalize': j.autoFinalize, 'auto-dismiss': j.autoDismiss,
      };
      const error = jobErrorText(j);
      if (error !== undefined) info.error = error;
      // 10.0's BlockJobInfoMirror (since 8.2): actively-synced, set once a write-blocking mirror
      // is READY (mirror_run) — a mirror job's only (an active commit is type commit)
      if (j.type === 'mirror' && rule(p, 'qapi-schema') === '10.0') info['actively-synced'] = (j.data as { writeBlocking?: boolean }).writeBlocking === true && ready;
      return info;
    });
  },
};
