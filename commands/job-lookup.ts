// Node and job lookups shared by the job commands, with QEMU's error texts.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { backingChainNext, cowChild, skipFilters } from '../graph/jobs/chain.js';
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

/**
 * bdrv_find_backing_image, simplified to exact file-name matches: the walk starts below the
 * filters over `bs` (bdrv_skip_filters) and goes on only while the node has a COW child, each
 * candidate being the next non-filter node down (bdrv_backing_chain_next). So a protocol node
 * under a filter is never found, even when its file is the name asked for (found by the fuzzer:
 * block-stream of a blkdebug over a file node, `base` its file: 'Can't find … in the backing chain').
 */
export function findBackingImage(p: Proc, bs: string, name: string): string | null {
  for (let curr = skipFilters(p, bs); curr && cowChild(p, curr); curr = backingChainNext(p, curr)) {
    const below = backingChainNext(p, curr);
    if (!below) break;
    // the overlay's header names it, or (backing overridden) its own file name is the one asked for
    if (p.node(curr)?.header?.backing === name || p.node(below)!.filename === name) return below;
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
  if (!j) throw new QmpError(`Block job '${id}' not found`, 'DeviceNotActive');
  return j;
}
