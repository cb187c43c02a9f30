// Where a job's copied bytes land (the write side of stream, commit and active commit): a qcow2
// destination allocates the clusters in its image; a destination that writes the bytes of a
// host file directly (a file node, or filters and an offset-less raw node over one) overwrites
// the file itself. When that file holds a qcow2 image and the write covers its header
// (QCowHeader, the first 104 bytes), the image is gone: the file is now plain data, and the
// next format driver probing it finds no QCOW_MAGIC (qcow2_do_open: "Image is not in qcow2
// format"). Reads were followed the same way in graph/images.ts probeHeader.
import { addExtent, imageBehind, setFill, withRawFill } from '../images.js';
import { qedFileSize } from '../qed.js';
import { deflatedSize, readFill } from '../qcow2-compress.js';
import { allocOwner, metadataView, writeView } from '../guest-image.js';
import { growWrittenNodes } from '../length.js';
import { compressedWriter, afterGuestWrite, afterZeroWrite, hostOffsetOf, withMetaIo } from '../snapshot-clusters.js';
import { qcow2Discards } from '../discard-stats.js';
import { hostFileLength, qcow2FileSize, withAllocation } from '../open.js';
import { noteWritePath } from '../wr-highest.js';
import type { Proc } from '../proc.js';
import { HOST, type Image } from '../types.js';
import { allocatedAbove } from './allocation.js';
import { rule } from '../rules.js';
import { openedWithUnmap } from './mirror-dirty.js';
import { QCOW_HEADER_BYTES as HEADER_READ, readAt } from '../read.js';
import { writeMayDirtyBitmaps } from '../bitmaps.js';
import { withHostData } from './host-holes.js';
import { nbdServed } from './nbd-write.js';
import { WRITE_PASS_THROUGH, writeReaches } from '../pass-through.js';
import { blockDriverCanCompress } from '../drivers.js';

/**
 * The format node (qcow2, qed, an NBD client) a write into `dest` reaches through the filters and
 * raw nodes over it (graph/pass-through.ts writeReaches), with the offset it reaches it at, when
 * `dest` is such a filter or raw node; undefined otherwise (down to a host file the bytes are the
 * file's: writeHostBytes).
 */
export function formatBelowFilters(p: Proc, dest: string, offset = 0): { node: string; offset: number } | undefined {
  const below = writeReaches(p, dest, offset);
  const drv = p.node(below.node)?.driver;
  return below.node !== dest && (drv === 'qcow2' || drv === 'qed' || drv === 'nbd') ? below : undefined;
}

/** sizeof(QCowHeader) */
const QCOW_HEADER_BYTES = 104;

/** The host file and byte offset a write at `offset` of `node` reaches, when it reaches one unchanged. */
function fileAt(p: Proc, node: string, offset: number): { img: Image; offset: number } | undefined {
  // through filters (same offsets) and raw nodes (their `offset` added): graph/pass-through.ts
  const at = writeReaches(p, node, offset);
  const n = p.node(at.node);
  const img = n?.driver === 'file' ? p.image(n.filename) : undefined;
  return img ? { img, offset: at.offset } : undefined;
}

/**
 * Guest bytes [offset, offset + n) written to `dest`, read at the same offset of `src` (the job's
 * source, when it has one).
 */
