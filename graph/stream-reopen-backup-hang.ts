// fuzz 4264209348 (QEMU 7.2 and 10.0 hang, deterministic): block-stream of a read-only node under
// a copying backup job's copy-before-write filter never answers. gdb on the hung 7.2 daemon:
// qmp_block_stream → stream_start → bdrv_insert_node → bdrv_drained_begin(bs) → aio_poll, for
// ever. stream_start first makes bs writable (bdrv_reopen_set_read_only → bdrv_reopen, a drained
// section over bs whose end resumes the backup job above it), and bdrv_insert_node drains bs again
// at once: that drain waits for the resumed, rate-limited job and never ends — the drain family of
// fuzz 1693346616 (graph/snapshot-abort-backup-hang.ts: a drain right after one ended over a
// copying backup). Probed live on 7.2: a writable node (no reopen), a blockdev-reopen to
// read-write before the stream (its drain ends in another command), a backup with nothing to
// copy (sync none, an empty image) or without a speed limit do not hang; a backup of a filter
// above the node does (the drain reaches every ancestor).
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { copyingBackupThrough } from './snapshot-abort-backup-hang.js';

/** Every node above `node` (its parents, theirs, ...): what bdrv_drained_begin(node) quiesces. */
export function ancestors(p: Proc, node: string): Set<string | undefined> {
  const out = new Set<string | undefined>();
  const todo = [node];
  while (todo.length) {
    for (const e of p.parents(todo.pop()!)) {
      if (e.parent.kind !== 'node' || out.has(e.parent.node)) continue;
      out.add(e.parent.node);
      todo.push(e.parent.node);
    }
  }
  return out;
}

/** stream_start reopened `bs` read-write; bdrv_insert_node's drain of it would hang (refused whole). */
export function refuseStreamInsertAfterReopen(p: Proc, bs: string): void {
  const job = copyingBackupThrough(p, ancestors(p, bs));
  if (job === undefined) return;
  throw new QemuHangRefusal(
    `Streaming read-only node '${bs}' under copying backup job '${job}': QEMU hangs in stream_start ` +
    '(bdrv_reopen_set_read_only ends its drain and resumes the backup, then bdrv_insert_node → bdrv_drained_begin ' +
    'waits for it for ever); refused by blockgraph: pause the job, let it finish copying, or reopen the node read-write first',
    'bdrv_insert_node');
}
