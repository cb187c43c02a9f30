// The pieces every block job is built from: the job's own edges (block_job_add_bdrv, always
// with perm/shared fixed by the job, §2.2), its BlockBackends (blk_new + blk_insert_bs), the
// internal filter nodes (commit_top, mirror_top) and the read-only flips jobs do by reopening.
import { cloneShallow, withBucketOrder } from '../reopen/qdict.js';
import { noteJobAttach } from './attach-residue.js';
import { reopenBitmapsRo, reopenBitmapsRw } from '../bitmaps.js';
import { QmpError } from '../../errors/index.js';
import { registerDriver, defaultPerms, driverInfo, opensAsProtocol } from '../drivers.js';
import { assignNodeName, attachChild, detachChild, newNode, tryRefresh, unrefIfUnused } from '../ops.js';
import { PERM_ALL, PERM_R, PERM_W } from '../perm.js';
import type { Proc } from '../proc.js';
import { refreshPerms } from '../refresh.js';
import type { BdsNode, Job } from '../types.js';
import { attachAcrossContexts, jobContext, tryMoveToContext } from '../aio.js';
import { explicitOptionsOf } from '../options.js';
import { drained } from '../drain.js';
import { ReopenQueue } from '../reopen/queue.js';
import { leakQueueDrains, queueLeakResidue } from '../reopen/drain-leak.js';
import { QmpErrorAfterAbort } from '../abort-residue.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { refreshedLength } from '../reopen/commit.js';
import { rule } from '../rules.js';
import { preallocateReopenRoDrop } from '../preallocate-bh.js';
import { refuseUnlockedPreallocTruncate } from '../preallocate-truncate.js';

// mirror_top (bdrv_mirror_top_child_perm): default perms while running; an active commit
// drops consistent read and shares write; once the job stops it forwards nothing.
registerDriver('mirror_top', {
  kind: 'filter', supportsBacking: true, reopen: false,
  childPerm: (c) => {
    const x = (c.node.extra ?? {}) as { stop?: boolean; isCommit?: boolean };
    if (x.stop) return { perm: 0, shared: PERM_ALL };
    const d = defaultPerms(c);
    if (x.isCommit) return { perm: d.perm & ~PERM_R, shared: d.shared | PERM_W };
    return d;
  },
});

/** block_job_add_bdrv: a `child_job` edge with the job's fixed perms. */
export function addJobEdge(p: Proc, job: string, node: string, name: string, perm: number, shared: number): void {
  // bdrv_root_attach_child -> bdrv_attach_child_common: the node's component moves into the job's
  // context, else the job (child_job_change_aio_ctx: with all its nodes) into the node's
  attachAcrossContexts(p, { kind: 'job', job }, node);
  attachChild(p, { kind: 'job', job }, node, name, 0, { perm, shared });
  noteJobAttach(p, node);
}

/** block_job_remove_all_bdrv */
export function removeJobEdges(p: Proc, job: string): void {
  for (const e of p.children({ kind: 'job', job }).reverse()) {
    const child = e.child;
    detachChild(p, e.id);
    if (p.node(child)) tryMoveToContext(p, child, 'main');
  }
}

/** blk_new + blk_insert_bs for a job: an unnamed BlockBackend with a `root` edge. */
export function addJobBB(p: Proc, job: string, role: string, node: string, perm: number, shared: number, allowAioChange: boolean): string {
  const id = 'bb' + p.nextSeq();
  // blk_new(job->job.aio_context, …), then blk_insert_bs -> bdrv_root_attach_child ->
  // bdrv_attach_child_common: the node moves into the BlockBackend's context, else (where it allows
  // changes) the BlockBackend into the node's
  p.putBB({ id, owner: { kind: 'job', id: job, role }, perm, shared, allowAioChange, aio: jobContext(p.job(job)), at: p.meta().seq });
  attachAcrossContexts(p, { kind: 'bb', bb: id }, node);
  attachChild(p, { kind: 'bb', bb: id }, node, 'root', 0, { perm, shared });
  noteJobAttach(p, node);
  return id;
}

