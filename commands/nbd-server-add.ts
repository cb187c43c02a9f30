import { blockExportAdd } from './exports.js';
import { lookupBs } from './job-lookup.js';
import type { CommandDef } from './types.js';

/**
 * qmp_nbd_server_add (blockdev-nbd.c, 7.2), the legacy form of block-export-add: the device is
 * looked up as a node, the export id and NBD name default to the device argument, and a
 * read-only node is exported read-only instead of refused; then blk_exp_add as usual.
 */
export const nbdServerAdd: CommandDef = {
  name: 'nbd-server-add',
  mutates: true,
  run(ctx) {
    const { p, args } = ctx;
    const device = String(args.device);
    const bs = lookupBs(p, device, device);
    const name = args.name !== undefined ? String(args.name) : device;
    const exportArgs: Record<string, unknown> = {
      type: 'nbd', id: name, 'node-name': bs, name,
      ...(args.description !== undefined ? { description: args.description } : {}),
      ...(args.writable !== undefined ? { writable: args.writable } : {}),
      // has_bitmap: a one-element bitmaps list
      ...(args.bitmap !== undefined ? { bitmaps: [String(args.bitmap)] } : {}),
    };
    if (p.node(bs)!.ro) exportArgs.writable = false;
    return blockExportAdd.run({ ...ctx, args: exportArgs });
  },
};
