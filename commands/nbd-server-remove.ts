import { QmpError } from '../errors/index.js';
import { blockExportDel } from './exports.js';
import type { CommandDef } from './types.js';

/**
 * qmp_nbd_server_remove (blockdev-nbd.c, 7.2), the legacy form of block-export-del: an export of
 * another type is refused by id, then qmp_block_export_del as usual (an unknown id is
 * `Export '…' is not found`; no check that the NBD server runs: nbd-server-stop removed its
 * exports).
 */
export const nbdServerRemove: CommandDef = {
  name: 'nbd-server-remove',
  mutates: true,
  run(ctx) {
    const name = String(ctx.args.name);
    const exp = ctx.p.export(name);
    if (exp && exp.type !== 'nbd') throw new QmpError(`Block export '${name}' is not an NBD export`);
    return blockExportDel.run({ ...ctx, args: { id: name, ...(ctx.args.mode !== undefined ? { mode: ctx.args.mode } : {}) } });
  },
};
