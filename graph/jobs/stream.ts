// block-stream (block/stream.c, 7.2): a copy-on-read filter is inserted above the streamed
// node T, freezing the links from the filter down to base_overlay (the link into the base is
// not frozen); the job holds T ("active node") and each node below it down to above_base
// ("intermediate node"). At completion the filter is dropped and T's backing becomes whatever
// is below above_base at that moment.
import { QmpError } from '../../errors/index.js';
import { openNodeInContext } from '../open.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W } from '../perm.js';
import type { Job } from '../types.js';
import { replaceNode } from '../replace.js';
import { cowBs, cowChild, filterChild, filterOrCowBs, findOverlay, skipFilters } from './chain.js';
import { freezeChain, unfreezeChain } from './freeze.js';
import { setBackingHd, writeBackingHeader } from './backing.js';
import { pseudoFilename } from '../filename.js';
import { addJobBB, addJobEdge, dropRef, removeJobBB, setReadOnly } from './parts.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { startRate } from './rate.js';
import { drained } from '../drain.js';

export interface StreamData {
  kind: 'stream';
  target: string;          // T (s->target_bs)
  cor: string | null;      // the copy-on-read filter while it is in the graph
  bottom: string;          // base_overlay: the filter's `bottom`, end of the frozen range
  aboveBase: string;
  backingFile: string | null;
  bsReadOnly: boolean;
  blk: string | null;
  unblock: Record<string, string[]>;
}

export interface StreamStart {
  jobId: string; bs: string; base: string | null; bottom: string | null; backingFile: string | null;
  speed: number; autoFinalize: boolean; autoDismiss: boolean; filterNodeName?: string;
}

const BASIC = PERM_R | PERM_U;

/** stream_start */
export function startStream(ctx: JobCtx, o: StreamStart): Job {
  const { p } = ctx;
  let baseOverlay: string;
  let aboveBase: string;
  if (o.bottom) {
    baseOverlay = aboveBase = o.bottom;
  } else {
    const ov = findOverlay(p, o.bs, o.base);
    if (!ov) throw new QmpError(`'${o.base}' is not in the backing chain of '${o.bs}'`);
    baseOverlay = aboveBase = ov;
    if (cowBs(p, aboveBase) !== o.base) {
      let a: string | null = cowBs(p, aboveBase);
      while (a && (filterChild(p, a)?.child ?? null) !== o.base) a = filterChild(p, a)?.child ?? null;
      if (a) aboveBase = a;
    }
  }

  const bsReadOnly = p.node(o.bs)!.ro;
  if (bsReadOnly) {
    // Hold the chain during the reopen.
    freezeChain(p, o.bs, aboveBase);
    setReadOnly(p, o.bs, false);
    unfreezeChain(p, o.bs, aboveBase);
  }

  // bdrv_insert_node: open the filter over T (cor_open freezes down to `bottom`), then
  // put it in T's place in all of T's parents.
  p.step('insert-cor');
  const opts: Record<string, unknown> = { driver: 'copy-on-read', file: o.bs, bottom: baseOverlay };
  if (o.filterNodeName !== undefined) opts['node-name'] = o.filterNodeName;
  // bdrv_insert_node prefixes what fails: opening the filter (cor_open's child attach and
  // freeze) "Could not create node: ", putting it in place "Could not replace node: "
  const cor = prefixed('Could not create node: ', () => {
    const c = openNodeInContext(p, opts).name;
    // the filter joins T's AioContext (bdrv_insert_node attaches it to T, which moves it)
    p.patchNode(c, { implicit: o.filterNodeName === undefined, extra: { refs: 1 }, aio: p.node(o.bs)!.aio });
    freezeChain(p, c, baseOverlay);
    return c;
  });
  prefixed('Could not replace node: ', () => replaceNode(p, o.bs, cor));

  p.step('job-create');
  const data: StreamData = {
    kind: 'stream', target: o.bs, cor, bottom: baseOverlay, aboveBase, backingFile: o.backingFile,
    bsReadOnly, blk: null, unblock: { [cor]: ['dataplane'] },
  };
  const job = createJob(ctx, { id: o.jobId, type: 'stream', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed, data: { ...data }, aio: p.node(cor)!.aio, mainNode: { node: cor, perm: 0, shared: PERM_ALL } });
  const blk = addJobBB(p, job.id, 'stream', cor, PERM_R, BASIC | PERM_W, true);
  patchJobData(p, job.id, { blk });
  addJobEdge(p, job.id, o.bs, 'active node', 0, BASIC | PERM_W);
  const base = filterOrCowBs(p, aboveBase);
  for (let it = filterOrCowBs(p, o.bs); it && it !== base; it = filterOrCowBs(p, it)) {
    addJobEdge(p, job.id, it, 'intermediate node', 0, BASIC);
  }
  sendJob(ctx, job.id, { type: 'START' });
  // stream_run: nothing to copy when T is its own base_overlay; it finishes at once.
  if (skipFilters(p, o.bs) === baseOverlay) sendJob(ctx, job.id, { type: 'DONE' });
  else {
    const top = skipFilters(p, o.bs)!;
    startRate(ctx, job.id, { kind: 'stream', len: p.node(o.bs)!.size, top, baseOverlay, dest: top });
  }
  return p.job(job.id)!;
}

