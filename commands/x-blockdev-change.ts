import { QmpError } from '../errors/index.js';
import { MAIN_CONTEXT, planMove } from '../graph/aio.js';
import { attachChild, detachChild } from '../graph/ops.js';
import { ROLE_DATA } from '../graph/perm.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { rule } from '../graph/rules.js';
import type { Proc } from '../graph/proc.js';
import type { CommandDef } from './types.js';

/** bdrv_get_device_or_node_name: QSD nodes have no BlockBackend name, so the node name. */
const nameOf = (n: string) => n;

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
 * x-blockdev-change (qmp_x_blockdev_change, blockdev.c): add or remove a quorum child (the
 * only driver with .bdrv_add_child / .bdrv_del_child in QSD), checks in QEMU's order.
 */
export const xBlockdevChange: CommandDef = {
  name: 'x-blockdev-change',
  mutates: true,
  run({ p, args }) {
    const parentName = String(args.parent);
    const parent = p.node(parentName);
    if (!parent) throw new QmpError(`Cannot find device='${parentName}' nor node-name='${parentName}'`);
    const hasChild = args.child !== undefined;
    const hasNode = args.node !== undefined;
    if (hasChild === hasNode) {
      throw new QmpError(hasChild ? 'The parameters child and node are in conflict' : 'Either child or node must be specified');
    }
    const extra = (parent.extra ?? {}) as { nextChild?: number };
    if (hasChild) {
      // bdrv_find_child, then bdrv_del_child's driver check, then quorum_del_child
      const e = p.childrenOf(parentName).find((c) => c.name === args.child);
      if (!e) throw new QmpError(`Node '${parentName}' does not have child '${args.child}'`);
      if (parent.driver !== 'quorum') throw new QmpError(`The node ${nameOf(parentName)} does not support removing a child`);
      const threshold = Number(parent.options?.['vote-threshold']);
      const count = p.childrenOf(parentName).length;
      if (count <= threshold) {
        throw new QmpError(`The number of children cannot be lower than the vote threshold ${threshold}`);
      }
      refuseDelChildInIothread(p, parentName, e.id, e.child);
      // quorum_del_child: the highest index is given back when its child goes
      if (e.name === `children.${(extra.nextChild ?? 0) - 1}`) {
        p.patchNode(parentName, { extra: { ...extra, nextChild: (extra.nextChild ?? 0) - 1 } });
      }
      detachChild(p, e.id);
    } else {
      // bdrv_find_node, then bdrv_add_child's checks, then quorum_add_child
      const nodeName = String(args.node);
      const child = p.node(nodeName);
      if (!child) throw new QmpError(`Node '${nodeName}' not found`);
      if (parent.driver !== 'quorum') throw new QmpError(`The node ${nameOf(parentName)} does not support adding a child`);
      if (p.parents(nodeName).length > 0) throw new QmpError(`The node ${nodeName} already has a parent`);
      if (parent.options?.blkverify === true) throw new QmpError('Cannot add a child to a quorum in blkverify mode');
      const idx = extra.nextChild ?? 0;
      p.patchNode(parentName, { extra: { ...extra, nextChild: idx + 1 } });
      attachChild(p, { kind: 'node', node: parentName }, nodeName, `children.${idx}`, ROLE_DATA);
    }
    return {};
  },
};
