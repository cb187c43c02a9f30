// Where a qcow2 image's persistent bitmaps live in its host file (block/qcow2-bitmap.c), so that
// the file's length after a store is QEMU's. qcow2_store_persistent_dirty_bitmaps writes, for
// each bitmap it stores in directory order, one cluster per serialized chunk that holds a dirty
// bit (store_bitmap_data) and then the bitmap table (store_bitmap), then a new bitmap directory
// (update_ext_header_and_dir -> bitmap_list_store), each with qcow2_alloc_clusters: the first run
// of free clusters (alloc_clusters_noref scans from s->free_cluster_index, below which every
// cluster is in use, and a free lowers it). Only after the new directory is in the header are
// the old directory and the rewritten bitmaps' old tables freed (free_bitmap_clusters), so a
// second store takes new clusters while the old ones are still referenced, and a third reuses
// them. The host file grows only by what is written: the last write is the directory's
// dir_size bytes (bdrv_getlength then rounds the file node to a sector).
import type { Image, ImageBitmap } from './types.js';
import type { FreedBatch } from './discard-stats.js';
import { metadataAllocator } from './snapshot-clusters.js';

/** sizeof(Qcow2BitmapDirEntry): table offset 8, table size 4, flags 4, type 1, granularity 1, name size 2, extra data size 4. */
const DIR_ENTRY_HEADER = 24;

/** calc_dir_entry_size(name_size, 0): the entry and its name, 8-aligned. */
function dirEntrySize(name: string): number {
  return Math.ceil((DIR_ENTRY_HEADER + Buffer.byteLength(name, 'utf8')) / 8) * 8;
}

/** What a stored bitmap's store needs: its size (bitmap->size), granularity and known contents (undefined: not known). */
export interface StoredBits { size: number; granularity: number; dirty: [number, number][] | undefined }

/** The clusters the image's data layout uses (qcow2FileSize's: header, refcount table and block, L1, L2 and data). */
type Layout = (img: Image) => number;

class Allocator {
  readonly used = new Set<number>();
  /** the snapshots' free-cluster state, where the image has one (graph/snapshot-clusters.ts metadataAllocator) */
  shared?: ReturnType<typeof metadataAllocator>;
  end = 0;
  /** the end of the highest write this store made (wr_highest_offset of bs->file; 0: none) */
  wrote = 0;
  constructor(readonly cs: number) {}
  /** qcow2_alloc_clusters(bytes): the first run of free clusters (alloc_clusters_noref), marked used. */
  alloc(bytes: number): number {
    const n = Math.max(1, Math.ceil(bytes / this.cs));
    if (this.shared) return this.shared.alloc(n);
    for (let c = 0; ; c++) {
      let ok = true;
      for (let i = 0; i < n; i++) if (this.used.has(c + i)) { ok = false; c += i; break; }
      if (!ok) continue;
      for (let i = 0; i < n; i++) this.used.add(c + i);
      return c;
    }
  }
  /** qcow2_free_clusters of a cluster the image no longer names (the first-fit search sees it free again). */
  free(c: number): void {
    this.shared?.free(c);
  }
  /** bdrv_pwrite(bs->file, cluster * cs, bytes): the host file grows to the write's end. */
  write(cluster: number, bytes: number): void {
    this.end = Math.max(this.end, cluster * this.cs + bytes);
    this.wrote = Math.max(this.wrote, cluster * this.cs + bytes);
  }
}

function allocator(img: Image, layoutEnd: number): Allocator {
  const cs = img.clusterSize ?? 65536;
  const a = new Allocator(cs);
  for (let c = 0; c < Math.ceil(layoutEnd / cs); c++) a.used.add(c);
  for (const e of img.bitmaps ?? []) for (const c of e.clusters ?? []) a.used.add(c);
  for (const c of img.bitmapDir ?? []) a.used.add(c);
  a.end = img.bitmapEnd ?? 0;
  // an image whose clusters the snapshots' allocator places: the same state for the bitmaps
  if (img.snapClusters) a.shared = metadataAllocator(img);
  return a;
}

