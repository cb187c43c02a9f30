import { runTransaction } from './transaction.js';
import type { CommandDef } from './types.js';

/** qmp_blockdev_snapshot: blockdev_do_action with one blockdev-snapshot action (qmp_transaction). */
export const blockdevSnapshot: CommandDef = {
  name: 'blockdev-snapshot',
  mutates: true,
  run({ p, args }) {
    runTransaction(p, [{ type: 'blockdev-snapshot', data: args }]);
    return {};
  },
};
