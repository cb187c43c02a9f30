import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { attachChild } from '../graph/ops.js';
import { PERM_ALL, PERM_Z } from '../graph/perm.js';
import { rule } from '../graph/rules.js';
import { removeBlockBackend } from './exports.js';
import type { CommandDef } from './types.js';
import { coTruncate } from '../graph/truncate.js';

/** qmp_block_resize: a temporary BlockBackend takes 'resize' for the truncate. */
export const blockResize: CommandDef = {
  name: 'block_resize',
  mutates: true,
  run({ p, args }) {
    const device = args.device as string | undefined;
    const nodeName = args['node-name'] as string | undefined;
    // bdrv_lookup_bs: `device` names a BlockBackend only, and QSD has no named ones
    const name = nodeName ?? '';
    const n = nodeName !== undefined ? p.node(name) : undefined;
    if (!n) throw new QmpError(`Cannot find device='${device ?? ''}' nor node-name='${nodeName ?? ''}'`);
    const size = Number(args.size);
    if (size < 0) throw new QmpError("Parameter 'size' expects a >0 size");
    // qmp_block_resize: 7.2 says QERR_DEVICE_IN_USE with `device` (glibc prints (null) when
    // absent), 10.0 the blocker's reason (graph/rules.ts 'block-resize-busy-text')
    const blocker = opBlocker(p, name, 'resize');
    if (blocker) throw new QmpError(rule(p, 'block-resize-busy-text')({ device, node: name, blocker }));
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'block_resize' }, perm: PERM_Z, shared: PERM_ALL, allowAioChange: false, aio: n.aio, at: p.meta().seq });
    attachChild(p, { kind: 'bb', bb: bbId }, name, 'root', 0, { perm: PERM_Z, shared: PERM_ALL });
    p.step('truncate');
    coTruncate(p, name, size);
    p.step('release-bb');
    removeBlockBackend(p, bbId);
    return {};
  },
};

