// Executes a blockdev-reopen as the reopen statechart decides: prepare each entry, refresh
// permissions once for the whole queue, commit in reverse order, release replaced children.
// Each phase is a logged step, so a crash after any of them recovers to before or after the
// whole reopen (the engine compensates the steps of an undecided transaction).
import { QmpError } from '../../errors/index.js';
import { commitOrder, reopenNext, reopenStart, type ReopenSnapshot } from '../../machines/reopen.js';
import { refcount } from '../ops.js';
import type { Proc } from '../proc.js';
import { refreshPerms } from '../refresh.js';
import { cleanupEntry, commitEntry } from './commit.js';
import { prepareEntry, type PreparedEntry, type ReopenResidue } from './prepare.js';
import { ReopenQueue, type QueueEntry } from './queue.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { refuseCloseInIothread } from '../aio.js';
import { rule } from '../rules.js';
import { leakQueueDrains } from './drain-leak.js';
import { refuseUnlockedPreallocTruncate } from '../preallocate-truncate.js';
import { attachAbortRefusal } from './attach-abort.js';

/**
 * A failed reopen that leaves something behind (ReopenResidue): the qcow2 nodes whose prepare ran
 * qcow2_reopen_bitmaps_ro (bitmaps stored, persistent ones readonly; qcow2_reopen_abort does not
 * undo it), and the replaced child links tran_abort re-attached at the head of their lists.
 * The caller applies that on the state before the command (commands/blockdev-reopen.ts).
 */
export class ReopenFailedResidue extends QmpError {
  constructor(e: QmpError, readonly residue: ReopenResidue) {
    super(e.desc, e.cls);
    this.name = 'ReopenFailedResidue';
  }
}

/** Drivers whose RO->RW prepare writes through the file child (qcow2: bitmap IN_USE flags). */
const NEEDS_RW_FILE_CHILD = new Set(['qcow2']);

/**
 * Seed 000: a node going read-only -> read-write whose driver writes to its file child while
 * preparing needs that child's entry (and whatever that entry needs in turn) done first.
 * Otherwise QEMU's queue order is kept (parents before their implicit children).
 */
