// query-block, query-blockstats and query-block-jobs as qemu-storage-daemon 7.2 answers them
// (block/qapi.c, blockjob.c). Members are built in QAPI schema order, the order QEMU's output
// visitor fills its QDict, which fixes the wire order of colliding keys.
import type { CommandDef } from './types.js';
import { heldDrainPaused } from '../graph/jobs/held-drain.js';
import { isVm } from '../graph/devices/ops.js';
import { queryBlockVm } from './vm/queries.js';

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
function idleStats(): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const k of COUNTERS) s[k] = 0;
  for (const k of FAILURES) s[k] = 0;
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
    if (!args['query-nodes']) return [];
    const stats = (name: string, depth: number): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      out['node-name'] = name;
      out.stats = idleStats();
      const file = p.fileChild(name);
      if (file && depth < 64) out.parent = stats(file.child, depth + 1);
      return out;
    };
    return p.nodes().map((n) => stats(n.name, 0));
  },
};

/** block_job_query(): every job the model has is a block job. */
export const queryBlockJobs: CommandDef = {
  name: 'query-block-jobs',
  mutates: false,
  run({ p }) {
    return p.jobs().filter((j) => j.status !== 'null' && j.type !== 'create').map((j) => {
      const ready = j.status === 'ready' || j.status === 'standby' || Boolean(j.data.ready);
      const info: Record<string, unknown> = {
        type: j.type, device: j.id, len: 0, offset: 0, busy: false,
        // `job->pause_count > 0` (block_job_query_locked): a held or leaked drained section's pause counts too
        paused: j.paused > 0 || heldDrainPaused(p, j.id), speed: j.speed,
        'io-status': 'ok', ready, status: j.status, 'auto-finalize': j.autoFinalize, 'auto-dismiss': j.autoDismiss,
      };
      if (j.error) info.error = j.error;
      return info;
    });
  },
};
