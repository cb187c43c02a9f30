// HMP's block `info` printers (block/monitor/block-hmp-cmds.c, 7.2 and 10.0 alike): what
// `info block`, `info blockstats`, `info block-jobs` and `info snapshots` print through
// human-monitor-command. Each is the printer over the QMP query it calls (qmp_query_block,
// qmp_query_named_block_nodes, qmp_query_blockstats, qmp_query_block_jobs), fed from the model's
// state the way bdrv_block_device_info fills a BlockDeviceInfo. Lines end in "\n"; the monitor
// turns them into "\r\n" (monitor_puts).
import { QmpError } from '../../errors/index.js';
import { blockDeviceInfo, queryBlockInfos, type BlockInfo, type Inserted } from './block-info.js';
import { bdrvNextOrder } from '../../graph/inactive.js';
import { canSnapshot } from '../../graph/internal-snapshot.js';
import type { Proc } from '../../graph/proc.js';
import { jobProgress } from '../../graph/jobs/progress.js';
import type { CommandCtx } from '../types.js';
import { COMMANDS } from '../registry.js';
import { findVmstateBs } from './snapshot-jobs.js';

/** print_block_info */
function printBlockInfo(info: BlockInfo | undefined, ins: Inserted | undefined): string {
  let s = '';
  if (info && info.device !== '') {
    s += info.device + (ins ? ` (${ins.nodeName})` : '');
  } else {
    s += ins ? ins.nodeName : info?.qdev ?? '<anonymous>';
  }
  // 10.0's print_block_info adds ", inactive" from BlockDeviceInfo.active (a 10.0 member: rule qapi-schema)
  const inactive = ins?.qmp.active === false ? ', inactive' : '';
  s += ins ? `: ${ins.file} (${ins.drv}${ins.ro ? ', read-only' : ''}${ins.encrypted ? ', encrypted' : ''}${inactive})\n` : ': [not inserted]\n';
  if (info) {
    if (info.qdev !== undefined) s += `    Attached to:      ${info.qdev}\n`;
    // io-status is always ok here: no guest I/O ever failed
    if (info.removable) s += `    Removable device: ${info.locked ? '' : 'not '}locked, tray ${info.trayOpen ? 'open' : 'closed'}\n`;
  }
  if (!ins) return s;
  s += `    Cache mode:       ${ins.writeback ? 'writeback' : 'writethrough'}${ins.direct ? ', direct' : ''}${ins.noFlush ? ', ignore flushes' : ''}\n`;
  if (ins.backingFile !== undefined) s += `    Backing file:     ${ins.backingFile} (chain depth: ${ins.backingDepth})\n`;
  if (ins.detectZeroes !== 'off') s += `    Detect zeroes:    ${ins.detectZeroes}\n`;
  const l = ins.throttle?.limits;
  if (l && (l['bps-total'] || l['bps-read'] || l['bps-write'] || l['iops-total'] || l['iops-read'] || l['iops-write'])) {
    const v = (k: string) => l[k] ?? 0;
    s += `    I/O throttling:   bps=${v('bps-total')} bps_rd=${v('bps-read')} bps_wr=${v('bps-write')}` +
      ` bps_max=${v('bps-total-max')} bps_rd_max=${v('bps-read-max')} bps_wr_max=${v('bps-write-max')}` +
      ` iops=${v('iops-total')} iops_rd=${v('iops-read')} iops_wr=${v('iops-write')}` +
      ` iops_max=${v('iops-total-max')} iops_rd_max=${v('iops-read-max')} iops_wr_max=${v('iops-write-max')}` +
      ` iops_size=${v('iops-size')} group=${ins.throttle!.group}\n`;
  }
  return s;
}

/**
 * hmp_info_block: the BlockBackends (unless -n), those whose device name is the argument; when
 * nothing printed and a device or -n was given, the named nodes (qmp_query_named_block_nodes:
 * newest first) whose node name is the argument. A blank line goes before every entry but the
 * list's first, printed or not. -v (bdrv_image_info_dump: disk sizes of the host) is not modelled.
 */
