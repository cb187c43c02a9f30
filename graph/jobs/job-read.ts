// The reads a job's copy loop issues (block/stream.c stream_populate: blk_co_preadv with
// BDRV_REQ_PREFETCH through the copy-on-read filter; block/commit.c commit_run: blk_co_pread of
// the top, blk_co_pwrite into the base; block/mirror.c mirror_co_read: blk_co_preadv of the
// source, rate.ts mirrorReadError), followed down the graph the way the block layer routes them
// (bdrv_co_preadv_part), for what a read can meet in the model: a blkdebug node on the way (its
// debug events move its state, an active inject-error rule fails the request, block/blkdebug.c
// blkdebug_debug_event / rule_check), and a snapshot-access node without copy-before-write below
// (-ENOTSUP). graph/read.ts does the same for the header reads of an open; this one takes any range.
import { commitDebugState } from '../blkdebug-state.js';
import type { Proc } from '../proc.js';
import { debugCheck, debugEvent, quorumRead } from '../read.js';
import { layerStatus } from './allocation.js';
import { addExtent, imageBehind } from '../images.js';
import { qcow2HostOffset } from '../open.js';
import { qcow2OutOfRoom } from './target-write.js';
import { staleL2Garbage } from './stale-qcow2.js';
import { PASS_THROUGH } from '../pass-through.js';


/** strerror(ENOTSUP) */
const ENOTSUP = 'Operation not supported';
/** strerror(EIO) */
const EIO = 'Input/output error';

/**
 * The errno text a read of [offset, offset + bytes) of `node` fails with, or undefined. A qcow2
 * node's guest data is read at its host offset (graph/open.ts qcow2HostOffset); where that is not
 * known (an external data file, a file that is no qcow2 image of the catalogue) only blkdebug
 * rules without a sector can match, as graph/read.ts's guest data reads.
 */
export function jobReadError(p: Proc, node: string, offset: number, bytes: number, host = true): string | undefined {
  const commit = commitDebugState(p);
  const child = (n: string, name: string) => p.child(n, name)?.child;
  const rec = (cur: string | undefined, off: number, len: number, known: boolean, depth: number): string | undefined => {
    const n = cur === undefined ? undefined : p.node(cur);
    if (!n || len <= 0 || depth > 1000) return undefined;
    // bdrv_aligned_preadv: what lies past the node's end reads as zeroes, no request
    if (known && n.size !== undefined && off >= n.size) return undefined;
    const end = known && n.size !== undefined ? Math.min(off + len, n.size) : off + len;
    switch (n.driver) {
      case 'raw': {
        // raw_co_preadv: BLKDBG_EVENT(bs->file, BLKDBG_READ_AIO), then the file at offset + s->offset
        const f = child(cur!, 'file');
        if (f) debugEvent(p, f, 'read_aio', commit);
        return rec(f, off + Number(n.options.offset ?? 0), end - off, known, depth + 1);
      }
      case 'blkdebug': {
        // blkdebug_co_preadv: rule_check over the request bdrv_pad_request aligned to bl.request_alignment
        const err = known ? debugCheck(p, cur!, off, end - off, commit) : debugCheck(p, cur!, Number.MAX_SAFE_INTEGER, 0, commit);
        return err ?? rec(child(cur!, 'image'), off, end - off, known, depth + 1);
      }
      case 'quorum': {
        // quorum_co_preadv -> read_quorum_children -> quorum_vote: every child is read, and a
        // version with fewer votes than vote-threshold fails the request with -EIO (fuzz
        // 3704952946: a backup of a quorum of a qcow2 child with data and a null-co child of
        // zeroes, threshold 2, fails at its first read). graph/read.ts quorumRead tells the
        // versions apart where the model knows the bytes; where it does not, nothing fails.
        const voted = quorumRead(p, cur!, off, end - off, commit);
        return voted !== undefined && 'errno' in voted ? voted.errno : undefined;
      }
      case 'snapshot-access': {
        // snapshot_access_co_preadv_part -> bdrv_co_preadv_snapshot(bs->file): only
        // copy-before-write implements it (cbw_co_preadv_snapshot reads its source), any other
        // file gives -ENOTSUP (graph/jobs/snapshot-io.ts, graph/read.ts readAt)
        const f = child(cur!, 'file');
        if (!f || p.node(f)?.driver !== 'copy-before-write') return ENOTSUP;
        return rec(f, off, end - off, known, depth + 1);
      }
      case 'qcow2': {
        // qcow2_co_preadv_part: per run of one cluster type; guest data through bs->file after
        // BLKDBG_READ_AIO, an unallocated run from the backing after BLKDBG_READ_BACKING_AIO
        const f = child(cur!, 'file');
        const img = f ? imageBehind(p, f) : undefined;
        const layout = known && img?.format === 'qcow2' && img.dataFile === undefined ? img : undefined;
        const l2Span = ((img?.clusterSize ?? 65536) ** 2) / 8;
        // an L2 table read from a blockdev-snapshot overlay's data (stale-qcow2.ts): -EIO
        if (known) {
          for (let pos = off, guard = 0; pos < end && guard < 100000; guard++) {
            const stale = staleL2Garbage(p, cur!, pos);
            if (!stale) break;
            if (stale.garbage) return EIO;
            pos = stale.end;
          }
        }
        for (let pos = off, guard = 0; pos < end && guard < 100000; guard++) {
          const st = layerStatus(p, cur!, pos, end - pos);
          let m = st.n > 0 ? st.n : end - pos;
          let err: string | undefined;
          if (st.alloc) {
            // one request per host-contiguous piece (qcow2_get_host_offset): an L2-covered
            // region's clusters follow its L2 table (qcow2HostOffset)
            const host = layout ? qcow2HostOffset(layout, pos) : undefined;
            if (host !== undefined) m = Math.min(m, l2Span - (pos % l2Span));
            if (f) debugEvent(p, f, 'read_aio', commit);
            err = rec(f, host ?? pos, m, host !== undefined, depth + 1);
          } else {
            if (f) debugEvent(p, f, 'read_backing_aio', commit);
            err = rec(child(cur!, 'backing'), pos, m, known, depth + 1);
          }
          if (err) return err;
          pos += m;
        }
        return undefined;
      }
      default:
        if (PASS_THROUGH[n.driver] !== undefined) return rec(child(cur!, PASS_THROUGH[n.driver]!), off, end - off, known, depth + 1);
        return undefined;
    }
  };
  return rec(node, offset, bytes, host, 0);
}

