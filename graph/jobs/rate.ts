// The copy loops of stream and commit (block/stream.c stream_run, block/commit.c commit_run,
// 7.2) with their rate limit: each iteration asks the block status of one chunk (512 KiB),
// copies it when the layers between hold it, and then sleeps for
// block_job_ratelimit_get_delay(n) (include/qemu/ratelimit.h ratelimit_calculate_delay: no
// delay while the bytes dispatched in the current 100 ms slice stay below speed/10, else until
// the extended slice ends). Without I/O or a clock in the model, a sleep lasts until something
// wakes the job: job_resume, block_job_set_speed's kick (job_enter_cond when a timer is
// pending), or the end of a drained section over one of the job's nodes (child_job_drained_end
// -> job_resume): job_sleep_ns then returns early and the loop runs its next iteration. So a
// speed-limited job copies one chunk per wake-up and finishes when its chunks run out.
// On 10.0 the loops sleep in block_job_ratelimit_sleep, which asks the delay again after every
// wake-up: only a new speed whose quota covers what the slice dispatched (or speed 0) moves the
// job on (wakeJob, rule 'wake-ends-rate-limit-sleep'). A backup's block_copy_dirty_clusters asks
// it before every task on both versions, so its kicks (block_copy_kick) move nothing either.
// A job started without a speed is not modelled in time: it runs until a `wait` step advances it
// (x-blockgraph-job-advance), which copies what is left.
// A mirror or active commit (block/mirror.c mirror_run) runs the same way over its dirty bitmap
// (mirror-dirty.ts): each wake-up issues the next run of dirty chunks (up to buf_size) and sleeps
// once the limit is exceeded, even after its last run; the wake-up that finds the bitmap clean
// (nothing in flight: the drain waited for it) makes it ready.
// A run whose writes into the target fail (target-write.ts), or whose reads of the source do
// with on-source-error report (job-read.ts: blkdebug rules, a snapshot-access node without the
// snapshot API), leaves s->ret set: mirror_run sees
// it at the top of its loop, so a job that went to sleep after that run fails at its next
// wake-up (a drain's end waits for the run's requests first); one that did not sleep comes round
// at once and fails (live, just after the reply: the model fails it in the command).
// Every failed read, of any job, goes to the one block_job_error_action (errorAction), whose
// stop pauses the job as a user pause (stopOnError).
import { dropDrainWakes, takeDrainWakes } from '../drain.js';
import type { Proc } from '../proc.js';
import type { Job } from '../types.js';
import { formatBelowFilters, writeGuestData, zeroGuestData } from './guest-write.js';
import { metadataView } from '../guest-image.js';
import { allocatedAbove, layerStatus } from './allocation.js';
import { FS_BLOCK, copyStatus } from './host-holes.js';
import { readFill } from '../qcow2-compress.js';
import { cowBs, filterChild, filterOrCowBs, isFilter } from './chain.js';
import { mirrorIteration, type MirrorDirty } from './mirror-dirty.js';
import { patchJobData, sendJob, type JobCtx } from './runner.js';
import { dataIn, mirrorWriteErrno } from './target-write.js';
import { rule } from '../rules.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { alignment } from '../refresh.js';
import { cbwBelow, refuseCbwGrowth } from './cbw-growth.js';
import { refuseWritePastEnd } from './write-past-end.js';
import { refuseUnchangedWriteDropped, unchangedWriteWithoutPerm } from './unchanged-write.js';
import { jobReadError, jobWriteError } from './job-read.js';
import { snapshotAccessReadable } from './snapshot-io.js';
import { strerror } from '../read.js';
import { completesOnWake, deferStartIfHeld, heldDrainPaused, registerDeferredStart, runDeferredStart } from './held-drain.js';

/** STREAM_CHUNK, COMMIT_BUFFER_SIZE */
const CHUNK = 512 * 1024;
/** BLOCK_JOB_SLICE_TIME, 100 ms */
const SLICE_NS = 100_000_000;

export interface RateState {
  kind: 'stream' | 'commit' | 'mirror';
  pos: number;            // the loop's offset
  len: number;            // bdrv_getlength at the start of .run
  quota: number;          // RateLimit.slice_quota (0: no limit)
  dispatched: number;     // bytes counted in the current (extended) slice
  sleeping: boolean;      // in job_sleep_ns with a delay: only a wake-up moves it on
  limited: boolean;       // started with a speed: progress is modelled per wake-up
  top: string;            // stream: unfiltered target; commit: top (blk_bs(s->top))
  baseOverlay: string;    // the lowest layer whose data is copied
  dest: string;           // where the data goes (stream: the target, commit: base, mirror: target)
  mirror?: MirrorDirty;   // mirror: the dirty bitmap and its iterator
  /** mirror: s->unmap false (drive-mirror unmap=false): zero pieces keep the target's clusters (absent: true) */
  unmap?: false;
  /** mirror: s->on_target_error, mirror_error_action's write side (absent: report) */
  onTargetError?: string;
  /** mirror: s->ret, the errno text of the first failed read or write (mirror_read_complete, mirror_write_complete) */
  ret?: string;
  /**
   * stream, commit: s->on_error; mirror: s->on_source_error (mirror_error_action's read side).
   * What block_job_error_action makes of a failed copy (absent: report).
   */
  onError?: string;
  /** stream_run's `error`: the first failed copy's errno text (reported, or ignored) */
  error?: string;
}