/**
 * blk_unref of a job BlockBackend: its node's perms relax (errors ignored). The last reference
 * drains the node twice first (blk_unref -> blk_drain, then blk_delete -> blk_remove_bs ->
 * blk_drain): two drained sections, each pausing and resuming every job above the node, so a
 * speed-limited job over the same chain is woken twice (a stream into a lower layer finishing
 * under a throttled stream: combo-c1-two-jobs-wake).
 */
export function removeJobBB(p: Proc, bbId: string | undefined | null): void {
  if (!bbId || !p.bb(bbId)) return;
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (root) {
    drained(p, [root.child], false, () => undefined);
    drained(p, [root.child], false, () => undefined);
  }
  p.delBB(bbId);
  if (root) detachChild(p, root.id);
}

/** blk_set_perm on a job BlockBackend. */
export function setJobBBPerm(p: Proc, bbId: string, perm: number, shared: number): void {
  const bb = p.bb(bbId);
  if (!bb) return;
  p.putBB({ ...bb, perm, shared });
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (root) {
    p.patchEdge(root.id, { perm, shared });
    tryRefresh(p, [root.child]);
  }
}

/** bdrv_new_open_driver for commit_top / mirror_top: a named or implicit internal filter. */
export function newJobFilter(p: Proc, driver: 'commit_top' | 'mirror_top', name: string | undefined, init: Partial<BdsNode>): BdsNode {
  const { name: n, auto } = assignNodeName(p, name);
  return newNode(p, { name: n, auto, driver, implicit: name === undefined, neverFreeze: true, options: { driver, 'node-name': n }, ...init });
}

/**
 * bdrv_reopen_set_read_only for the jobs' own flips (stream target, commit base, snapshot's
 * old top): the node and the children it opened itself follow; perms are refreshed.
 */
