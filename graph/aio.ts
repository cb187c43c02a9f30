// AioContext moves as QEMU 7.2 does them (bdrv_child_try_change_aio_context): one visit
// of the connected component with a visited set of *edges*, parents asked before children,
// a BlockBackend that does not allow changes refusing the whole move, job edges pulling in
// every node the job uses; then every recorded action commits (LIFO) or nothing moves.
// The visit is iterative (graphs of 10k nodes would overflow a recursive one) and O(nodes +
// edges): each frame walks its edge list through a skip array, so visited edges are passed
// over once, even when QEMU's edge-only visited set re-enters a node.
import { rule } from './rules.js';
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import { aioNext, aioStart, type AioTarget } from '../machines/aio-context.js';
import { parentKey } from './draft.js';
import { probeHeld } from './probe.js';
import { drained } from './drain.js';
import type { Proc } from './proc.js';
import type { Edge, Job, ParentRef } from './types.js';

export const MAIN_CONTEXT = 'main';
export const ACTIVE_BB_ERROR = 'Cannot change iothread of active block backend';

export interface MoveOpts {
  /** Log the move as its own step (top-level commands only: a finished step cannot be rolled back). */
  log?: boolean;
}

/** The AioContext of any parent kind: a node's, a BlockBackend's, or a job's. */
export function contextOf(p: Proc, ref: ParentRef): string {
  if (ref.kind === 'node') return p.node(ref.node)?.aio ?? MAIN_CONTEXT;
  if (ref.kind === 'bb') return p.bb(ref.bb)?.aio ?? MAIN_CONTEXT;
  return jobContext(p.job(ref.job));
}

export function jobContext(j: Job | undefined): string {
  return (j as (Job & { aio?: string }) | undefined)?.aio ?? MAIN_CONTEXT;
}

interface EdgeList { edges: Edge[]; skip: Int32Array }
type Frame =
  | { t: 'node'; name: string; stage: 0 | 1; list: EdgeList; i: number }
  | { t: 'job'; id: string; list: EdgeList; i: number };

export interface AioPlan { actions: AioTarget[]; error: string | null }

/**
 * The visit of bdrv_change_aio_context from `start` (a node, or a parent reached through a
 * not-yet-attached edge as in bdrv_attach_child_common). Pure: reads only. `actions` are in
 * tran_add order; a node reached twice through different edges is recorded twice, as in QEMU.
 */
export function planMove(p: Proc, start: ParentRef, ctx: string, visited: Set<string> = new Set()): AioPlan {
  const lists = new Map<string, EdgeList>();
  const listOf = (key: string, get: () => Edge[]): EdgeList => {
    let l = lists.get(key);
    if (!l) {
      const edges = get();
      const skip = new Int32Array(edges.length);
      for (let k = 0; k < edges.length; k++) skip[k] = k;
      lists.set(key, (l = { edges, skip }));
    }
    return l;
  };
  const parentsList = (node: string) => listOf('p\0' + node, () => p.parents(node));
  const childrenList = (ref: ParentRef) => listOf('c\0' + parentKey(ref), () => p.children(ref));
  // First unvisited index >= i, with path compression over runs of visited edges.
  const next = (l: EdgeList, i: number): number => {
    let r = i;
    while (r < l.edges.length) {
      if (l.skip[r] !== r) { r = l.skip[r]!; continue; }
      if (!visited.has(l.edges[r]!.id)) break;
      l.skip[r] = r + 1;
      r++;
    }
    for (let k = i; k < r && l.skip[k] !== r; ) { const nx = l.skip[k]!; l.skip[k] = r; k = nx; }
    return r;
  };

  const actions: AioTarget[] = [];
  const stack: Frame[] = [];
  const enterNode = (name: string): string | null => {
    const n = p.node(name);
    if (!n || n.aio === ctx) return null;
    // bdrv_open_inherit's probing BlockBackend on a file child being opened over: the newest
    // parent (QLIST_INSERT_HEAD), asked first; unnamed and not allowing changes
    // (blk_root_change_aio_ctx), it refuses (graph/probe.ts)
    if (probeHeld(p, name)) return ACTIVE_BB_ERROR;
    stack.push({ t: 'node', name, stage: 0, list: parentsList(name), i: 0 });
    return null;
  };
  // A parent asked to follow (bdrv_parent_change_aio_context → klass->change_aio_ctx).
  const enterParent = (ref: ParentRef): string | null => {
    if (ref.kind === 'node') return enterNode(ref.node);
    else if (ref.kind === 'bb') {
      const bb = p.bb(ref.bb);
      // blk_root_change_aio_ctx (7.2 blk_root_can_set_aio_ctx): allow_aio_context_change, or a
      // BlockBackend "manually created" — one with a name (a legacy drive) — and attached to no
      // device (`!blk->name || blk->dev` refuses). QSD's BlockBackends are unnamed (fuzz --against
      // vm 2026120808, 1474589113: a mirror moved a lone drive's node into the source's iothread)
      const lone = bb?.name !== undefined && !p.d.values<{ bb: string | null }>(p.name, 'devices').some((d) => d.bb === ref.bb);
      if (!bb?.allowAioChange && !lone) return ACTIVE_BB_ERROR;
      actions.push({ kind: 'bb', id: ref.bb });
    } else stack.push({ t: 'job', id: ref.job, list: childrenList(ref), i: 0 });
    return null;
  };

  const err0 = enterParent(start);
  if (err0) return { actions, error: err0 };
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const j = next(top.list, top.i);
    if (j < top.list.edges.length) {
      top.i = j + 1;
      const e = top.list.edges[j]!;
      visited.add(e.id);
      if (top.t === 'node' && top.stage === 0) {
        const err = enterParent(e.parent);
        if (err) return { actions, error: err };
      } else {
        // a child edge, or a sibling edge of a job (child_job_change_aio_ctx)
        const err = enterNode(e.child);
        if (err) return { actions, error: err };
      }
      continue;
    }
    if (top.t === 'node' && top.stage === 0) {
      top.stage = 1;
      top.list = childrenList({ kind: 'node', node: top.name });
      top.i = 0;
      continue;
    }
    stack.pop();
    actions.push(top.t === 'node' ? { kind: 'node', id: top.name } : { kind: 'job', id: top.id });
  }
  return { actions, error: null };
}

