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

/** qmp_blockdev_snapshot_internal_sync: blockdev_do_action with one internal snapshot action. */
export const blockdevSnapshotInternalSync: CommandDef = {
  name: 'blockdev-snapshot-internal-sync',
  mutates: true,
  run({ p, args }) {
    runTransaction(p, [{ type: 'blockdev-snapshot-internal-sync', data: args }]);
    return {};
  },
};
