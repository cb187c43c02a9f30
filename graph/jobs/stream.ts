// block-stream (block/stream.c, 7.2): a copy-on-read filter is inserted above the streamed
// node T, freezing the links from the filter down to base_overlay (the link into the base is
// not frozen); the job holds T ("active node") and each node below it down to above_base
// ("intermediate node"). At completion the filter is dropped and T's backing becomes whatever
// is below above_base at that moment.
import { QmpError } from '../../errors/index.js';
import { openNodeInContext } from '../open.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { openInsertedNode } from './insert-node.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W } from '../perm.js';
import type { Job } from '../types.js';
import { replaceNode } from '../replace.js';
import { cowBs, cowChild, filterChild, filterOrCowBs, findOverlay, skipFilters } from './chain.js';
import { freezeChain, unfreezeChain } from './freeze.js';
import { hasChangeBackingFile, setBackingHd, writeBackingHeader } from './backing.js';
import { pseudoFilename } from '../filename.js';
import { addJobBB, addJobEdge, dropRef, removeJobBB, removeJobEdges, setReadOnly } from './parts.js';
import { QmpErrorAfterAbort } from '../abort-residue.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from './runner.js';
import { onErrorOf, startRate } from './rate.js';
import { deferStartIfHeld, registerDeferredStart } from './held-drain.js';
import { drained } from '../drain.js';
import { refuseStreamInsertAfterReopen } from '../stream-reopen-backup-hang.js';
import { getLength, refuseInactiveHeaderWrite } from '../length.js';
import { dropFilter } from './drop-filter.js';
import { refuseStreamPrepareDiamond } from './stream-diamond.js';

// stream_run with nothing to stream, entered at the end of a held drained section
registerDeferredStart('stream-nothing', (ctx, id) => sendJob(ctx, id, { type: 'DONE' }));

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
  /** BlockdevOnError for stream_run's failed copies (default report) */
  onError?: string;
}

const BASIC = PERM_R | PERM_U;

/**
 * stream_start. A failure after the read-write reopen of T or the filter's insertion is not
 * undone: QEMU runs its `fail:` path (job_early_fail, bdrv_cor_filter_drop, the read-only
 * reopen) on the graph as it stands, and never unrefs s->blk (the BlockBackend leaks). The
 * model rolls the command back and replays it up to the same error, running that path there
 * (QmpErrorAfterAbort, graph/abort-residue.ts).
 */
export function startStream(ctx: JobCtx, o: StreamStart): Job {
  const r = streamStart(ctx, o, false);
  if ('job' in r) return r.job;
  const e = r.error;
  if (!r.residue) throw e;
  throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { streamStart({ p: q, emit: () => undefined }, o, true); });
}

type StartResult = { job: Job } | { error: QmpError; residue: boolean };

function streamStart(ctx: JobCtx, o: StreamStart, failPath: boolean): StartResult {
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

  let cor: string | null = null;
  let jobId: string | null = null;
  let blk: string | null = null;
  // Each piece below is a transaction of its own in QEMU: a refused one leaves nothing. Only the
  // replay of the fail path needs that (a plain refusal drops the whole Draft), and atomically
  // folds the steps inside, so the log of a stream that starts stays as it was.
  const own = <T>(fn: () => T): T => (failPath ? p.d.atomically(fn) : fn());
  try {
    // bdrv_insert_node: open the filter over T (cor_open freezes down to `bottom`), then
    // put it in T's place in all of T's parents; a failure unrefs the new node (nothing stays)
    p.step('insert-cor');
    const opts: Record<string, unknown> = { driver: 'copy-on-read', file: o.bs, bottom: baseOverlay };
    if (o.filterNodeName !== undefined) opts['node-name'] = o.filterNodeName;
    cor = own(() => {
      // bdrv_insert_node prefixes what fails: opening the filter (cor_open's child attach and
      // freeze) "Could not create node: ", putting it in place "Could not replace node: "
      const c = prefixed('Could not create node: ', () => {
        // the filter's AioContext is where cor_open's attach put it (graph/jobs/insert-node.ts)
        // (cor_open's freeze belongs to the open: bdrv_insert_node's check follows it)
        return openInsertedNode(p, o.bs, () => {
          const n = openNodeInContext(p, opts).name;
          // (cor_open froze the chain down to `bottom`: graph/cor-bottom.ts)
          p.patchNode(n, { implicit: o.filterNodeName === undefined, extra: { refs: 1 } });
          return n;
        });
      });
      // the filter is open; bdrv_insert_node now drains bs right after the reopen's drain ended
      // (fuzz 4264209348: a copying backup above never lets it end)
      if (bsReadOnly) refuseStreamInsertAfterReopen(p, o.bs);
      prefixed('Could not replace node: ', () => replaceNode(p, o.bs, c));
      return c;
    });

    p.step('job-create');
    const data: StreamData = {
      kind: 'stream', target: o.bs, cor, bottom: baseOverlay, aboveBase, backingFile: o.backingFile,
      bsReadOnly, blk: null, unblock: { [cor]: ['dataplane'] },
    };
    // block_job_create fails the job itself (job_early_fail): s stays NULL
    const job = own(() => createJob(ctx, { id: o.jobId, type: 'stream', autoFinalize: o.autoFinalize, autoDismiss: o.autoDismiss, speed: o.speed, data: { ...data }, aio: p.node(cor!)!.aio, mainNode: { node: cor!, perm: 0, shared: PERM_ALL } }));
    jobId = job.id;
    blk = own(() => addJobBB(p, job.id, 'stream', cor!, PERM_R, BASIC | PERM_W, true));
    patchJobData(p, job.id, { blk });
    // block_job_add_bdrv attaches in a transaction of its own: a refused edge leaves nothing
    own(() => addJobEdge(p, job.id, o.bs, 'active node', 0, BASIC | PERM_W));
    const base = filterOrCowBs(p, aboveBase);
    for (let it = filterOrCowBs(p, o.bs); it && it !== base; it = filterOrCowBs(p, it)) {
      const node = it;
      own(() => addJobEdge(p, job.id, node, 'intermediate node', 0, BASIC));
    }
  } catch (e) {
    // a refusal where QEMU dies has no fail path to run (QemuAbortRefusal: refused whole)
    if (!(e instanceof QmpError) || e instanceof QmpErrorAfterAbort || e instanceof QemuAbortRefusal) throw e;
    // the reopen is committed in QEMU and s->blk is never freed: what the fail path leaves
    // stays. The filter's insertion and drop alone cancel out (bdrv_replace_node moves T's
    // parents to the filter's head and back, restoring their order): a plain refusal.
    if (!failPath) return { error: e, residue: bsReadOnly || blk !== null };
    streamStartFail(ctx, o.bs, bsReadOnly, cor, baseOverlay, jobId, blk);
    return { error: e, residue: true };
  }
  const job = p.job(jobId)!;
  sendJob(ctx, job.id, { type: 'START' });
  // stream_run: nothing to copy when T is its own base_overlay; it finishes at once.
  // (under a held drained section, graph/jobs/held-drain.ts, only when the section ends)
  if (skipFilters(p, o.bs) === baseOverlay) {
    if (!deferStartIfHeld(p, job.id, 'stream-nothing', {})) sendJob(ctx, job.id, { type: 'DONE' });
  } else {
    const top = skipFilters(p, o.bs)!;
    // stream_run: len = bdrv_getlength(s->target_bs)
    startRate(ctx, job.id, { kind: 'stream', len: getLength(p, o.bs), top, baseOverlay, dest: top, ...onErrorOf(o.onError) });
  }
  return { job: p.job(job.id)! };
}

