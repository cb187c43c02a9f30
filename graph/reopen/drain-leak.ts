// QEMU 10.0's bdrv_reopen_queue_child (block.c) begins a drained section on the node every time
// it is queued (bdrv_drained_begin(bs), first thing), also when the node already has an entry
// (a node listed and also the implicit child of another listed node, or an implicit child that
// is both `file` and `backing` of its parent: reached once per link); bdrv_reopen_queue_free
// ends one section per entry, whether the reopen succeeded or failed. Every extra queueing
// leaves a section that nothing ends: the node stays drained for good, and so every parent above
// it is quiesced (bdrv_parent_drained_begin, and bdrv_replace_child_noperm for parents attached
// later): a block job with a node there stays paused (child_job_drained_begin; a job started
// there never gets past job_co_entry's pause point). Found by fuzz --qemu 10.0 1274101330 and
// 3766108729 (job-dismiss / job-finalize: "Job ... in state 'paused'"). 7.2 drains each listed
// subtree once around the whole reopen (bdrv_subtree_drained_begin in qmp_blockdev_reopen): no
// leak (rule 'reopen-queue-drain-leaks'). The model counts the leaked sections per node
// (extra.leakedDrains); graph/jobs/held-drain.ts treats such a node like a held drained section.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../proc.js';
import { rule } from '../rules.js';
import { ReopenQueue } from './queue.js';

/** Adds the sections a built queue leaves drained (its per-node queue counts beyond the first). */
export function leakQueueDrains(p: Proc, q: ReopenQueue): void {
  if (!rule(p, 'reopen-queue-drain-leaks')) return;
  for (const [node, count] of q.queued) {
    const n = p.node(node);
    if (!n || count < 2) continue;
    const had = Number((n.extra as { leakedDrains?: number } | undefined)?.leakedDrains ?? 0);
    p.patchNode(node, { extra: { ...(n.extra ?? {}), leakedDrains: had + count - 1 } });
  }
}

/**
 * qmp_blockdev_reopen's queueing loop over `list` as far as it gets (an unknown node ends it),
 * then the leak: what a failed blockdev-reopen leaves behind, applied on the state before it.
 */
export function leakListDrains(p: Proc, list: readonly Record<string, unknown>[]): void {
  if (!rule(p, 'reopen-queue-drain-leaks')) return;
  const q = new ReopenQueue(p);
  for (const o of list) {
    try { q.addListed(o); } catch (e) { if (e instanceof QmpError) break; throw e; }
  }
  leakQueueDrains(p, q);
}

/** The nodes a leaked drained section keeps drained. */
export function leakedDrainNodes(p: Proc): string[] {
  return p.nodes().filter((n) => Number((n.extra as { leakedDrains?: number } | undefined)?.leakedDrains ?? 0) > 0).map((n) => n.name);
}