/** The rate state's onError: kept only when it is not the default, report (the logged job data stays as it was). */
export function onErrorOf(onError: string | undefined): { onError?: string } {
  return onError !== undefined && onError !== 'report' ? { onError } : {};
}

/** How a copy loop's run ended: its last chunk done (true), asleep (false), failed, or stopped by an error. */
type LoopEnd = boolean | 'failed' | 'stopped';

/**
 * block_job_error_action (blockjob.c): enospc and auto stop on ENOSPC and report anything else;
 * BLOCK_JOB_ERROR is sent before the action is taken.
 */
export function errorAction(ctx: JobCtx, id: string, onError: string | undefined, errno: string, isRead: boolean): 'stop' | 'report' | 'ignore' {
  const action = onError === 'stop' ? 'stop' : onError === 'ignore' ? 'ignore' : onError === 'report' || onError === undefined ? 'report'
    : errno === strerror(28) ? 'stop' : 'report';
  ctx.emit('BLOCK_JOB_ERROR', { device: id, operation: isRead ? 'read' : 'write', action });
  return action;
}

/**
 * block_job_error_action's stop: job_pause and user_paused (resumed only by a user's resume,
 * block-job-resume), unless the user had paused it already; the loop's `continue` reaches the
 * pause point in job_sleep_ns at once (a ready mirror goes to standby). The failed chunk is
 * retried when the job runs again (stream/commit: n = 0; mirror: the range is dirty again), at
 * its next wake-up (the resume's job_enter), so the rate state counts it as asleep.
 */
export function stopOnError(ctx: JobCtx, id: string): void {
  const j = ctx.p.job(id);
  if (!j || (j.status !== 'running' && j.status !== 'ready')) return;
  if (j.paused === 0) ctx.p.patchJob(id, { paused: 1 });
  sendJob(ctx, id, { type: 'PAUSE' });
}

/** ratelimit_set_speed */
export function quotaOf(speed: number): number {
  return speed === 0 ? 0 : Math.max(Math.floor((speed * SLICE_NS) / 1e9), 1);
}

const rateOf = (j: Job | undefined): RateState | undefined => j?.data.rate as RateState | undefined;

/**
 * One stretch of the loop: how many bytes it covers and whether it copies them. A copied stretch
 * is one iteration (at most a chunk); a stretch that copies nothing may stand for several of
 * QEMU's iterations (each at most a chunk, none copying, so none sleeps): the status is asked
 * over the whole rest, which ends where the allocation changes, as QEMU's runs do.
 */
function iteration(p: Proc, r: RateState, offset: number): { n: number; copy: boolean } {
  const window = r.len - offset;
  const clamp = (st: { n: number; copy: boolean }) => (st.copy ? { n: Math.min(st.n, CHUNK), copy: true } : st);
  if (r.kind === 'stream') {
    // stream_run: allocated in the top needs no copy; else copy what the layers down to
    // base_overlay hold
    const top = layerStatus(p, r.top, offset, window);
    if (top.alloc) return { n: top.n, copy: false };
    const below = allocatedAbove(p, cowBs(p, r.top), r.baseOverlay, true, offset, top.n || window);
    if (!below.alloc && below.n === 0) return { n: window, copy: false };
    return clamp({ n: below.n, copy: below.alloc });
  }
  // commit_run: copy what is allocated from top down to base_overlay
  const st = allocatedAbove(p, r.top, r.baseOverlay, true, offset, window);
  return clamp({ n: st.n, copy: st.alloc });
}

/**
 * stream_run's bdrv_is_allocated_above(backing of the top, base_overlay) at `offset` (asked when
 * the top does not hold it): the layers are asked from the top down until one holds the range
 * (bdrv_co_common_block_status_above); a snapshot-access node among them without
 * copy-before-write below answers -ENOTSUP (snapshot_access_co_block_status ->
 * bdrv_co_snapshot_block_status, graph/jobs/snapshot-io.ts), which stream_run hands to
 * block_job_error_action like a failed copy (fuzz seed 2267375837).
 */
