import { QmpError } from '../errors/index.js';
import { MAIN_CONTEXT, attachAcrossContexts, planMove } from '../graph/aio.js';
import { attachChild, detachChild } from '../graph/ops.js';
import { ROLE_DATA } from '../graph/perm.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { rule } from '../graph/rules.js';
import type { Proc } from '../graph/proc.js';
import type { CommandDef } from './types.js';
import { reaches } from '../graph/reopen/prepare.js';

interface QuorumExtra { nextChild?: number; threshold?: number; blkverify?: boolean }

/**
 * quorum_del_child (block/quorum.c) drains the quorum and bdrv_unref_child →
 * bdrv_detach_child ends with bdrv_try_change_aio_context(old_bs, main loop): a child left in
 * an iothread that can go back to the main loop moves there. qmp_x_blockdev_change takes no
 * AioContext lock, so on 7.2 bdrv_set_aio_context_commit releases the iothread's lock the main
 * thread never took: qemu_mutex_unlock_impl aborts (recorded: the daemon closes the connection,
 * combo-c3-iot-quorum-children-move before its reorder). A child that cannot move (pinned by a
 * fixed-iothread export elsewhere) stays, and nothing aborts. 10.0 has no AioContext lock
 * (rule 'aio-context-lock-aborts').
 */
function refuseDelChildInIothread(p: Proc, parent: string, edgeId: string, child: string): void {
  if (!rule(p, 'aio-context-lock-aborts')) return;
  const c = p.node(child);
  if (!c || c.aio === MAIN_CONTEXT) return;
  // the move is planned on the graph without the removed edge (bdrv_replace_child_noperm(child, NULL) ran first)
  if (planMove(p, { kind: 'node', node: child }, MAIN_CONTEXT, new Set([edgeId])).error) return;
  throw new QemuAbortRefusal(
    `Removing child '${child}' of '${parent}' moves it out of iothread '${c.aio}' without that iothread's lock ` +
    '(QEMU 7.2 aborts here: bdrv_detach_child -> bdrv_try_change_aio_context: qemu_mutex_unlock_impl: Operation not permitted); ' +
    'refused by blockgraph: move it back to the main loop first',
    'bdrv_set_aio_context_commit',
  );
}

/**
 * x-blockdev-change (blockdev.c qmp_x_blockdev_change, the same on 7.2 and 10.0): remove a child
 * by its name (bdrv_del_child -> .bdrv_del_child) or add a node as a new child (bdrv_add_child ->
 * .bdrv_add_child); quorum is the only driver with those callbacks in QSD.
 */
export const xBlockdevChange: CommandDef = {
  name: 'x-blockdev-change',
  mutates: true,
  run({ p, args }) {
    const parentName = String(args.parent);
    const parent = p.node(parentName);
    if (!parent) throw new QmpError(`Cannot find device='${parentName}' nor node-name='${parentName}'`);
    if ((args.child !== undefined) === (args.node !== undefined)) {
      throw new QmpError(args.child !== undefined ? 'The parameters child and node are in conflict' : 'Either child or node must be specified');
    }
    const extra = (parent.extra ?? {}) as QuorumExtra;
    if (args.child !== undefined) {
      // bdrv_find_child: any child of that name, looked up before the driver is asked
      const e = p.childrenOf(parentName).find((c) => c.name === args.child);
      if (!e) throw new QmpError(`Node '${parentName}' does not have child '${String(args.child)}'`);
      if (parent.driver !== 'quorum') throw new QmpError(`The node ${parentName} does not support removing a child`);
      // quorum_del_child: never fewer children than the vote threshold
      const count = p.childrenOf(parentName).filter((c) => /^children\.\d+$/.test(c.name)).length;
      const threshold = extra.threshold ?? 1;
      if (count <= threshold) throw new QmpError(`The number of children cannot be lower than the vote threshold ${threshold}`);
      refuseDelChildInIothread(p, parentName, e.id, e.child);
      // the newest index is given back when its child goes (children.<next_child_index - 1>)
      const next = extra.nextChild ?? count;
      if (e.name === `children.${next - 1}`) p.patchNode(parentName, { extra: { ...extra, nextChild: next - 1 } });
      // bdrv_unref_child: a child nothing else holds (an inline one) is closed
      detachChild(p, e.id);
      return {};
    }
    const nodeName = String(args.node);
    if (!p.node(nodeName)) throw new QmpError(`Node '${nodeName}' not found`);
    if (parent.driver !== 'quorum') throw new QmpError(`The node ${parentName} does not support adding a child`);
    // bdrv_add_child: QLIST_EMPTY(&child_bs->parents), whoever the parent is (a node, a
    // BlockBackend of an export or a job, a job's node list)
    if (p.parents(nodeName).length > 0) throw new QmpError(`The node ${nodeName} already has a parent`);
    if (extra.blkverify) throw new QmpError('Cannot add a child to a quorum in blkverify mode');
    const idx = extra.nextChild ?? 0;
    // quorum_add_child -> bdrv_attach_child -> bdrv_attach_child_noperm: bdrv_recurse_has_child(child_bs,
    // parent_bs) first (the quorum itself, or a node above it); quorum_add_child then gives the index back
    if (reaches(p, nodeName, parentName)) throw new QmpError(`Making '${nodeName}' a children.${idx} child of '${parentName}' would create a cycle`);
    p.patchNode(parentName, { extra: { ...extra, nextChild: idx + 1 } });
    // quorum_add_child -> bdrv_attach_child -> bdrv_attach_child_common: a child in another
    // AioContext is moved into the quorum's (or, refused, the quorum into the child's)
    attachAcrossContexts(p, { kind: 'node', node: parentName }, nodeName);
    attachChild(p, { kind: 'node', node: parentName }, nodeName, `children.${idx}`, ROLE_DATA);
    return {};
  },
};
