// QEMU 7.2: a blockdev-reopen that attaches a main-loop node as the `backing` or `file` child of a
// node in an iothread, and then fails (a later entry's prepare, this entry's unchanged-options
// check, the queue's permission refresh), kills the daemon. bdrv_set_file_or_backing_noperm →
// bdrv_attach_child_noperm → bdrv_attach_child_common moved the child into the parent's
// AioContext (bdrv_try_change_aio_context); tran_abort runs bdrv_attach_child_common_abort, which
// moves it back (bdrv_try_change_aio_context(bs, s->old_child_ctx, NULL, &error_abort)) from a
// context whose lock qmp_blockdev_reopen never took: qemu_mutex_unlock_impl: Operation not
// permitted (probed live on QSD 7.2.22: oracle/scenarios/qemu-aborts/abort-41-*; the same attach
// in a reopen that succeeds survives, combo-c12-iothread-reopen). 10.0 has no AioContext lock and
// rolls the reopen back (rule 'aio-context-lock-aborts').
import { MAIN_CONTEXT, planMove } from '../aio.js';
import type { QmpError } from '../../errors/index.js';
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { rule } from '../rules.js';

export interface MovedIn { child: string; parent: string; link: string; ctx: string }

/** The move bdrv_attach_child_common makes when `child` (main loop) joins `parent` (an iothread), 7.2 only. */
export function movedIntoIothread(p: Proc, parent: string, child: string, link: string): MovedIn | undefined {
  if (!rule(p, 'aio-context-lock-aborts')) return undefined;
  const ctx = p.node(parent)?.aio ?? MAIN_CONTEXT;
  const cctx = p.node(child)?.aio ?? MAIN_CONTEXT;
  if (ctx === MAIN_CONTEXT || cctx !== MAIN_CONTEXT) return undefined;
  // the child moves (attachAcrossContexts' first plan); when it cannot, nothing is moved in
  if (planMove(p, { kind: 'node', node: child }, ctx).error) return undefined;
  return { child, parent, link, ctx };
}

/** The refusal in place of QEMU's answer `err` once such a reopen fails (bdrv_attach_child_common_abort). */
export function attachAbortRefusal(err: QmpError, m: MovedIn): QemuAbortRefusal {
  return new QemuAbortRefusal(
    `${err.desc} (after '${m.child}' was moved into iothread '${m.ctx}' as the ${m.link} child of '${m.parent}': ` +
    'QEMU 7.2 aborts here moving it back, bdrv_attach_child_common_abort: qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
    'bdrv_attach_child_common_abort',
  );
}