/** tran_commit of the recorded set-context actions, LIFO (the starting node moves first). */
function commitPlan(p: Proc, actions: readonly AioTarget[], ctx: string): void {
  for (let k = actions.length - 1; k >= 0; k--) {
    const a = actions[k]!;
    if (a.kind === 'node') {
      if (p.node(a.id)?.aio !== ctx) p.patchNode(a.id, { aio: ctx });
    } else if (a.kind === 'bb') {
      const bb = p.bb(a.id);
      if (bb && bb.aio !== ctx) p.putBB({ ...bb, aio: ctx });
    } else {
      const j = p.job(a.id);
      // child_job_set_aio_ctx_commit -> job_set_aio_context of a job that has started (the model
      // starts jobs as it creates them): remembered for graph/moved-backup-clean-hang.ts
      if (j && jobContext(j) !== ctx) p.patchJob(a.id, { aio: ctx, aioMoved: true } as Partial<Job>);
    }
  }
}

/** Runs a planned move through the statechart; throws QEMU's error if it was refused. */
function runMove(p: Proc, start: ParentRef, from: string, ctx: string, plan: AioPlan, opts: MoveOpts): void {
  let s = aioStart(from, ctx);
  if (plan.error) {
    s = aioNext(s, { type: 'REFUSED', error: plan.error, actions: plan.actions });
    s = aioNext(s, { type: 'DONE' }); // abort: nothing was written; clean only undrains
    throw new QmpError(plan.error);
  }
  s = aioNext(s, { type: 'VISITED', actions: plan.actions });
  s = aioNext(s, { type: 'DRAINED' });
  if (opts.log) {
    const count = (k: AioTarget['kind']) => new Set(plan.actions.filter((a) => a.kind === k).map((a) => a.id)).size;
    const what = start.kind === 'node' ? start.node : parentKey(start);
    p.step(`aio-context commit ${what}: ${from} -> ${ctx} (${count('node')} nodes, ${count('bb')} block backends, ${count('job')} jobs)`);
  }
  // bdrv_change_aio_context drains every node it records (bdrv_drained_begin) and
  // bdrv_set_aio_context_clean ends those sections after tran_commit: a job with a node in the
  // moved component is paused and resumed (child_job_drained_end -> job_resume), which wakes a
  // sleeping speed-limited job (graph/jobs/rate.ts) once the command is done
  // (10.0 shows no such wake-up: graph/rules.ts 'aio-move-drain-wakes-jobs')
  const nodes = rule(p, 'aio-move-drain-wakes-jobs') ? plan.actions.filter((a) => a.kind === 'node').map((a) => a.id) : [];
  drained(p, nodes, false, () => commitPlan(p, s.context.actions.slice().reverse(), ctx));
  s = aioNext(s, { type: 'DONE' });
  if (opts.log) p.step('aio-context clean');
}

