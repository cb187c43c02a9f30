import { QmpError } from '../errors/index.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { opBlocker } from '../graph/blockers.js';
import { chainContains, filterOrCowBs, isFilter } from '../graph/jobs/chain.js';
import { startStream } from '../graph/jobs/stream.js';
import { findBackingImage, lookupBs } from './job-lookup.js';
import type { CommandDef } from './types.js';

/** qmp_block_stream: argument checks in QEMU's order, then stream_start. */
export const blockStream: CommandDef = {
  name: 'block-stream',
  mutates: true,
  run({ p, args, emit }) {
    const device = String(args.device);
    const base = args.base as string | undefined;
    const baseNode = args['base-node'] as string | undefined;
    const bottom = args.bottom as string | undefined;
    const backingFile = (args['backing-file'] as string | undefined) ?? null;
    if (base !== undefined && baseNode !== undefined) throw new QmpError("'base' and 'base-node' cannot be specified at the same time");
    if (base !== undefined && bottom !== undefined) throw new QmpError("'base' and 'bottom' cannot be specified at the same time");
    if (baseNode !== undefined && bottom !== undefined) throw new QmpError("'bottom' and 'base-node' cannot be specified at the same time");

    const bs = lookupBs(p, device, device);
    let baseBs: string | null = null;
    if (base !== undefined) {
      baseBs = findBackingImage(p, bs, base);
      if (!baseBs) throw new QmpError(`Can't find '${base}' in the backing chain`);
    }
    if (baseNode !== undefined) {
      baseBs = lookupBs(p, undefined, baseNode);
      if (bs === baseBs || !chainContains(p, bs, baseBs)) throw new QmpError(`Node '${baseNode}' is not a backing image of '${device}'`);
    }
    let bottomBs: string | null = null;
    if (bottom !== undefined) {
      bottomBs = lookupBs(p, undefined, bottom);
      if (isFilter(p, bottomBs)) throw new QmpError(`Node '${bottom}' is a filter, use a non-filter node as 'bottom'`);
      if (!chainContains(p, bs, bottomBs)) throw new QmpError(`Node '${bottom}' is not in a chain starting from '${device}'`);
    }
    const iterEnd = bottomBs ? filterOrCowBs(p, bottomBs) : baseBs;
    for (let it: string | null = bs; it && it !== iterEnd; it = filterOrCowBs(p, it)) {
      const blocked = opBlocker(p, it, 'stream');
      if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, it)}' is busy: ${blocked}`);
    }
    if (!baseBs && backingFile !== null) throw new QmpError('backing file specified, but streaming the entire chain');
    const speed = Number(args.speed ?? 0);

    startStream({ p, emit }, {
      jobId: args['job-id'] as string ?? '', bs, base: baseBs, bottom: bottomBs, backingFile, speed,
      autoFinalize: args['auto-finalize'] ?? true, autoDismiss: args['auto-dismiss'] ?? true,
      filterNodeName: args['filter-node-name'] as string | undefined,
      onError: typeof args['on-error'] === 'string' ? args['on-error'] : undefined,
    });
    return {};
  },
};