export function writeGuestData(p: Proc, dest: string, offset: number, n: number, src?: string, driverLevel = false): void {
  const node = p.node(dest);
  if (!node || n <= 0) return;
  writeMayDirtyBitmaps(p, dest, offset, n, driverLevel);
  noteWritePath(p, dest, offset, n, driverLevel);
  if (node.driver === 'nbd') {
    // NBD_CMD_WRITE: the export's node takes the write (graph/jobs/nbd-write.ts)
    const served = nbdServed(p, dest);
    if (served) writeGuestData(served.q, served.node, offset, n);
    return;
  }
  if (detectedZeroWrite(p, dest, offset, n, src)) return;
  // a filter over a format node hands the write on at the same offset (throttle_co_pwritev,
  // cor_co_pwritev_part, … -> bdrv_co_pwritev(bs->file)), a raw node at its slice's offset
  // (raw_co_pwritev): the format below allocates it, as a mirror into a throttle filter or a raw
  // node over a qcow2 target does (235-o-throttled-target-cancel-ready-force,
  // 155-o-mirror-into-raw-over-qcow2); the request layer above already counted the write for every
  // node on the way (driverLevel). Through a slice that starts elsewhere the bytes are not
  // followed (the source is read at the destination's offsets: the clusters' contents unknown)
  const below = formatBelowFilters(p, dest, offset);
  if (below !== undefined) {
    writeGuestData(p, below.node, below.offset, n, below.offset === offset ? src : undefined, true);
    return;
  }
  if (node.driver === 'qcow2') {
    // the image its clusters are allocated in: a host image file, or the image a format node's
    // guest view shows (graph/guest-image.ts)
    const file = p.fileChild(dest)?.child;
    const view = metadataView(p, dest);
    if (!view) return;
    const img = view.img;
    // an image with snapshot metadata allocates through qcow2_alloc_clusters (copies-on-write of
    // clusters a snapshot shares among them: graph/snapshot-clusters.ts afterGuestWrite)
    const carried = copiedImage(p, offset, n, src);
    const cow = afterGuestWrite(img, offset, Math.min(offset + n, node.size), allocOwner(p, dest));
    const written: Image = cow?.img
      ?? withAllocation(img, { ...img, data: addExtent(img.data, offset, Math.min(offset + n, node.size), img.clusterSize ?? 65536) });
    const next: Image = carried ? { ...written, guest: carried } : written;
    // bdrv_co_write_req_finish: the new clusters' writes past the end of bs->file (a file node, or
    // a format node) grow it and the nodes on the way down to it; on the ascending layout they
    // end where the layout now ends
    writeView(p, view.key, withFills(p, next, offset, Math.min(offset + n, node.size), src));
    const end = cow ? cow.end : qcow2FileSize(next) > qcow2FileSize(img) ? qcow2FileSize(next) : 0;
    if (file !== undefined && end > 0) growWrittenNodes(p, file, end);
    // the host writes of the data (and of new L2 tables before it): a new cluster is written
    // whole (the guest bytes and perform_cow's head and tail), an allocated one where the bytes go
    if (file !== undefined) {
      const last = end > 0 ? undefined : hostOffsetOf(next, Math.min(offset + n, node.size) - 1);
      const hostEnd = end > 0 ? end : last !== undefined ? last + 1 : 0;
      if (hostEnd > 0) noteWritePath(p, file, 0, hostEnd);
    }
    return;
  }
  if (node.driver === 'qed') {
    // qed_aio_write_alloc: clusters appended at s->file_size (qed_alloc_clusters), an L2 table
    // first where the L1 entry is empty; the pwrite past the end of bs->file grows it
    const file = p.fileChild(dest)?.child;
    const img = file ? imageBehind(p, file) : undefined;
    if (!file || !img || img.format !== 'qed') return;
    const next: Image = { ...img, data: addExtent(img.data, offset, Math.min(offset + n, node.size), img.clusterSize ?? 65536) };
    p.d.put(HOST, 'images', img.file, next);
    if (qedFileSize(next) > qedFileSize(img)) growWrittenNodes(p, file, qedFileSize(next));
    return;
  }
  writeHostBytes(p, dest, offset, n, src);
}

/**
 * The image whose whole host file a copy of [offset, offset + n) read from `src` carries (fuzz
 * 755260534): a qcow2 node whose backing is another image's file node reads, where its own
 * clusters are unallocated, that file's bytes (qcow2_co_preadv_part -> bdrv_co_preadv_part(bs->backing)),
 * header and metadata included; a job copying them from offset 0 past the file's end (stream_run's
 * first chunk: the backing's block status ends at its length) writes that image, byte for byte,
 * into the destination's guest data, and a format driver opened on the destination later finds it
 * there (graph/read.ts readAt: Image.guest). A copy of part of it is not followed (the bytes past
 * the copy still read the backing, which may change).
 */
function copiedImage(p: Proc, offset: number, n: number, src: string | undefined): Image | undefined {
  if (offset !== 0 || src === undefined) return undefined;
  const r = readAt(p, src, 0, HEADER_READ);
  if (!('image' in r) || r.offset !== 0 || r.image.format !== 'qcow2') return undefined;
  return hostFileLength(r.image) <= n ? r.image : undefined;
}

/**
 * The written clusters' bytes (Image.fills): what `src` reads there where the model knows it
 * (graph/qcow2-compress.ts readFill, cluster by cluster), else unknown.
 */