/** The image after a store or remove that allocated with `a`, freeing the clusters of `old` the new directory no longer names. */
function finish(img: Image, a: Allocator, bitmaps: ImageBitmap[], dir: number[] | undefined): Image {
  if (a.shared) {
    // free_bitmap_clusters and the old directory's qcow2_free_clusters, after the header points at the new ones
    const keep = new Set([...bitmaps.flatMap((e) => e.clusters ?? []), ...(dir ?? [])]);
    for (const c of [...(img.bitmaps ?? []).flatMap((e) => e.clusters ?? []), ...(img.bitmapDir ?? [])]) if (!keep.has(c)) a.free(c);
  }
  const out: Image = { ...img, bitmaps, bitmapEnd: a.end, ...(a.shared ? { snapClusters: a.shared.meta() } : {}) };
  return withDir(out, dir);
}

/**
 * The image after qcow2_store_persistent_dirty_bitmaps wrote the bitmaps of `stored` (by name;
 * the rest of `dir` keep their clusters) and a new directory `dir`. Images whose metadata the
 * model lays out elsewhere (internal snapshots, LUKS headers, external data files) are returned
 * without the clusters: their free space is not followed.
 */
export function storeBitmapClusters(img: Image, dir: ImageBitmap[], stored: Map<string, StoredBits>, layout: Layout): Image {
  return storeBitmapWrites(img, dir, stored, layout).img;
}

/**
 * storeBitmapClusters, and where its writes through bs->file ended (`wrote`, 0: none followed):
 * bdrv_co_write_req_finish grows the nodes they pass through (bs->total_sectors) and their
 * wr_highest_offset, so a node that stays open (a read-only reopen's store) shows the longer file.
 */
export function storeBitmapWrites(img: Image, dir: ImageBitmap[], stored: Map<string, StoredBits>, layout: Layout): { img: Image; wrote: number; freed: FreedBatch[] } {
  if (!followed(img)) return { img: { ...img, bitmaps: dir }, wrote: 0, freed: [] };
  const a = allocator(img, layout(img));
  const cs = a.cs;
  const out = dir.map((e) => ({ ...e }));
  for (const e of out) {
    const s = stored.get(e.name);
    if (!s) continue;
    // store_bitmap_data: tb_size = DIV_ROUND_UP(bm_size, limit), limit =
    // bdrv_dirty_bitmap_serialization_coverage(cluster_size): cluster_size * 8 bits of granularity bytes
    const limit = cs * 8 * s.granularity;
    const tbSize = Math.max(1, Math.ceil(s.size / limit));
    const clusters: number[] = [];
    for (let chunk = 0; chunk < tbSize; chunk++) {
      // bdrv_dirty_bitmap_next_dirty: a chunk with a set bit gets a cluster of its own; contents the
      // model does not know are taken as set (they come from writes)
      const lo = chunk * limit, hi = lo + limit;
      if (s.dirty && !s.dirty.some(([x, y]) => x < hi && y > lo)) continue;
      const c = a.alloc(cs);
      a.write(c, cs);
      clusters.push(c);
    }
    // store_bitmap: the table, tb_size 8-byte entries
    const t = a.alloc(tbSize * 8);
    a.write(t, tbSize * 8);
    const data = clusters.length;
    for (let i = 0; i < Math.ceil((tbSize * 8) / cs); i++) clusters.push(t + i);
    e.clusters = clusters;
    if (data) e.dataClusters = data;
    else delete e.dataClusters;
  }
  let bitmapDir: number[] | undefined;
  if (out.length) {
    // bitmap_list_store (not in place): dir_size bytes in newly allocated clusters
    const size = out.reduce((n, e) => n + dirEntrySize(e.name), 0);
    const d = a.alloc(size);
    a.write(d, size);
    bitmapDir = Array.from({ length: Math.ceil(size / cs) }, (_, i) => d + i);
  }
  // the old directory and the rewritten tables are freed after the header points at the new ones:
  // they leave the used set with the image that no longer names them
  // free_bitmap_clusters of each rewritten bitmap's old table: clear_bitmap_table frees its data
  // clusters one qcow2_free_clusters each (QCOW2_DISCARD_ALWAYS), the table itself and the old
  // directory are QCOW2_DISCARD_OTHER
  const freed = [...stored.keys()].flatMap((name) => oldDataClusters(img, name));
  return { img: finish(img, a, out, bitmapDir), wrote: a.wrote, freed };
}