function streamStatusError(p: Proc, r: RateState, offset: number): string | undefined {
  if (layerStatus(p, r.top, offset, 1).alloc) return undefined;
  for (let it = cowBs(p, r.top), i = 0; it && i < 100_000; it = filterOrCowBs(p, it), i++) {
    if (p.node(it)?.driver === 'snapshot-access' && !snapshotAccessReadable(p, it)) return strerror(95);
    if (!isFilter(p, it) && layerStatus(p, it, offset, 1).alloc) return undefined;
    if (it === r.baseOverlay) break;
  }
  return undefined;
}

/** The copied bytes become the destination's own (graph/jobs/guest-write.ts). */
const writeData = writeGuestData;

/**
 * mirror_run's loop: mirror_iteration while the bitmap is dirty; the delay it returns puts the
 * job to sleep (job_sleep_ns) after the run it issued, the last one included. True when the
 * loop finds the bitmap clean (then mirror_run goes ready); 'failed' when it finds s->ret set;
 * 'stopped' when a failed read stopped the job; false when it sleeps, or (without a limit) when a
 * read fails again at a range no copy has moved on from (on-source-error ignore: busy for good).
 */
function runMirrorLoop(ctx: JobCtx, id: string, r: RateState, ignoreLimit: boolean): LoopEnd {
  const { p } = ctx;
  const m = r.mirror!;
  let failedAt = new Set<number>();
  for (let guard = 0; guard < 1_000_000; guard++) {
    // mirror_run: if (s->ret < 0) goto immediate_exit
    if (r.ret !== undefined) return 'failed';
    const it = mirrorIteration(p, m, r.top, r.len);
    if (!it) return true;
    // mirror_co_read -> mirror_read_complete and mirror_write_complete: a failed request dirties
    // its range again (bdrv_set_dirty_bitmap) and asks mirror_error_action (block_job_error_action
    // with on-source-error for a read, on-target-error for a write: target-write.ts
    // mirrorWriteErrno, the raw window's ENOSPC among them): report sets s->ret, stop pauses the
    // job, ignore goes on (the range is copied again at a later pass)
    const read = it.bytes > 0 ? mirrorReadError(p, r, it.offset, it.bytes) : undefined;
    const writes = it.bytes > 0 && !read ? mirrorWriteFailures(p, r, it.offset, it.bytes) : [];
    if (writes.length > 1) {
      // every request of the iteration is in flight before the first completes (mirror_iteration
      // waits only for MAX_IN_FLIGHT): each failed write's mirror_write_complete dirties its range
      // again and asks mirror_error_action, one BLOCK_JOB_ERROR each; the others are copied
      // (iotests 248: four 1 MiB writes past a raw `size` window, enospc: four events, paused)
      let action: 'stop' | 'report' | 'ignore' = 'ignore';
      for (const w of writes) {
        m.dirty = redirty(m.dirty, w.offset, w.bytes, m.granularity);
        const a = errorAction(ctx, id, r.onTargetError, w.errno, false);
        if (a === 'report') r.ret ??= w.errno;
        if (a === 'stop' || (a === 'report' && action !== 'stop')) action = a;
      }
      mirrorWriteOthers(p, r, it.offset, it.bytes, writes);
      if (action === 'stop') {
        r.sleeping = true;
        return 'stopped';
      }
      if (action === 'ignore') {
        if (failedAt.has(writes[0]!.offset)) return false;
        failedAt.add(writes[0]!.offset);
      }
    }
    const writeErr = writes.length === 1 ? writes[0]!.errno : undefined;
    const failed = read ? { ...read, isRead: true } : writeErr !== undefined ? { offset: it.offset, bytes: it.bytes, errno: writeErr, isRead: false } : undefined;
    if (writes.length <= 1 && failed) {
      m.dirty = redirty(m.dirty, failed.offset, failed.bytes, m.granularity);
      const action = errorAction(ctx, id, failed.isRead ? r.onError : r.onTargetError, failed.errno, failed.isRead);
      if (action === 'report') r.ret ??= failed.errno;
      else {
        // after a failed read, the iteration's other requests are copied
        if (failed.isRead) mirrorWrite(p, r, it.offset, it.bytes);
        if (action === 'stop') {
          r.sleeping = true;
          return 'stopped';
        }
        // an error that comes back at a range no copy has moved on from keeps the job busy
        if (failedAt.has(failed.offset)) return false;
        failedAt.add(failed.offset);
      }
    } else if (writes.length <= 1 && it.bytes > 0) {
      mirrorWrite(p, r, it.offset, it.bytes);
      failedAt = new Set();
    }
    if (r.quota > 0 && !ignoreLimit && it.accounted > 0) {
      r.dispatched += it.accounted;
      if (r.dispatched >= r.quota) {
        r.sleeping = true;
        return false;
      }
    }
  }
  return true;
}

