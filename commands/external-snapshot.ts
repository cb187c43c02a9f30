// external_snapshot_prepare / _commit / _abort / _clean (blockdev.c, 7.2): the one action behind
// blockdev-snapshot, blockdev-snapshot-sync and their transaction forms. The model's Draft undoes
// a failed transaction whole (tran_abort); external_snapshot_abort does more than that undo (see
// the residue below), and the new node that clean's bdrv_unref would close is kept alive by its
// place in the graph.
import { bdrvInactivate, isInactive } from '../graph/inactive.js';
import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { driverInfo } from '../graph/drivers.js';
import { pseudoFilename, refreshFilenames } from '../graph/filename.js';
import { cowChild, isFilter } from '../graph/jobs/chain.js';
import { setReadOnly } from '../graph/jobs/parts.js';
import { openNode } from '../graph/open.js';
import { retarget, unrefIfUnused } from '../graph/ops.js';
import { PERM_R } from '../graph/perm.js';
import type { Proc } from '../graph/proc.js';
import { cumulative, refreshPerms } from '../graph/refresh.js';
import { appendNode, refuseAppendHang, replaceNode, shouldUpdateChild } from '../graph/replace.js';
import { reaches } from '../graph/reopen/prepare.js';
import { QemuAbortRefusal, QemuHangRefusal } from '../graph/qemu-abort.js';
import { rule } from '../graph/rules.js';
import { blkByName, deviceOrNodeName, lookupBsNamed } from '../graph/named-blk.js';
import { refuseSnapshotIntoBusyIothread } from '../graph/snapshot-drain-abort.js';
import { refuseAbortOverCopyingBackup } from '../graph/snapshot-abort-backup-hang.js';
import { getLength } from '../graph/length.js';
import { keepMove, MAIN_CONTEXT, planMove } from '../graph/aio.js';
import { bdrvImgCreate } from './bdrv-img-create.js';
import { heldOverlayLock } from '../graph/held-overlay-lock.js';
import { preallocateDropResizeBh } from '../graph/preallocate-bh.js';

/** bdrv_lookup_bs(device, node_name): `device` names a legacy drive only (vm target; QSD has none). */
function lookup(p: Proc, device: string | undefined, nodeName: string | undefined): string {
  return lookupBsNamed(p, device, nodeName);
}

export type SnapshotAction =
  | { kind: 'blockdev-snapshot'; node: string; overlay: string }
  | {
    kind: 'blockdev-snapshot-sync'; device?: string; nodeName?: string; snapshotFile: string;
    snapshotNodeName?: string; format?: string; mode?: string;
  };

