import { QmpError } from '../errors/index.js';
import { MAIN_CONTEXT, moveToContext } from '../graph/aio.js';
import type { CommandDef } from './types.js';

/**
 * qmp_x_blockdev_set_iothread, in its check order: node lookup, the BlockBackend guard
 * (only direct BB parents count, as bdrv_has_blk; `force` skips it), the iothread lookup,
 * then the move of the whole component (its refusal is the command's error).
 */
export const xBlockdevSetIothread: CommandDef = {
  name: 'x-blockdev-set-iothread',
  mutates: true,
  run({ p, args }) {
    const name = String(args['node-name']);
    if (!p.node(name)) throw new QmpError(`Failed to find node with node-name='${name}'`);
    if (!args.force && p.parents(name).some((e) => e.parent.kind === 'bb')) {
      throw new QmpError(`Node ${name} is associated with a BlockBackend and could be in use (use force=true to override this check)`);
    }
    let ctx = MAIN_CONTEXT;
    if (args.iothread !== null && args.iothread !== undefined) {
      const id = String(args.iothread);
      if (p.object(id)?.qomType !== 'iothread') throw new QmpError(`Cannot find iothread ${id}`);
      ctx = id;
    }
    moveToContext(p, name, ctx, { log: true });
    return {};
  },
};