/**
 * The failed writes of mirror_iteration's requests over [offset, offset + bytes): split as
 * mirrorReadError splits them (status runs, data pieces at most max_io_bytes), each asked of
 * target-write.ts mirrorWriteErrno. A single failure keeps the whole iteration's range (the
 * model's one-request view, as before); several are listed piece by piece.
 */
function mirrorWriteFailures(p: Proc, r: RateState, offset: number, bytes: number): { offset: number; bytes: number; errno: string }[] {
  const maxIo = Math.max(Math.floor((r.mirror!.bufSize || 0) / 16), 1 << 20);
  const whole = mirrorWriteErrno(p, r.top, r.dest, offset, bytes);
  if (whole === undefined) return [];
  const out: { offset: number; bytes: number; errno: string }[] = [];
  const statusFails = !snapshotAccessReadable(p, r.top);
  for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
    const st = statusFails ? { alloc: true, n: offset + bytes - o } : allocatedAbove(p, r.top, null, true, o, offset + bytes - o);
    let n = st.n > 0 ? st.n : offset + bytes - o;
    // (only BDRV_BLOCK_DATA pieces are cut at max_io_bytes: a zero or discard run is one request)
    if (st.alloc && (statusFails || dataIn(p, r.top, o, n))) n = Math.min(n, maxIo);
    const errno = mirrorWriteErrno(p, r.top, r.dest, o, n);
    if (errno !== undefined) out.push({ offset: o, bytes: n, errno });
    o += n;
  }
  return out.length > 1 ? out : [{ offset, bytes, errno: whole }];
}

/** mirrorWrite of the iteration's pieces that did not fail. */
function mirrorWriteOthers(p: Proc, r: RateState, offset: number, bytes: number, failed: { offset: number; bytes: number }[]): void {
  let o = offset;
  for (const f of [...failed].sort((a, b) => a.offset - b.offset)) {
    if (f.offset > o) mirrorWrite(p, r, o, f.offset - o);
    o = Math.max(o, f.offset + f.bytes);
  }
  if (o < offset + bytes) mirrorWrite(p, r, o, offset + bytes - o);
}

/** The dirty runs with [offset, offset + bytes) (at the bitmap's granularity) set again, sorted and merged. */
function redirty(dirty: [number, number][], offset: number, bytes: number, g: number): [number, number][] {
  const runs = [...dirty.map((x) => [...x] as [number, number]), [Math.floor(offset / g) * g, Math.ceil((offset + bytes) / g) * g] as [number, number]];
  runs.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s0, e0] of runs) {
    const last = out[out.length - 1];
    if (last && s0 <= last[1]) last[1] = Math.max(last[1], e0);
    else out.push([s0, e0]);
  }
  return out;
}

/**
 * mirror_iteration's writes over [offset, offset + bytes): the pieces the source chain holds
 * (bdrv_block_status_above: BDRV_BLOCK_DATA) are copied; the others are written as zeroes
 * (mirror_do_zero_or_discard -> mirror_co_zero: blk_co_pwrite_zeroes with BDRV_REQ_MAY_UNMAP when
 * s->unmap, which the BlockBackend path passes on whatever the target's discard option), when
 * they are whole clusters of the target (bdrv_round_to_clusters), else copied as a buffer of
 * zeroes (MIRROR_METHOD_COPY). A qcow2 target zeroes L2 entries and releases the clusters
 * (graph/jobs/guest-write.ts zeroGuestData); a write of zeroes clobbers a host file's header like
 * data (graph/jobs/guest-write.ts), so other targets take the whole range.
 */
function mirrorWrite(p: Proc, r: RateState, offset: number, bytes: number): void {
  // (an nbd client target takes data and zero pieces apart too: NBD_CMD_WRITE and _WRITE_ZEROES)
  // (through filters and raw nodes over the target, the format below them: graph/jobs/guest-write.ts formatBelowFilters)
  const fmt = formatBelowFilters(p, r.dest)?.node ?? r.dest;
  const piecewise = p.node(fmt)?.driver === 'qcow2' || p.node(fmt)?.driver === 'nbd';
  if (!piecewise || !snapshotAccessReadable(p, r.top)) {
    writeData(p, r.dest, offset, bytes, r.top);
    return;
  }
  const cs = metadataView(p, fmt)?.img.clusterSize ?? 65536;
  const destEnd = p.node(r.dest)?.size ?? 0;
  // mirror_iteration: each request starts at a granularity boundary; a block-status run shorter
  // than the granularity is copied as one whole granule (`if (io_bytes < s->granularity)
  // io_bytes = s->granularity`, MIRROR_METHOD_COPY: zeroes in it become data on the target),
  // a longer one is cut down to whole granules
  const g = r.mirror?.granularity ?? 0;
  const end = offset + bytes;
  for (let o = offset, guard = 0; o < end && guard < 100_000; guard++) {
    // want_zero: a raw source's holes are zeroes, not data (graph/jobs/host-holes.ts)
    // (with the job's granularity known, a raw source's holes are followed to the file system
    // block, as SEEK_DATA answers, and the granule and cluster rounding below do the rest)
    const st = copyStatus(p, r.top, o, end - o, g > 0 ? FS_BLOCK : Math.min(Math.max(cs, 4096), 65536));
    let n = st.n > 0 ? st.n : end - o;
    let copy = st.data;
    if (g > 0 && o % g === 0) {
      n -= n % g;
      if (n < g) { n = g; copy = true; }
      n = Math.min(n, end - o);
    }
    if (copy) writeData(p, r.dest, o, n, r.top);
    else if (o % cs === 0 && ((o + n) % cs === 0 || o + n >= destEnd)) zeroGuestData(p, r.dest, o, n, r.unmap !== false);
    else writeData(p, r.dest, o, n, r.top);
    o += n;
  }
}