/**
 * stream_start's `fail:` label. job_early_fail frees the job (block_job_free: its edges go)
 * but not s->blk: QEMU 7.2 never unrefs it there (stream_clean, which does, runs only for a
 * started job), so the BlockBackend stays, anonymous, with the perms blk_new_with_bs gave it;
 * bdrv_cor_filter_drop then moves it with the filter's other parents onto T, and T is made
 * read-only again (errors ignored).
 */
function streamStartFail(ctx: JobCtx, bs: string, bsReadOnly: boolean, cor: string | null, bottom: string, jobId: string | null, blk: string | null): void {
  const { p } = ctx;
  p.step('stream-start-fail');
  if (jobId && p.job(jobId)) {
    if (blk && p.bb(blk)) p.putBB({ ...p.bb(blk)!, owner: { kind: 'leak', id: jobId, role: 'stream' } });
    removeJobEdges(p, jobId);
    p.delJob(jobId);
  }
  if (cor && p.node(cor)) dropCorFilter(p, cor, bottom);
  if (bsReadOnly && p.node(bs)) setReadOnly(p, bs, true, { ignoreErrors: true });
}

/** error_prepend on a QMP error thrown by `fn`. */
function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof QemuAbortRefusal) throw e;
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
  patchJobData(p, j.id, { cor: null });
  dropCorFilter(p, cor, d.bottom);
}

function dropCorFilter(p: JobCtx['p'], cor: string, bottom: string): void {
  unfreezeChain(p, cor, bottom);
  // bdrv_cor_filter_drop: bdrv_drop_filter, then bdrv_unref
  dropFilter(p, cor);
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
        refuseStreamPrepareDiamond(p, j.id, base);
        const ub = unfilteredBase ? p.node(unfilteredBase) : undefined;
        // s->backing_file_str ?: unfiltered_base->filename: bs->filename, the json: pseudo-filename
        // for a base without a plain name (seed 2999433197: bdrv_change_backing_file also sets
        // auto_backing_file to it, so the top's backing is no longer overridden)
        const baseId = ub ? d.backingFile ?? pseudoFilename(p, unfilteredBase!) : null;
        let failed = false;
        try {
          setBackingHd(p, unfilteredBs, base);
        } catch (e) {
          if (!(e instanceof QmpError)) throw e;
          failed = true;
        }
        // bdrv_change_backing_file's header write down unfiltered_bs->file: QEMU 10.0 dies where
        // that node or its file is inactive (bdrv_co_write_req_prepare; graph/length.ts writeRefusal)
        refuseInactiveHeaderWrite(p, unfilteredBs);
        writeBackingHeader(p, unfilteredBs, baseId, ub?.driver ?? null);
        // stream_prepare: error_report_err, then -EPERM fails the job
        if (failed) return 'Operation not permitted';
        // else it returns what bdrv_change_backing_file answered: a format without
        // .bdrv_change_backing_file (vmdk, qcow v1: only qcow2 and qed have one) gives -ENOTSUP,
        // and the job fails in prepare with the new backing link in place (7.2 and 10.0 alike)
        if (!hasChangeBackingFile(p, unfilteredBs)) return 'Operation not supported';
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
