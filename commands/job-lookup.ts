// Node and job lookups shared by the job commands, with QEMU's error texts.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { blkByName, lookupBsNamed } from '../graph/named-blk.js';
import { cowBs, cowChild, skipFilters } from '../graph/jobs/chain.js';
import type { Job } from '../graph/types.js';
import { isBlockJob } from '../graph/types.js';
import { hasProtocol, hostResolve, pathCombine } from '../graph/host-path.js';
import { dirnameBase } from '../graph/dirname.js';
import { pseudoFilename } from '../graph/filename.js';

/**
 * bdrv_lookup_bs(device, node_name): a legacy drive's name first (vm target: blk_by_name,
 * graph/named-blk.ts), then node names. (QSD has no drives; the callers here pass the same name
 * as both, so a node name found as `device` is the node-name match.)
 */
export function lookupBs(p: Proc, device: string | undefined, nodeName: string | undefined): string {
  if (device !== undefined && blkByName(p, device)) return lookupBsNamed(p, device, nodeName);
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
 * bdrv_find_backing_image: walks the non-filter nodes of the chain (bdrv_skip_filters, then
 * bdrv_backing_chain_next, so filters in between — a stream's copy-on-read filter — are skipped
 * and never returned). At each overlay: when its backing was overridden
 * (bdrv_backing_overridden: auto_backing_file is not the attached backing node's filename) the
 * name is compared with the filename of the next non-filter node below; when the name or the
 * header's backing file has a protocol prefix, with the header's name as it is and as
 * bdrv_get_full_backing_filename makes it; else both are made relative to the overlay's directory
 * (bdrv_make_absolute_filename: bdrv_dirname, graph/dirname.ts; path_combine) and compared canonicalized (realpath: an overlay
 * whose either path does not resolve on the host is passed over; graph/host-path.ts).
 */
export function findBackingImage(p: Proc, bs: string, name: string): string | null {
  const isProtocol = hasProtocol(name);
  let cur = skipFilters(p, bs);
  for (let i = 0; cur && cowChild(p, cur) && i < 100000; i++) {
    const below = skipFilters(p, cowBs(p, cur));
    if (!below) return null;
    const node = p.node(cur)!;
    const header = node.header?.backing ?? '';
    const auto = node.header?.auto ?? header;
    // strcmp(bs->auto_backing_file, bs->backing->bs->filename): a backing without a plain name
    // (a copy-on-read filter, a throttle node) has its json: pseudo-filename there, which no
    // header name matches (fuzz --qemu 10.0 3856914271; the model stores "" for those names)
    const attached = pseudoFilename(p, cowBs(p, cur)!);
    const here = cur;
    cur = below;
    if (auto !== attached) {
      if (pseudoFilename(p, below) === name) return below;
    } else if (isProtocol || hasProtocol(header)) {
      // bdrv_get_full_backing_filename: made absolute in bdrv_dirname's directory
      const dir = dirnameBase(p, here);
      if (name === header || (header !== '' && dir !== undefined && name === pathCombine(dir, header))) return below;
    } else {
      // bdrv_make_absolute_filename: in bdrv_dirname's directory (its primary child's, down to
      // a node with an exact name), none when that fails (graph/dirname.ts)
      const dir = dirnameBase(p, here);
      if (dir === undefined || name === '' || header === '') continue;
      const a = hostResolve(p, name.startsWith('/') ? name : pathCombine(dir, name));
      const b = a === undefined ? undefined : hostResolve(p, pathCombine(dir, header));
      if (a !== undefined && a === b) return below;
    }
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
  if (!j || !isBlockJob(j)) throw new QmpError(`Block job '${id}' not found`, 'DeviceNotActive');
  return j;
}
