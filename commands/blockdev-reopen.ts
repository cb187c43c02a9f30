import { reopen, ReopenFailedResidue } from '../graph/reopen/run.js';
import { listDrainLeaks } from '../graph/reopen/drain-leak.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import type { Proc } from '../graph/proc.js';
import { drained } from '../graph/drain.js';
import { reopenBitmapsRo } from '../graph/bitmaps.js';
import { preallocateReopenRoDropResidue } from '../graph/preallocate-bh.js';
import { QmpError } from '../errors/index.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import type { CommandDef } from './types.js';

/**
 * qmp_blockdev_reopen: every element is queued (with its implicit children) and the whole
 * list is reopened as one transaction. An empty list is refused: QEMU 7.2 aborts on it.
 */
export const blockdevReopen: CommandDef = {
  name: 'blockdev-reopen',
  mutates: true,
  run({ p, args }) {
    const list = (args.options ?? []) as Record<string, unknown>[];
    // qmp_blockdev_reopen: bdrv_subtree_drained_begin of every listed node around the reopen
    const names = list.map((o) => (typeof o?.['node-name'] === 'string' ? o['node-name'] as string : null));
    // QEMU 10.0: bdrv_reopen_queue_free ends one drained section per entry, failed or not
    // (graph/reopen/drain-leak.ts): what a failure leaves, read on the state before the reopen
    // (a successful reopen leaves its queue's leaked drains itself: graph/reopen/run.ts reopen)
    const leaks = listDrainLeaks(p, list);
    try {
      drained(p, names, true, () => reopen(p, list));
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      const residue = e instanceof ReopenFailedResidue ? reopenResidue(e) : e instanceof QmpErrorAfterAbort ? e.residue : undefined;
      if (leaks) throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { residue?.(q); leaks(q); });
      if (residue) throw new QmpErrorAfterAbort(e.desc, e.cls, residue);
      throw e;
    }
    return {};
  },
};

/**
 * bdrv_reopen_multiple's abort path runs qcow2_reopen_abort, which leaves what
 * qcow2_reopen_bitmaps_ro did in place: the bitmaps of every qcow2 entry prepared to read-only
 * stay stored in the image and readonly (a later merge into one is refused)
 */
function reopenResidue(e: ReopenFailedResidue): (q: Proc) => void {
  const { frozen, detached, preallocDropped } = e.residue;
  return (q) => {
    // preallocate_reopen_abort does not undo preallocate_drop_resize (10.0; fuzz 1333905168)
    for (const n of preallocDropped ?? []) preallocateReopenRoDropResidue(q, n);
    for (const n of frozen) {
      if (q.node(n)?.driver !== 'qcow2') continue;
      try { reopenBitmapsRo(q, n); } catch (x) { if (!(x instanceof QmpError)) throw x; }
    }
    // tran_abort runs bdrv_replace_child_abort last-removed first; each re-attach
    // (bdrv_replace_child_noperm -> bdrv_child_cb_attach) puts the link at the head of
    // the parent's bs->children and the child's bs->parents, so it is now the newest:
    // a later reopen queues that child's entry in the new order (fuzz seed 222281932)
    for (const id of [...detached].reverse()) if (q.edge(id)) q.patchEdge(id, { at: q.nextSeq() });
  };
}