/**
 * mirror_iteration's requests over [offset, offset + bytes): split where the chain's block status
 * changes (bdrv_block_status_above; where it fails, as under a snapshot-access node without the
 * snapshot API, everything is copied), data pieces at most max_io_bytes (MAX(buf_size /
 * MAX_IN_FLIGHT, MAX_IO_BYTES)), each read from the source (mirror_co_read, job-read.ts
 * jobReadError) in order; the first one that fails, with its errno text. Zero and discard pieces
 * read nothing.
 */
function mirrorReadError(p: Proc, r: RateState, offset: number, bytes: number): { offset: number; bytes: number; errno: string } | undefined {
  const maxIo = Math.max(Math.floor((r.mirror!.bufSize || 0) / 16), 1 << 20);
  const statusFails = !snapshotAccessReadable(p, r.top);
  for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
    const st = statusFails ? { alloc: true, n: offset + bytes - o } : allocatedAbove(p, r.top, null, true, o, offset + bytes - o);
    let n = st.n > 0 ? st.n : offset + bytes - o;
    if (st.alloc) {
      n = Math.min(n, maxIo);
      const errno = jobReadError(p, r.top, o, n);
      if (errno) return { offset: o, bytes: n, errno };
    }
    o += n;
  }
  return undefined;
}

/**
 * Runs iterations until the job sleeps (returns false) or its loop ends (true, or 'failed' when
 * a copy failed and was reported or ignored), or a failed copy stops it ('stopped').
 */
function runLoop(ctx: JobCtx, id: string, r: RateState, ignoreLimit: boolean): LoopEnd {
  const { p } = ctx;
  if (r.kind === 'mirror') return runMirrorLoop(ctx, id, r, ignoreLimit);
  let lastFailed = -1;
  for (let guard = 0; r.pos < r.len && guard < 1_000_000; guard++) {
    const statusErr = r.kind === 'stream' ? streamStatusError(p, r, r.pos) : undefined;
    if (statusErr !== undefined) {
      // stream_run: ret < 0 -> block_job_error_action(..., true, -ret); stop and ignore come
      // back to the same offset (n stays 0), ignore at once: busy for good
      const action = errorAction(ctx, id, r.onError, statusErr, true);
      if (action === 'stop') {
        r.sleeping = true;
        return 'stopped';
      }
      r.error ??= statusErr;
      if (action === 'report') return 'failed';
      if (lastFailed === r.pos) return false;
      lastFailed = r.pos;
      continue;
    }
    const { n: raw, copy } = iteration(p, r, r.pos);
    const n = raw > 0 ? raw : r.len - r.pos;
    if (copy && r.kind === 'commit') {
      // commit_run: blk_co_pread(s->top), then blk_co_pwrite(s->base); a failure goes to
      // block_job_error_action (error_in_source: the read failed)
      const readErr = jobReadError(p, r.top, r.pos, n);
      const err = readErr ?? jobWriteError(p, r.dest, r.pos, n);
      if (err !== undefined) {
        const action = errorAction(ctx, id, r.onError, err, readErr !== undefined);
        if (action === 'report') {
          r.error = err;
          return 'failed';
        }
        // stop and ignore both retry the chunk (n = 0; continue): stop after the user's resume,
        // ignore after job_sleep_ns with the delay the last copy left (none without a limit)
        if (action === 'stop' || (r.quota > 0 && !ignoreLimit && r.dispatched >= r.quota)) {
          r.sleeping = true;
          return action === 'stop' ? 'stopped' : false;
        }
        // an error that comes back on every retry keeps the job busy for good
        if (lastFailed === r.pos) return false;
        lastFailed = r.pos;
        continue;
      }
    }
    // stream_populate's read (copy-on-read with BDRV_REQ_PREFETCH) of the chunk through the top,
    // then bdrv_co_do_copy_on_readv's write of it into the top (bdrv_driver_pwritev, whose
    // failure is returned: "we don't want to ignore the error"), e.g. a qcow2 top over a raw
    // `size` window (job-read.ts jobWriteError)
    const err = copy && r.kind === 'stream' ? jobReadError(p, r.top, r.pos, n) ?? jobWriteError(p, r.dest, r.pos, n) : undefined;
    if (err !== undefined) {
      // stream_run: if (ret < 0) block_job_error_action(..., true, -ret)
      const action = errorAction(ctx, id, r.onError, err, true);
      if (action === 'stop') {
        r.sleeping = true;
        return 'stopped';
      }
      r.error ??= err;
      if (action === 'report') return 'failed';
      // ignore: progress and the rate limit count the chunk, nothing was copied
    } else if (copy && r.kind === 'stream') streamCorWrite(p, r, r.pos, n);
    else if (copy) writeData(p, r.dest, r.pos, n, r.top);
    r.pos += n;
    if (copy && r.quota > 0 && !ignoreLimit) {
      r.dispatched += n;
      if (r.dispatched >= r.quota && r.pos < r.len) {
        r.sleeping = true;
        return false;
      }
    }
  }
  // stream_run: "Do not remove the backing file if an error was there but ignored."
  return r.error !== undefined ? 'failed' : true;
}

