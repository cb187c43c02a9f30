import { QmpError } from '../errors/index.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { opBlocker } from '../graph/blockers.js';
import { refcount, unrefIfUnused } from '../graph/ops.js';
import type { CommandDef } from './types.js';

/** qmp_blockdev_del, checks in QEMU's order. */
export const blockdevDel: CommandDef = {
  name: 'blockdev-del',
  mutates: true,
  run({ p, args }) {
    const name = String(args['node-name']);
    const n = p.node(name);
    if (!n) throw new QmpError(`Failed to find node with node-name='${name}'`);
    if (p.parents(name).some((e) => e.parent.kind === 'bb')) throw new QmpError(`Node ${name} is in use`);
    const blocked = opBlocker(p, name, 'drive-del');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, name)}' is busy: ${blocked}`);
    if (!n.monitor) throw new QmpError(`Node ${name} is not owned by the monitor`);
    if (refcount(p, name) > 1) throw new QmpError(`Block device ${name} is in use`);
    p.patchNode(name, { monitor: false });
    unrefIfUnused(p, name);
    return {};
  },
};
