import { QmpError } from '../errors/index.js';
import { deviceOrNodeName, lookupBsNamed } from '../graph/named-blk.js';
import { opBlocker } from '../graph/blockers.js';
import { attachChild, detachChild } from '../graph/ops.js';
import { PERM_ALL, PERM_Z } from '../graph/perm.js';
import { rule } from '../graph/rules.js';
import { removeBlockBackend } from './exports.js';
import type { CommandDef } from './types.js';
import { coTruncate, keepPreallocTruncateFailures, preallocTruncateFailures } from '../graph/truncate.js';
import { MAIN_CONTEXT, tryMoveToContext } from '../graph/aio.js';
import { QemuAbortRefusal, QemuHangRefusal } from '../graph/qemu-abort.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';

/** qmp_block_resize: a temporary BlockBackend takes 'resize' for the truncate. */
export const blockResize: CommandDef = {
  name: 'block_resize',
  mutates: true,
  run({ p, args }) {
    const device = args.device as string | undefined;
    const nodeName = args['node-name'] as string | undefined;
    // bdrv_lookup_bs: `device` names a BlockBackend only (a legacy drive: vm target; QSD has none)
    const name = lookupBsNamed(p, device, nodeName);
    const n = p.node(name)!;
    const size = Number(args.size);
    if (size < 0) throw new QmpError("Parameter 'size' expects a >0 size");
    // qmp_block_resize: 7.2 says QERR_DEVICE_IN_USE with `device` (glibc prints (null) when
    // absent), 10.0 the blocker's reason (graph/rules.ts 'block-resize-busy-text')
    const blocker = opBlocker(p, name, 'resize');
    if (blocker) throw new QmpError(rule(p, 'block-resize-busy-text')({ device, node: deviceOrNodeName(p, name), blocker }));
    const ctxBefore = n.aio;
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'block_resize' }, perm: PERM_Z, shared: PERM_ALL, allowAioChange: false, aio: n.aio, at: p.meta().seq });
    attachChild(p, { kind: 'bb', bb: bbId }, name, 'root', 0, { perm: PERM_Z, shared: PERM_ALL });
    p.step('truncate');
    // qmp_block_resize carries on after a failed blk_co_truncate: the BlockBackend is released
    // (and the node moved back to the main loop) whether the truncate worked or not
    let failed: QmpError | undefined;
    try {
      coTruncate(p, name, size);
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      failed = e;
    }
    p.step('release-bb');
    removeBlockBackend(p, bbId);
    // qmp_block_resize (7.2): bdrv_co_lock took the iothread's AioContext lock; blk_unref moved
    // the node back to the main loop (bdrv_root_unref_child → bdrv_try_change_aio_context), so
    // bdrv_co_unlock, which looks the context up again, releases nothing. The main thread keeps
    // the iothread's lock and the next wait on a node in that iothread deadlocks (fuzz seeds
    // 4265141723, 3517480893, 2925014013; graph/rules.ts 'resize-leaks-iothread-lock').
    if (rule(p, 'resize-leaks-iothread-lock') && ctxBefore !== MAIN_CONTEXT && p.node(name)?.aio === MAIN_CONTEXT) {
      throw new QemuHangRefusal(
        `Node '${name}' is in iothread '${ctxBefore}' and nothing keeps it there: block_resize's BlockBackend release moves it back ` +
        `to the main loop and leaves iothread '${ctxBefore}' locked (QEMU 7.2 hangs at the next wait in that iothread: ` +
        'qmp_block_resize → bdrv_co_unlock releases the main context instead); refused by blockgraph: move it back to the main loop first',
        'bdrv_co_unlock');
    }
    // QEMU's error, with what the release did: the truncate is undone, the node's move is not
    // A preallocate filter on the way keeps the failure's errno (keepPreallocTruncateFailures),
    // which the BlockBackend's release (bdrv_root_unref_child -> bdrv_refresh_perms, errors
    // ignored) turns into a claim on the filter's file; where that refresh fails (a read-only
    // file: fuzz --qemu 10.0 2575497845) the perms stay as the BlockBackend's resize left them.
    // The residue replays that: the BlockBackend attached again, the errno kept, the release.
    if (failed) {
      const f = failed;
      throw new QmpErrorAfterAbort(f.desc, f.cls, (q) => {
        if (preallocTruncateFailures(f).length && q.node(name)) {
          q.putBB({ id: bbId, owner: { kind: 'tmp', id: 'block_resize' }, perm: PERM_Z, shared: PERM_ALL, allowAioChange: false, aio: q.node(name)!.aio, at: q.meta().seq });
          attachChild(q, { kind: 'bb', bb: bbId }, name, 'root', 0, { perm: PERM_Z, shared: PERM_ALL });
          keepPreallocTruncateFailures(q, f);
          const root = q.children({ kind: 'bb', bb: bbId })[0];
          q.delBB(bbId);
          if (root) detachChild(q, root.id);
        }
        if (q.node(name)) tryMoveToContext(q, name, MAIN_CONTEXT);
      });
    }
    return {};
  },
};