/**
 * stream_populate's copy-on-read of [offset, offset + n) into the top (bdrv_co_do_copy_on_readv):
 * the top's unallocated run is read into one bounce buffer (at most MAX_BOUNCE_BUFFER, more than a
 * STREAM_CHUNK) and written back below the request layer (bdrv_driver_pwritev, or
 * bdrv_co_do_pwrite_zeroes when buffer_is_zero finds the whole buffer zero, without
 * BDRV_REQ_MAY_UNMAP): a chunk that reads as zeroes becomes zero clusters, not data, and neither
 * write dirties the top's own bitmaps (no bdrv_co_write_req_finish on it).
 */
function streamCorWrite(p: Proc, r: RateState, offset: number, n: number): void {
  if (readFill(p, r.top, offset, n) === 0) zeroGuestData(p, r.dest, offset, n, false, true);
  else writeGuestData(p, r.dest, offset, n, r.top, true);
}

/** Called by stream_start/commit_start after job_start. */
export function startRate(ctx: JobCtx, id: string, init: Omit<RateState, 'pos' | 'dispatched' | 'sleeping' | 'limited' | 'quota'>): void {
  const j = ctx.p.job(id);
  if (!j) return;
  dropDrainWakes(ctx.p, id);
  const r: RateState = { ...init, pos: 0, dispatched: 0, sleeping: false, limited: j.speed > 0, quota: quotaOf(j.speed) };
  refuseGrowingCopy(ctx.p, r);
  refuseCopyPastEnd(ctx.p, r);
  if (r.kind === 'stream') refuseUnalignedPrefetch(ctx.p, String(j.data.target), r);
  if (r.kind === 'stream') refuseStreamUnchangedWrite(ctx.p, id, String(j.data.target), r);
  patchJobData(ctx.p, id, { rate: r });
  // a job started under a held drained section runs its first iterations when it is first entered
  if (deferStartIfHeld(ctx.p, id, 'rate', {})) return;
  firstIterations(ctx, id, r);
}

/**
 * The iterations job_start's first entry runs before the QMP reply: a speed-limited loop's first
 * batch, and a stream's first block status that fails ends its first iteration with an error just
 * after the reply (block_job_error_action), with or without a limit (streamStatusError).
 */
function firstIterations(ctx: JobCtx, id: string, r: RateState): void {
  if (r.limited || (r.kind === 'stream' && streamStatusError(ctx.p, r, 0) !== undefined)) runBatch(ctx, id);
}

// the first entry of a stream, commit or mirror loop started under a held drained section
registerDeferredStart('rate', (ctx, id) => {
  const r = rateOf(ctx.p.job(id));
  if (r) firstIterations(ctx, id, r);
});

/**
 * fuzz 1430764569: the job's first copies run as soon as it starts (its coroutine is entered by
 * job_start; the rate limit only sleeps after a copy), so a copy that grows a qcow2 file under a
 * copy-before-write filter kills QEMU right after the command that started the job: every
 * stretch the loop would copy (from the graph as it is now) is checked here, at the start
 * (graph/jobs/cbw-growth.ts).
 */
