// Node and job lookups shared by the job commands, with QEMU's error texts.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { filterOrCowBs } from '../graph/jobs/chain.js';
import type { Job } from '../graph/types.js';

/** bdrv_lookup_bs(device, node_name): QSD has no named BlockBackends, so only node names match. */
export function lookupBs(p: Proc, device: string | undefined, nodeName: string | undefined): string {
  if (device !== undefined && p.node(device)) return device;
  if (nodeName !== undefined && p.node(nodeName)) return nodeName;
  throw new QmpError(`Cannot find device='${device ?? ''}' nor node-name='${nodeName ?? ''}'`);
}

/** bdrv_is_root_node: only BlockBackends above it. */
export function isRootNode(p: Proc, node: string): boolean {
  return p.parents(node).every((e) => e.parent.kind === 'bb');
}

/** qmp_get_root_bs */
export function getRootBs(p: Proc, name: string): string {
  const bs = lookupBs(p, name, name);
  if (!isRootNode(p, bs)) throw new QmpError('Need a root block node');
  return bs;
}

/** bdrv_find_backing_image, simplified to exact file-name or node-name matches down the chain. */
export function findBackingImage(p: Proc, bs: string, name: string): string | null {
  let over = bs;
  for (let it = filterOrCowBs(p, bs); it; it = filterOrCowBs(p, it)) {
    // the overlay's header names it, or its own file name is the one asked for
    if (p.node(over)?.header?.backing === name || p.node(it)!.filename === name) return it;
    over = it;
  }
  return null;
}

/** find_job_locked (job-* commands) */
export function findJob(p: Proc, id: string): Job {
  const j = p.job(id);
  if (!j) throw new QmpError('Job not found');
  return j;
}

/** find_block_job_locked (block-job-* commands) */
export function findBlockJob(p: Proc, id: string): Job {
  const j = p.job(id);
  // is_block_job: a blockdev-create job is a plain Job
  if (!j || j.type === 'create') throw new QmpError(`Block job '${id}' not found`, 'DeviceNotActive');
  return j;
}
