import { QmpError } from '../errors/index.js';
import { attachChild, detachChild } from '../graph/ops.js';
import { ROLE_DATA } from '../graph/perm.js';
import type { CommandDef } from './types.js';

/** x-blockdev-change: add or remove a quorum child (the only driver with .bdrv_add_child in QSD). */
export const xBlockdevChange: CommandDef = {
  name: 'x-blockdev-change',
  mutates: true,
  run({ p, args }) {
    const parentName = String(args.parent);
    const parent = p.node(parentName);
    if (!parent) throw new QmpError(`Cannot find device='${parentName}' nor node-name='${parentName}'`);
    if (args.child !== undefined && args.node !== undefined) throw new QmpError('The parameters child and node are in conflict');
    if (parent.driver !== 'quorum') {
      throw new QmpError(`The node ${parentName} does not support ${args.node !== undefined ? 'adding' : 'removing'} a child`);
    }
    const extra = (parent.extra ?? {}) as { nextChild?: number };
    if (args.node !== undefined) {
      const nodeName = String(args.node);
      if (!p.node(nodeName)) throw new QmpError(`Node '${nodeName}' not found`);
      const idx = extra.nextChild ?? 0;
      p.patchNode(parentName, { extra: { ...extra, nextChild: idx + 1 } });
      attachChild(p, { kind: 'node', node: parentName }, nodeName, `children.${idx}`, ROLE_DATA);
    } else if (args.child !== undefined) {
      const e = p.childrenOf(parentName).find((c) => c.name === args.child);
      if (!e) throw new QmpError(`Node '${parentName}' does not have child '${args.child}'`);
      detachChild(p, e.id);
    } else throw new QmpError('Either child or node must be specified');
    return {};
  },
};
