import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { attachChild } from '../graph/ops.js';
import { PERM_ALL, PERM_Z } from '../graph/perm.js';
import { rule } from '../graph/rules.js';
import { removeBlockBackend } from './exports.js';
import type { CommandDef } from './types.js';
import type { Proc } from '../graph/proc.js';
import { filterChild } from '../graph/jobs/chain.js';

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

/** Filters that pass a truncate down to their filtered child (their own .bdrv_co_truncate or bdrv_co_truncate's `filtered` branch). */
const TRUNCATE_FILTERS = new Set(['throttle', 'copy-on-read', 'blkdebug', 'compress', 'blkverify', 'commit_top', 'mirror_top', 'preallocate']);

/**
 * bdrv_co_truncate (block/io.c, 7.2) down the graph: a read-only node refuses ("Image is
 * read-only", checked at every level), then the driver's own truncate (qcow2_co_truncate: whole
 * sectors only; raw_co_truncate: not with a fixed `size`, the slice's offset added for its file),
 * a filter without one passes it to its filtered child, anything else cannot resize.
 */
function coTruncate(p: Proc, node: string, size: number, depth = 0): void {
  const n = p.node(node);
  if (!n || depth > 10000) return;
  if (n.ro) throw new QmpError('Image is read-only');
  switch (n.driver) {
    case 'qcow2':
      if (size % 512 !== 0) throw new QmpError('The new size must be a multiple of 512');
      p.patchNode(node, { size });
      return;
    case 'raw': {
      if (n.options.size !== undefined) throw new QmpError('Cannot resize fixed-size raw disks');
      const file = p.fileChild(node)?.child;
      if (file) coTruncate(p, file, size + Number(n.options.offset ?? 0), depth + 1);
      p.patchNode(node, { size });
      return;
    }
    case 'file':
      p.patchNode(node, { size });
      return;
    default: {
      const filtered = TRUNCATE_FILTERS.has(n.driver) ? filterChild(p, node)?.child : undefined;
      if (!filtered) throw new QmpError('Image format driver does not support resize');
      coTruncate(p, filtered, size, depth + 1);
      p.patchNode(node, { size });
    }
  }
}
