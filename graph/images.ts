// The host's image catalogue: what `qemu-img create` would have left on disk, as far as
// the block graph can see it (format, virtual size, backing file named in the header).
import { BlockgraphError } from '../errors/index.js';
import type { Draft } from './draft.js';
import { HOST, type Image } from './types.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** qemu-img's size syntax: 512, 16M, 1G, 1.5G. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtBKMGT]?)$/.exec(s.trim());
  if (!m) throw new BlockgraphError('BG_BAD_INPUT', `invalid image size '${s}'`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export interface ImageSpecLike {
  file: string;
  format: string;
  size?: string | number;
  backing?: string;
  'backing-format'?: string;
  /** qemu-img's -o list; cluster_size is what the graph needs (qcow2 file length, cache checks). */
  options?: string;
  /** Regions written with qemu-io after creation: they grow a qcow2 file (its host length). */
  data?: { offset: number; length: number }[];
}

/**
 * The host length of a qcow2 image as qemu-img creates it and qemu-io then writes `data` into it.
 * Empty (qcow2_co_create): header, refcount table and one refcount block (a cluster each), then
 * the L1 table (8 bytes per L2 table); the file ends where the L1 table ends. Each write
 * (qcow2_alloc_cluster_offset -> qcow2_alloc_clusters) appends clusters at the end of the file:
 * the L1 table's remaining cluster space is not reused, one L2 table per L2 range first touched
 * (l2_allocate), then every data cluster the write touches (a partial cluster is allocated whole,
 * copy-on-write from the backing file). Found by the fuzzer: raw offset/size checks against a
 * written image's file (raw_apply_options: 'actual size of the containing file'). Not modelled:
 * refcount blocks beyond the first (images past 2 GiB of 64 KiB clusters) and internal holes.
 */
export function qcow2FileLength(virtual: number, clusterSize = 65536, data: readonly { offset: number; length: number }[] = []): number {
  const l2Entries = clusterSize / 8;
  const l1Bytes = 8 * Math.ceil(virtual / (clusterSize * l2Entries));
  const clusters = new Set<number>();
  for (const r of data) {
    if (!(r.length > 0)) continue;
    const first = Math.floor(r.offset / clusterSize);
    const last = Math.floor((r.offset + r.length - 1) / clusterSize);
    for (let c = first; c <= last && c < first + (1 << 24); c++) clusters.add(c);
  }
  if (clusters.size === 0) return 3 * clusterSize + l1Bytes;
  const l2Tables = new Set([...clusters].map((c) => Math.floor(c / l2Entries))).size;
  return (3 + Math.ceil(l1Bytes / clusterSize) + l2Tables + clusters.size) * clusterSize;
}

export function createImage(d: Draft, spec: ImageSpecLike): Image {
  if (!spec.file || spec.file.includes('\0')) throw new BlockgraphError('BG_BAD_INPUT', 'image needs a file name');
  if (spec.format !== 'qcow2' && spec.format !== 'raw') throw new BlockgraphError('BG_BAD_INPUT', `unsupported image format '${spec.format}'`);
  if (spec.backing && spec.format !== 'qcow2') throw new BlockgraphError('BG_BAD_INPUT', `format '${spec.format}' has no backing file`);
  let size = spec.size !== undefined ? parseSize(spec.size) : undefined;
  if (size === undefined && spec.backing) size = d.get<Image>(HOST, 'images', spec.backing)?.size;
  if (size === undefined) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}' needs a size`);
  const img: Image = { file: spec.file, format: spec.format, size };
  const cluster = /(?:^|,)cluster_size=([^,]+)/.exec(spec.options ?? '')?.[1];
  if (cluster !== undefined && spec.format === 'qcow2') img.clusterSize = parseSize(cluster);
  const data = Array.isArray(spec.data) ? spec.data.filter((r) => Number.isSafeInteger(r?.offset) && Number.isSafeInteger(r?.length) && r.length > 0) : [];
  if (data.length && spec.format === 'qcow2') img.length = qcow2FileLength(size, img.clusterSize, data);
  if (spec.backing) {
    img.backing = spec.backing;
    img.backingFormat = spec['backing-format'] ?? d.get<Image>(HOST, 'images', spec.backing)?.format ?? 'raw';
  }
  d.put(HOST, 'images', spec.file, img);
  return img;
}

/**
 * The image whose bytes a node exposes from offset 0, as a format driver opening on top of it
 * reads its header (bdrv_open_inherit → qcow2_open → bdrv_pread(bs->file, 0, …)): a file
 * node's image; filters (blkdebug, throttle, copy-on-read) and a raw node without an offset
 * pass their child's bytes through; a quorum reads its first child. Anything else (a qcow2 or
 * null node's guest view, a raw slice at an offset) shows no image header the model knows.
 */
export function imageBehind(p: { node(n: string): { driver: string; filename: string; options: Record<string, unknown> } | undefined; image(f: string): Image | undefined; childrenOf(n: string): { name: string; child: string }[] }, node: string): Image | undefined {
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    const kids = p.childrenOf(cur);
    const via = (name: string) => kids.find((e) => e.name === name)?.child;
    switch (n.driver) {
      case 'file': return p.image(n.filename);
      case 'blkdebug': cur = via('image'); break;
      case 'throttle': case 'copy-on-read': cur = via('file'); break;
      case 'quorum': cur = via('children.0'); break;
      case 'raw':
        if (Number(n.options.offset ?? 0) !== 0) return undefined;
        cur = via('file');
        break;
      default: return undefined;
    }
  }
  return undefined;
}
