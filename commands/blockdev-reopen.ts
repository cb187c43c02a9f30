import { reopen } from '../graph/reopen/run.js';
import type { CommandDef } from './types.js';

/**
 * qmp_blockdev_reopen: every element is queued (with its implicit children) and the whole
 * list is reopened as one transaction. An empty list is refused: QEMU 7.2 aborts on it.
 */
export const blockdevReopen: CommandDef = {
  name: 'blockdev-reopen',
  mutates: true,
  run({ p, args }) {
    reopen(p, (args.options ?? []) as Record<string, unknown>[]);
    return {};
  },
};