/** bdrv_try_change_aio_context: moves `node`'s component to `ctx`, or throws and changes nothing. */
export function moveToContext(p: Proc, node: string, ctx: string, opts: MoveOpts = {}): void {
  const n = p.node(node);
  if (!n || n.aio === ctx) return;
  const start: ParentRef = { kind: 'node', node };
  runMove(p, start, n.aio, ctx, planMove(p, start, ctx), opts);
}

/**
 * A move that outlives the command that made it: bdrv_attach_child_common's
 * bdrv_try_change_aio_context commits its own Transaction at once, and an abort handler that only
 * undoes the graph leaves the contexts as that move set them (external_snapshot_abort: see
 * commands/external-snapshot.ts). Replayed on the rolled-back state as the same visit from
 * `node`, without its drained section: the failed command's drain wake-ups are kept apart
 * (commands/model.ts takeDrainWakes). A refusal there (the rolled-back graph pins it) keeps nothing.
 */
export function keepMove(p: Proc, node: string, ctx: string): void {
  const n = p.node(node);
  if (!n || n.aio === ctx) return;
  const plan = planMove(p, { kind: 'node', node }, ctx);
  if (!plan.error) commitPlan(p, plan.actions, ctx);
}

/** As moveToContext, but a refusal is swallowed (QEMU callers that pass errp = NULL). */
export function tryMoveToContext(p: Proc, node: string, ctx: string, opts: MoveOpts = {}): boolean {
  // a refusal is thrown before runMove cuts any step, so this rollback never crosses one
  const sp = p.d.savepoint();
  try {
    moveToContext(p, node, ctx, opts);
    return true;
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
    p.d.rollback(sp);
    return false;
  }
}

/**
 * bdrv_attach_child_common's reconciliation, to call *before* the new edge parent→child
 * exists: if the contexts differ, first the child's component moves into the parent's
 * context; if that is refused, the parent side moves into the child's; if both are
 * refused, the first (child-side) error is thrown. Each move is its own transaction; they
 * are undone with the caller's Draft/savepoint if the outer operation fails.
 */
export function attachAcrossContexts(p: Proc, parent: ParentRef, child: string): void {
  const c = p.node(child);
  if (!c) return;
  const pctx = contextOf(p, parent);
  if (c.aio === pctx) return;
  const childStart: ParentRef = { kind: 'node', node: child };
  const first = planMove(p, childStart, pctx);
  if (!first.error) return runMove(p, childStart, c.aio, pctx, first, {});
  const second = planMove(p, parent, c.aio);
  if (!second.error) return runMove(p, parent, pctx, c.aio, second, {});
  throw new QmpError(first.error);
}

/** Drivers whose .bdrv_open reads through the child it has just attached (qcow2_do_open's header read). */
// (qed is refused before: its attach already crashes. vdi_open, vpc_open, vhdx_open, parallels_open,
// qcow_open, vmdk_open read their header with bdrv_pread, whose coroutine wrapper polls the same way:
// vdi probed live, 7.2 aborts with qemu_mutex_unlock_impl as for qcow2)
const OPEN_READS_CHILD = new Set(['qcow2', 'vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk']);

// 7.2 only: 10.0 has no AioContext lock to release (graph/rules.ts 'aio-context-lock-aborts')
const ABORT_UNLOCK = '(QEMU 7.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted)';

/** bdrv_attach_child_common would move `node` out of its iothread into the main loop. */
function movableToMain(p: Proc, node: string): boolean {
  return !planMove(p, { kind: 'node', node }, MAIN_CONTEXT).error;
}

/**
 * blockdev-reopen replacing (or dropping) a `file`/`backing` child that then loses its last
 * reference while in an iothread: the commit's bdrv_unref closes it without that iothread's
 * lock and 7.2 aborts (recorded: an inline file swapped for another node in the same
 * iothread, an implicit backing dropped with `backing: null`; a monitor-owned old child, which
 * stays open, is fine). `lastRef`: the caller's refcount says this edge is the last one.
 */