/**
 * stream_run -> stream_populate: blk_co_preadv(s->blk, offset, n, NULL, BDRV_REQ_PREFETCH) through
 * the copy-on-read filter into the device node and on down its filters to the top format node.
 * Each layer's bdrv_co_preadv_part pads a request its bs->bl.request_alignment does not divide
 * (bdrv_pad_request); on 7.2 that builds the padded vector from the NULL qiov and dies (SIGSEGV,
 * seen live: tests/stream-unaligned-prefetch of QEMU 10.0, a compress filter, whose alignment is
 * its qcow2 child's cluster size, over a top whose base holds less than a cluster). 10.0 pads a
 * prefetch without a vector (graph/rules.ts stream-prefetch-pad-crashes). Like refuseGrowingCopy,
 * every stretch the loop would copy is checked at the start: the first copy runs right after the
 * command.
 */
function refuseUnalignedPrefetch(p: Proc, device: string, r: RateState): void {
  if (!rule(p, 'stream-prefetch-pad-crashes')) return;
  const route: string[] = [];
  for (let it: string | null = device, i = 0; it && i < 1000; it = isFilter(p, it) ? (filterChild(p, it)?.child ?? null) : null, i++) route.push(it);
  const aligned = route.map((n) => ({ n, a: p.node(n) ? alignment(p, p.node(n)!) : 1 })).filter((x) => x.a > 1);
  if (!aligned.length) return;
  for (let pos = 0, guard = 0; pos < r.len && guard < 1_000_000; guard++) {
    const { n: raw, copy } = iteration(p, r, pos);
    const n = raw > 0 ? raw : r.len - pos;
    const bad = copy ? aligned.find((x) => pos % x.a !== 0 || n % x.a !== 0) : undefined;
    if (bad) {
      throw new QemuAbortRefusal(
        `block-stream's first copy reads ${n} bytes at offset ${pos} through node '${bad.n}', whose request alignment is ${bad.a} ` +
        '(QEMU 7.2 crashes here: stream_populate\'s prefetch has no I/O vector, and bdrv_co_preadv_part -> bdrv_pad_request pads it: SIGSEGV); refused by blockgraph',
        'bdrv_pad_request',
      );
    }
    pos += n;
  }
}

/** stream_run's copies written back through a blklogwrites node without write on its links (graph/jobs/unchanged-write.ts): refused when any stretch is copied. */
function refuseStreamUnchangedWrite(p: Proc, jobId: string, device: string, r: RateState): void {
  if (!unchangedWriteWithoutPerm(p, device)) return;
  for (let pos = 0, guard = 0; pos < r.len && guard < 1_000_000; guard++) {
    const { n: raw, copy } = iteration(p, r, pos);
    if (copy) refuseUnchangedWriteDropped(p, jobId, device);
    pos += raw > 0 ? raw : r.len - pos;
  }
}

function refuseGrowingCopy(p: Proc, r: RateState): void {
  if (p.node(r.dest)?.driver !== 'qcow2' || !cbwBelow(p, r.dest)) return;
  if (r.kind === 'mirror') {
    for (const [s, e] of r.mirror?.dirty ?? []) refuseCbwGrowth(p, r.dest, s, e - s);
    return;
  }
  for (let pos = 0, guard = 0; pos < r.len && guard < 1_000_000; guard++) {
    const { n: raw, copy } = iteration(p, r, pos);
    const n = raw > 0 ? raw : r.len - pos;
    if (copy) refuseCbwGrowth(p, r.dest, pos, n);
    pos += n;
  }
}

/** Every stretch the loop would copy, checked for a write past the end of a node below a stale-length layer (graph/jobs/write-past-end.ts). */
function refuseCopyPastEnd(p: Proc, r: RateState): void {
  const d = p.node(r.dest);
  if (!d || (d.driver !== 'raw' && !isFilter(p, r.dest))) return;
  if (r.kind === 'mirror') {
    for (const [s, e] of r.mirror?.dirty ?? []) refuseWritePastEnd(p, r.dest, s, Math.min(e, r.len) - s);
    return;
  }
  for (let pos = 0, guard = 0; pos < r.len && guard < 1_000_000; guard++) {
    const { n: raw, copy } = iteration(p, r, pos);
    const n = raw > 0 ? raw : r.len - pos;
    if (copy) refuseWritePastEnd(p, r.dest, pos, n);
    pos += n;
  }
}

function runBatch(ctx: JobCtx, id: string): void {
  const r0 = rateOf(ctx.p.job(id))!;
  const r = { ...r0, ...(r0.mirror ? { mirror: { ...r0.mirror, dirty: r0.mirror.dirty.map((x) => [...x] as [number, number]) } } : {}) };
  r.sleeping = false;
  const done = runLoop(ctx, id, r, false);
  patchJobData(ctx.p, id, { rate: r });
  // mirror_run: s->ret < 0 -> immediate_exit, the job fails with it; stream_run returns its error
  if (done === 'failed') sendJob(ctx, id, { type: 'FAIL', error: (r.ret ?? r.error)! });
  else if (done === 'stopped') stopOnError(ctx, id);
  // mirror_run: a clean bitmap with nothing in flight -> job_transition_to_ready
  else if (done) sendJob(ctx, id, { type: r.kind === 'mirror' ? 'READY' : 'DONE' });
}