export function dependencyOrder(p: Proc, entries: readonly QueueEntry[]): QueueEntry[] {
  const out: QueueEntry[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const byNode = new Map(entries.map((e) => [e.node, e]));
  const place = (e: QueueEntry): void => {
    if (placed.has(e.node) || visiting.has(e.node)) return;
    visiting.add(e.node);
    const n = p.node(e.node);
    if (n && NEEDS_RW_FILE_CHILD.has(n.driver) && n.ro && !e.ro) {
      const f = p.fileChild(e.node);
      const fe = f ? byNode.get(f.child) : undefined;
      if (fe) place(fe);
    }
    visiting.delete(e.node);
    placed.add(e.node);
    out.push(e);
  };
  for (const e of entries) place(e);
  return out;
}

/** bdrv_reopen_queue over every list element; QMP-level errors (unknown node…) come from here. */
export function buildQueue(p: Proc, list: readonly Record<string, unknown>[]): ReopenQueue {
  const q = new ReopenQueue(p);
  for (const o of list) q.addListed(o);
  return q;
}

export interface ReopenRun {
  snapshot: ReopenSnapshot;
  prepared: PreparedEntry[];
}

/**
 * Runs the machine over `order`. `log`: name a Draft step per phase (not inside a savepoint).
 * Throws the first QEMU error; the caller's Draft/savepoint undoes everything (tran_abort).
 */
export function execute(p: Proc, order: readonly QueueEntry[], log: boolean, drained?: readonly string[]): ReopenRun {
  const step = (name: string) => { if (log) p.step(name); };
  let linksChanged = false;
  let s = reopenNext(reopenStart(), { type: 'BUILT', order: order.map((e) => e.node) });
  const byNode = new Map(order.map((e) => [e.node, e]));
  const prepared = new Map<string, PreparedEntry>();
  const residue: ReopenResidue = { frozen: [], detached: [] };
  const left = () => residue.frozen.length > 0 || residue.detached.length > 0 || (residue.preallocDropped?.length ?? 0) > 0;
  const fail = (err: unknown): unknown => {
    // 7.2: tran_abort moving an attached child back out of an iothread aborts (graph/reopen/attach-abort.ts)
    if (err instanceof QmpError && !(err instanceof QemuAbortRefusal) && residue.movedIn?.length) return attachAbortRefusal(err, residue.movedIn[0]!);
    return err instanceof QmpError && !(err instanceof QemuAbortRefusal) && left() ? new ReopenFailedResidue(err, residue) : err;
  };
  for (;;) {
    if (s.matches('preparing')) {
      const e = byNode.get(s.context.order[s.context.index]!)!;
      step(`reopen prepare ${e.node}`);
      try {
        if (drained && linksChanged) refuseUndrainedEntry(p, e.node, drained);
        const pr = prepareEntry(p, e, residue);
        prepared.set(e.node, pr);
        if (pr.oldBacking || pr.oldFile) linksChanged = true;
      } catch (err) {
        s = reopenNext(s, { type: 'FAILED', error: errText(err) });
        throw fail(err);
      }
      s = reopenNext(s, { type: 'PREPARED' });
    } else if (s.matches('refreshing')) {
      step('reopen refresh-perms');
      // bdrv_reopen_multiple's refresh list: each queued node, then its old backing, then its old
      // file, in queue order. 7.2 runs bdrv_topological_dfs from each in that order (the first
      // entry's subtree comes first); 10.0 g_slist_prepend's them and bdrv_list_refresh_perms runs
      // the DFS over that reversed list (rule 'reopen-refresh-list-order').
      const roots: string[] = [];
      for (const e of order) {
        const pr = prepared.get(e.node)!;
        roots.push(e.node);
        if (pr.oldBacking) roots.push(pr.oldBacking);
        if (pr.oldFile) roots.push(pr.oldFile);
      }
      if (rule(p, 'reopen-refresh-list-order') === 'prepended') roots.reverse();
      try {
        refreshPerms(p, roots.filter((r) => p.node(r)), { newRo: new Map(order.map((e) => [e.node, e.ro])) });
      } catch (err) {
        s = reopenNext(s, { type: 'FAILED', error: errText(err) });
        throw fail(err);
      }
      try {
        // where QEMU dies in tran_commit or after it: no abort ran, nothing is left behind
        refuseClosesInIothread(p, order, prepared);
        // qmp_blockdev_reopen holds no AioContext lock around bdrv_reopen_multiple (7.2)
        refuseUnlockedPreallocTruncate(p, order.map((e) => e.node));
        refuseUseAfterFree(p, order, [...prepared.values()]);
      } catch (err) {
        s = reopenNext(s, { type: 'FAILED', error: errText(err) });
        throw err;
      }
      s = reopenNext(s, { type: 'PERMS_OK' });
    } else if (s.matches('committing')) {
      step('reopen commit');
      for (const node of commitOrder(s)) commitEntry(p, byNode.get(node)!, prepared.get(node)!);
      s = reopenNext(s, { type: 'COMMITTED' });
    } else if (s.matches('cleaning')) {
      step('reopen cleanup');
      for (const e of order) cleanupEntry(p, prepared.get(e.node)!);
      s = reopenNext(s, { type: 'CLEANED' });
    } else if (s.matches('rejected')) {
      throw new QmpError(s.context.error ?? 'blockdev-reopen refused');
    } else return { snapshot: s, prepared: [...prepared.values()] };
  }
}

/**
 * The replaced children are unreferenced by tran_commit (bdrv_set_file_or_backing_noperm ->
 * bdrv_remove_child -> bdrv_replace_child_tran, whose commit bdrv_unref's the old child), so a
 * child that thereby closes in an iothread aborts 7.2 only once bdrv_list_refresh_perms has
 * passed: every prepare error and the queue's permission errors come first (fuzz seed
 * 3010319604: `backing: null` with `read-only: true` on a node with a writing parent answers
 * QEMU's "Read-only block node ... cannot support read-write users"). The old link is gone by
 * now, so the child closes when nothing else (another entry's new link included) holds it.
 */
function refuseClosesInIothread(p: Proc, order: readonly QueueEntry[], prepared: ReadonlyMap<string, PreparedEntry>): void {
  // tran_commit runs the actions last-added first: the last entry's file change first
  for (const e of [...order].reverse()) {
    const pr = prepared.get(e.node);
    if (!pr) continue;
    if (pr.oldFile && p.node(pr.oldFile)) refuseCloseInIothread(p, e.node, pr.oldFile, 'file', refcount(p, pr.oldFile) === 0);
    if (pr.oldBacking && p.node(pr.oldBacking)) refuseCloseInIothread(p, e.node, pr.oldBacking, 'backing', refcount(p, pr.oldBacking) === 0);
  }
}

/**
 * QEMU 7.2 takes no reference on the queued nodes: a replaced child whose last reference was
 * the parent's link is freed by tran_commit (bdrv_replace_child_commit unrefs it), and
 * bdrv_reopen_multiple then runs .bdrv_reopen_commit_post and bdrv_reopen_queue_free over
 * the queue, touching the freed node if it (or a node closed with it) was queued itself.
 * The daemon dies with SIGSEGV (recorded: `[a backing null, b]` with b a's inline backing);
 * the model refuses instead of reaching a state QEMU never reports.
 */
function refuseUseAfterFree(p: Proc, order: readonly QueueEntry[], prepared: readonly PreparedEntry[]): void {
  const closing = new Set<string>();
  const visit = (node: string): void => {
    if (closing.has(node) || !p.node(node)) return;
    const held = p.parents(node).filter((e) => !(e.parent.kind === 'node' && closing.has(e.parent.node))).length;
    if (held > 0 || refcount(p, node) - p.parents(node).length > 0) return;
    closing.add(node);
    for (const c of p.childrenOf(node)) visit(c.child);
  };
  for (const pr of prepared) for (const old of [pr.oldBacking, pr.oldFile]) if (old) visit(old);
  const hit = order.find((e) => closing.has(e.node));
  if (hit) {
    throw new QmpError(
      `Cannot reopen '${hit.node}' in the same blockdev-reopen that closes it ` +
      '(QEMU 7.2 frees it while it is still queued and crashes: segmentation fault)',
    );
  }
}


/**
 * qmp_blockdev_reopen drains each listed node's subtree (bdrv_subtree_drained_begin) before
 * queuing it, and bdrv_reopen_multiple asserts `bs_entry->state.bs->quiesce_counter > 0` before
 * each entry's prepare. Subtree drains follow the links (bdrv_replace_child_noperm ends the old
 * child's share through the detach, the attach applies the new one), so a node is drained
 * exactly while a listed node reaches it. An earlier entry's prepare that moves its file or
 * backing away from a child queued in its own right (an implicit child queued under another
 * listed node, recorded on QSD 7.2: fuzz seed 1321449412, `[n2 (backing n4 kept), n4 file f3]`
 * with n4's inline file queued under n2) leaves that entry undrained: 7.2 aborts. 10.0 drains
 * each queued node itself (bdrv_reopen_queue_child; subtree drains were removed in 8.0) and carries
 * on (graph/rules.ts 'reopen-undrained-entry-aborts').
 * A listed node is its own drain root, so it always passes (crash 6 is what may go wrong then).
 */
function refuseUndrainedEntry(p: Proc, node: string, drained: readonly string[]): void {
  if (!rule(p, 'reopen-undrained-entry-aborts')) return;
  const seen = new Set<string>();
  const todo = drained.filter((n) => p.node(n));
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n === node) return;
    for (const c of p.childrenOf(n)) todo.push(c.child);
  }
  throw new QemuAbortRefusal(
    `Cannot reopen '${node}': an earlier entry of the list detached it, so it is no longer drained ` +
    "(QEMU 7.2 aborts here: bdrv_reopen_multiple: Assertion 'bs_entry->state.bs->quiesce_counter > 0' failed); refused by blockgraph",
    'bdrv_reopen_multiple',
  );
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * qmp_blockdev_reopen. Errors are QEMU's, chosen in QEMU's queue order; when the dependency
 * order differs, a trial run in QEMU's order picks the error before the real run.
 */
export function reopen(p: Proc, list: readonly Record<string, unknown>[], opts: { log?: boolean } = {}): ReopenRun {
  // Callers reopening inside their own savepoint (jobs: bdrv_reopen_set_read_only) pass log: false.
  const log = opts.log ?? true;
  if (list.length === 0) return execute(p, [], false);
  const q = buildQueue(p, list);
  const order = dependencyOrder(p, q.entries);
  // bdrv_reopen_queue_free after the reopen (a failed one: commands/blockdev-reopen.ts)
  const leak = () => leakQueueDrains(p, q);
  // the listed nodes, whose subtrees qmp_blockdev_reopen drains (checked in QEMU's queue order)
  const drained = list.map((o) => String(o['node-name']));
  if (order.some((e, i) => e !== q.entries[i])) {
    // inside a trial, no step is cut: the attaches of a backing change would otherwise finish
    // steps that the rollback then crosses (the issue-12 crash: exit 70 on a failing list)
    p.d.trial(() => execute(p, q.entries, false, drained));
    const run = execute(p, order, log);
    leak();
    return run;
  }
  const run = execute(p, order, log, drained);
  leak();
  return run;
}
