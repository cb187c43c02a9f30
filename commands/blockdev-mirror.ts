import { QmpError } from '../errors/index.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { opBlocker } from '../graph/blockers.js';
import { moveToContext, tryMoveToContext } from '../graph/aio.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { skipImplicitFilters } from '../graph/jobs/chain.js';
import { startMirror } from '../graph/jobs/mirror.js';
import { getRootBs, lookupBs } from './job-lookup.js';
import type { CommandDef } from './types.js';
import type { JobCtx } from '../graph/jobs/runner.js';
import { getLength } from '../graph/length.js';
import { recurseCanReplace } from '../graph/jobs/can-replace.js';

/** qmp_blockdev_mirror + blockdev_mirror_common, checks in QEMU's order. */
export const blockdevMirror: CommandDef = {
  name: 'blockdev-mirror',
  mutates: true,
  run({ p, args, emit }) {
    const bs = getRootBs(p, String(args.device));
    const target = lookupBs(p, String(args.target), String(args.target));
    // the target joins the source's AioContext first
    const ctxName = p.node(bs)!.aio;
    const moved = p.node(target)!.aio !== ctxName;
    moveToContext(p, target, ctxName);
    const parentsBefore = p.parents(target).length;
    try {
      blockdevMirrorCommon({ p, emit }, bs, target, args, null);
    } catch (e) {
      // qmp_blockdev_mirror does not move it back: a refusal before mirror_start_job attached
      // the target (its BlockBackend; bdrv_detach_child would move a parentless node back to
      // the main context) leaves it in the source's AioContext
      // (mirror_start_job's own residue, its fail path's refresh of the source's subtree, stays)
      if (moved && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && p.parents(target).length <= parentsBefore) {
        const before = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
        throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { before?.(q); if (q.node(target)) tryMoveToContext(q, target, ctxName); });
      }
      throw e;
    }
    return {};
  },
};

/** blockdev_mirror_common: the checks shared by blockdev-mirror and drive-mirror, then mirror_start. */
export function blockdevMirrorCommon(
  { p, emit }: JobCtx, bs: string, target: string, args: Record<string, any>, sourceBacking: 'source' | 'open' | null,
): void {
  {

    const granularity = Number(args.granularity ?? 0);
    if (granularity !== 0 && (granularity < 512 || granularity > 1048576 * 64)) {
      throw new QmpError("Parameter 'granularity' expects a value in range [512B, 64MB]");
    }
    if (granularity & (granularity - 1)) throw new QmpError("Parameter 'granularity' expects a power of 2");
    const srcBlocked = opBlocker(p, bs, 'mirror-source');
    if (srcBlocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${srcBlocked}`);
    const tgtBlocked = opBlocker(p, target, 'mirror-target');
    if (tgtBlocked) throw new QmpError(`Node '${deviceOrNodeName(p, target)}' is busy: ${tgtBlocked}`);

    let replaces = (args.replaces as string | undefined) ?? null;
    if (replaces === null) {
      // mirror from bs but keep implicit filters on top
      const unfiltered = skipImplicitFilters(p, bs);
      if (unfiltered !== bs) replaces = unfiltered;
    }
    if (replaces !== null) {
      // check_to_replace_node
      if (!p.node(replaces)) throw new QmpError(`Failed to find node with node-name='${replaces}'`);
      const rb = opBlocker(p, replaces, 'replace');
      if (rb) throw new QmpError(`Node '${deviceOrNodeName(p, replaces)}' is busy: ${rb}`);
      if (!recurseCanReplace(p, bs, replaces)) {
        throw new QmpError(`Cannot replace '${replaces}' by a node mirrored from '${bs}', because it cannot be guaranteed that doing so would not lead to an abrupt change of visible data`);
      }
      if (getLength(p, bs) !== getLength(p, replaces)) throw new QmpError('cannot replace image with a mirror image of different size');
    }
    // mirror_start: bitmap-based sync modes are not implemented for mirror in 7.2
    const sync = String(args.sync);
    if (sync === 'incremental' || sync === 'bitmap') throw new QmpError(`Sync mode '${sync}' not supported`);
    const speed = Number(args.speed ?? 0);
    if (args['buf-size'] !== undefined && Number(args['buf-size']) < 0) throw new QmpError("Invalid parameter 'buf-size'");
    startMirror({ p, emit }, {
      jobId: (args['job-id'] as string | undefined) ?? '', bs, target, replaces, speed,
      autoFinalize: args['auto-finalize'] ?? true, autoDismiss: args['auto-dismiss'] ?? true,
      filterNodeName: args['filter-node-name'] as string | undefined, activeCommit: false, sync: String(args.sync),
      ...(sourceBacking ? { backingMode: sourceBacking } : {}),
      granularity, writeBlocking: args['copy-mode'] === 'write-blocking',
      // qmp_blockdev_mirror: zero_target = sync full; qmp_drive_mirror: sync full and (mode
      // existing or !bdrv_has_zero_init(target)), and a new image has zero init
      zeroTarget: sync === 'full' && sourceBacking !== 'source',
      bufSize: Number(args['buf-size'] ?? 0),
      // qmp_drive_mirror's unmap (default true); blockdev-mirror passes true
      ...(args.unmap === false ? { unmap: false } : {}),
      ...(args['on-source-error'] !== undefined ? { onSourceError: String(args['on-source-error']) } : {}),
      ...(args['on-target-error'] !== undefined ? { onTargetError: String(args['on-target-error']) } : {}),
    });
  }
}
