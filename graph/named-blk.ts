// Named BlockBackends (vm target): the monitor's list of legacy drives (block/block-backend.c
// monitor_block_backends: monitor_add_blk, monitor_remove_blk, blk_by_name) and the lookups that
// find a BlockBackend or node by a drive's name (block.c bdrv_lookup_bs, bdrv_get_device_name).
// qemu-storage-daemon has no drives: every name lookup there falls through to node names.
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';
import type { BlockBackend } from './types.js';

/** blk_by_name: the BlockBackend the monitor knows by this name (monitor_block_backends). */
export function blkByName(p: Proc, name: string): BlockBackend | undefined {
  // only a VM has drives (qemu-storage-daemon has no drive_add): no BlockBackend walk per command there
  if (name === '' || p.meta().target !== 'vm') return undefined;
  return p.bbs().find((b) => b.name === name);
}

/** blk_bs: the node under a BlockBackend's root edge, or null (an empty drive). */
export function blkBs(p: Proc, bbId: string): string | null {
  return p.children({ kind: 'bb', bb: bbId })[0]?.child ?? null;
}

/**
 * bdrv_lookup_bs(device, node_name): a drive's name first (blk_by_name; an empty drive is
 * "Device '%s' has no medium"), then a node name; else "Cannot find device=… nor node-name=…".
 */
export function lookupBsNamed(p: Proc, device: string | undefined, nodeName: string | undefined): string {
  if (device !== undefined) {
    const blk = blkByName(p, device);
    if (blk) {
      const bs = blkBs(p, blk.id);
      if (!bs) throw new QmpError(`Device '${device}' has no medium`);
      return bs;
    }
  }
  if (nodeName !== undefined && p.node(nodeName)) return nodeName;
  throw new QmpError(`Cannot find device='${device ?? ''}' nor node-name='${nodeName ?? ''}'`);
}

/**
 * bdrv_get_device_name → bdrv_get_parent_name: the first parent (bs->parents, newest first) whose
 * klass names it — a BlockBackend's root child, blk_root_get_name → blk_name: "" for an anonymous
 * one — that has a non-empty name; "" when none has. Jobs without a job-id are named by it
 * (block_job_create).
 */
export function deviceName(p: Proc, node: string): string {
  for (const e of p.parents(node)) {
    if (e.parent.kind !== 'bb') continue;
    const name = p.bb(e.parent.bb)?.name;
    if (name) return name;
  }
  return '';
}

/** bdrv_assign_node_name's namespace check: a node-name may not be a drive's name. */
export function refuseNodeNameOfDrive(p: Proc, nodeName: string): void {
  if (blkByName(p, nodeName)) throw new QmpError(`node-name=${nodeName} is conflicting with a device id`);
}

/** bdrv_get_device_or_node_name: a legacy drive's name above the node, else its node name (op blockers' "Node '%s' is busy"). */
export function deviceOrNodeName(p: Proc, node: string): string {
  return deviceName(p, node) || node;
}