/** external_snapshot_prepare: checks in QEMU's order, the overlay opened (or created), bdrv_append. */
export function externalSnapshotPrepare(
  p: Proc, a: SnapshotAction, onAbortResidue: (fn: (q: Proc) => void) => void = () => {},
): { commit(): void; clean(): void } {
  const oldBs = a.kind === 'blockdev-snapshot' ? lookup(p, a.node, a.node) : lookup(p, a.device, a.nodeName);
  const blocked = opBlocker(p, oldBs, 'external-snapshot');
  if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, oldBs)}' is busy: ${blocked}`);

  let overlay: string;
  if (a.kind === 'blockdev-snapshot') {
    // bdrv_open(NULL, snapshot_ref, …): a reference to an existing node
    if (!p.node(a.overlay)) throw new QmpError(`Cannot find device='${a.overlay}' nor node-name='${a.overlay}'`);
    overlay = a.overlay;
  } else {
    const format = a.format ?? 'qcow2';
    if (a.nodeName !== undefined && a.snapshotNodeName === undefined) throw new QmpError('New overlay node-name missing');
    // bdrv_lookup_bs(snapshot_node_name, snapshot_node_name): a legacy drive's name is in use too
    if (a.snapshotNodeName !== undefined && (p.node(a.snapshotNodeName) || blkByName(p, a.snapshotNodeName))) throw new QmpError('New overlay node-name already in use');
    const old = p.node(oldBs)!;
    if ((a.mode ?? 'absolute-paths') !== 'existing') {
      // bdrv_refresh_filename(state->old_bs) first: an earlier action of the same transaction
      // may have changed the names below (a blockdev-snapshot under a snapshot-access node makes
      // its name the overlay's json: name), and the model otherwise refreshes names only once the
      // command is done (seed 1189349567)
      refreshFilenames(p);
      // bdrv_img_create(new_image_file, format, old filename, old format, size of old): the old
      // node's bs->filename, its json: pseudo-filename when it has no plain one
      const backing = pseudoFilename(p, oldBs);
      // flags hold BDRV_O_NO_BACKING: no backing open; size = bdrv_getlength(state->old_bs)
      bdrvImgCreate(p, { file: a.snapshotFile, format, size: getLength(p, oldBs), backing: { name: backing, format: old.driver } });
    }
    // bdrv_open(new_image_file, NULL, {driver, node-name}, old flags | BDRV_O_NO_BACKING)
    const opts: Record<string, unknown> = {
      driver: format, file: { driver: 'file', filename: a.snapshotFile }, backing: null,
      ...(a.snapshotNodeName !== undefined ? { 'node-name': a.snapshotNodeName } : {}),
    };
    // not a monitor reference: once clean drops the open's own, the graph alone holds the overlay
    // the old node's open flags stand as the options a child inherits (update_options_from_flags);
    // force-share is an option, not an open flag, so the overlay does not get it (found by the
    // fuzzer: the overlay of a force-share node shares only what a read-only qcow2 shares, and
    // takes its image lock accordingly: 'Failed to get shared "write" lock')
    // flags = state->old_bs->open_flags: BDRV_O_INACTIVE too, so the overlay of an inactive node
    // is opened inactive (its file node takes no lock: raw_handle_perm_lock; fuzz --qemu 10.0 1595077198)
    // (update_options_from_flags: BDRV_O_NOCACHE and BDRV_O_NO_FLUSH too — a snapshot=on drive's
    // temporary overlay passes its cache.no-flush on to the new overlay)
    const cacheFlags: Record<string, unknown> = {};
    for (const k of ['cache.direct', 'cache.no-flush']) if (old.options[k] !== undefined) cacheFlags[k] = old.options[k];
    overlay = openNode(p, opts, { parentOptions: { 'read-only': old.ro ? 'on' : 'off', ...cacheFlags } as never, parent: '', role: 'child', ...(isInactive(p, oldBs) ? { inactive: true } : {}) }).name;
    // until external_snapshot_clean the new overlay's file keeps its image lock, also while the
    // aborts run (graph/held-overlay-lock.ts; fuzz 3033561078). Registered before this action's
    // own abort residue, it runs after it: every abort of the rolled-back state is in place
    const held = heldOverlayLock(p, overlay);
    if (held) onAbortResidue(held);
  }
  // a parent that already reads the overlay would see its contents change
  if (cumulative(p, overlay).perm & PERM_R) throw new QmpError('The overlay is already in use');
  if (isFilter(p, overlay)) throw new QmpError('Filters cannot be used as overlays');
  if (cowChild(p, overlay)) throw new QmpError('The overlay already has a backing image');
  if (!driverInfo(p.node(overlay)!.driver)?.supportsBacking) throw new QmpError('The overlay does not support backing images');
  // external_snapshot_action (10.0): an active overlay over an inactive old node is inactivated
  // first ("for compatibility": bdrv_inactivate; graph/inactive.ts), before bdrv_append; 7.2's
  // external_snapshot_prepare appends it as it is, active (rule snapshot-overlay-inactivated)
  const inactivated = rule(p, 'snapshot-overlay-inactivated') && isInactive(p, oldBs) && !isInactive(p, overlay);
  if (inactivated) bdrvInactivate(p, overlay);
  // bdrv_inactivate is no transaction and external_snapshot_abort does not activate the overlay
  // again: it stays inactive when the append or a later action fails (fuzz --qemu 10.0
  // 4044750412: the overlay's file link then shares write and resize, bdrv_child_perm of an
  // inactive node). A residue runs before those registered earlier, after those registered later:
  // registered at the failure of the append, or last of this action's residues.
  const keepInactive = (q: Proc) => {
    if (!q.node(overlay) || isInactive(q, overlay)) return;
    // (it succeeded in the prepare; an earlier action's undone changes could make it refuse now)
    q.d.attempt(() => bdrvInactivate(q, overlay), (e) => e instanceof QmpError);
  };
  // bdrv_append: on 10.0 a compress old top hangs QEMU even where the append then fails (graph/replace.ts)
  refuseAppendHang(p, oldBs);
  // bdrv_set_file_or_backing_noperm (via bdrv_append): found by fuzzing, node == overlay made a self-loop
  if (reaches(p, oldBs, overlay)) throw new QmpError(`Making '${oldBs}' a backing child of '${overlay}' would create a cycle`);

  // bdrv_append's attach polls a drain in the overlay's iothread (fuzz 1422096404, 7.2 abort)
  refuseSnapshotIntoBusyIothread(p, oldBs, overlay);
  // external_snapshot_abort's drain of the overlay waits for ever on a copying backup above the
  // old node (fuzz 1693346616, 7.2 and 10.0 hang): refused if the transaction then fails. Only
  // once bdrv_append succeeded (state->overlay_appended): an append that fails (its own
  // bdrv_refresh_perms: a read-only overlay under the backup's writing filter, 'Block node is
  // read-only') is undone inside bdrv_append by tran_finalize, and external_snapshot_abort then
  // skips the bdrv_replace_node whose drain hangs (fuzz 3394175745). Judged on the graph before
  // the append (the backup's filter is a parent of the old node there).
  const hang = refuseAbortOverCopyingBackup(p, oldBs, overlay);
  p.step('append');
  const ctxBefore = { old: p.node(oldBs)!.aio, overlay: p.node(overlay)!.aio };
  // (bdrv_append's attach reconciles the AioContexts: graph/replace.ts appendNode)
  // fuzz 1593594901 (7.2 abort): external_snapshot_prepare holds only the old node's AioContext
  // (the main loop's). bdrv_attach_child_common moves the old node's subtree into the overlay's
  // iothread (bdrv_try_change_aio_context, old context held: fine); when bdrv_append then fails
  // (its bdrv_refresh_perms: a read-only overlay under a writer, 'Block node is read-only'),
  // tran_abort's bdrv_attach_child_common_abort moves it back out of the iothread, whose lock the
  // main thread never took: qemu_mutex_unlock_impl: Operation not permitted. The other way round
  // (old node in the iothread, overlay in the main loop) holds the right locks and answers the
  // error (abort-31-snapshot-append-fails-overlay-in-iothread-survives). 10.0 has no AioContext lock.
  const oldMovesIntoIothread = rule(p, 'aio-context-lock-aborts') && ctxBefore.old === MAIN_CONTEXT &&
    ctxBefore.overlay !== MAIN_CONTEXT && !planMove(p, { kind: 'node', node: oldBs }, ctxBefore.overlay).error;
  // the parents bdrv_append moves to the overlay (bdrv_replace_node_noperm, auto-skip), oldest first
  const appendMoved = p.parents(oldBs).filter((c) => shouldUpdateChild(p, c, overlay)).map((c) => c.id).reverse();
  try {
    // a refresh that fails after the parents moved leaves them at the head of their lists (fuzz 1033366190)
    appendNode(p, overlay, oldBs, (moved) => onAbortResidue((q) => {
      for (const id of moved) { const c = q.edge(id); if (c && c.child === oldBs) retarget(q, id, oldBs); }
    }));
    // 10.0's bdrv_append ends with bdrv_graph_wrunlock, which runs the main loop's pending bottom
    // halves (aio_bh_poll): the drop_resize_bh a preallocate filter that lost its writer scheduled
    // in the append's permission refresh runs now, not after the command, so a later action of the
    // same transaction finds its file's write lock given up (fuzz 3033561078's neighbour,
    // abort-39-txn-snapshot-sync-existing-lock-survives). 7.2 has no such bottom half (rule
    // 'preallocate-drop-resize-bh': there preallocateDropResizeBh only keeps the flag)
    preallocateDropResizeBh(p);
  } catch (e) {
    if (inactivated) onAbortResidue(keepInactive);
    if (oldMovesIntoIothread && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && !(e instanceof QemuHangRefusal)) {
      throw new QemuAbortRefusal(
        `Appending '${oldBs}' to overlay '${overlay}' moves it into iothread '${ctxBefore.overlay}' and then fails (${e.desc}): ` +
        'the rollback moves it back without that iothread\'s lock (QEMU 7.2 aborts here: bdrv_attach_child_common_abort -> ' +
        'bdrv_try_change_aio_context: qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
        'bdrv_attach_child_common_abort',
      );
    }
    throw e;
  }
  if (hang) onAbortResidue(hang);
  // state->overlay_appended: external_snapshot_abort does not restore the graph it found. It
  // drops the overlay's backing (bdrv_set_backing_hd(new_bs, NULL)) and then moves EVERY parent of
  // the overlay to the old node (bdrv_replace_node(new_bs, old_bs), auto-skip): the parents the
  // append gave it go back, but so do the ones it had before the transaction (a snapshot-access
  // node or an export over a blockdev-add'ed overlay, a read-only overlay's backing parent), which
  // end up on the old node. On the rolled-back state that is a bdrv_replace_node of the overlay's
  // own parents. QEMU passes &error_abort: any error of that bdrv_replace_node (a permission
  // conflict, a node that became read-only under a writer, a frozen link) kills the daemon
  // ("Unexpected error in bdrv_a_allow_b()" / "in bdrv_node_refresh_perm()": fuzz seeds
  // 1939925021, 3299987652), so the model refuses the whole command with that reason.
  // Even with no parent to move, bdrv_replace_node_common refreshes the permissions below both
  // nodes (bdrv_list_refresh_perms over bdrv_topological_dfs of to = old_bs, then from = new_bs):
  // every child edge below the old node is recomputed on the graph as it now is. The rollback
  // alone would bring back edge perms QEMU never restores: bdrv_append's own refresh (committed
  // inside bdrv_append) already recomputed them, and the abort recomputes them again; an edge
  // that still held perms from an older graph (bdrv_child_perm's force_share of a child since
  // replaced under it) is now computed for its present child (fuzz 1845702988). A
  // blockdev-snapshot-sync overlay is gone on the rolled-back state: only the old node is left.
  onAbortResidue((q) => {
    if (!q.node(oldBs)) return;
    // The parents the append moved come back through bdrv_replace_child_noperm, whose detach and
    // attach callbacks (bdrv_child_cb_detach/attach) take each BdrvChild out of its parent's
    // bs->children and put it back at the head (QLIST_INSERT_HEAD), and at the head of the old
    // node's bs->parents: the rollback alone would keep them where they were. The abort walks the
    // overlay's parents from the head, where the append put the last one it moved (the oldest),
    // so they come back oldest first and keep their order among themselves, now newest of all
    // (x-debug-query-block-graph lists a parent's children in that order: fuzz 3283583102, a
    // quorum's child snapshotted in a failed transaction, 7.2 and 10.0 alike).
    for (const id of appendMoved) { const c = q.edge(id); if (c && c.child === oldBs) retarget(q, id, oldBs); }
    const withOverlay = q.node(overlay) !== undefined;
    let err: QmpError | undefined;
    const move = withOverlay && q.parents(overlay).length > 0;
    const run = move
      ? () => replaceNode(q, overlay, oldBs)
      : () => refreshPerms(q, withOverlay ? [overlay, oldBs] : [oldBs]);
    if (q.d.attempt(run, (e) => (err = e as QmpError) instanceof QmpError)) return;
    throw new QemuAbortRefusal(
      `${err!.desc} (QEMU aborts here: external_snapshot_abort moves the parents of overlay '${overlay}' back to ` +
      `'${oldBs}' with bdrv_replace_node(..., &error_abort) after the transaction failed); refused by blockgraph`,
      'external_snapshot_abort',
    );
  });
  // bdrv_append's attach moved one side into the other's AioContext (bdrv_attach_child_common ->
  // bdrv_try_change_aio_context, a Transaction committed on the spot), and external_snapshot_abort
  // does not move it back: bdrv_set_backing_hd(new_bs, NULL) drops the link with
  // bdrv_remove_child, which changes no context, and its "return it to the AioContext it was
  // before" compares with old_bs's context read after the move. So a node appended to an overlay
  // in an iothread stays in that iothread, parentless, after the transaction failed (fuzz
  // 672040825: a later blockdev-add over it is crash 5 on 7.2). Registered last so that it runs
  // first (residues run last-registered first): the move came before the abort's bdrv_replace_node.
  const movedSide = p.node(oldBs)!.aio !== ctxBefore.old ? oldBs : p.node(overlay)!.aio !== ctxBefore.overlay ? overlay : undefined;
  if (movedSide !== undefined) {
    const ctx = p.node(movedSide)!.aio;
    onAbortResidue((q) => keepMove(q, movedSide, ctx));
  }
  if (inactivated) onAbortResidue(keepInactive);
  return {
    // external_snapshot_commit: the old top becomes read-only (errors ignored)
    commit: () => setReadOnly(p, oldBs, true, { ignoreErrors: true, always: true }),
    // external_snapshot_clean: bdrv_unref(new_bs) — an overlay nothing uses (its old top had no
    // parents to hand over) is closed again; a blockdev-add'ed overlay keeps the monitor's reference
    clean: () => { if (p.node(overlay)) unrefIfUnused(p, overlay); },
  };
}