export function setReadOnly(p: Proc, node: string, ro: boolean, opts: { ignoreErrors?: boolean; always?: boolean } = {}): void {
  // the qcow2 entries qcow2_reopen_prepare took to read-only before an entry failed
  const prepared: string[] = [];
  // the drained sections the queue leaves (10.0), kept when the reopen fails: bdrv_reopen_multiple
  // ends with bdrv_reopen_queue_free on its failure path too (fuzz --qemu 10.0 3518894937)
  let leak: ((s: Proc) => void) | undefined;
  const run = () => {
    prepared.length = 0;
    leak = undefined;
    const touched: string[] = [];
    const top = p.node(node);
    // the jobs ask only when the flag differs (commit_start, stream_prepare, …: if
    // bdrv_is_read_only); external_snapshot_commit calls bdrv_reopen_set_read_only unconditionally
    // (`always`), so an old top already read-only still passes read-only down to its children
    // (found by fuzz --against vm seed 42: a file node reopened read-write on its own)
    if (!top || (top.ro === ro && !opts.always)) return;
    // bdrv_reopen_queue_child queues the node, then (depth first, in bs->children order: newest
    // attach or replacement first) every child whose inherits_from is its parent; a child
    // reached twice is queued again, the later parent's inheritance winning (a node that is both
    // `file` and `backing` of its parent ends with the role listed last). bdrv_reopen_multiple
    // runs bdrv_reopen_prepare on each entry in that order; one whose read-only does not change
    // still goes through prepare.
    const q = new ReopenQueue(p);
    q.addKeepOld(node, { 'read-only': ro });
    // bdrv_reopen_queue_free: a node queued twice stays drained on 10.0 (graph/reopen/drain-leak.ts)
    leakQueueDrains(p, q);
    leak = queueLeakResidue(p, q);
    for (const entry of q.entries) {
      const name = entry.node;
      const n = p.node(name);
      if (!n) continue;
      // bdrv_reopen_prepare: a driver without .bdrv_reopen_prepare (quorum, copy-on-read, ...)
      // refuses the whole queue, the same text blockdev-reopen gives (graph/reopen/prepare.ts);
      // external_snapshot_commit ignores that error, so the old node stays read-write
      if (!driverInfo(n.driver)?.reopen) {
        throw new QmpError(`Block format '${n.driver}' used by node '${n.name}' does not support reopening files`);
      }
      // bdrv_reset_options_allowed: 10.0's bdrv_runtime_opts absorbs `active` out of the queued
      // options, and common_options lacks it: a node given `active` is never reopened (an
      // inactive old top of blockdev-snapshot stays read-write; graph/reopen/drivers.ts)
      if (n.options && 'active' in n.options) throw new QmpError("Option 'active' cannot be reset to its default value");
      // bdrv_reopen(keep_old_opts) queues the node's explicit options: a force-share given at
      // blockdev-add (a QBool) is absorbed and put back as the string "on" by bdrv_reopen_prepare,
      // whose final unchanged-options check then refuses it; and so does one the node or a
      // queued child inherited into bs->options (bdrv_inherited_options copies the parent's
      // QBool: bdrv_reopen_queue_child joins it back)
      if ((name === node && explicitOptionsOf(n)['force-share'] !== undefined) || typeof n.options?.['force-share'] === 'boolean') {
        throw new QmpError("Cannot change the option 'force-share'");
      }
      const nro = entry.ro;
      // qcow2_reopen_prepare runs qcow2_reopen_bitmaps_ro for every queued node whose new flags
      // lack BDRV_O_RDWR, also one that was read-only already (an inherited backing child): a
      // persistent bitmap added to such a node at runtime cannot be stored ("No write access"),
      // which fails the whole queue (found by the fuzzer: the snapshot's old node stayed read-write)
      if (nro && n.driver === 'qcow2') {
        reopenBitmapsRo(p, name);
        prepared.push(name);
      }
      // preallocate_reopen_prepare to read-only (10.0): preallocate_drop_resize before the
      // queue's permission update (graph/preallocate-bh.ts)
      if (nro && n.driver === 'preallocate') preallocateReopenRoDrop(p, name);
      // raw_reopen_prepare's raw_reconfigure_getfd: a new access mode opens the file again by
      // name, which a snapshot=on overlay's unlinked file no longer has (graph/reopen/drivers.ts)
      if (n.driver === 'file' && n.unlinked && nro !== n.ro) throw new QmpError('Could not reopen file: No such file or directory');
      if (nro === n.ro) {
        // bdrv_reopen_commit replaces bs->explicit_options with the entry's even when the flag
        // does not change: external_snapshot_commit's reopen of an old top that is read-only
        // already makes its `read-only: true` explicit, so a later reopen of a parent that
        // passes read-write down no longer changes it (seed 2872860966: block-stream's
        // bdrv_reopen_set_read_only of the overlay then fails with `Block node is read-only`)
        if (name === node && explicitOptionsOf(n)['read-only'] !== nro) {
          p.patchNode(name, { options: { ...n.options, 'read-only': nro }, explicit: { ...explicitOptionsOf(n), 'read-only': nro } });
        }
        continue;
      }
      // qcow2_reopen_commit_post: persistent bitmaps writable again
      // the reopened node gets the option explicitly; its children inherit it into their
      // effective options (bdrv_inherited_options copies read-only into bs->options, not
      // explicit_options), where a later reopen keeping the child by reference finds it again
      // (bdrv_reopen_queue_child: keep_old joins bs->options)
      p.patchNode(name, name === node
        ? { ro: nro, options: { ...n.options, 'read-only': nro }, explicit: { ...explicitOptionsOf(n), 'read-only': nro } }
        : { ro: nro, options: { ...n.options, 'read-only': nro } });
      if (!nro && n.driver === 'qcow2') reopenBitmapsRw(p, name);
      touched.push(name);
    }
    // bdrv_reopen_commit: every entry's bs->options becomes bdrv_reopen_prepare's
    // qdict_clone_shallow of the queued options and bs->explicit_options the queued
    // explicit_options, changed or not: the values stay the model's, their key order is QEMU's,
    // which a json: pseudo-filename shows (blkdebug's inject-error.0.event and .errno swap at
    // external_snapshot_commit's reopen: fuzz --qemu 10.0 2858682111)
    for (const entry of q.entries) {
      const e = p.node(entry.node);
      if (!e) continue;
      const options = withBucketOrder(e.options, Object.keys(cloneShallow(entry.options)));
      const explicit = e.explicit && withBucketOrder(e.explicit, Object.keys(entry.explicit));
      if (options !== e.options || explicit !== e.explicit) p.patchNode(entry.node, { options, ...(explicit ? { explicit } : {}) });
    }
    // bdrv_reopen_commit stores every entry's flags in bs->open_flags, BDRV_O_PROTOCOL cleared by
    // bdrv_reopen_queue_child (drive-backup's target reads it: commands/drive-backup.ts)
    for (const entry of q.entries) {
      const e = p.node(entry.node);
      if (e && opensAsProtocol(e.driver) && !e.protocolCleared) p.patchNode(entry.node, { protocolCleared: true });
    }
    // 10.0: every committed entry, changed or not, ends bdrv_reopen_commit with
    // bdrv_refresh_total_sectors (rule 'reopen-refreshes-length'), children first: a blkdebug
    // that external_snapshot_commit reopens after the same transaction's blockdev-snapshot moved
    // its image onto a 16 MiB overlay takes that length (fuzz 2605869139)
    if (rule(p, 'reopen-refreshes-length')) {
      for (const entry of [...q.entries].reverse()) {
        const fresh = refreshedLength(p, entry.node);
        if (fresh !== undefined && fresh !== p.node(entry.node)?.size) p.patchNode(entry.node, { size: fresh });
      }
    }
    if (touched.length) refreshPerms(p, [node]);
    // bdrv_reopen released the node's AioContext lock around bdrv_reopen_multiple (7.2)
    refuseUnlockedPreallocTruncate(p, q.entries.map((e) => e.node));
  };
  // bdrv_reopen: bdrv_subtree_drained_begin(bs) around the reopen
  drained(p, [node], true, () => {
    if (!opts.ignoreErrors) {
      try {
        return p.d.atomically(run);
      } catch (e) {
        if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal || !leak) throw e;
        // the rollback dropped them: kept here for a caller that goes on, and as the residue of
        // the command that fails with it (graph/abort-residue.ts)
        const kept = leak;
        kept(p);
        const inner = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
        throw new QmpErrorAfterAbort(e.desc, e.cls, (s) => { inner?.(s); kept(s); });
      }
    }
    if (p.d.attempt(run, (e) => e instanceof QmpError && !(e instanceof QemuAbortRefusal))) return;
    leak?.(p);
    // bdrv_reopen_multiple's abort path (qcow2_reopen_abort) leaves what qcow2_reopen_bitmaps_ro
    // did to the entries prepared before the failing one: their persistent bitmaps stay stored
    // and readonly (fuzz 2656483613: a snapshot's old top over a copy-on-read filter, which
    // cannot reopen; a later block-dirty-bitmap-remove is refused). As blockdev-reopen's residue
    // (commands/blockdev-reopen.ts reopenResidue).
    for (const name of [...prepared]) {
      if (p.node(name)?.driver !== 'qcow2') continue;
      p.d.attempt(() => reopenBitmapsRo(p, name), (e) => e instanceof QmpError);
    }
  });
}

export function jobData<T = Record<string, unknown>>(j: Job): T {
  return j.data as T;
}

/** bdrv_ref: a reference held outside the graph's edges (a job's s->bs), counted by refcount(). */
export function addRef(p: Proc, node: string): void {
  const n = p.node(node);
  if (!n) return;
  const refs = Number((n.extra as { refs?: number } | undefined)?.refs ?? 0);
  p.patchNode(node, { extra: { ...(n.extra ?? {}), refs: refs + 1 } });
}

export function dropRef(p: Proc, node: string | null | undefined): void {
  if (!node || !p.node(node)) return;
  const n = p.node(node)!;
  const refs = Number((n.extra as { refs?: number } | undefined)?.refs ?? 0);
  if (refs > 0) p.patchNode(node, { extra: { ...(n.extra ?? {}), refs: refs - 1 } });
  unrefIfUnused(p, node);
}
