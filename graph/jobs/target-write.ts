// Which of a mirror's (or active commit's) writes into its target fail, and with what errno
// (block/mirror.c mirror_write_complete: the failure re-dirties the range and, with
// on-target-error report, or enospc for anything but ENOSPC, sets s->ret, which mirror_run
// looks at the next time its loop comes round). Two targets the model knows fail every copy:
// - a node whose writes end at snapshot-access (through filters and raw, whose writes go to
//   their file child): snapshot_access_co_pwritev_part and snapshot_access_co_pwrite_zeroes
//   return -ENOTSUP (bdrv_co_do_pwrite_zeroes' bounce-buffer fallback meets the first);
// - a compress filter over qcow2: compress_co_pwritev_part adds BDRV_REQ_WRITE_COMPRESSED and
//   qcow2_alloc_compressed_cluster_offset refuses a cluster already allocated ("Compression
//   can't overwrite anything"): -EIO. Zero pieces (compress_co_pwrite_zeroes) pass unchanged.
// A discard piece (a source range with neither data nor zeroes: null-co without read-zeroes) is
// a no-op on a target opened without discard=unmap (bdrv_co_pdiscard), so it does not fail.
import { imageBehind } from '../images.js';
import { writeBound } from '../length.js';
import type { Proc } from '../proc.js';
import { allocatedAbove, layerStatus } from './allocation.js';
import { filterChild, filterOrCowBs, isFilter } from './chain.js';
import { jobWriteError } from './job-read.js';

const ENOTSUP = 'Operation not supported';
const EIO = 'Input/output error';

/** The node a write into `node` ends at: down through filters and raw (bdrv_filter_bs, raw's file). */
function writeEnd(p: Proc, node: string): { node: string; compressAbove?: boolean } {
  let cur = node;
  let compressAbove = false;
  for (let i = 0; i < 10000; i++) {
    const n = p.node(cur);
    if (!n) break;
    const next = isFilter(p, cur) ? filterChild(p, cur)?.child : n.driver === 'raw' ? p.fileChild(cur)?.child : undefined;
    if (!next) break;
    if (n.driver === 'compress') compressAbove = true;
    cur = next;
  }
  return { node: cur, compressAbove };
}

/** The bottom of `source`'s chain (bdrv_co_common_block_status_above asks down to it). */
function chainBottom(p: Proc, source: string): string {
  let cur = source;
  for (let i = 0; i < 100000; i++) {
    const next = filterOrCowBs(p, cur);
    if (!next) break;
    cur = next;
  }
  return cur;
}

/** MIRROR_METHOD_DISCARD: neither data nor zeroes anywhere in the source's chain over the range. */
function discardOnly(p: Proc, source: string, offset: number, bytes: number): boolean {
  const bottom = p.node(chainBottom(p, source));
  if (!bottom || !['null-co', 'null-aio'].includes(bottom.driver)) return false;
  return !allocatedAbove(p, source, null, true, offset, bytes).alloc;
}

export const ENOSPC = 'No space left on device';

/**
 * A write into [offset, offset + bytes) of qcow2 node `q` that needs a new cluster (an L2 table
 * or data, for data and zeroes alike: qcow2_alloc_host_offset, qcow2_subcluster_zeroize) gets one
 * past the image's end (qcow2_alloc_clusters), and a raw `size` window under it, which can hold
 * no more than the file had when it opened, refuses that write (raw_adjust_offset: -ENOSPC).
 * Writes into clusters the image already has go in place. Not modelled: holes freed by internal
 * snapshot deletions, which an allocation reuses first.
 */
export function qcow2OutOfRoom(p: Proc, q: string, offset: number, bytes: number): string | undefined {
  const file = p.fileChild(q)?.child;
  if (!file || p.node(q)?.driver !== 'qcow2') return undefined;
  // (a raw window's -ENOSPC, an NBD client's export end: -EINVAL; graph/length.ts writeBound)
  const bound = writeBound(p, file);
  if (bound.room === Infinity) return undefined;
  for (let o = offset, g = 0; o < offset + bytes && g < 100_000; g++) {
    const st = layerStatus(p, q, o, offset + bytes - o);
    if (st.n <= 0) break;
    if (!st.alloc) return bound.errno;
    o += st.n;
  }
  return undefined;
}

/** BLOCK_PROBE_BUF_SIZE (block.c): the bytes find_image_format probes, which a probed raw node guards. */
const BLOCK_PROBE_BUF_SIZE = 512;
const EPERM = 'Operation not permitted';

