import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { moveToContext } from '../graph/aio.js';
import { driverInfo } from '../graph/drivers.js';
import { cowChild, isFilter } from '../graph/jobs/chain.js';
import { setReadOnly } from '../graph/jobs/parts.js';
import { PERM_R } from '../graph/perm.js';
import type { Proc } from '../graph/proc.js';
import { cumulative } from '../graph/refresh.js';
import { appendNode } from '../graph/replace.js';
import { reaches } from '../graph/reopen/prepare.js';
import type { CommandDef } from './types.js';

/**
 * bdrv_attach_child_common's AioContext reconciliation: move the child's component into the
 * parent's context; failing that, the parent's into the child's; failing both, the first error.
 */
function reconcileContexts(p: Proc, parent: string, child: string): void {
  const pc = p.node(parent)!.aio;
  const cc = p.node(child)!.aio;
  if (pc === cc) return;
  let e1: unknown;
  if (p.d.attempt(() => moveToContext(p, child, pc), (e) => (e1 = e) instanceof QmpError)) return;
  if (!p.d.attempt(() => moveToContext(p, parent, cc), (e) => e instanceof QmpError)) throw e1;
}

/** qmp_blockdev_snapshot: external_snapshot_prepare's checks, bdrv_append, then the commit. */
export const blockdevSnapshot: CommandDef = {
  name: 'blockdev-snapshot',
  mutates: true,
  run({ p, args }) {
    const node = String(args.node);
    const overlay = String(args.overlay);
    if (!p.node(node)) throw new QmpError(`Cannot find device='${node}' nor node-name='${node}'`);
    const blocked = opBlocker(p, node, 'external-snapshot');
    if (blocked) throw new QmpError(`Node '${node}' is busy: ${blocked}`);
    if (!p.node(overlay)) throw new QmpError(`Cannot find device='${overlay}' nor node-name='${overlay}'`);
    // a parent that already reads the overlay would see its contents change
    if (cumulative(p, overlay).perm & PERM_R) throw new QmpError('The overlay is already in use');
    if (isFilter(p, overlay)) throw new QmpError('Filters cannot be used as overlays');
    if (cowChild(p, overlay)) throw new QmpError('The overlay already has a backing image');
    if (!driverInfo(p.node(overlay)!.driver)?.supportsBacking) throw new QmpError('The overlay does not support backing images');
    // bdrv_set_file_or_backing_noperm (via bdrv_append): found by fuzzing, node == overlay made a self-loop
    if (reaches(p, node, overlay)) throw new QmpError(`Making '${node}' a backing child of '${overlay}' would create a cycle`);

    p.step('append');
    reconcileContexts(p, overlay, node);
    appendNode(p, overlay, node);
    p.step('commit');
    // external_snapshot_commit: the old top becomes read-only (errors ignored)
    setReadOnly(p, node, true, { ignoreErrors: true });
    return {};
  },
};
