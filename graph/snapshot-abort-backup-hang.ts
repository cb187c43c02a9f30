// A failed transaction whose external snapshot was appended over the source of a copying backup
// job: QEMU (7.2 and 10.0) never answers it (fuzz seed 1693346616). The backtrace of the hung
// daemon: qmp_transaction → external_snapshot_abort → bdrv_replace_node(new_bs, old_bs) →
// bdrv_replace_node_common → bdrv_drained_begin(new_bs) → bdrv_do_drained_begin, polling for
// ever. Likely (read from the source, not traced): the append had moved the backup's copy-before-write filter from the drained old node to
// the (undrained) overlay, ending the filter's drain: the job resumed and went back to its
// rate-limited block-copy. Draining the overlay in the abort then waits for a job that does not
// quiesce. A job with nothing to copy (sync none), user-paused, or done copying (pending) does
// not hang (oracle/transcripts/abort-12-txn-snapshot-abort-over-*-survives).
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { backupStillCopies } from './jobs/backup.js';

/** The backup job copying through one of the copy-before-write filters `filters`, if any. */
export function copyingBackupThrough(p: Proc, filters: ReadonlySet<string | undefined>): string | undefined {
  // backup_run copies (sync full, top over allocated bytes, bitmap) at a speed limit: the copy
  // outlasts the command (an unlimited one races to 'pending'). With nothing to copy (sync none,
  // sync top over an empty layer: probed live) the job is quiescent and the abort goes through;
  // so it does when the first task was all there was to copy (a source of at most 1 MiB: the
  // job finished copying right after its start, abort-12-txn-snapshot-abort-over-backup-one-task-survives)
  return p.jobs().find((j) => j.type === 'backup' && j.status === 'running' && j.paused === 0 && j.speed > 0 &&
    typeof j.data.cbw === 'string' && filters.has(j.data.cbw) && backupStillCopies(p, j.data))?.id;
}

/** The backup job copying through a copy-before-write filter that is a parent of `node`, if any. */
export function copyingBackupAbove(p: Proc, node: string): string | undefined {
  return copyingBackupThrough(p, new Set(p.parents(node).map((e) => (e.parent.kind === 'node' ? e.parent.node : undefined))));
}

/** external_snapshot_abort's drain of the overlay hangs: refuse the transaction (registered as an abort residue). */
export function refuseAbortOverCopyingBackup(p: Proc, oldBs: string, overlay: string): ((q: Proc) => void) | undefined {
  const job = copyingBackupAbove(p, oldBs);
  if (job === undefined) return undefined;
  return () => {
    throw new QemuHangRefusal(
      `The transaction fails after appending overlay '${overlay}' over '${oldBs}', the source of copying backup job '${job}': ` +
      'QEMU hangs in external_snapshot_abort (bdrv_replace_node → bdrv_replace_node_common → bdrv_drained_begin of the overlay ' +
      'waits for the resumed backup job for ever); refused by blockgraph: pause the job or let it finish copying first',
      'bdrv_replace_node_common');
  };
}
