import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { attachChild } from '../graph/ops.js';
import { PERM_ALL, PERM_Z } from '../graph/perm.js';
import { removeBlockBackend } from './exports.js';
import type { CommandDef } from './types.js';

/** qmp_block_resize: a temporary BlockBackend takes 'resize' for the truncate. */
export const blockResize: CommandDef = {
  name: 'block_resize',
  mutates: true,
  run({ p, args }) {
    const device = args.device as string | undefined;
    const nodeName = args['node-name'] as string | undefined;
    const name = nodeName ?? device ?? '';
    const n = p.node(name);
    if (!n) throw new QmpError(`Cannot find device='${device ?? ''}' nor node-name='${nodeName ?? ''}'`);
    const size = Number(args.size);
    if (size < 0) throw new QmpError("Parameter 'size' expects a >0 size");
    const blocked = opBlocker(p, name, 'resize');
    if (blocked) throw new QmpError(`Node '${name}' is busy: ${blocked}`);
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'block_resize' }, perm: PERM_Z, shared: PERM_ALL, allowAioChange: false, aio: n.aio, at: p.meta().seq });
    attachChild(p, { kind: 'bb', bb: bbId }, name, 'root', 0, { perm: PERM_Z, shared: PERM_ALL });
    p.step('truncate');
    // The new size reaches the protocol node through filters and raw.
    let cur: string | undefined = name;
    while (cur) {
      const node = p.node(cur)!;
      p.patchNode(cur, { size });
      if (node.driver !== 'raw' && node.driver !== 'throttle' && node.driver !== 'copy-on-read' && node.driver !== 'blkdebug') break;
      cur = p.fileChild(cur)?.child;
    }
    p.step('release-bb');
    removeBlockBackend(p, bbId);
    return {};
  },
};