/**
 * The errno text a write of [offset, offset + bytes) into `node` fails with, or undefined:
 * raw_co_pwritev (BLKDBG_WRITE_AIO on its file, then the file at offset + s->offset),
 * blkdebug_co_pwritev (rule_check with BLKDEBUG_IO_TYPE_WRITE), the filters' file child, and a
 * qcow2 node's data write (qcow2_co_pwritev_part: per host-contiguous piece that
 * qcow2_alloc_host_offset gives, BLKDBG_WRITE_AIO on bs->file, then the file at the host offset;
 * a new cluster past a raw `size` window: -ENOSPC). The host offsets are those of the layout
 * graph/open.ts qcow2HostOffset assumes, with the written clusters allocated (the next free
 * cluster, an L2 table first where the write enters a new L2-covered region); where the layout
 * is not known (an external data file, a file that is no qcow2 image of the catalogue) only
 * rules without a sector match. Every job's copy writes ask this one function (commit_run's
 * blk_co_pwrite, stream's copy-on-read write into the top, block_copy's write into a backup's
 * target, a mirror's data writes: target-write.ts mirrorWriteErrno, which also asks the window).
 */
export function jobWriteError(p: Proc, node: string, offset: number, bytes: number): string | undefined {
  return writeErrorAt(p, commitDebugState(p), node, offset, bytes, true, 0);
}

function writeErrorAt(p: Proc, commit: ReturnType<typeof commitDebugState>, node: string, offset: number, bytes: number, known: boolean, depth: number): string | undefined {
  const child = (n: string, name: string) => p.child(n, name)?.child;
  let cur: string | undefined = node;
  for (; cur !== undefined && depth < 1000; depth++) {
    const n = p.node(cur);
    if (!n) return undefined;
    if (n.driver === 'raw') {
      // raw_adjust_offset: a write that does not fit the `size` window, before anything else
      if (known && n.options.size !== undefined) {
        const size = Number(n.options.size);
        if (offset > size || bytes > size - offset) return 'No space left on device';
      }
      const f = child(cur, 'file');
      if (f) debugEvent(p, f, 'write_aio', commit);
      offset += Number(n.options.offset ?? 0);
      cur = f;
    } else if (n.driver === 'blkdebug') {
      const err = known
        ? debugCheck(p, cur, offset, bytes, commit, 'write')
        : debugCheck(p, cur, Number.MAX_SAFE_INTEGER, 0, commit, 'write');
      if (err) return err;
      cur = child(cur, 'image');
    } else if (n.driver === 'qcow2') {
      // qcow2_co_pwritev_part -> qcow2_alloc_host_offset: a range that needs a new cluster (an
      // L2 table, data) gets it past the image's end, where a raw `size` window below refuses
      // the write (raw_adjust_offset: -ENOSPC; target-write.ts qcow2OutOfRoom). The model takes
      // the image's first such write to be l2_allocate's flush, before BLKDBG_WRITE_AIO.
      const outOfRoom = known ? qcow2OutOfRoom(p, cur, offset, bytes) : undefined;
      if (outOfRoom) return outOfRoom;
      const f = child(cur, 'file');
      if (!f) return undefined;
      const img = imageBehind(p, f);
      if (!known || img?.format !== 'qcow2' || img.dataFile !== undefined || n.size === undefined) {
        debugEvent(p, f, 'write_aio', commit);
        return writeErrorAt(p, commit, f, offset, bytes, false, depth + 1);
      }
      const cs = img.clusterSize ?? 65536;
      const end = Math.min(offset + bytes, n.size);
      const after: typeof img = { ...img, data: addExtent(img.data, offset, end, cs) };
      // one request per host-contiguous piece, in guest order
      for (let pos = offset, guard = 0; pos < end && guard < 100_000; guard++) {
        const host = qcow2HostOffset(after, pos);
        let m = Math.min(end - pos, cs - (pos % cs));
        while (host !== undefined && pos + m < end && qcow2HostOffset(after, pos + m) === host + m) m += Math.min(end - pos - m, cs);
        debugEvent(p, f, 'write_aio', commit);
        const err = writeErrorAt(p, commit, f, host ?? pos, m, host !== undefined, depth + 1);
        if (err) return err;
        pos += m;
      }
      return undefined;
    } else if (PASS_THROUGH[n.driver] !== undefined) cur = child(cur, PASS_THROUGH[n.driver]!);
    else return undefined;
  }
  return undefined;
}
