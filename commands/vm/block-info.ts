// bdrv_query_info and bdrv_block_device_info (block/qapi.c) for the vm target: one BlockInfo
// per BlockBackend query-block lists, from which both QMP query-block (commands/vm/queries.ts)
// and HMP `info block` (commands/vm/hmp-info.ts, print_block_info) are made, so the two agree:
// the BlockBackend's own fields (its name, the attached device, the write cache the device or
// the drive chose, its throttle group) over the node's.
import { attachedName, bbRoot, devices } from '../../graph/devices/ops.js';
import { deviceRemovable, type Device } from '../../graph/devices/types.js';
import { pseudoFilename } from '../../graph/filename.js';
import { cowBs, filterOrCowBs, skipImplicitFilters } from '../../graph/jobs/chain.js';
import type { Proc } from '../../graph/proc.js';
import { bbThrottleGroup } from '../../graph/throttle-groups.js';
import type { BlockBackend } from '../../graph/types.js';

/** The members of a BlockDeviceInfo print_block_info and query-block read. */
export interface Inserted {
  nodeName: string; file: string; drv: string; ro: boolean; encrypted: boolean;
  writeback: boolean; direct: boolean; noFlush: boolean;
  backingFile?: string; backingDepth: number; detectZeroes: string;
  throttle?: { limits: Record<string, number>; group: string };
}

/** A BlockInfo (bdrv_query_info): `device` is blk_name ("" when anonymous), `qdev` only with a device attached. */
export interface BlockInfo { device: string; qdev?: string; removable: boolean; locked: boolean; trayOpen: boolean; inserted?: Inserted }

const on = (v: unknown): boolean => v === true || v === 'on';
const filename = (p: Proc, node: string): string => p.node(node)?.filename || pseudoFilename(p, node);

/**
 * blk_enable_write_cache: blkconf_apply_backend_options sets a device's choice (`write-cache`
 * on/off); auto keeps what the BlockBackend had: a drive's cache.writeback (blockdev_init's
 * blk_set_enable_write_cache), blk_new's on.
 */
function writeCache(b: BlockBackend | undefined, d: Device | undefined): boolean {
  const v = d?.props?.['write-cache'];
  if (v === 'off' || v === false) return false;
  if (v === 'on' || v === true) return true;
  return b?.wce ?? true;
}

/**
 * bdrv_block_device_info(blk, bs, flat=false): the node's filename (bdrv_refresh_filename),
 * read-only, driver, encryption, cache flags (writeback from the BlockBackend, else always),
 * the COW child's filename, detect-zeroes, the BlockBackend's throttle config and group
 * (throttle_group_get_config), and the depth: bdrv_filter_or_cow_bs steps down the chain,
 * skipping implicit filters when there is a BlockBackend.
 */
export function blockDeviceInfo(p: Proc, node: string, dev: Device | undefined, bbId: string | undefined): Inserted {
  const n = p.node(node)!;
  const o = n.options ?? {};
  let depth = 0;
  let cur: string | null = node;
  for (let i = 0; cur && i < 1000; i++) {
    const next = filterOrCowBs(p, cur);
    if (!next) break;
    depth++;
    cur = bbId !== undefined ? skipImplicitFilters(p, next) : next;
  }
  const cow = cowBs(p, node);
  const b = bbId !== undefined ? p.bb(bbId) : undefined;
  const group = b ? bbThrottleGroup(b) : undefined;
  let throttle: Inserted['throttle'];
  if (b && group !== undefined) {
    // the group's config: a throttle-group object's (throttle_group_config), else what the BlockBackend set
    const obj = p.object(group) as { config?: Record<string, number> } | undefined;
    throttle = { limits: obj?.config ?? b.throttle!.limits, group };
  }
  return {
    nodeName: node, file: filename(p, node), drv: n.driver, ro: n.ro,
    encrypted: (n.extra as { encrypted?: boolean } | undefined)?.encrypted === true,
    writeback: bbId !== undefined ? writeCache(b, dev) : true,
    direct: on(o['cache.direct']), noFlush: on(o['cache.no-flush']),
    ...(cow ? { backingFile: filename(p, cow) } : {}), backingDepth: depth,
    detectZeroes: typeof o['detect-zeroes'] === 'string' ? o['detect-zeroes'] : 'off',
    ...(throttle ? { throttle } : {}),
  };
}

/**
 * qmp_query_block's walk (blk_all_next: every BlockBackend, oldest first) keeping those with a
 * name or an attached device, each as bdrv_query_info fills it: a device's removable media
 * (blk_dev_has_removable_media: none attached counts as removable), tray, qdev.
 */
export function queryBlockInfos(p: Proc): BlockInfo[] {
  const byBb = new Map(devices(p).filter((d) => d.bb).map((d) => [d.bb!, d]));
  const out: BlockInfo[] = [];
  for (const bb of p.bbs()) {
    const d = byBb.get(bb.id);
    if (!d && !bb.name) continue;
    const node = bbRoot(p, bb.id);
    out.push({
      device: bb.name ?? '', ...(d ? { qdev: attachedName(d) } : {}), removable: d ? deviceRemovable(d) : true, locked: false,
      trayOpen: d?.tray?.open === true,
      ...(node ? { inserted: blockDeviceInfo(p, node, d, bb.id) } : {}),
    });
  }
  return out;
}
