import { reopen } from '../graph/reopen/run.js';
import { drained } from '../graph/drain.js';
import type { CommandDef } from './types.js';

/**
 * qmp_blockdev_reopen: every element is queued (with its implicit children) and the whole
 * list is reopened as one transaction. An empty list is refused: QEMU 7.2 aborts on it.
 */
export const blockdevReopen: CommandDef = {
  name: 'blockdev-reopen',
  mutates: true,
  run({ p, args }) {
    const list = (args.options ?? []) as Record<string, unknown>[];
    // qmp_blockdev_reopen: bdrv_subtree_drained_begin of every listed node around the reopen
    const names = list.map((o) => (typeof o?.['node-name'] === 'string' ? o['node-name'] as string : null));
    drained(p, names, true, () => reopen(p, list));
    return {};
  },
};