/**
 * raw_co_pwritev: a raw node whose format was probed (bs->probed: drive-mirror's or
 * drive-backup's target opened without a format) takes a write of its first sector only where bdrv_probe_all over the bytes
 * written still finds raw, else -EPERM (iotests 109: a source holding a qcow2, vpc or vmdk image
 * mirrored into a probed raw target). The bytes are the source's: where it reads a host image of
 * another format from its start (graph/images.ts imageBehind: raw over file), its header, which
 * that format's .bdrv_probe knows (dmg's probes the file name only). A qcow2 source's guest data
 * holds no header the model knows (an image made inside it, graph/guest-image.ts, is not followed).
 */
export function probedHeaderWrite(p: Proc, source: string, target: string, offset: number, bytes: number): string | undefined {
  if (offset >= BLOCK_PROBE_BUF_SIZE || bytes <= 0) return undefined;
  let probed = false;
  for (let cur: string | undefined = target, i = 0; cur !== undefined && i < 10000; i++) {
    const n = p.node(cur);
    if (!n) break;
    if (n.driver === 'raw' && (n.extra as { probed?: boolean } | undefined)?.probed === true) { probed = true; break; }
    cur = isFilter(p, cur) ? filterChild(p, cur)?.child : undefined;
  }
  if (!probed) return undefined;
  const img = imageBehind(p, source);
  return img && img.format !== 'raw' && img.format !== 'dmg' ? EPERM : undefined;
}

/** The errno a mirror's writes of [offset, offset + bytes) from `source` into `target` fail with. */
export function mirrorWriteErrno(p: Proc, source: string, target: string, offset: number, bytes: number): string | undefined {
  if (bytes <= 0) return undefined;
  const header = probedHeaderWrite(p, source, target, offset, bytes);
  if (header) return header;
  const end = writeEnd(p, target);
  const endNode = p.node(end.node);
  if (endNode?.driver === 'snapshot-access') {
    return discardOnly(p, source, offset, bytes) ? undefined : ENOTSUP;
  }
  // a discard piece writes nothing (bdrv_co_pdiscard: a no-op without discard=unmap)
  if (endNode?.driver === 'qcow2' && !discardOnly(p, source, offset, bytes)) {
    const outOfRoom = qcow2OutOfRoom(p, end.node, offset, bytes);
    if (outOfRoom) return outOfRoom;
  }
  if (end.compressAbove && endNode?.driver === 'qcow2') {
    // only the data pieces are written compressed; the target's own clusters decide
    for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
      const src = allocatedAbove(p, source, null, true, o, offset + bytes - o);
      const n = src.n > 0 ? src.n : offset + bytes - o;
      if (src.alloc && dataIn(p, source, o, n)) {
        for (let t = o, g2 = 0; t < o + n && g2 < 100_000; g2++) {
          const st = layerStatus(p, end.node, t, o + n - t);
          if (st.n <= 0) break;
          if (st.alloc) return EIO;
          t += st.n;
        }
      }
      o += n;
    }
  }
  // mirror_write_complete of a data piece (mirror_co_read's blk_aio_pwritev into the target):
  // the write goes down the target's graph as any job's copy write (job-read.ts jobWriteError:
  // blkdebug rules with BLKDEBUG_IO_TYPE_WRITE at the host offsets of a qcow2 target). Zero and
  // discard pieces (write_zeroes, pdiscard) are not followed.
  for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
    const src = allocatedAbove(p, source, null, true, o, offset + bytes - o);
    const n = src.n > 0 ? src.n : offset + bytes - o;
    if (src.alloc && dataIn(p, source, o, n)) {
      const err = jobWriteError(p, target, o, n);
      if (err !== undefined) return err;
    }
    o += n;
  }
  return undefined;
}

/** BDRV_BLOCK_DATA (not only zeroes) for an allocated source range: a null-co layer reads zeroes. */
export function dataIn(p: Proc, source: string, offset: number, bytes: number): boolean {
  for (let cur: string | null = source, i = 0; cur && i < 100000; cur = filterOrCowBs(p, cur), i++) {
    if (isFilter(p, cur)) continue;
    const st = layerStatus(p, cur, offset, bytes);
    if (st.alloc) return !['null-co', 'null-aio'].includes(p.node(cur)!.driver);
  }
  return false;
}
