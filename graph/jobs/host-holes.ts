// Holes in a raw host file, as the copy loops see them through block status with want_zero
// (bdrv_block_status_above). file-posix's raw_co_block_status answers from the host file
// itself (find_allocation: lseek SEEK_DATA / SEEK_HOLE): a hole is BDRV_BLOCK_ZERO, data
// BDRV_BLOCK_DATA, both allocated. A raw format node passes its file's status up (BDRV_BLOCK_RAW),
// shifted by its offset. So a sparse raw source reads as zeroes where the file has holes:
// mirror_iteration writes zeroes there (mirror_do_zero_or_discard), block_copy_dirty_clusters
// chooses COPY_WRITE_ZEROES, and a qcow2 target gets zero clusters, not data clusters.
// Where the model does not follow a file's holes (Image.hostData absent) everything is data,
// as before.
import { subtractExtent } from '../extents.js';
import type { Proc } from '../proc.js';
import type { Image } from '../types.js';
import { allocatedAbove, layerStatus } from './allocation.js';
import { filterChild, filterOrCowBs, isFilter } from './chain.js';

/** The file system block (ext4's 4 KiB): SEEK_DATA/SEEK_HOLE and written data extents are in whole blocks. */
export const FS_BLOCK = 4096;

/** Adds or removes [start, end), widened to whole file system blocks, from sorted disjoint extents. */
export function markHostData(ext: [number, number][], start: number, end: number, data: boolean): [number, number][] {
  // a write makes the blocks it touches data; a zero write punches (or zero-ranges) only whole blocks
  const s = data ? Math.floor(start / FS_BLOCK) * FS_BLOCK : Math.ceil(start / FS_BLOCK) * FS_BLOCK;
  const e = data ? Math.ceil(end / FS_BLOCK) * FS_BLOCK : Math.floor(end / FS_BLOCK) * FS_BLOCK;
  if (e <= s) return ext;
  const out = subtractExtent(ext, s, e);
  if (data) out.push([s, e]);
  out.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last[1] >= r[0]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** A raw image with [start, end) written as data (true) or zeroed to a hole (false), where its holes are followed. */
export function withHostData(img: Image, start: number, end: number, data: boolean): Image {
  if (img.format !== 'raw' || img.hostData === undefined) return img;
  return { ...img, hostData: markHostData(img.hostData, start, end, data) };
}

/**
 * find_allocation on `img` at `offset`: data or hole, and how far that lasts (within `bytes`),
 * in units of the copy's granule (a job copies whole clusters of its target: mirror_iteration's
 * bdrv_round_to_clusters, block_copy_block_status' one-cluster fallback for a short run), so a
 * granule with any data in it is data; undefined: not followed.
 */
function hostRun(img: Image, offset: number, bytes: number, granule: number): { data: boolean; n: number } | undefined {
  if (img.format !== 'raw' || img.hostData === undefined) return undefined;
  const g = Math.max(1, granule);
  let widened: [number, number][] = [];
  for (const [a, b] of img.hostData) widened = markHostData(widened, Math.floor(a / g) * g, Math.ceil(b / g) * g, true);
  for (const [a, b] of widened) {
    if (offset < a) return { data: false, n: Math.min(a - offset, bytes) };
    if (offset < b) return { data: true, n: Math.min(b - offset, bytes) };
  }
  return { data: false, n: bytes };
}

/** The host file a raw or file layer's bytes at `offset` are (through raw's offset and filters), when the model has its image. */
function hostFileOf(p: Proc, node: string, offset: number): { img: Image; offset: number } | undefined {
  let cur: string | undefined = node;
  let off = offset;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    if (n.driver === 'file') {
      const img = p.image(n.filename);
      return img ? { img, offset: off } : undefined;
    }
    if (n.driver === 'raw') {
      off += Number(n.options.offset ?? 0) || 0;
      cur = p.fileChild(cur)?.child;
    } else if (isFilter(p, cur)) cur = filterChild(p, cur)?.child;
    else return undefined;
  }
  return undefined;
}

export interface CopyStatus { alloc: boolean; data: boolean; n: number }

/**
 * bdrv_block_status_above(top, NULL) with want_zero over [offset, offset + bytes): allocated as
 * allocatedAbove says, and BDRV_BLOCK_DATA unless the layer that holds the range is a raw host
 * file's hole (the run then ends where the hole does).
 */
export function copyStatus(p: Proc, top: string, offset: number, bytes: number, granule: number): CopyStatus {
  const st = allocatedAbove(p, top, null, true, offset, bytes);
  if (!st.alloc || st.n <= 0) return { ...st, data: st.alloc };
  for (let cur: string | null = top, i = 0; cur && i < 100000; cur = filterOrCowBs(p, cur), i++) {
    if (isFilter(p, cur)) continue;
    const ls = layerStatus(p, cur, offset, st.n);
    if (ls.n === 0) break;
    if (!ls.alloc) continue;
    if (p.node(cur)?.driver === 'quorum') return quorumStatus(p, cur, offset, Math.min(st.n, ls.n), granule);
    const at = hostFileOf(p, cur, offset);
    const run = at ? hostRun(at.img, at.offset, Math.min(st.n, ls.n), granule) : undefined;
    return run ? { alloc: true, data: run.data, n: run.n } : { alloc: true, data: true, n: st.n };
  }
  return { alloc: true, data: true, n: st.n };
}

/**
 * quorum_co_block_status: each child's status over the range (bdrv_co_common_block_status_above
 * down its own chain); BDRV_BLOCK_DATA for the longest data run if any child has data at
 * `offset`, else BDRV_BLOCK_ZERO for the shortest zero run (iotests 041 TestRepairQuorum: a
 * mirror of a quorum of sparse raw children writes zeroes where all of them have holes).
 */
function quorumStatus(p: Proc, q: string, offset: number, bytes: number, granule: number): CopyStatus {
  let pnumZero = bytes;
  let pnumData = 0;
  for (const e of p.childrenOf(q)) {
    if (!e.name.startsWith('children.')) continue;
    const st = copyStatus(p, e.child, offset, bytes, granule);
    const n = st.n > 0 ? st.n : bytes;
    // nothing allocated down the child's chain: its bottom answers BDRV_BLOCK_ZERO
    if (!st.data) pnumZero = Math.min(pnumZero, n);
    else pnumData = Math.max(pnumData, n);
  }
  return pnumData ? { alloc: true, data: true, n: pnumData } : { alloc: true, data: false, n: pnumZero };
}
