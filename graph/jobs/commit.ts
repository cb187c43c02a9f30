// block-commit of an intermediate node (block/commit.c, 7.2): a commit_top filter is appended
// above top; the links from commit_top down to base (including the link into base) are frozen;
// BlockBackends on base (writes) and on top (no perms) and the job's edges hold the range.
// Completion is bdrv_drop_intermediate(commit_top, base); cancel puts top back.
import { QmpError } from '../../errors/index.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z } from '../perm.js';
import type { Proc } from '../proc.js';
import type { Job } from '../types.js';
import { appendNode, replaceNode } from '../replace.js';
import { chainContains, cowBs, filterOrCowBs, findOverlay, skipFilters, skipImplicitFilters } from './chain.js';
import { freezeChain, unfreezeChain } from './freeze.js';
import { hasChangeBackingFile, writeBackingHeader } from './backing.js';
import { driverInfo } from '../drivers.js';
import { pseudoFilename, refreshFilenames } from '../filename.js';
import { addJobBB, addJobEdge, newJobFilter, removeJobBB, removeJobEdges, setReadOnly } from './parts.js';
import { noteJobAttach } from './attach-residue.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { onErrorOf, startRate } from './rate.js';
import { drained } from '../drain.js';
import { getLength, refuseInactiveHeaderWrite } from '../length.js';
import { coTruncate, keepPreallocTruncateFailures, truncateErrno } from '../truncate.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { withBaseReadWrite } from './base-restore.js';

export interface CommitData {
  kind: 'commit';
  commitTop: string;
  top: string;
  base: string;
  baseBB: string | null;
  topBB: string | null;
  baseReadOnly: boolean;
  backingFile: string | null;
  chainFrozen: boolean;
  unblock: Record<string, string[]>;
}

export interface CommitStart {
  jobId: string; bs: string; base: string; top: string; backingFile: string | null;
  speed: number; autoFinalize: boolean; autoDismiss: boolean; filterNodeName?: string;
  /** BlockdevOnError for commit_run's failed copies (default report) */
  onError?: string;
}

/** commit_start */
export function startCommit(ctx: JobCtx, o: CommitStart): Job {
  const { p } = ctx;
  if (skipFilters(p, o.top) === skipFilters(p, o.base)) throw new QmpError('Invalid files for merge: top and base are the same');
  // commit_start: base_size = bdrv_getlength(base), top_size = bdrv_getlength(top)
  const baseSize = getLength(p, o.base);
  const topSize = getLength(p, o.top);
  const basePerms = PERM_R | PERM_W | (baseSize < topSize ? PERM_Z : 0);

  const job = createJob(ctx, {
    id: o.jobId, type: 'commit', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed,
    aio: p.node(o.bs)!.aio,
    data: { kind: 'commit', unblock: { [o.bs]: ['dataplane'] } }, mainNode: { node: o.bs, perm: 0, shared: PERM_ALL },
  });

  // convert base to r/w, if necessary; commit_start's `fail:` reopens it read-only (base-restore.ts)
  return withBaseReadWrite(p, o.base, (baseReadOnly) => commitStartJob(ctx, o, job, baseReadOnly, topSize, basePerms));
}

/** commit_start after the base's read-write reopen */
function commitStartJob(ctx: JobCtx, o: CommitStart, job: Job, baseReadOnly: boolean, topSize: number, basePerms: number): Job {
  const { p } = ctx;
  p.step('append-commit-top');
  const ct = newJobFilter(p, 'commit_top', o.filterNodeName, { ro: true, size: topSize });
  appendNode(p, ct.name, o.top);
  // the fail path's bdrv_replace_node(commit_top_bs, top) and the filter's bdrv_unref detach top
  // (bdrv_root_unref_child: its perms refreshed, then back to the main loop if it can go); the
  // append's move of top's component into the filter's main context is not undone either
  noteJobAttach(p, o.top);

  p.step('job-nodes');
  const baseOverlay = findOverlay(p, o.top, o.base);
  const filteredBase = cowBs(p, baseOverlay);
  let shared = PERM_U | PERM_W;
  for (let it: string | null = o.top; it && it !== o.base; it = filterOrCowBs(p, it)) {
    if (it === filteredBase) shared |= PERM_R;
    addJobEdge(p, job.id, it, 'intermediate node', 0, shared);
  }
  freezeChain(p, ct.name, o.base);
  patchJobData(p, job.id, {
    commitTop: ct.name, top: o.top, base: o.base, baseReadOnly, backingFile: o.backingFile, chainFrozen: true,
  });
  addJobEdge(p, job.id, o.base, 'base', 0, PERM_ALL);
  const baseBB = addJobBB(p, job.id, 'commit-base', o.base, basePerms, PERM_R | PERM_U, false);
  patchJobData(p, job.id, { baseBB });
  const topBB = addJobBB(p, job.id, 'commit-top', o.top, 0, PERM_ALL, false);
  patchJobData(p, job.id, { topBB });
  sendJob(ctx, job.id, { type: 'START' });
  // commit_run: a base shorter than top is grown to top's length first (blk_co_truncate(s->base,
  // len), which commit_start's BLK_PERM_RESIZE allowed); a refused truncate fails the job with
  // its errno before anything is copied
  if (getLength(p, o.base) < topSize) {
    try {
      p.d.atomically(() => coTruncate(p, o.base, topSize));
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      keepPreallocTruncateFailures(p, e);
      sendJob(ctx, job.id, { type: 'FAIL', error: truncateErrno(e) });
      return p.job(job.id)!;
    }
  }
  // commit_run's loop: base_overlay is bdrv_find_overlay(top, base) from commit_start. Its
  // writes into base fail per chunk (graph/jobs/job-read.ts jobWriteError: blkdebug rules, a
  // qcow2 base over a raw `size` window) and go to block_job_error_action with on-error (rate.ts)
  startRate(ctx, job.id, { kind: 'commit', len: topSize, top: o.top, baseOverlay: baseOverlay!, dest: o.base, ...onErrorOf(o.onError) });
  return p.job(job.id)!;
}