export function hmpInfoBlock(ctx: CommandCtx, a: Record<string, unknown>): string | undefined {
  if (a.verbose === true) return undefined;
  const { p } = ctx;
  const device = typeof a.device === 'string' ? a.device : undefined;
  const nodes = a.nodes === true;
  let out = '';
  let printed = false;
  const list = nodes ? [] : queryBlockInfos(p);
  list.forEach((info, i) => {
    if (device !== undefined && device !== info.device) return;
    if (i > 0) out += '\n';
    out += printBlockInfo(info, info.inserted);
    printed = true;
  });
  if ((device === undefined && !nodes) || printed) return out;
  // qmp_query_named_block_nodes (commands/queries.ts): its refusals stand
  COMMANDS.get('query-named-block-nodes')!.run(ctx);
  p.nodes().slice().reverse().forEach((n, i) => {
    if (device !== undefined && device !== n.name) return;
    if (i > 0) out += '\n';
    out += printBlockInfo(undefined, blockDeviceInfo(p, n.name, undefined, undefined));
  });
  return out;
}

/**
 * hmp_info_blockstats: a line per BlockBackend query-blockstats lists with a device member (a
 * device's anonymous one: ""), its counters; the model moves no data, so all are 0 (idle_time_ns
 * too: printed though absent before the first request).
 */
export function hmpInfoBlockstats(ctx: CommandCtx): string {
  const stats = COMMANDS.get('query-blockstats')!.run({ ...ctx, args: {} }) as { device?: string }[];
  return stats.filter((s) => s.device !== undefined).map((s) => `${s.device}: rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 ` +
    'flush_operations=0 wr_total_time_ns=0 rd_total_time_ns=0 flush_total_time_ns=0 rd_merged=0 wr_merged=0 idle_time_ns=0\n').join('');
}

/**
 * A job's progress (job_progress_*), as far as the model keeps it: a mirror (and an active
 * commit) set its remaining work to the dirty bytes mirror_dirty_init found (graph/jobs/mirror.ts
 * progressLen) and has copied them all once READY; a backup's is the source's length
 * (block_copy_state's len, job_progress_set_remaining in backup_run), nothing copied while
 * sync=none waits for guest writes. Others: 0 of 0 (the model moves no data in time).
 */
function progress(p: Proc, id: string, _ready: boolean): { offset: number; len: number } {
  // block_job_query's offset and len: the job's progress (graph/jobs/progress.ts jobProgress),
  // which the QMP reply gives too (a pending or standby mirror has copied everything)
  const j = p.job(id);
  if (!j) return { offset: 0, len: 0 };
  const pr = jobProgress(p, j);
  return { offset: pr.current, len: pr.total };
}

/** hmp_info_block_jobs: "No active jobs", else a line per job of qmp_query_block_jobs. */
export function hmpInfoBlockJobs(ctx: CommandCtx): string {
  const { p } = ctx;
  // qmp_query_block_jobs' order: newest first (commands/block-queries.ts)
  const jobs = (COMMANDS.get('query-block-jobs')!.run({ ...ctx, args: {} }) as { type: string; device: string; ready: boolean; speed: number }[])
    .map((q) => ({ ...q, ...progress(p, q.device, q.ready) }));
  if (jobs.length === 0) return 'No active jobs\n';
  return jobs.map((j) => (j.type === 'stream'
    ? `Streaming device ${j.device}: Completed ${j.offset} of ${j.len} bytes, speed limit ${j.speed} bytes/s\n`
    : `Type ${j.type}, device ${j.device}: Completed ${j.offset} of ${j.len} bytes, speed limit ${j.speed} bytes/s\n`)).join('');
}

/**
 * hmp_info_snapshots: bdrv_all_find_vmstate_bs's error (error_report_err: no "Error: "), then
 * "There is no snapshot available." when no node bdrv_first/bdrv_next visits that can take
 * snapshots has any. A list is not modelled (each line carries the snapshot's host date).
 */
export function hmpInfoSnapshots(ctx: CommandCtx): string | undefined {
  const { p } = ctx;
  try {
    findVmstateBs(p, undefined, undefined);
  } catch (e) {
    if (e instanceof QmpError) return `${e.desc}\n`;
    throw e;
  }
  const any = bdrvNextOrder(p).some((bs) => p.node(bs) && canSnapshot(p, bs) && (p.node(bs)!.snapshots?.length ?? 0) > 0);
  return any ? undefined : 'There is no snapshot available.\n';
}
