import { QmpError } from '../errors/index.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { opBlocker } from '../graph/blockers.js';
import { cumulative } from '../graph/refresh.js';
import { PERM_W } from '../graph/perm.js';
import { chainContains, filterOrCowBs, findBase, findOverlay, skipFilters } from '../graph/jobs/chain.js';
import { startCommit } from '../graph/jobs/commit.js';
import { startMirror } from '../graph/jobs/mirror.js';
import { findBackingImage, isRootNode, lookupBs } from './job-lookup.js';
import type { CommandDef } from './types.js';

/** qmp_block_commit: checks in QEMU's order; active commit when top is the root or has a writer. */
export const blockCommit: CommandDef = {
  name: 'block-commit',
  mutates: true,
  run({ p, args, emit }) {
    const device = String(args.device);
    const topNode = args['top-node'] as string | undefined;
    const top = args.top as string | undefined;
    const baseNode = args['base-node'] as string | undefined;
    const base = args.base as string | undefined;
    const backingFile = (args['backing-file'] as string | undefined) ?? null;

    // the device lookup comes first (libvirt probes on DeviceNotFound): qmp_get_root_bs, and where
    // it fails bdrv_lookup_bs(device, device) again: nothing found (an empty drive too) is DeviceNotFound
    let found: string | undefined;
    try { found = lookupBs(p, device, device); } catch (e) { if (!(e instanceof QmpError)) throw e; }
    if (found === undefined) throw new QmpError(`Device '${device}' not found`, 'DeviceNotFound');
    if (!isRootNode(p, found)) throw new QmpError('Need a root block node');
    const bs = found;
    const blocked = opBlocker(p, bs, 'commit-source');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);

    let topBs: string | null = bs;
    if (topNode !== undefined && top !== undefined) throw new QmpError("'top-node' and 'top' are mutually exclusive");
    else if (topNode !== undefined) {
      topBs = lookupBs(p, undefined, topNode);
      if (!chainContains(p, bs, topBs)) throw new QmpError(`'${topNode}' is not in this backing file chain`);
    } else if (top !== undefined) {
      if (p.node(bs)!.filename !== top) topBs = findBackingImage(p, bs, top);
    }
    if (topBs === null) throw new QmpError(`Top image file ${top ?? 'NULL'} not found`);

    let baseBs: string | null;
    if (baseNode !== undefined && base !== undefined) throw new QmpError("'base-node' and 'base' are mutually exclusive");
    else if (baseNode !== undefined) {
      baseBs = lookupBs(p, undefined, baseNode);
      if (!chainContains(p, topBs, baseBs)) throw new QmpError(`'${baseNode}' is not in this backing file chain`);
    } else if (base !== undefined) {
      baseBs = findBackingImage(p, topBs, base);
      if (!baseBs) throw new QmpError(`Can't find '${base}' in the backing chain`);
    } else {
      baseBs = findBase(p, topBs);
      if (!baseBs) throw new QmpError('There is no backimg image');
    }

    for (let it: string | null = topBs; it && it !== filterOrCowBs(p, baseBs); it = filterOrCowBs(p, it)) {
      const b = opBlocker(p, it, 'commit-target');
      if (b) throw new QmpError(`Node '${deviceOrNodeName(p, it)}' is busy: ${b}`);
    }
    if (topBs === baseBs) throw new QmpError('cannot commit an image into itself');

    const speed = Number(args.speed ?? 0);
    const common = {
      jobId: (args['job-id'] as string | undefined) ?? '', speed,
      autoFinalize: args['auto-finalize'] ?? true, autoDismiss: args['auto-dismiss'] ?? true,
      filterNodeName: args['filter-node-name'] as string | undefined,
    };
    const onError = typeof args['on-error'] === 'string' ? args['on-error'] : undefined;
    const topPerm = cumulative(p, topBs).perm;
    const active = skipFilters(p, topBs) === skipFilters(p, bs);
    if (topPerm & PERM_W || active) {
      if (backingFile !== null) {
        throw new QmpError(active ? "'backing-file' specified, but 'top' is the active layer" : "'backing-file' specified, but 'top' has a writer on it");
      }
      // commit_active_start -> mirror_start_job(..., on_error, on_error, ...): the commit's
      // on-error is the mirror's on-source-error and on-target-error alike
      startMirror({ p, emit }, {
        ...common, jobId: common.jobId || '', bs: topBs, target: baseBs, replaces: null, activeCommit: true,
        ...(onError !== undefined ? { onSourceError: onError, onTargetError: onError } : {}),
      });
    } else {
      const overlay = findOverlay(p, bs, topBs);
      if (overlay) {
        const b = opBlocker(p, overlay, 'commit-target');
        if (b) throw new QmpError(`Node '${deviceOrNodeName(p, overlay)}' is busy: ${b}`);
      }
      startCommit({ p, emit }, { ...common, bs, base: baseBs, top: topBs, backingFile, onError });
    }
    return {};
  },
};
