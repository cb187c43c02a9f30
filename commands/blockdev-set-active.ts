// blockdev-set-active (QEMU 10.0, blockdev.c qmp_blockdev_set_active; the 7.2 schema has no
// such command: graph/rules.ts qapi-schema). With a node name: bdrv_activate / bdrv_inactivate
// of that node; without: bdrv_activate_all / bdrv_inactivate_all (graph/inactive.ts).
import { QmpError } from '../errors/index.js';
import { bdrvActivate, bdrvInactivate, keepingPartial, setActiveAll } from '../graph/inactive.js';
import type { CommandDef } from './types.js';

export const blockdevSetActive: CommandDef = {
  name: 'blockdev-set-active',
  mutates: true,
  run({ p, args }) {
    const active = args.active === true;
    if (args['node-name'] === undefined) {
      keepingPartial(p, (q) => setActiveAll(q, active));
      return {};
    }
    const name = String(args['node-name']);
    if (!p.node(name)) throw new QmpError(`Failed to find node with node-name='${name}'`);
    keepingPartial(p, (q) => (active ? bdrvActivate(q, name) : bdrvInactivate(q, name)));
    return {};
  },
};
