// fuzz 1422096404 (QEMU 7.2 abort): blockdev-snapshot of a main-loop node onto an overlay in an
// iothread that a job is working above.
import { QemuAbortRefusal } from './qemu-abort.js';
import { MAIN_CONTEXT, planMove } from './aio.js';
import { rule } from './rules.js';
import type { Proc } from './proc.js';

/** Job statuses whose coroutine a drain must wait for (block_job_drained_poll: busy, not paused). */
const BUSY = new Set(['running', 'ready', 'waiting']);

/** A live job among the parents of `node`, followed upwards through nodes and its BlockBackends. */
function busyJobAbove(p: Proc, node: string): string | undefined {
  const seen = new Set<string>();
  const up = (n: string): string | undefined => {
    if (seen.has(n)) return undefined;
    seen.add(n);
    for (const e of p.parents(n)) {
      const ref = e.parent;
      if (ref.kind === 'node') { const r = up(ref.node); if (r) return r; continue; }
      const id = ref.kind === 'job' ? ref.job : p.bb(ref.bb)?.owner.kind === 'job' ? p.bb(ref.bb)!.owner.id : undefined;
      if (id !== undefined && BUSY.has(p.job(id)?.status ?? '')) return id;
    }
    return undefined;
  };
  return up(node);
}

/**
 * external_snapshot_prepare holds only the AioContext lock of the old node (`node`) and drains
 * it; bdrv_append first moves it into the overlay's iothread (bdrv_attach_child_common ->
 * bdrv_try_change_aio_context), then bdrv_replace_child_noperm sees a drained new child and calls
 * bdrv_parent_drained_begin_single(child, poll=true): AIO_WAIT_WHILE in the parent's (the
 * overlay's) iothread releases that iothread's lock, which the main thread never took, as soon as
 * the poll has to wait, i.e. when a job above the overlay is still busy (backup's cbw over it).
 * 7.2: qemu_mutex_unlock_impl: Operation not permitted (abort). Without a job the poll ends at
 * once (recorded surviving: abort-13-snapshot-overlay-in-iothread-no-job-survives). 10.0 has no
 * AioContext lock (rule 'aio-context-lock-aborts').
 */
export function refuseSnapshotIntoBusyIothread(p: Proc, oldBs: string, overlay: string): void {
  if (!rule(p, 'aio-context-lock-aborts')) return;
  const ctx = p.node(overlay)?.aio ?? MAIN_CONTEXT;
  if (ctx === MAIN_CONTEXT || (p.node(oldBs)?.aio ?? MAIN_CONTEXT) === ctx) return;
  // a node that cannot move makes the overlay come to the main loop instead: no poll in an iothread
  if (planMove(p, { kind: 'node', node: oldBs }, ctx).error) return;
  const job = busyJobAbove(p, overlay);
  if (!job) return;
  throw new QemuAbortRefusal(
    `Overlay '${overlay}' is in iothread '${ctx}' under busy job '${job}': appending '${oldBs}' drains it there ` +
    'without that iothread\'s lock (QEMU 7.2 aborts here: bdrv_replace_child_noperm -> bdrv_parent_drained_begin_single: ' +
    'qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
    'bdrv_parent_drained_begin_single',
  );
}
