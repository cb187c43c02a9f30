// query-block and block_set_io_throttle (vm target), as block/qapi.c and block/qapi-sysemu.c.
import { QmpError } from '../../errors/index.js';
import { attachedName, bbRoot, devices } from '../../graph/devices/ops.js';
import { attachedDevId, queryBlockInfos, type BlockInfo } from './block-info.js';
import { refuseChildlessFilterQuery } from '../queries.js';
import type { CommandCtx, CommandDef } from '../types.js';
import { getBlk } from './media.js';
import { checkArgs, type Member } from './qapi.js';
import { blockIoThrottleConfig } from '../throttle-group.js';
import { bbThrottleGroup } from '../../graph/throttle-groups.js';

/**
 * qmp_query_block: every BlockBackend with a name (a legacy drive) or an attached device
 * (blk_all_next: oldest first), each from bdrv_query_info (commands/vm/block-info.ts, shared with
 * HMP `info block`): `device` the drive's name or "", `qdev` blk_get_attached_dev_id (the device's
 * id, or its QOM path when it has none: virtio-blk's inner virtio-blk-device, an id-less device),
 * `inserted` the node's BlockDeviceInfo with the BlockBackend's fields (write cache, throttling,
 * the depth past implicit filters). libvirt finds its disks by qdev (a CD-ROM's tray state,
 * qemuProcessRefreshDisks). A leaked one (no device, no name) is not listed, but for a refused
 * nvme's, whose never-finalized device it still points at (attachedDevId).
 */
export function queryBlockVm(ctx: CommandCtx): unknown[] {
  // bdrv_block_device_info's refusals of a node QEMU crashes on, as query-named-block-nodes', but
  // only where bdrv_query_info goes: below a listed BlockBackend's root (bdrv_refresh_filename's
  // children, the backing-image chain). A stream's childless filter the undismissed job alone
  // holds is in nobody's subtree: QEMU answers query-block there (vm-o-b2-iothread-jobs-replies).
  refuseChildlessFilterQuery(ctx.p, belowListedBackends(ctx));
  return queryBlockInfos(ctx.p).map((b) => {
    const info: Record<string, unknown> = {
      device: b.device, ...(b.qdev !== undefined ? { qdev: b.qdev } : {}), type: 'unknown', removable: b.removable, locked: b.locked,
    };
    // bdrv_block_device_info(blk, bs, false) of the BlockBackend's root (commands/block-device-info.ts)
    if (b.inserted) info.inserted = b.inserted.qmp;
    // tray_open only where the device has a tray (blk_dev_has_tray)
    const d = b.qdev !== undefined;
    if (d && b.removable && hasTray(ctx, b)) info.tray_open = b.trayOpen;
    // blk_iostatus_is_enabled: only a device that enabled it, with an error action that can stop the VM
    if (b.ioStatus !== undefined) info['io-status'] = b.ioStatus;
    return info;
  });
}

/** Every node below the root of a BlockBackend query-block lists (a name or an attached device). */
function belowListedBackends(ctx: CommandCtx): Set<string> {
  const p = ctx.p;
  const byBb = new Map(devices(p).filter((d) => d.bb).map((d) => [d.bb!, d]));
  const seen = new Set<string>();
  const todo: string[] = [];
  for (const bb of p.bbs()) {
    if (!bb.name && attachedDevId(bb, byBb.get(bb.id)) === undefined) continue;
    const root = bbRoot(p, bb.id);
    if (root) todo.push(root);
  }
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const e of p.childrenOf(n)) todo.push(e.child);
  }
  return seen;
}

/** blk_dev_has_tray: the attached device's tray callbacks. */
function hasTray(ctx: CommandCtx, b: BlockInfo): boolean {
  return devices(ctx.p).some((d) => attachedName(d) === b.qdev && d.tray !== null && d.tray !== undefined);
}

/** BlockIOThrottle (qapi/block-core.json), visited in schema order. */
const THROTTLE_MEMBERS: readonly Member[] = [
  ['device', false, 'str'], ['id', false, 'str'],
  ...(['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_rd', 'iops_wr'] as const).map((k): Member => [k, true, 'int']),
  ...(['bps_max', 'bps_rd_max', 'bps_wr_max', 'iops_max', 'iops_rd_max', 'iops_wr_max'] as const).map((k): Member => [k, false, 'int']),
  ...(['bps_max_length', 'bps_rd_max_length', 'bps_wr_max_length', 'iops_max_length', 'iops_rd_max_length', 'iops_wr_max_length'] as const).map((k): Member => [k, false, 'int']),
  ['iops_size', false, 'int'], ['group', false, 'str'],
];

/**
 * qmp_block_set_io_throttle: the BlockBackend (qmp_get_blk), "Device has no medium", the config
 * (throttle_is_valid), then the ThrottleGroup: a BlockBackend not yet throttled joins `group`, or
 * the group named by `device` / `id` (blk_io_limits_enable -> throttle_group_incref, which makes
 * it when no group has that name); one already throttled moves only when `group` is given
 * (blk_io_limits_update_group); blk_set_io_limits gives the group the whole config
 * (throttle_group_config: a throttle-group object's `limits` read it). All zero leaves the group
 * (blk_io_limits_disable). No graph change.
 */
export const blockSetIoThrottle: CommandDef = {
  name: 'block_set_io_throttle',
  mutates: true,
  run({ p, args }) {
    checkArgs(args, THROTTLE_MEMBERS);
    const { bb } = getBlk(p, typeof args.device === 'string' ? args.device : undefined, typeof args.id === 'string' ? args.id : undefined);
    if (!bbRoot(p, bb)) throw new QmpError('Device has no medium');
    const { enabled, limits } = blockIoThrottleConfig(args);
    p.step('throttle');
    const b = p.bb(bb)!;
    const { throttle: _t, ...rest } = b;
    const current = bbThrottleGroup(b);
    if (!enabled) {
      p.putBB(rest);
      return {};
    }
    const named = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const group = current === undefined ? (named(args.group) ?? named(args.device) ?? String(args.id)) : (named(args.group) ?? current);
    p.putBB({ ...rest, throttle: { group, limits } });
    // throttle_group_config: the config is the group's, every member's alike
    for (const o of p.bbs()) if (o.id !== bb && o.throttle?.group === group) p.putBB({ ...o, throttle: { group, limits } });
    // throttle_group_config: the group's config is the one just set, whoever made the group
    const o = p.object(group);
    if (o?.qomType === 'throttle-group') p.putObject({ ...o, config: limits, limitSets: [] });
    return {};
  },
};
