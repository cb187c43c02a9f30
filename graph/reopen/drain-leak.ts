// QEMU 10.0's bdrv_reopen_queue_child (block.c) begins a drained section on the node every time
// it is queued (bdrv_drained_begin(bs), first thing), also when the node already has an entry
// (a node listed twice, listed and also the implicit child of another listed node, or an
// implicit child that is both `file` and `backing` of its parent: reached once per link);
// bdrv_reopen_queue_free ends one section per entry, whether the reopen succeeded or failed (also
// when a later list element names no node: `goto fail` frees the queue built so far). Every
// extra queueing leaves a section that nothing ends: the node stays drained for good, and every
// parent above it is quiesced (bdrv_parent_drained_begin, and bdrv_replace_child_noperm for
// parents attached later): a block job with a node there stays paused (child_job_drained_begin;
// one started there never gets past job_co_entry's pause point), and a BlockBackend on it queues
// its requests for ever (blk_wait_while_drained). 7.2 drains each listed subtree once around the
// whole reopen (bdrv_subtree_drained_begin in qmp_blockdev_reopen): no leak (rule
// 'reopen-queue-drains-per-call'). Found by wt-fz2 (fuzz --qemu 10.0 3862934177) and wt-fz3
// (1274101330, 3766108729). The model counts the leaked sections per node (BdsNode.leakedDrains);
// graph/jobs/held-drain.ts treats such a node like a held drained section.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../proc.js';
import { rule } from '../rules.js';
import { ReopenQueue } from './queue.js';

/** The sections a built queue leaves drained, per node: its queueings beyond the first. */
function queueLeaks(q: ReopenQueue): Map<string, number> {
  const out = new Map<string, number>();
  for (const [node, n] of q.calls) if (n > 1) out.set(node, n - 1);
  return out;
}

function applyLeaks(p: Proc, leaks: ReadonlyMap<string, number>): void {
  for (const [node, n] of leaks) {
    const cur = p.node(node);
    if (cur) p.patchNode(node, { leakedDrains: (cur.leakedDrains ?? 0) + n });
  }
}

/** bdrv_reopen_queue_free of a built queue (blockdev-reopen, bdrv_reopen_set_read_only). */
export function leakQueueDrains(p: Proc, q: ReopenQueue): void {
  if (rule(p, 'reopen-queue-drains-per-call')) applyLeaks(p, queueLeaks(q));
}

/**
 * What a built queue leaves drained, as a function to apply on another state (a failed
 * bdrv_reopen_set_read_only: the command's rollback drops what the queue did, not its
 * bdrv_reopen_queue_free); undefined for none.
 */
export function queueLeakResidue(p: Proc, q: ReopenQueue): ((s: Proc) => void) | undefined {
  if (!rule(p, 'reopen-queue-drains-per-call')) return undefined;
  const leaks = queueLeaks(q);
  return leaks.size ? (s) => applyLeaks(s, leaks) : undefined;
}

/**
 * What a failed blockdev-reopen leaves drained: qmp_blockdev_reopen's queueing loop over `list`
 * as far as it gets (an unknown node ends it), read on `p` (the state before the reopen).
 * Returns the function that applies it (after the failure's own residue), or undefined for none.
 */
export function listDrainLeaks(p: Proc, list: readonly Record<string, unknown>[]): ((q: Proc) => void) | undefined {
  if (!rule(p, 'reopen-queue-drains-per-call')) return undefined;
  const q = new ReopenQueue(p);
  for (const o of list) {
    try { q.addListed(o); } catch (e) { if (e instanceof QmpError) break; throw e; }
  }
  const leaks = queueLeaks(q);
  return leaks.size ? (s) => applyLeaks(s, leaks) : undefined;
}

/** The nodes a leaked drained section keeps drained. */
export function leakedDrainNodes(p: Proc): string[] {
  if (!rule(p, 'reopen-queue-drains-per-call')) return [];
  return p.nodes().filter((n) => (n.leakedDrains ?? 0) > 0).map((n) => n.name);
}

/**
 * A node at or below `node` that a blockdev-reopen left drained, which quiesces `node`
 * (bdrv_parent_drained_begin goes up through every parent): a BlockBackend on `node` queues its
 * requests (blk_wait_while_drained) until a drained_end that never comes.
 */
export function leakedDrainBelow(p: Proc, node: string): string | undefined {
  if (!rule(p, 'reopen-queue-drains-per-call')) return undefined;
  const seen = new Set<string>();
  const todo = [node];
  while (todo.length) {
    const x = todo.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if ((p.node(x)?.leakedDrains ?? 0) > 0) return x;
    for (const e of p.childrenOf(x)) todo.push(e.child);
  }
  return undefined;
}