/**
 * ratelimit_calculate_delay(&job->limit, 0) (include/qemu/ratelimit.h): no delay when the limit is
 * off (slice_quota 0, a speed of 0) or when the bytes dispatched in the current (extended) slice
 * are still below its quota (a quota raised by block-job-set-speed). The slice's end by the clock
 * is not modelled: a sleeping job's slice lasts dispatched/quota slices (minutes at the speeds
 * the scenarios and the fuzzer use).
 */
export function rateDelays(r: RateState): boolean {
  return r.quota > 0 && r.dispatched >= r.quota;
}

/**
 * A wake-up: a sleeping, running, not user-paused speed-limited job runs its next iterations.
 * On 7.2 (stream_run/commit_run/mirror_run: job_sleep_ns(delay_ns)) any entry ends the sleep. On
 * 10.0 the loops sleep in block_job_ratelimit_sleep (blockjob.c), which asks
 * ratelimit_calculate_delay(limit, 0) again after every early return of job_sleep_ns: the job
 * runs on only when the limit no longer asks for a delay (the quota of a new speed covers what
 * the slice dispatched, or a speed of 0), else it sleeps again (rule 'wake-ends-rate-limit-sleep').
 * The same for every wake-up: job_resume's (block-job-resume, child_job_drained_end),
 * block_job_set_speed_locked's kick, and a job stopped on an error and resumed.
 */
export function wakeJob(ctx: JobCtx, id: string): void {
  // job_resume_locked: a job a held drained section still pauses is not entered (pause_count > 0)
  if (heldDrainPaused(ctx.p, id)) return;
  // a job that has not run yet (started under a held drained section) starts now
  if (runDeferredStart(ctx, id)) return;
  // a ready mirror completed while it was paused (job-complete in standby) leaves its loop now:
  // mirror_run's should_complete exit (job_completed)
  if (completesOnWake(ctx.p, id)) {
    sendJob(ctx, id, { type: 'DONE' });
    return;
  }
  const j = ctx.p.job(id);
  const r = rateOf(j);
  if (!j || !r?.limited || !r.sleeping || j.status !== 'running' || j.paused > 0) return;
  if (!rule(ctx.p, 'wake-ends-rate-limit-sleep') && rateDelays(r)) return;
  runBatch(ctx, id);
}

/** block_job_set_speed_locked: the new quota; a kick unless the speed went down (or stayed). */
export function rateSetSpeed(ctx: JobCtx, id: string, oldSpeed: number, speed: number): void {
  const j = ctx.p.job(id);
  const r = rateOf(j);
  if (!j || !r) return;
  patchJobData(ctx.p, id, { rate: { ...r, quota: quotaOf(speed) } });
  if (speed && speed <= oldSpeed) return;
  wakeJob(ctx, id);
}

/**
 * A `wait` step: the loop runs to its end as time passes (the data is copied). Returns how it
 * ended for a job whose copy failed: 'failed' (the job's error: stream_run's, or a mirror's
 * s->ret), 'stopped' (the job paused) or 'busy' (retrying for good).
 */
export function rateRunToEnd(ctx: JobCtx, id: string): { failed: string } | 'stopped' | 'busy' | undefined {
  const { p } = ctx;
  const r0 = rateOf(p.job(id));
  if (!r0) return undefined;
  const r = { ...r0, ...(r0.mirror ? { mirror: { ...r0.mirror, dirty: r0.mirror.dirty.map((x) => [...x] as [number, number]) } } : {}) };
  const done = runLoop(ctx, id, r, true);
  r.sleeping = done === 'stopped';
  patchJobData(p, id, { rate: r });
  if (done === 'stopped') {
    stopOnError(ctx, id);
    return 'stopped';
  }
  // (a commit or mirror whose copy fails on every retry of on-error ignore never ends)
  if (done === false) return 'busy';
  return done === 'failed' ? { failed: (r.ret ?? r.error)! } : undefined;
}

/** Runs the wake-ups the command's drained sections gave, in order. */
export function flushDrainWakes(ctx: JobCtx): void {
  // a woken job that finishes may finalize and drain in turn: until nothing is left
  for (let round = 0; round < 1000; round++) {
    const wakes = takeDrainWakes(ctx.p);
    if (!wakes.length) return;
    for (const id of wakes) wakeJob(ctx, id);
  }
}