/** The old data clusters of bitmap `name` as free_bitmap_clusters frees them (one batch each, always). */
function oldDataClusters(img: Image, name: string): FreedBatch[] {
  const e = img.bitmaps?.find((x) => x.name === name);
  return (e?.clusters ?? []).slice(0, e?.dataClusters ?? 0).map((c) => ({ type: 'always' as const, clusters: [c] }));
}

/**
 * Where update_ext_header_and_dir_in_place's writes end (a writable open marking the entries
 * IN_USE, qcow2_reopen_bitmaps_rw): the header cluster (update_header_sync -> qcow2_update_header
 * writes cluster_size bytes at 0) and the directory rewritten where it is (bitmap_list_store in
 * place). undefined: the directory's place is not followed.
 */
export function dirInPlaceWriteEnd(img: Image): number | undefined {
  const cs = img.clusterSize ?? 65536;
  if (!img.bitmapDir?.length || !img.bitmaps?.length) return undefined;
  const size = img.bitmaps.reduce((n, e) => n + dirEntrySize(e.name), 0);
  return Math.max(cs, img.bitmapDir[0]! * cs + size);
}

/**
 * qcow2_co_remove_persistent_dirty_bitmap: update_ext_header_and_dir writes the remaining entries
 * to a new directory (none left: the extension is dropped), then the old directory and the
 * removed bitmap's table and data clusters are freed (free_bitmap_clusters).
 */
export function removeBitmapClusters(img: Image, remaining: ImageBitmap[], layout: Layout): Image {
  return removeBitmapWrites(img, remaining, layout).img;
}

/** removeBitmapClusters, and where its writes ended (storeBitmapWrites' `wrote`). */
export function removeBitmapWrites(img: Image, remaining: ImageBitmap[], layout: Layout): { img: Image; wrote: number; freed: FreedBatch[] } {
  if (!followed(img)) return { img: { ...img, bitmaps: remaining }, wrote: 0, freed: [] };
  const a = allocator(img, layout(img));
  let bitmapDir: number[] | undefined;
  if (remaining.length) {
    const size = remaining.reduce((n, e) => n + dirEntrySize(e.name), 0);
    const d = a.alloc(size);
    a.write(d, size);
    bitmapDir = Array.from({ length: Math.ceil(size / a.cs) }, (_, i) => d + i);
  }
  const freed = (img.bitmaps ?? []).filter((e) => !remaining.some((x) => x.name === e.name)).flatMap((e) => oldDataClusters(img, e.name));
  return { img: finish(img, a, remaining, bitmapDir), wrote: a.wrote, freed };
}

function withDir(img: Image, dir: number[] | undefined): Image {
  const { bitmapDir: _d, ...rest } = img;
  return dir ? { ...rest, bitmapDir: dir } : rest;
}

/** The images whose free clusters this module follows: plain qcow2 without snapshots, LUKS or a data file. */
function followed(img: Image): boolean {
  return img.format === 'qcow2' && !img.luks && img.dataFile === undefined && (!!img.snapClusters || !img.snapshots?.length);
}

/**
 * qcow2_alloc_clusters(bytes) on `img` as qcow2_grow_l1_table asks it (the new L1 table, while the
 * old one is still in use): the first cluster of the first free run, or undefined where the
 * image's free clusters are not followed.
 */
export function firstFreeRun(img: Image, bytes: number, layout: Layout): number | undefined {
  if (!followed(img)) return undefined;
  return allocator(img, layout(img)).alloc(bytes);
}
