import { QmpError } from '../errors/index.js';
import { openRoot } from '../graph/open.js';
import type { CommandDef } from './types.js';

/** qmp_blockdev_add: the root must be named; the monitor keeps the new node's reference. */
export const blockdevAdd: CommandDef = {
  name: 'blockdev-add',
  mutates: true,
  run({ p, args }) {
    if (args['node-name'] === undefined) throw new QmpError("'node-name' must be specified for the root node");
    p.step('open');
    const n = openRoot(p, args);
    p.step('monitor-ref');
    p.patchNode(n.name, { monitor: true });
    return {};
  },
};