function withFills(p: Proc, img: Image, s: number, e: number, src: string | undefined): Image {
  const cs = img.clusterSize ?? 65536;
  let fills = img.fills;
  for (let c = Math.floor(s / cs) * cs, g = 0; c < e && g < 1_000_000; c += cs, g++) {
    const a = Math.max(c, s), b = Math.min(c + cs, e);
    fills = setFill(fills, a, b, src !== undefined ? readFill(p, src, a, b - a) : undefined);
  }
  const { fills: _f, ...rest } = img;
  return fills ? { ...rest, fills } : rest;
}

/**
 * A compressed write of [offset, offset + n) into qcow2 node `dest` (a backup with `compress`:
 * block-copy's BDRV_REQ_WRITE_COMPRESSED -> qcow2_co_pwritev_compressed_part), reading `src`:
 * cluster by cluster, each deflated (graph/qcow2-compress.ts deflatedSize of what `src` reads
 * there) and packed (graph/snapshot-clusters.ts compressedWriter). An allocated cluster
 * fails the write (qcow2_alloc_compressed_cluster_offset: -EIO), the clusters before it written.
 */
export function writeCompressedData(p: Proc, dest: string, offset: number, n: number, src: string): string | undefined {
  const node = p.node(dest);
  if (!node || n <= 0) return undefined;
  // a filter that forwards compressed writes (graph/drivers.ts blockDriverCanCompress:
  // throttle_co_pwritev_compressed, cor_co_pwritev_compressed -> bdrv_co_pwritev(bs->file, …,
  // BDRV_REQ_WRITE_COMPRESSED)) hands them to its child at the same offset (tests-o-backup-compress-into-filters)
  const via = node.driver !== 'qcow2' && blockDriverCanCompress(node.driver) ? WRITE_PASS_THROUGH[node.driver] : undefined;
  const child = via === undefined ? undefined : p.child(dest, via)?.child;
  if (child !== undefined) {
    writeMayDirtyBitmaps(p, dest, offset, n);
    return writeCompressedData(p, child, offset, n, src);
  }
  if (node.driver !== 'qcow2') return undefined;
  writeMayDirtyBitmaps(p, dest, offset, n);
  // the ZERO_WRITE branch comes before the compressed one (bdrv_aligned_pwritev): a zero buffer
  // never reaches qcow2_alloc_compressed_cluster_offset, so an allocated cluster takes it
  if (detectedZeroWrite(p, dest, offset, n, src)) return undefined;
  const view = metadataView(p, dest);
  if (!view || view.img.dataFile !== undefined) return undefined;
  const cs = view.img.clusterSize ?? 65536;
  const file = p.fileChild(dest)?.child;
  const w = compressedWriter(view.img, allocOwner(p, dest));
  const from = Math.floor(offset / cs) * cs;
  let to = from;
  let error: string | undefined;
  // the clusters go in ascending order, so only what the image held before can be in the way
  for (let c = from, g = 0; c < offset + n && c < node.size && g < 1_000_000; c += cs, g++) {
    if ((view.img.data ?? []).some(([a, b]) => c < b && a < c + cs)) {
      error = 'Input/output error';
      break;
    }
    const bytes = Math.min(cs, node.size - c);
    w.write(c, deflatedSize(cs, readFill(p, src, c, bytes), bytes));
    to = c + bytes;
  }
  if (to > from) writeView(p, view.key, withFills(p, w.img(), from, to, src));
  if (file !== undefined && w.end() > 0) growWrittenNodes(p, file, w.end());
  // qcow2_co_pwritev_compressed_task: the deflated bytes end where the packed clusters do
  if (file !== undefined && w.end() > 0) noteWritePath(p, file, 0, w.end());
  return error;
}

/**
 * bdrv_aligned_pwritev's detect-zeroes: a node opened with `detect-zeroes` on or unmap (as
 * drive-backup opens its target: qmp_drive_backup -> drive_backup_prepare's options) turns a
 * write whose buffer is all zeroes (qemu_iovec_is_zero) into a write of zeroes
 * (BDRV_REQ_ZERO_WRITE, with BDRV_REQ_MAY_UNMAP for unmap), which its driver's
 * .bdrv_co_pwrite_zeroes carries out (zeroGuestData). The model knows the buffer is zero where
 * it knows what `src` reads there (graph/qcow2-compress.ts readFill). A qcow2 node takes only
 * whole clusters here (zeroGuestData leaves partial ones alone), the jobs' cluster-aligned writes.
 * True when the write went out as zeroes.
 */