/** error_prepend on a QMP error thrown by `fn`. */
function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QmpError) throw new QmpError(prefix + e.desc, e.cls);
    throw e;
  }
}

/** bdrv_cor_filter_drop: unfreeze, replace the filter by T (dropping its link), drop our reference. */
function corFilterDrop(ctx: JobCtx, j: Job): void {
  const { p } = ctx;
  const d = j.data as unknown as StreamData;
  const cor = d.cor;
  if (!cor || !p.node(cor)) return;
  unfreezeChain(p, cor, d.bottom);
  const child = filterChild(p, cor)?.child;
  if (child) replaceNode(p, cor, child, { autoSkip: true, detachSubchain: true });
  patchJobData(p, j.id, { cor: null });
  dropRef(p, cor);
}

registerJobDriver('stream', {
  prepare(ctx, j) {
    const { p } = ctx;
    corFilterDrop(ctx, j);
    const d = p.job(j.id)!.data as unknown as StreamData;
    // stream_prepare: bdrv_subtree_drained_begin(above_base) around the backing change
    return drained(p, [d.aboveBase], true, (): string | undefined => {
      const unfilteredBs = skipFilters(p, d.target);
      if (!unfilteredBs || !p.node(d.aboveBase)) return;
      const base = filterOrCowBs(p, d.aboveBase);
      const unfilteredBase = skipFilters(p, base);
      if (cowChild(p, unfilteredBs)) {
        const ub = unfilteredBase ? p.node(unfilteredBase) : undefined;
        // base_id = s->backing_file_str ?: unfiltered_base->filename: a json:{…} name is written as such
        const baseId = ub ? d.backingFile ?? (ub.filename || pseudoFilename(p, ub.name)) : null;
        let failed = false;
        try {
          setBackingHd(p, unfilteredBs, base);
        } catch (e) {
          if (!(e instanceof QmpError)) throw e;
          failed = true;
        }
        writeBackingHeader(p, unfilteredBs, baseId, ub?.driver ?? null);
        // stream_prepare: error_report_err, then -EPERM fails the job
        if (failed) return 'Operation not permitted';
      }
      return undefined;
    });
  },
  clean(ctx, j) {
    const { p } = ctx;
    corFilterDrop(ctx, j);
    const d = p.job(j.id)!.data as unknown as StreamData;
    removeJobBB(p, d.blk);
    patchJobData(p, j.id, { blk: null });
    if (d.bsReadOnly && p.node(d.target)) setReadOnly(p, d.target, true, { ignoreErrors: true });
  },
});