export function refuseCloseInIothread(p: Proc, parent: string, old: string, link: string, lastRef: boolean): void {
  if (!rule(p, 'aio-context-lock-aborts')) return;
  const o = p.node(old);
  if (!o || o.aio === MAIN_CONTEXT || !lastRef) return;
  throw new QmpError(
    `Cannot drop the ${link} child '${old}' of '${parent}': it would be closed in iothread '${o.aio}' ` +
    `${ABORT_UNLOCK}; refused by blockgraph`,
  );
}

/**
 * Oracle crash 5, narrowed (issue 12). qmp_blockdev_add holds no iothread's AioContext lock,
 * yet bdrv_attach_child_common -> bdrv_try_change_aio_context first tries to move a child given
 * by reference out of its iothread into the new node's (main) context, and
 * bdrv_set_aio_context_commit then releases the old context's lock it never took: abort. So
 * 7.2 aborts whenever that child *can* move (as after x-blockdev-set-iothread). A child pinned
 * there (a fixed-iothread export) makes the new parent move into the iothread instead: for a
 * `backing` reference, attached after the driver opened, that succeeds; a `file` (or any other
 * child the driver's .bdrv_open attaches and then reads through) aborts. The model refuses
 * both aborting forms with the reason: a movable child at once (thrown), a pinned one as the
 * returned text, to raise after the attach.
 */
export function refuseCrossContextReference(p: Proc, ref: string, role: 'file' | 'backing' | 'child', parentDriver?: string): string | null {
  const n = p.node(ref);
  // bdrv_qed_open calls bdrv_open_file_child before bdrv_qed_init_state: an attach that moves the
  // new qed node into its file's iothread (a file nothing lets move to the main loop) runs
  // bdrv_qed_detach_aio_context on a state without a need_check_timer yet, and
  // qed_cancel_need_check_timer's timer_del(NULL) segfaults, read-only or not, ahead of any
  // permission check (probed live on 7.2 and 10.0: SIGSEGV on both)
  if (parentDriver === 'qed' && role === 'file' && n && n.aio !== MAIN_CONTEXT && !movableToMain(p, ref)) {
    throw new QemuAbortRefusal(`Node '${ref}' is pinned in iothread '${n.aio}': a qed node opened over it would move there ` +
      'before its state is set up (QEMU 7.2 and 10.0 crash here: segmentation fault in bdrv_qed_detach_aio_context); refused by blockgraph', 'bdrv_qed_detach_aio_context');
  }
  if (!rule(p, 'aio-context-lock-aborts')) {
    // 10.0 survives the lock case, but a throttle filter opened over a movable child in an
    // iothread still segfaults there (scripts/probe-aborts.ts, abort-5-throttle-file-ref-in-iothread;
    // the crash's mechanism is not established, so the refusal is kept as narrow as the form seen)
    if (parentDriver === 'throttle' && n && n.aio !== MAIN_CONTEXT && movableToMain(p, ref)) {
      throw new QmpError(`Node '${ref}' is in iothread '${n.aio}': a throttle filter opened over it ` +
        '(QEMU 10.0 crashes here: segmentation fault); refused by blockgraph: move it back to the main loop first');
    }
    return null;
  }
  if (!n || n.aio === MAIN_CONTEXT) return null;
  if (movableToMain(p, ref)) {
    throw new QemuAbortRefusal(
      `Node '${ref}' is in iothread '${n.aio}' and would be moved to the main loop without its lock held ` +
      `${ABORT_UNLOCK}; refused by blockgraph: move it back to the main loop first`, 'bdrv_set_aio_context_commit',
    );
  }
  // returned, not thrown: the caller raises it once the attach itself (and its permission
  // check, which QEMU reports first) has gone through. The parent now sits in the iothread, and
  // what aborts is its driver's open polling that context with I/O in flight (qcow2_open:
  // BDRV_POLL_WHILE over qcow2_do_open's header read; AIO_WAIT_WHILE releases the lock it does not
  // hold only while its condition is true): a driver whose .bdrv_open reads nothing through the
  // child (raw, blkdebug, copy-on-read, quorum, ...) moves in and survives
  // (abort-8-add-over-pinned-no-io-survives; fuzz --against vm 1192696480)
  if (role !== 'backing' && (parentDriver === undefined || OPEN_READS_CHILD.has(parentDriver))) {
    return `Node '${ref}' is pinned in iothread '${n.aio}': the new node would move there while its driver opens ` +
      `its ${role} child ${ABORT_UNLOCK}; refused by blockgraph`;
  }
  return null;
}

