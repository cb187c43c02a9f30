// What a failed command keeps of the nodes its jobs attached. block_job_add_bdrv (a job's "main
// node", "target", "intermediate node" edges) and blk_insert_bs (a job's BlockBackend) each run
// bdrv_root_attach_child in a transaction of their own, committed at once with
// bdrv_refresh_perms of the node's subtree; when the command then fails, job_early_fail ->
// block_job_free -> block_job_remove_all_bdrv (and blk_unref) take the edges away and refresh
// the subtrees again (bdrv_root_unref_child, errors ignored). The model rolls the command back
// whole; these refreshes are what stays: an edge below whose perms were stale (computed for a
// force-share node before a bdrv_replace_node moved it onto another) comes out recomputed
// (e.g. block-commit refused by block_job_set_speed after block_job_create attached the device).
// blk_exp_add does the same: blk_insert_bs commits its attach, and a refusal by the export
// driver's create (nbd_export_create's "NBD server not running") ends in blk_unref of the
// export's BlockBackend (fuzz 663685679: a raw node's file link onto a force-share overlay comes
// out sharing everything, bdrv_child_perm's force_share).
// Each detach also tries to move the node back to the main loop (bdrv_root_unref_child, 10.0:
// bdrv_try_change_aio_context_locked(child_bs, qemu_get_aio_context()); 7.2's bdrv_detach_child
// the same), and that move stays too: a commit or mirror refused after block_job_create over a
// node in an iothread that nothing keeps there leaves the node's component in the main loop (its
// bdrv_append of the job's filter had moved it there already), so a later block-stream of it
// inserts its filter without a move and QEMU 10.0 does not abort in bdrv_insert_node
// (combo-c6-export-filters-iothreads-chain #26-27, combo-c6-job-frozen-iothread-exports #27-29).
// Kept beside the command's Draft, not in the state: commands/model.ts applies them on refusal.
import { Draft } from '../draft.js';
import { MAIN_CONTEXT, tryMoveToContext } from '../aio.js';
import { tryRefresh } from '../ops.js';
import { Proc } from '../proc.js';

const attached = new WeakMap<Draft, { proc: string; node: string }[]>();

/** A job (or a block export's BlockBackend) attached `node` (bdrv_root_attach_child, committed). */
export function noteJobAttach(p: Proc, node: string): void {
  let list = attached.get(p.d);
  if (!list) attached.set(p.d, (list = []));
  list.push({ proc: p.name, node });
}

/**
 * The refreshes a refusal of the command run on `d` leaves (newest attach first, as
 * block_job_remove_all_bdrv detaches), or undefined when they would change nothing of `base`.
 */
export function jobAttachResidue(d: Draft, base = d.base): ((q: Proc) => void) | undefined {
  const list = attached.get(d);
  if (!list?.length) return undefined;
  const run = (q: Proc) => {
    for (const { proc, node } of [...list].reverse()) {
      const r = proc === q.name ? q : new Proc(q.d, proc);
      if (!r.node(node)) continue;
      tryRefresh(r, [node]);
      tryMoveToContext(r, node, MAIN_CONTEXT);
    }
  };
  const trial = new Draft(base);
  run(new Proc(trial, list[0]!.proc));
  return trial.steps().some((s) => s.changes.length > 0) ? run : undefined;
}