function detectedZeroWrite(p: Proc, dest: string, offset: number, n: number, src: string | undefined): boolean {
  if (!detectsZeroWrite(p, dest, offset, n, src)) return false;
  zeroGuestData(p, dest, offset, n, p.node(dest)!.options['detect-zeroes'] === 'unmap');
  return true;
}

/** Whether detectedZeroWrite turns this write into a write of zeroes (nothing written yet). */
export function detectsZeroWrite(p: Proc, dest: string, offset: number, n: number, src: string | undefined): boolean {
  const node = p.node(dest);
  const dz = node?.options['detect-zeroes'];
  if (!node || src === undefined || (dz !== 'on' && dz !== 'unmap')) return false;
  if (node.driver === 'qcow2') {
    const cs = metadataView(p, dest)?.img.clusterSize ?? 65536;
    if (offset % cs !== 0 || ((offset + n) % cs !== 0 && offset + n < node.size)) return false;
  }
  return readFill(p, src, offset, n) === 0;
}

/** writeGuestData for a destination that writes a host file's bytes directly. */
function writeHostBytes(p: Proc, dest: string, offset: number, n: number, src?: string, zeroes = false): void {
  const at = fileAt(p, dest, offset);
  if (!at) return;
  const copiesImage = () => {
    const from = src !== undefined && at.offset === 0 && n >= QCOW_HEADER_BYTES ? fileAt(p, src, offset) : undefined;
    return from?.offset === 0 && from.img.format === 'qcow2';
  };
  // a raw image's bytes are what the source reads there, where the model knows it
  if (at.img.format === 'raw' && !copiesImage()) {
    // the blocks written hold data now; a write of zeroes (raw_co_pwrite_zeroes: punch hole or
    // zero range) leaves holes (graph/jobs/host-holes.ts)
    const filled = withRawFill(at.img, at.offset, at.offset + n, zeroes ? 0 : src !== undefined ? readFill(p, src, offset, n) : undefined);
    p.d.put(HOST, 'images', at.img.file, withHostData(filled, at.offset, at.offset + n, !zeroes));
    return;
  }
  if (at.offset >= QCOW_HEADER_BYTES) return;
  // The bytes are what the source reads there. A source that reads a host file holding a qcow2
  // image unchanged (a file node over it, filters, an offset-less raw node: a backup or mirror of
  // the image's protocol node) from its start copies that image's header, and with it the
  // metadata it points to: the destination file now holds that image (whatever it held before),
  // and qcow2_open's magic check finds it there. Only a write that starts at both files' first
  // byte and covers the whole header is such a copy.
  const from = src !== undefined && at.offset === 0 && n >= QCOW_HEADER_BYTES ? fileAt(p, src, offset) : undefined;
  if (from && from.offset === 0 && from.img.format === 'qcow2') {
    const copy: Image = { ...from.img, file: at.img.file };
    delete copy.fileLength;
    // the destination file keeps its length where it was longer, else the write extended it
    const len = Math.max(hostFileLength(at.img), Math.min(hostFileLength(from.img), n));
    if (len !== hostFileLength(copy)) copy.fileLength = len;
    p.d.put(HOST, 'images', at.img.file, copy);
    return;
  }
  if (at.img.format !== 'qcow2') return;
  // the header is overwritten with guest data: the file is a raw file of the same length now
  const raw: Image = { file: at.img.file, format: 'raw', size: hostFileLength(at.img), bytesUnknown: true };
  p.d.put(HOST, 'images', at.img.file, withRawFill(raw, at.offset, at.offset + n, zeroes ? 0 : src !== undefined ? readFill(p, src, offset, n) : undefined));
}

/**
 * A write of zeroes over [offset, offset + n) of `dest` (blk_co_pwrite_zeroes, `unmap`:
 * BDRV_REQ_MAY_UNMAP). A qcow2 v3 node zeroes its L2 entries (graph/snapshot-clusters.ts
 * afterZeroWrite: an L2 table where the region has none, the clusters released with unmap), and
 * the new tables' writes grow bs->file like data. A v2 image has no zero flag: without a backing
 * qcow2_subcluster_zeroize discards instead (qcow2_cluster_discard: the clusters released, unmap
 * or not), with one it returns -ENOTSUP and bdrv_co_do_pwrite_zeroes falls back to writing a
 * buffer of zeroes: data. Other destinations are left as they are (a file's bytes are not followed).
 */