/**
 * bdrv_drop_intermediate(top, base): every parent of `top` is moved to `base` (no auto-skip:
 * an edge that must not move fails the whole operation), then the overlays' headers name
 * base. `top` may be the active layer (seed 001's case): its BlockBackends simply move to base,
 * which is what bdrv_swap had to emulate before BlockBackends existed. Intermediate nodes stay
 * if something else (the monitor) holds them. Returns QEMU's error text, or null.
 */
export function dropIntermediate(p: Proc, top: string, base: string, backingFile: string | null): string | null {
  if (!p.node(top) || !p.node(base)) return 'node gone';
  // bdrv_drop_intermediate: bdrv_subtree_drained_begin(top) for the whole operation
  return drained(p, [top], true, () => dropIntermediateDrained(p, top, base, backingFile));
}

function dropIntermediateDrained(p: Proc, top: string, base: string, backingFile: string | null): string | null {
  if (!chainContains(p, top, base)) return `'${base}' is not in the backing chain of '${top}'`;
  const explicitTop = skipImplicitFilters(p, top);
  const inheritsRecursive = (() => {
    let cur: string | null = p.node(base)!.inheritsFrom;
    for (let i = 0; cur && i < 100000; i++) {
      if (cur === explicitTop) return true;
      cur = p.node(cur)?.inheritsFrom ?? null;
    }
    return false;
  })();
  // bdrv_drop_intermediate: bdrv_refresh_filename(base), then base->filename (its json:
  // pseudo-filename when it has no plain name)
  if (backingFile === null) refreshFilenames(p);
  const fileStr = backingFile ?? pseudoFilename(p, base);
  const updated = p.parents(top);
  // bdrv_drop_intermediate replaces top by base in every parent (bdrv_replace_node_common), then
  // asks each COW parent to write the new backing name (bdrv_child_cb_update_filename ->
  // bdrv_backing_update_filename -> bdrv_change_backing_file). A format without
  // .bdrv_change_backing_file (vmdk, qcow v1: a node the stream or a reopen left on top's chain)
  // answers -ENOTSUP ("Could not update backing file link"), commit_prepare fails, and the job's
  // abort over the graph already changed dies with SIGSEGV: live on QSD 7.2.22 and 10.0.2 alike
  // (combo-c5-fmt-named-chain5 as first written, its last step). Refused as that death.
  for (const c of updated) {
    if (c.parent.kind !== 'node' || c.name !== 'backing') continue;
    const parent = c.parent.node;
    if (driverInfo(p.node(parent)?.driver ?? '')?.kind !== 'format' || hasChangeBackingFile(p, parent)) continue;
    throw new QemuAbortRefusal(
      `Finishing the commit re-links '${parent}' to its base, but its format (${p.node(parent)!.driver}) cannot write a new backing file name ` +
      "(QEMU dies here: bdrv_drop_intermediate -> bdrv_backing_update_filename: 'Could not update backing file link: Operation not supported', " +
      `then a segmentation fault in the job's abort); refused by blockgraph: give '${parent}' another backing (blockdev-reopen) or delete it first`,
      'bdrv_drop_intermediate',
    );
  }
  try {
    replaceNode(p, top, base, { autoSkip: false });
  } catch (e) {
    if (e instanceof QmpError) return e.desc;
    throw e;
  }
  for (const c of updated) {
    if (c.parent.kind === 'node' && c.name === 'backing' && p.node(c.parent.node)) {
      // bdrv_child_cb_update_filename -> bdrv_change_backing_file: QEMU 10.0 dies on an inactive overlay
      refuseInactiveHeaderWrite(p, c.parent.node);
      writeBackingHeader(p, c.parent.node, fileStr, p.node(base)!.driver);
    }
  }
  if (inheritsRecursive) p.patchNode(base, { inheritsFrom: p.node(explicitTop)?.inheritsFrom ?? null });
  return null;
}

registerJobDriver('commit', {
  prepare(ctx, j) {
    const { p } = ctx;
    const d = j.data as unknown as CommitData;
    unfreezeChain(p, d.commitTop, d.base);
    removeJobBB(p, d.baseBB);
    patchJobData(p, j.id, { chainFrozen: false, baseBB: null });
    // commit_prepare returns bdrv_drop_intermediate's -EIO (the reason only goes to stderr):
    // the job fails with strerror(EIO) and commit_abort puts top back
    if (dropIntermediate(p, d.commitTop, d.base, d.backingFile) !== null) return 'Input/output error';
  },
  abort(ctx, j) {
    const { p } = ctx;
    const d = p.job(j.id)!.data as unknown as CommitData;
    if (d.chainFrozen) unfreezeChain(p, d.commitTop, d.base);
    removeJobBB(p, d.baseBB);
    patchJobData(p, j.id, { chainFrozen: false, baseBB: null });
    removeJobEdges(p, j.id);
    const top = d.top;
    if (p.node(d.commitTop) && p.node(top)) replaceNode(p, d.commitTop, top);
  },
  clean(ctx, j) {
    const { p } = ctx;
    const d = p.job(j.id)!.data as unknown as CommitData;
    if (d.baseReadOnly && p.node(d.base)) setReadOnly(p, d.base, true, { ignoreErrors: true });
    removeJobBB(p, d.topBB);
    patchJobData(p, j.id, { topBB: null });
  },
});
