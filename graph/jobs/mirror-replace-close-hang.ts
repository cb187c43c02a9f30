// QEMU 7.2's mirror_exit_common (block/mirror.c) with `replaces`: job_exit (or job_finalize's
// job_txn_apply) already holds the job's AioContext, and mirror_exit_common takes the one of
// s->to_replace again (aio_context_acquire(replace_aio_context)) before bdrv_replace_node(to_replace,
// target_bs). Its last step, bdrv_unref(s->to_replace), frees a node nothing else refers to (a quorum
// child opened inline: not monitor-owned): bdrv_delete -> bdrv_close -> bdrv_flush polls
// (BDRV_POLL_WHILE) with that AioContext held twice, AIO_WAIT_WHILE releases it once, and the
// iothread's bottom halves wait for the lock for good (gdb on qemu-storage-daemon 7.2.22: the main
// thread in aio_poll <- bdrv_flush <- bdrv_unref <- aio_bh_poll, the iothread in qemu_mutex_lock
// <- aio_bh_poll). The daemon hangs right after the command that completes the job answers
// (iotests 041 TestRepairQuorum with the quorum pinned in an iothread, wt-ioth12). A to_replace that
// stays referenced (the source itself, a monitor-owned node) is not closed there, and a node in the
// main loop does not need the lock released: both are carried out. 10.0 has no AioContext lock
// (graph/rules.ts 'mirror-replace-close-iothread-hangs').
import { QemuHangRefusal } from '../qemu-abort.js';
import { MAIN_CONTEXT } from '../aio.js';
import { rule } from '../rules.js';
import type { Proc } from '../proc.js';

/** The context of the node to replace as mirror_exit_common took it, read before the replacement. */
export function replaceContext(p: Proc, jobId: string, toReplace: string | null | undefined): string | undefined {
  if (!toReplace || !rule(p, 'mirror-replace-close-iothread-hangs')) return undefined;
  const ctx = p.node(toReplace)?.aio ?? MAIN_CONTEXT;
  const jobCtx = p.job(jobId)?.aio ?? MAIN_CONTEXT;
  // held twice only when it is the job's own context, and released in vain only off the main loop
  return ctx !== MAIN_CONTEXT && ctx === jobCtx ? ctx : undefined;
}

/** After bdrv_replace_node: the node to replace was freed by the job's bdrv_unref. */
export function refuseReplaceCloseHang(p: Proc, toReplace: string, ctx: string | undefined): void {
  if (ctx === undefined || p.node(toReplace)) return;
  throw new QemuHangRefusal(
    `Completing the mirror frees '${toReplace}' (replaced, nothing else refers to it) in iothread '${ctx}' ` +
    "(QEMU 7.2 hangs here: mirror_exit_common's bdrv_unref(s->to_replace) -> bdrv_close -> bdrv_flush polls " +
    'with the AioContext held twice); refused by blockgraph: replace a monitor-owned node, or move it to the main loop first',
    'mirror_exit_common',
  );
}