export function zeroGuestData(p: Proc, dest: string, offset: number, n: number, unmap: boolean, driverLevel = false): void {
  const node = p.node(dest);
  if (!node || n <= 0) return;
  writeMayDirtyBitmaps(p, dest, offset, n, driverLevel);
  noteWritePath(p, dest, offset, n, driverLevel);
  if (node.driver === 'nbd') {
    // NBD_CMD_WRITE_ZEROES (graph/jobs/nbd-write.ts)
    // 10.0 drops BDRV_REQ_MAY_UNMAP at a client node opened without discard=unmap, and the
    // request goes out with NBD_CMD_FLAG_NO_HOLE (rule 'zero-write-unmap-needs-discard')
    const served = nbdServed(p, dest);
    const mayUnmap = unmap && (!rule(p, 'zero-write-unmap-needs-discard') || openedWithUnmap(p, dest));
    if (served) zeroGuestData(served.q, served.node, offset, n, mayUnmap);
    return;
  }
  // a filter or raw node over a format node: bdrv_co_pwrite_zeroes on its child (as in
  // writeGuestData); 10.0 drops BDRV_REQ_MAY_UNMAP at each node opened without discard=unmap
  const below = formatBelowFilters(p, dest, offset);
  if (below !== undefined) {
    zeroGuestData(p, below.node, below.offset, n, unmap && (!rule(p, 'zero-write-unmap-needs-discard') || openedWithUnmap(p, dest)), true);
    return;
  }
  if (node.driver !== 'qcow2') {
    // the host file reads zeroes there now, whichever way file-posix zeroed it: a raw image's
    // bytes, or a qcow2 file's header gone like under data (writeHostBytes)
    writeHostBytes(p, dest, offset, n, undefined, true);
    return;
  }
  const view = metadataView(p, dest);
  if (!view || view.img.format !== 'qcow2' || view.img.dataFile !== undefined) return;
  const v2 = view.img.compat === '0.10';
  if (v2 && p.backing(dest)) {
    writeGuestData(p, dest, offset, n, undefined, driverLevel);
    return;
  }
  // 10.0 drops BDRV_REQ_MAY_UNMAP for a node opened without discard=unmap (rule
  // 'zero-write-unmap-needs-discard'); 7.2's BlockBackend path keeps it
  const mayUnmap = unmap && (!rule(p, 'zero-write-unmap-needs-discard') || openedWithUnmap(p, dest));
  const { result: z, io } = withMetaIo(() => afterZeroWrite(view.img, offset, Math.min(offset + n, node.size), mayUnmap || v2, allocOwner(p, dest)));
  if (!z) return;
  // the released clusters go to bs->file as discards where the node passes requests on
  // (qcow2_subcluster_zeroize's cache_discards section: graph/discard-stats.ts)
  qcow2Discards(p, dest, io.freed, view.img.clusterSize ?? 65536);
  // the clusters read zeroes now
  const fills = setFill(z.img.fills, offset, Math.min(offset + n, node.size), 0);
  const { fills: _f, ...rest } = z.img;
  writeView(p, view.key, fills ? { ...rest, fills } : rest);
  const file = p.fileChild(dest)?.child;
  if (file !== undefined && z.end > 0) growWrittenNodes(p, file, z.end);
  // the new L2 tables are written whole (l2_allocate), the last at the layout's end
  if (file !== undefined && z.end > 0) noteWritePath(p, file, 0, z.end);
}

/**
 * commit_active_start's bulk phase (mirror_dirty_init, then mirror_run's copy until READY):
 * everything allocated above the base (bdrv_is_allocated_above(source, base_overlay, true))
 * is written into the base.
 */
export function activeCommitBulkCopy(p: Proc, source: string, base: string): void {
  const len = p.node(source)?.size ?? 0;
  for (let pos = 0, guard = 0; pos < len && guard < 1_000_000; guard++) {
    const st = allocatedAbove(p, source, base, false, pos, len - pos);
    const step = st.n > 0 ? st.n : len - pos;
    // the bytes the source reads there (Image.fills)
    if (st.alloc) writeGuestData(p, base, pos, step, source);
    pos += step;
  }
}
