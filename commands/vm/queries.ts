// query-block and block_set_io_throttle (vm target), as block/qapi.c and block/qapi-sysemu.c.
import { QmpError } from '../../errors/index.js';
import { attachedName, bbRoot, devices } from '../../graph/devices/ops.js';
import { DEVICE_KINDS } from '../../graph/devices/types.js';
import { queryNamedBlockNodes } from '../queries.js';
import type { CommandCtx, CommandDef } from '../types.js';
import { getBlk } from './media.js';

/**
 * qmp_query_block: every BlockBackend with a name or an attached device (blk_all_next: oldest
 * first); a device's is called "" with its QOM path as `qdev`. A leaked one (no device) is not listed.
 */
export function queryBlockVm(ctx: CommandCtx): unknown[] {
  const { p } = ctx;
  const byBb = new Map(devices(p).filter((d) => d.bb).map((d) => [d.bb!, d]));
  const named = queryNamedBlockNodes.run(ctx) as { 'node-name': string }[];
  const out: unknown[] = [];
  for (const bb of p.bbs()) {
    const d = byBb.get(bb.id);
    if (!d) continue;
    const k = DEVICE_KINDS[d.driver]!;
    const name = attachedName(d);
    const info: Record<string, unknown> = {
      device: '', qdev: name.startsWith('/') ? name : d.path, type: 'unknown', removable: k.removable, locked: false,
    };
    const node = bbRoot(p, bb.id);
    if (node) info.inserted = named.find((n) => n['node-name'] === node);
    if (d.tray) info.tray_open = d.tray.open;
    info['io-status'] = 'ok';
    out.push(info);
  }
  return out;
}

const LIMITS = ['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_rd', 'iops_wr'] as const;

export const blockSetIoThrottle: CommandDef = {
  name: 'block_set_io_throttle',
  mutates: true,
  run({ p, args }) {
    for (const k of LIMITS) if (args[k] === undefined) throw new QmpError(`Parameter '${k}' is missing`);
    const { bb } = getBlk(p, typeof args.device === 'string' ? args.device : undefined, typeof args.id === 'string' ? args.id : undefined);
    if (!bbRoot(p, bb)) throw new QmpError('Device has no medium');
    const { device: _d, id: _i, ...limits } = args;
    p.step('throttle');
    // throttling changes no graph (the BlockBackend's throttle group only)
    const all0 = LIMITS.every((k) => Number(limits[k]) === 0);
    const b = p.bb(bb)!;
    const { throttle: _t, ...rest } = b;
    p.putBB(all0 ? rest : { ...rest, throttle: limits });
    return {};
  },
};