/**
 * The same lock rule for blockdev-reopen attaching a new `file` or `backing` child (issue 12,
 * aborts recorded on QSD 7.2): the attach (bdrv_set_file_or_backing_noperm ->
 * bdrv_attach_child_common) runs without the new child's iothread lock, so 7.2 aborts when the
 * new child would leave its iothread (it can move into the parent's context). A main-loop
 * parent may take a child pinned in an iothread (the parent moves in); a parent in an iothread
 * may take a main-loop child (it moves in) or one already in its iothread; both pinned is
 * QEMU's ordinary refusal.
 */
export function refuseReopenAttachAcrossIothread(p: Proc, parent: string, child: string, link: string): void {
  if (!rule(p, 'aio-context-lock-aborts')) return;
  const pc = p.node(parent)?.aio ?? MAIN_CONTEXT;
  const cc = p.node(child)?.aio ?? MAIN_CONTEXT;
  if (cc === MAIN_CONTEXT || cc === pc) return;
  if (planMove(p, { kind: 'node', node: child }, pc).error) return;
  throw new QmpError(
    `Cannot attach '${child}' (iothread '${cc}') as the ${link} child of '${parent}' ` +
    `(${pc === MAIN_CONTEXT ? 'main loop' : `iothread '${pc}'`}) ${ABORT_UNLOCK}; refused by blockgraph`,
  );
}

/**
 * QEMU 7.2, iotests 245 run_test_iothreads with the throttle filters of
 * test_iothreads_with_throttling in the other combinations (recorded on QSD 7.2): a
 * blockdev-reopen attach (bdrv_set_file_or_backing_noperm → bdrv_attach_child_common) across
 * two AioContexts dies or hangs as soon as a throttle node takes part: one that moves
 * (bdrv_try_change_aio_context drains and moves it) or one under the new child (the reopen's
 * subtree drain reaches it, bdrv_apply_subtree_drain). Throttle is the one 7.2 driver with
 * coroutine drain callbacks (throttle_co_drain_begin/end): bdrv_drain_invoke schedules them in
 * the node's AioContext, so the drain's BDRV_POLL_WHILE really waits, and AIO_WAIT_WHILE
 * releases an iothread lock the reopen does not hold once ("qemu_mutex_unlock_impl: Operation
 * not permitted", or the iothread blocks on it for good). Without a throttle node nothing is in
 * flight, the poll returns at once and the same attaches succeed (245-iothreads-switch-*); in
 * one context they succeed with throttle nodes too (245-iothreads-with-throttling). 10.0 has no
 * AioContext lock and carries them out (rule 'reopen-throttle-across-contexts-dies').
 */
export function refuseReopenThrottleAcrossContexts(p: Proc, parent: string, child: string, link: string): void {
  if (!rule(p, 'reopen-throttle-across-contexts-dies')) return;
  const pc = p.node(parent)?.aio ?? MAIN_CONTEXT;
  const cc = p.node(child)?.aio ?? MAIN_CONTEXT;
  if (pc === cc) return;
  // the side that moves, as attachAcrossContexts picks it: the child's first, else the parent's
  const first = planMove(p, { kind: 'node', node: child }, pc);
  const plan = first.error ? planMove(p, { kind: 'node', node: parent }, cc) : first;
  if (plan.error) return; // both pinned: QEMU's ordinary refusal
  const involved = new Set(plan.actions.filter((a) => a.kind === 'node').map((a) => a.id));
  // the new child's subtree, which the reopen's subtree drain reaches once it is attached
  const seen = new Set<string>();
  const stack = [child];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    involved.add(n);
    for (const e of p.childrenOf(n)) stack.push(e.child);
  }
  const thr = [...involved].sort().find((n) => p.node(n)?.driver === 'throttle');
  if (thr === undefined) return;
  throw new QemuAbortRefusal(
    `Cannot attach '${child}' (${cc === MAIN_CONTEXT ? 'main loop' : `iothread '${cc}'`}) as the ${link} child of '${parent}' ` +
    `(${pc === MAIN_CONTEXT ? 'main loop' : `iothread '${pc}'`}): the throttle node '${thr}' would be drained across AioContexts ` +
    '(QEMU 7.2 dies or hangs here: qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
    'bdrv_drain_invoke',
  );
}
