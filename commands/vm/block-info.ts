// bdrv_query_info and bdrv_block_device_info (block/qapi.c) for the vm target: one BlockInfo
// per BlockBackend query-block lists, from which both QMP query-block (commands/vm/queries.ts)
// and HMP `info block` (commands/vm/hmp-info.ts, print_block_info) are made, so the two agree:
// the BlockBackend's own fields (its name, the attached device, the write cache the device or
// the drive chose, its throttle group) over the node's.
import { attachedName, bbRoot, devices } from '../../graph/devices/ops.js';
import { skipImplicitFilters } from '../../graph/jobs/chain.js';
import { deviceRemovable, type Device } from '../../graph/devices/types.js';
import { blockDeviceInfo as qmpBlockDeviceInfo } from '../block-device-info.js';
import type { Proc } from '../../graph/proc.js';
import { bbThrottleGroup } from '../../graph/throttle-groups.js';
import type { BlockBackend } from '../../graph/types.js';
import { blkIostatus } from './blk-stats.js';

/** The members of a BlockDeviceInfo print_block_info and query-block read. */
export interface Inserted {
  nodeName: string; file: string; drv: string; ro: boolean; encrypted: boolean;
  writeback: boolean; direct: boolean; noFlush: boolean;
  backingFile?: string; backingDepth: number; detectZeroes: string;
  throttle?: { limits: Record<string, number>; group: string };
  /** the whole BlockDeviceInfo, as QMP query-block's `inserted` gives it */
  qmp: Record<string, unknown>;
}

/** A BlockInfo (bdrv_query_info): `device` is blk_name ("" when anonymous), `qdev` only with a device attached. */
export interface BlockInfo { device: string; qdev?: string; removable: boolean; locked: boolean; trayOpen: boolean; ioStatus?: 'ok'; inserted?: Inserted }


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
 * bdrv_block_device_info(blk, bs, flat=false) with the BlockBackend's own view: the write cache
 * the device or the drive chose and its throttle group's config (throttle_group_get_config) go
 * into commands/block-device-info.ts's BlockDeviceInfo (the one query-named-block-nodes builds),
 * and print_block_info's members are read back from it.
 */
export function blockDeviceInfo(p: Proc, node: string, dev: Device | undefined, bbId: string | undefined): Inserted {
  const b = bbId !== undefined ? p.bb(bbId) : undefined;
  const group = b ? bbThrottleGroup(b) : undefined;
  let throttle: Inserted['throttle'];
  if (b && group !== undefined) {
    // the group's config: a throttle-group object's (throttle_group_config), else what the BlockBackend set
    const obj = p.object(group) as { config?: Record<string, number> } | undefined;
    throttle = { limits: obj?.config ?? b.throttle!.limits, group };
  }
  const blk = bbId !== undefined ? { writeback: writeCache(b, dev), ...(throttle ? { throttle } : {}) } : undefined;
  const q = qmpBlockDeviceInfo(p, node, false, blk);
  const cache = q.cache as { writeback: boolean; direct: boolean; 'no-flush': boolean };
  return {
    nodeName: node, file: String(q.file), drv: String(q.drv), ro: q.ro === true, encrypted: q.encrypted === true,
    writeback: cache.writeback, direct: cache.direct, noFlush: cache['no-flush'],
    ...(typeof q.backing_file === 'string' ? { backingFile: q.backing_file } : {}), backingDepth: Number(q.backing_file_depth),
    detectZeroes: String(q.detect_zeroes), ...(throttle ? { throttle } : {}), qmp: q,
  };
}

/**
 * blk_get_attached_dev_id: the attached device's id (or QOM path). A refused nvme's BlockBackend
 * (commands/vm/device-add.ts nvmeRealize: the device is unparented but never finalized, so
 * release_drive never detaches it) still points at that device, whose id lives on: query-block,
 * query-blockstats and `info block` list it under that id.
 */
export function attachedDevId(bb: BlockBackend, d: Device | undefined): string | undefined {
  if (d) return attachedName(d);
  // (the other leaks, an unplugged or refused device's own empty BlockBackend, were detached: dev '')
  return bb.owner.kind === 'leak' && bb.dev ? bb.dev : undefined;
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
    const qdev = attachedDevId(bb, d);
    if (qdev === undefined && !bb.name) continue;
    // bdrv_query_info: "Skip automatically inserted nodes that the user isn't aware of"
    // (bdrv_skip_implicit_filters on blk_bs: a job's implicit filter above the device's node is
    // not the inserted medium; fuzz --against vm 3040029389, 978581792: query-block and
    // `info block` during an active commit)
    const root = bbRoot(p, bb.id);
    const node = root ? skipImplicitFilters(p, root) : undefined;
    out.push({
      // (a leaked nvme's BlockBackend: its device has no dev_ops, so no removable media)
      device: bb.name ?? '', ...(qdev !== undefined ? { qdev } : {}), removable: d ? deviceRemovable(d) : qdev === undefined, locked: false,
      trayOpen: d?.tray?.open === true,
      ...(blkIostatus(bb, d) ? { ioStatus: blkIostatus(bb, d) } : {}),
      ...(node ? { inserted: blockDeviceInfo(p, node, d, bb.id) } : {}),
    });
  }
  return out;
}
