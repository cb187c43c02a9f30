// The host file growth of qcow2 internal snapshots (block/qcow2-snapshot.c, 7.2). qcow2_snapshot_create
// allocates a copy of the active L1 table (qcow2_alloc_clusters(l1_size * L1E_SIZE), then
// bdrv_pwrite of those bytes), then qcow2_write_snapshots allocates a new snapshot table, writes it
// and frees the old one; qcow2_snapshot_delete rewrites the table the same way and frees the
// deleted snapshot's L1 copy. qcow2_alloc_clusters hands out the first free clusters (freeing one
// lowers s->free_cluster_index to it): freed clusters below the refcounts' end are reused, anything
// else goes past it, and a write there extends the file to where the written bytes end (the file
// length bdrv_getlength reports is then rounded up to 512, graph/length.ts).
// A later guest write copies the clusters a snapshot shares on write (afterGuestWrite), a zero
// write with unmap frees the clusters it covers (afterZeroWrite), and what only a deleted snapshot
// still used after either is freed with it (afterSnapshotDelete).
import { subtractExtent } from './extents.js';
import { addExtent } from './images.js';
import { hostFileLength, qcow2FileSize, qcow2HostOffset, walkQcow2Layout } from './open.js';
import type { Image } from './types.js';
import type { DiscardType, FreedBatch } from './discard-stats.js';

/**
 * What the metadata operation running wrote and freed, for its caller to account
 * (withMetaIo): the highest byte it wrote in bs->file (wr_highest_offset) and the clusters it
 * freed, in qcow2_free_clusters calls and cache_discards sections with their discard type
 * (graph/discard-stats.ts). A free outside any section is one of type never (a copy-on-write's
 * old cluster: qcow2_alloc_cluster_link_l2's QCOW2_DISCARD_NEVER).
 */
export interface MetaIo { wrote: number; freed: FreedBatch[] }
let io: MetaIo | undefined;
let section: FreedBatch | undefined;

/** Runs `fn` collecting its MetaIo. */
export function withMetaIo<T>(fn: () => T): { result: T; io: MetaIo } {
  const prev = io, prevSection = section;
  const mine: MetaIo = { wrote: 0, freed: [] };
  io = mine;
  section = undefined;
  try {
    return { result: fn(), io: mine };
  } finally {
    io = prev;
    section = prevSection;
  }
}

/** The frees `fn` makes as one batch of `type` (one qcow2_free_clusters, or a cache_discards section). */
function freeing<T>(type: DiscardType, fn: () => T): T {
  const outer = section;
  const mine: FreedBatch = { type, clusters: [] };
  section = mine;
  try {
    return fn();
  } finally {
    section = outer;
    if (io && mine.clusters.length) io.freed.push(mine);
  }
}

/** sizeof(QCowSnapshotHeader), sizeof(QCowSnapshotExtraData) */
const SNAPSHOT_HEADER = 40;
const SNAPSHOT_EXTRA = 24;

type Meta = NonNullable<Image['snapClusters']>;

// the ascending layout stops where the first snapshot metadata is allocated: later guest
// allocations go through qcow2_alloc_clusters like it (afterGuestWrite)
const meta = (img: Image): Meta => img.snapClusters ?? freshMeta(img);

/**
 * The clusters qcow2_store_persistent_dirty_bitmaps placed (graph/qcow2-bitmap-clusters.ts: each
 * stored bitmap's data and table, the directory): in use for the refcounts like any metadata.
 */
function bitmapClusters(img: Image): number[] {
  return [...(img.bitmaps ?? []).flatMap((e) => e.clusters ?? []), ...(img.bitmapDir ?? [])];
}

/**
 * The allocation state of an image whose free clusters nothing here placed yet: the layout's, and
 * the bitmap metadata past it, the holes between them free (what free_bitmap_clusters freed).
 */
function freshMeta(img: Image): Meta {
  const m: Meta = { table: null, l1: {}, free: [], baseData: img.data ?? [] };
  const bm = bitmapClusters(img);
  if (!bm.length) return m;
  const cs = img.clusterSize ?? 65536;
  const used = new Set(bm);
  const from = Math.ceil(qcow2FileSize({ ...img, snapClusters: undefined }) / cs);
  const top = Math.max(...bm) + 1;
  for (let c = from; c < top; c++) if (!used.has(c)) m.free.push(c);
  m.extra = bm.map((c) => [c, 1] as [number, number]);
  return m;
}

/**
 * qcow2_alloc_clusters and qcow2_free_clusters for metadata this module does not place itself
 * (the persistent bitmaps' tables, data and directory: graph/qcow2-bitmap-clusters.ts), on the
 * same free-cluster state as the snapshots' (alloc_clusters_noref's first fit from
 * s->free_cluster_index, a free lowering it). The clusters it hands out are in use (`extra`)
 * until freed here.
 */
export function metadataAllocator(img: Image, owner?: string): { alloc(n: number): number; free(c: number): void; meta(): Meta } {
  const m: Meta = structuredClone(meta(img));
  claim(m, owner);
  return {
    alloc(n: number): number {
      const run = alloc(img, m, n);
      m.extra = [...(m.extra ?? []), run];
      return run[0];
    },
    free(c: number): void {
      const extra: [number, number][] = [];
      for (const [s0, n] of m.extra ?? []) {
        if (c < s0 || c >= s0 + n) extra.push([s0, n]);
        else {
          if (c > s0) extra.push([s0, c - s0]);
          if (c + 1 < s0 + n) extra.push([c + 1, s0 + n - c - 1]);
        }
      }
      m.extra = extra;
      freeCluster(m, c);
    },
    meta: () => m,
  };
}

/** qcow2_write_snapshots' snapshots_size: each entry 8-aligned, header, extra data, id and name. */
function tableBytes(list: { id: string; name: string }[]): number {
  let off = 0;
  for (const sn of list) off = Math.ceil(off / 8) * 8 + SNAPSHOT_HEADER + SNAPSHOT_EXTRA + Buffer.byteLength(sn.id) + Buffer.byteLength(sn.name);
  return off;
}

/** The first cluster past everything the refcounts mark used: the layout, then the snapshot metadata. */
function refEnd(img: Image, m: Meta): number {
  const cs = img.clusterSize ?? 65536;
  let end = Math.ceil(qcow2FileSize({ ...img, data: m.baseData ?? img.data, snapClusters: undefined }) / cs);
  for (const [s, n] of [...(m.table ? [m.table] : []), ...Object.values(m.l1), ...(m.leaked ?? []), ...(m.extra ?? [])]) end = Math.max(end, s + n);
  return end;
}

/**
 * qcow2_alloc_clusters -> alloc_clusters_noref: the first run of `n` free clusters at or above
 * s->free_cluster_index, which the scan leaves past the run: a hole too short for the run is
 * passed over, and later allocations start past it too, until a freed cluster lowers the index
 * again (freeCluster). Free: a freed cluster, or one past the refcounts' end.
 */
function alloc(img: Image, m: Meta, n: number): [number, number] {
  const top = refEnd(img, m);
  const free = new Set(m.free);
  const isFree = (c: number) => c >= top || free.has(c);
  let i = Math.min(m.fci?.index ?? 0, top);
  let start = i;
  for (let count = 0, g = 0; count < n && g < 10_000_000; g++) {
    const c = i++;
    if (isFree(c)) count++;
    else {
      count = 0;
      start = i;
    }
  }
  for (let c = start; c < start + n; c++) free.delete(c);
  m.free = [...free];
  m.fci = { owner: m.fci?.owner ?? '', index: start + n };
  return [start, n];
}

/** A cluster's refcount dropped to 0 (update_refcount): free, and s->free_cluster_index lowered to it. */
function freeCluster(m: Meta, c: number): void {
  m.free.push(c);
  if (section) section.clusters.push(c);
  else io?.freed.push({ type: 'never', clusters: [c] });
  if (m.fci && c < m.fci.index) m.fci = { ...m.fci, index: c };
}

/**
 * The allocation state as node `owner` sees it (qcow2_do_open starts s->free_cluster_index at 0:
 * another node, or one opened since, scans from the start). undefined: as stored.
 */
function claim(m: Meta, owner: string | undefined): void {
  if (owner !== undefined && m.fci?.owner !== owner) m.fci = { owner, index: 0 };
}

/** The clusters of a run freed (qcow2_free_clusters): a run at the end lowers nothing, it stays a hole. */
function release(m: Meta, run: [number, number] | null | undefined): void {
  if (!run) return;
  for (let c = run[0]; c < run[0] + run[1]; c++) freeCluster(m, c);
}

/**
 * Where the refcounts place a guest cluster's data and a region's L2 table: allocated since the
 * layout froze (map, l2map), else the ascending layout of baseData (graph/open.ts walkQcow2Layout).
 */
function hosts(img: Image, m: Meta): { data(c: number): number | undefined; l2(r: number): number | undefined } {
  let base: { data: Map<number, number>; l2: Map<number, number> } | undefined;
  const layout = () => {
    if (!base) {
      const b = { data: new Map<number, number>(), l2: new Map<number, number>() };
      const cs = img.clusterSize ?? 65536;
      walkQcow2Layout({ ...img, data: m.baseData ?? img.data }, (c, host, l2) => {
        b.data.set(c, host);
        if (l2 !== undefined) b.l2.set(Math.floor((c * cs) / ((cs * cs) / 8)), l2);
        return undefined;
      });
      base = b;
    }
    return base;
  };
  return {
    data: (c) => m.map?.[c] ?? layout().data.get(c),
    l2: (r) => m.l2map?.[r] ?? layout().l2.get(r),
  };
}

/**
 * Where guest byte `guest` lies in the host file (undefined: no cluster holds it): on an image
 * whose clusters qcow2_alloc_clusters placed, the refcounts' map (a cluster allocated since, or
 * the layout of baseData, which a zero write's release does not move), else the ascending layout.
 */
export function hostOffsetOf(img: Image, guest: number): number | undefined {
  if (!img.snapClusters) return qcow2HostOffset(img, guest);
  const cs = img.clusterSize ?? 65536;
  const c = Math.floor(guest / cs);
  if (!covers(img.data ?? [], c * cs)) return undefined;
  const h = hosts(img, img.snapClusters).data(c);
  return h === undefined ? undefined : h * cs + (guest - c * cs);
}

/** Whether region r has an L2 table in the active L1 (data there, or one kept or allocated since). */
function hasL2Table(img: Image, m: Meta, r: number): boolean {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  if (m.l2map?.[r] !== undefined) return true;
  return [...(img.data ?? []), ...(m.baseData ?? [])].some(([a, b]) => a < (r + 1) * l2Span && b > r * l2Span);
}

/** The snapshots that still share guest cluster c (data) or region r's L2 table with the active tables. */
function sharers(m: Meta, test: (x: { data: [number, number][]; l2: number[] }) => boolean): string[] {
  return Object.entries(m.shared ?? {}).filter(([, x]) => test(x)).map(([id]) => id);
}

/**
 * A cluster the active tables drop (qcow2_free_any_cluster, or a copy-on-write's old cluster):
 * freed when no snapshot uses it, else kept for the snapshots that do (its refcount only drops).
 */
function drop(m: Meta, host: number | undefined, ids: string[]): void {
  if (host === undefined) return;
  if (ids.length) m.kept = [...(m.kept ?? []), [host, ids]];
  else freeCluster(m, host);
}

/**
 * get_cluster_table's step for region r of a write (guest data, zeroes or a compressed cluster):
 * a region without an L2 table, or whose table a snapshot shares, gets a new one (l2_allocate,
 * from qcow2_alloc_clusters: `take`; a copied table leaves the old one to the snapshots that
 * share it); a table that stays is remembered where the layout put it (its data may go). The
 * region's table is then the active tables' own (no snapshot shares it). Returns whether a table
 * was allocated.
 */
function ensureL2(img: Image, m: Meta, h: ReturnType<typeof hosts>, r: number, take: () => number): boolean {
  const l2Shared = sharers(m, (x) => x.l2.includes(r));
  let allocated = false;
  if (!hasL2Table(img, m, r) || l2Shared.length) {
    if (l2Shared.length) drop(m, h.l2(r), l2Shared);
    m.l2map = { ...(m.l2map ?? {}), [r]: take() };
    allocated = true;
  } else if (m.l2map?.[r] === undefined && h.l2(r) !== undefined) {
    m.l2map = { ...(m.l2map ?? {}), [r]: h.l2(r)! };
  }
  for (const x of Object.values(m.shared ?? {})) x.l2 = x.l2.filter((q) => q !== r);
  return allocated;
}

/**
 * update_refcount over a compressed cluster's sectors: each host cluster its bytes lie in gains or
 * loses one reference, and one left with none is freed.
 */
function refCompressed(m: Meta, cs: number, at: [number, number], delta: 1 | -1): void {
  const crefs = { ...(m.crefs ?? {}) };
  for (let hc = Math.floor(at[0] / cs); hc <= Math.floor((at[0] + at[1] - 1) / cs); hc++) {
    const left = (crefs[hc] ?? 0) + delta;
    if (left > 0) crefs[hc] = left;
    else {
      delete crefs[hc];
      freeCluster(m, hc);
    }
  }
  m.crefs = crefs;
}

/**
 * qcow2_free_any_cluster of a compressed cluster (qcow2_free_clusters over its sectors): each
 * host cluster its bytes lie in loses one reference and is freed at none. The guest cluster's
 * entry goes (the caller maps it again or leaves it unallocated).
 */
function releaseCompressed(img: Image, m: Meta, c: number): boolean {
  const at = m.compressed?.[c];
  if (!at) return false;
  refCompressed(m, img.clusterSize ?? 65536, at, -1);
  const { [c]: _gone, ...rest } = m.compressed!;
  m.compressed = rest;
  return true;
}

/**
 * Why a write through bs->file ending at a byte fails (graph/length.ts writeRefusal: a read-only
 * level's -EPERM, a raw `size` window's -ENOSPC), as strerror; undefined: it lands.
 */
export type WriteRefusal = (end: number) => string | undefined;

/** A write failed (`errno`: its strerror): the operation stops there. */
class WriteFailed extends Error {
  constructor(readonly errno: string) { super(errno); }
}

/**
 * A bdrv_pwrite of `bytes` at cluster `first`: the file grows to where the bytes end, unless a
 * level on the way refuses the write (WriteRefusal).
 */
function written(img: Image, len: number, first: number, bytes: number, refuse: WriteRefusal): number {
  const cs = img.clusterSize ?? 65536;
  const e = bytes > 0 ? refuse(first * cs + bytes) : undefined;
  if (e) throw new WriteFailed(e);
  if (io && bytes > 0) io.wrote = Math.max(io.wrote, first * cs + bytes);
  return bytes > 0 ? Math.max(len, first * cs + bytes) : len;
}

/** offsetof(QCowHeader, nb_snapshots) + sizeof(nb_snapshots, snapshots_offset): the header bytes the table's rewrite updates. */
const HEADER_SNAPSHOTS_END = 60;

/** qcow2_write_snapshots for the table `list`: allocate, write, point the header at it, free the old table. */
function writeTable(img: Image, m: Meta, list: { id: string; name: string }[], len: number, refuse: WriteRefusal): number {
  const cs = img.clusterSize ?? 65536;
  const bytes = tableBytes(list);
  const run = bytes > 0 ? alloc(img, m, Math.ceil(bytes / cs)) : null;
  // qcow2_write_snapshots writes the entries one by one from the table's start, so one of them
  // fails exactly when the table's end is refused (a window) or at the first (a read-only level)
  const out = run ? written(img, len, run[0], bytes, refuse) : len;
  // bdrv_pwrite_sync of nb_snapshots and snapshots_offset (an empty table writes only these)
  const e = refuse(HEADER_SNAPSHOTS_END);
  if (e) throw new WriteFailed(e);
  if (io) io.wrote = Math.max(io.wrote, HEADER_SNAPSHOTS_END);
  // qcow2_free_clusters(old table, QCOW2_DISCARD_SNAPSHOT)
  freeing('snapshot', () => release(m, m.table));
  m.table = run;
  return out;
}

/**
 * What a qcow2_snapshot_create that failed on a write leaves (its fail path frees nothing but the
 * new table, qcow2_write_snapshots' own fail path): the L1 copy's clusters stay allocated (leaked,
 * the refcount update is in the cache, flushed later), and the file keeps what the writes before
 * the failing one wrote (the L1 copy, when only the table is out of room).
 */
export interface SnapshotCreateFailure { error: string; leak?: [number, number]; fileLength: number }

/**
 * The image after qcow2_snapshot_create added `sn` (its table already holding `list`, sn last), or
 * what the write that failed left (`refuse`: graph/length.ts writeRefusal).
 */
export function afterSnapshotCreate(img: Image, sn: { id: string }, list: { id: string; name: string }[], refuse: WriteRefusal = () => undefined, owner?: string): Image | SnapshotCreateFailure {
  const cs = img.clusterSize ?? 65536;
  const m: Meta = structuredClone(meta(img));
  claim(m, owner);
  let len = hostFileLength(img);
  let leak: [number, number] | undefined;
  try {
    // qcow2_snapshot_create: the L1 copy (s->l1_size entries, as qcow2_co_create sized the table)
    const l1Bytes = 8 * Math.ceil(img.size / ((cs * cs) / 8));
    if (l1Bytes > 0) {
      const run = alloc(img, m, Math.ceil(l1Bytes / cs));
      leak = run;
      len = written(img, len, run[0], l1Bytes, refuse);
      m.l1[sn.id] = run;
    }
    // qcow2_update_snapshot_refcount(+1) before the table is written: update_refcount refuses a
    // refcount past s->refcount_max (-EINVAL; the fail path leaks the L1 copy), which 1-bit
    // refcounts reach at the first allocated cluster (iotests 163's TestShrink1M image)
    if (snapshotRefcountOverflows(img, m)) throw new WriteFailed('Invalid argument');
    len = writeTable(img, m, list, len, refuse);
  } catch (e) {
    if (e instanceof WriteFailed) return { error: e.errno, fileLength: len, ...(leak ? { leak } : {}) };
    throw e;
  }
  // qcow2_update_snapshot_refcount(+1): every L2 table and data cluster of the active tables is
  // shared with the snapshot now (QCOW_OFLAG_COPIED cleared)
  m.shared = { ...(m.shared ?? {}), [sn.id]: { data: structuredClone(img.data ?? []), l2: l2Regions(img) } };
  // a compressed entry's sectors gain a reference (they are never copied: no QCOW_OFLAG_COPIED)
  const comp = Object.values(m.compressed ?? {});
  if (comp.length) {
    for (const at of comp) refCompressed(m, cs, at, 1);
    m.snapCompressed = { ...(m.snapCompressed ?? {}), [sn.id]: comp };
  }
  return { ...img, snapClusters: m, fileLength: len };
}

/** The image as a failed qcow2_snapshot_create left it (SnapshotCreateFailure), on the image as it is now. */
export function afterFailedCreate(img: Image, f: SnapshotCreateFailure): Image {
  const m: Meta = structuredClone(meta(img));
  if (f.leak) {
    const [s, n] = f.leak;
    m.free = m.free.filter((c) => c < s || c >= s + n);
    m.leaked = [...(m.leaked ?? []), f.leak];
  }
  const len = Math.max(hostFileLength(img), f.fileLength);
  return { ...img, snapClusters: m, ...(len > hostFileLength(img) ? { fileLength: len } : {}) };
}

/** The image after qcow2_snapshot_delete removed snapshot `id` (the table now `list`), or the failed write's strerror. */
export function afterSnapshotDelete(img: Image, id: string, list: { id: string; name: string }[], refuse: WriteRefusal = () => undefined, owner?: string): Image | { error: string } {
  const m: Meta = structuredClone(meta(img));
  claim(m, owner);
  let len = hostFileLength(img);
  try {
    len = writeTable(img, m, list, len, refuse);
  } catch (e) {
    if (e instanceof WriteFailed) return { error: e.errno };
    throw e;
  }
  // qcow2_free_clusters(sn.l1_table_offset, QCOW2_DISCARD_SNAPSHOT) comes after
  // qcow2_update_snapshot_refcount(-1)'s cache_discards section
  const l1 = m.l1[id];
  delete m.l1[id];
  freeing('snapshot', () => dropSnapshotRefs(img, m, id));
  freeing('snapshot', () => release(m, l1));
  return { ...img, snapClusters: m, fileLength: len };
}

/** qcow2_update_snapshot_refcount(-1) of snapshot `id`: what it alone still used is freed. */
function dropSnapshotRefs(img: Image, m: Meta, id: string): void {
  // qcow2_update_snapshot_refcount(-1), then (0) on the active tables: what only this snapshot
  // shared is the active tables' own again (QCOW_OFLAG_COPIED), and the clusters it alone still
  // used (the old copies of clusters the active tables copied on write or released) are freed
  if (m.shared) delete m.shared[id];
  if (m.snapCompressed?.[id]) {
    for (const at of m.snapCompressed[id]!) refCompressed(m, img.clusterSize ?? 65536, at, -1);
    delete m.snapCompressed[id];
  }
  if (m.kept) {
    const kept: [number, string[]][] = [];
    for (const [host, ids] of m.kept) {
      const rest = ids.filter((x) => x !== id);
      if (rest.length) kept.push([host, rest]);
      else freeCluster(m, host);
    }
    m.kept = kept;
  }
}

/**
 * The image as a failed qcow2_snapshot_delete left it: the table on disk is the old one (the entry
 * is gone from the node's in-memory list only: s->nb_snapshots-- before qcow2_write_snapshots, not
 * undone on its failure, graph/internal-snapshot.ts), and the entry's L1 copy is never freed (leaked).
 */
export function afterFailedDelete(img: Image, id: string): Image {
  const m: Meta = structuredClone(meta(img));
  const run = m.l1[id];
  delete m.l1[id];
  if (run) m.leaked = [...(m.leaked ?? []), run];
  return { ...img, snapClusters: m };
}

/** The L2 regions (L1 indexes) whose table exists: those holding guest data. */
/**
 * qcow2_update_snapshot_refcount(+1) over the active L1 table: each L2 table and data cluster it
 * references gains a reference; the refcount it has is 1 plus the snapshots sharing it (m.shared,
 * at extent granularity). Past s->refcount_max (2^refcount_bits - 1) update_refcount fails.
 */
function snapshotRefcountOverflows(img: Image, m: Meta): boolean {
  const bits = img.refcountBits ?? 16;
  if (bits >= 16) return false;
  const max = 2 ** bits - 1;
  const snaps = Object.values(m.shared ?? {});
  for (const [a, b] of img.data ?? []) {
    const shared = snaps.filter((x) => x.data.some(([c, d]) => c < b && a < d)).length;
    if (1 + shared + 1 > max) return true;
  }
  return false;
}

function l2Regions(img: Image): number[] {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const out = new Set<number>();
  for (const [a, b] of img.data ?? []) for (let r = Math.floor(a / l2Span); r <= Math.floor((b - 1) / l2Span); r++) out.add(r);
  return [...out].sort((x, y) => x - y);
}

const covers = (ext: [number, number][], c: number) => ext.some(([a, b]) => c >= a && c < b);


/**
 * A guest write of [offset, end) to a qcow2 image that has snapshot metadata (qcow2_co_pwritev_part
 * -> qcow2_alloc_host_offset), region by region: get_cluster_table gives a region without an L2
 * table, or whose table a snapshot shares, a new one first (l2_allocate), then handle_alloc
 * gives the clusters that are unallocated or shared (no QCOW_OFLAG_COPIED: copy-on-write) new
 * ones, contiguous, from qcow2_alloc_clusters (first fit over freed clusters, then past the
 * refcounts' end); the written clusters extend the file. `end`: where the last new cluster ends
 * (0: none). undefined: no snapshot metadata, the ascending layout (graph/open.ts qcow2FileSize)
 * holds.
 */
export function afterGuestWrite(img: Image, offset: number, end: number, owner?: string): { img: Image; end: number } | undefined {
  if (!img.snapClusters) return undefined;
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const s = Math.floor(offset / cs) * cs;
  const e = Math.ceil(end / cs) * cs;
  if (e <= s) return undefined;
  const m: Meta = structuredClone(img.snapClusters);
  claim(m, owner);
  const shares = Object.values(m.shared ?? {});
  const data = img.data ?? [];
  const h = hosts(img, m);
  let len = hostFileLength(img);
  let last = 0;
  const take = (n: number): number => {
    const run = alloc(img, m, n);
    m.extra = [...(m.extra ?? []), run];
    last = Math.max(last, (run[0] + n) * cs);
    len = Math.max(len, last);
    return run[0];
  };
  for (let r = Math.floor(s / l2Span); r * l2Span < e && r < 100000; r++) {
    const rs = Math.max(s, r * l2Span);
    const re = Math.min(e, (r + 1) * l2Span);
    ensureL2(img, m, h, r, () => take(1));
    const want: number[] = [];
    const compressed: number[] = [];
    for (let c = rs; c < re; c += cs) {
      // a compressed cluster never has QCOW_OFLAG_COPIED: handle_alloc gives it a new one, and
      // qcow2_alloc_cluster_link_l2 frees the old bytes once the new cluster is linked
      // (qcow2_free_any_cluster)
      if (m.compressed?.[c / cs]) {
        want.push(c / cs);
        compressed.push(c / cs);
        continue;
      }
      const ids = sharers(m, (x) => covers(x.data, c));
      if (!covers(data, c) || ids.length) want.push(c / cs);
      if (covers(data, c) && ids.length) drop(m, h.data(c / cs), ids);
    }
    if (want.length) {
      const first = take(want.length);
      m.map = { ...(m.map ?? {}) };
      want.forEach((c, i) => { m.map![c] = first + i; });
    }
    for (const c of compressed) releaseCompressed(img, m, c);
  }
  for (const x of shares) x.data = subtractExtent(x.data, s, e);
  return { img: { ...img, data: addExtent(img.data, s, e, cs), snapClusters: m, fileLength: len }, end: last };
}

/**
 * A write of zeroes over [offset, end) of a qcow2 v3 image (qcow2_co_pwrite_zeroes ->
 * qcow2_subcluster_zeroize -> zero_in_l2_slice), whole clusters only: each L2 region it touches
 * gets a table first where it has none or shares it with a snapshot (get_cluster_table ->
 * l2_allocate, a new cluster from qcow2_alloc_clusters); with BDRV_REQ_MAY_UNMAP every allocated
 * cluster's entry becomes 0 and the cluster is released (qcow2_free_any_cluster: freed, unless a
 * snapshot still uses it), so later allocations reuse it (alloc: first fit over the freed
 * clusters); without, the clusters only get the zero flag and stay allocated. The file never
 * shrinks. `end` of the result: where the last new cluster ends (0: none). undefined: nothing
 * changed (the layout stays as it was).
 */
export function afterZeroWrite(img: Image, offset: number, end: number, unmap: boolean, owner?: string, type: DiscardType = 'request'): { img: Image; end: number } | undefined {
  // qcow2_subcluster_zeroize (qcow2_cluster_discard for a shrink) frees under cache_discards
  return freeing(type, () => zeroWrite(img, offset, end, unmap, owner));
}

function zeroWrite(img: Image, offset: number, end: number, unmap: boolean, owner?: string): { img: Image; end: number } | undefined {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const s = Math.ceil(offset / cs) * cs;
  const e = end >= img.size ? Math.ceil(end / cs) * cs : Math.floor(end / cs) * cs;
  if (e <= s) return undefined;
  const m: Meta = structuredClone(meta(img));
  claim(m, owner);
  const shares = Object.values(m.shared ?? {});
  const h = hosts(img, m);
  const data = img.data ?? [];
  let len = hostFileLength(img);
  let last = 0;
  let changed = false;
  let kept = data;
  for (let r = Math.floor(s / l2Span); r * l2Span < e && r < 100000; r++) {
    const rs = Math.max(s, r * l2Span);
    const re = Math.min(e, (r + 1) * l2Span);
    const allocated = ensureL2(img, m, h, r, () => {
      const run = alloc(img, m, 1);
      m.extra = [...(m.extra ?? []), run];
      last = Math.max(last, (run[0] + 1) * cs);
      len = Math.max(len, last);
      return run[0];
    });
    if (allocated) changed = true;
    for (let c = rs; c < re; c += cs) {
      // zero_in_l2_slice unmaps a compressed cluster whatever the flags
      if (releaseCompressed(img, m, c / cs)) {
        if (!unmap) kept = subtractExtent(kept, c, c + cs);
        changed = true;
        continue;
      }
      if (!unmap || !covers(data, c)) continue;
      drop(m, h.data(c / cs), sharers(m, (x) => covers(x.data, c)));
      if (m.map) delete m.map[c / cs];
      changed = true;
    }
  }
  if (!changed) return undefined;
  if (unmap) for (const x of shares) x.data = subtractExtent(x.data, s, e);
  const next: Image = { ...img, data: unmap ? subtractExtent(data, s, e) : kept, snapClusters: m, fileLength: len };
  if (!next.data?.length) delete next.data;
  return { img: next, end: last };
}

/**
 * qcow2_co_truncate's shrink on an image whose clusters qcow2_alloc_clusters placed (snapshot
 * metadata, or freed clusters, since the layout froze): qcow2_cluster_discard of the clusters past
 * ROUND_UP(size, cluster_size) with full_discard (an L2 table first where a region has none, each
 * allocated cluster released: afterZeroWrite with unmap), qcow2_shrink_l1_table releasing the L2
 * tables past the new L1 size, then the file is cut after the last cluster whose refcount is not
 * 0 (qcow2_get_last_cluster), when that is shorter than the file. `cut`: the length to truncate
 * bs->file to (undefined: no cut); `end`: where the discard's new L2 tables end (0: none).
 */
export function afterShrink(img: Image, size: number, owner?: string): { img: Image; end: number; cut?: number } {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const start = Math.ceil(size / cs) * cs;
  const z = start < img.size ? afterZeroWrite(img, start, img.size, true, owner, 'always') : undefined;
  const cur = z?.img ?? img;
  const m: Meta = structuredClone(meta(cur));
  claim(m, owner);
  const h = hosts(cur, m);
  // qcow2_shrink_l1_table: the L1 entries past the new size lose their tables
  const newL1 = Math.ceil(size / l2Span);
  for (let r = newL1; r * l2Span < img.size && r < 100000; r++) {
    if (!hasL2Table(cur, m, r)) continue;
    // qcow2_free_clusters(l2 table, QCOW2_DISCARD_ALWAYS), one call each
    freeing('always', () => drop(m, h.l2(r), sharers(m, (x) => x.l2.includes(r))));
    if (m.l2map) delete m.l2map[r];
    for (const x of Object.values(m.shared ?? {})) x.l2 = x.l2.filter((q) => q !== r);
  }
  const next: Image = { ...cur, size, snapClusters: m };
  const len = hostFileLength(next);
  const last = lastUsedCluster(next, m);
  return { img: next, end: z?.end ?? 0, ...((last + 1) * cs < len ? { cut: (last + 1) * cs } : {}) };
}

/** qcow2_get_last_cluster: the highest cluster whose refcount is not 0. */
function lastUsedCluster(img: Image, m: Meta): number {
  const cs = img.clusterSize ?? 65536;
  const free = new Set(m.free);
  let last = 2 + Math.ceil((8 * Math.ceil(img.size / ((cs * cs) / 8))) / cs);
  const use = (c: number) => { if (!free.has(c) && c > last) last = c; };
  // the refcounts' own layout: header, refcount table and block, L1 table, then baseData's
  const base = m.baseData ?? img.data ?? [];
  const l1c = Math.ceil((8 * Math.ceil(img.size / ((cs * cs) / 8))) / cs);
  last = Math.max(last, 2 + l1c);
  walkQcow2Layout({ ...img, data: base }, (_c, host, l2) => { use(host); if (l2 !== undefined) use(l2); return undefined; });
  for (const [s0, n] of [...(m.table ? [m.table] : []), ...Object.values(m.l1), ...(m.leaked ?? []), ...(m.extra ?? [])]) for (let c = s0; c < s0 + n; c++) use(c);
  return last;
}

/**
 * A compressed cluster written at guest offset `offset` (qcow2_co_pwritev_compressed_task's
 * qcow2_alloc_compressed_cluster_offset), `size` its deflated length (graph/qcow2-compress.ts):
 * get_cluster_table first (an L2 table where the region has none or a snapshot shares it), then
 * qcow2_alloc_bytes packs the bytes at s->free_byte_offset, byte after byte: where they do not fit
 * in that cluster's rest (or there is none), alloc_clusters_noref gives a new cluster, and the
 * bytes go on across into it when it is the next one, else start there; each host cluster the
 * bytes lie in takes one reference (update_refcount). The cluster must be unallocated (the caller
 * answers "Compression can't overwrite anything"). The file grows to the bytes' end (the write of
 * out_len bytes: not a sector multiple). `end`: where the last new cluster ends (0: none).
 * Clusters go in offset order, each as its own qcow2_co_pwritev_compressed_task, on one copy of
 * the metadata (a backup with
 * `compress` writes its clusters one by one; a copy per cluster made a 1 GiB job quadratic:
 * fuzz 522514549).
 */
export function compressedWriter(img0: Image, owner?: string): { write(offset: number, size: number): void; img(): Image; end(): number } {
  const cs = img0.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const m: Meta = structuredClone(meta(img0));
  claim(m, owner);
  m.crefs = { ...(m.crefs ?? {}) };
  m.compressed = { ...(m.compressed ?? {}) };
  let img: Image = img0;
  let end = 0;
  let touched = false;
  return {
    write(offset: number, size: number): void {
      const c = Math.floor(offset / cs);
      const h = hosts(img, m);
      let len = hostFileLength(img);
      let last = 0;
      // `written`: an L2 table is written whole (l2_allocate), a cluster for the bytes only where they go
      const take = (written: boolean): number => {
        const run = alloc(img, m, 1);
        m.extra = [...(m.extra ?? []), run];
        if (written) last = Math.max(last, (run[0] + 1) * cs);
        return run[0];
      };
      ensureL2(img, m, h, Math.floor((c * cs) / l2Span), () => take(true));
      // qcow2_alloc_bytes (alloc_clusters_noref writes nothing)
      let at = m.packed ?? 0;
      if (!at || cs - (at % cs) < size) {
        const fresh = take(false) * cs;
        if (!at || Math.ceil(at / cs) * cs !== fresh) at = fresh;
      }
      for (let hc = Math.floor(at / cs); hc <= Math.floor((at + size - 1) / cs); hc++) m.crefs![hc] = (m.crefs![hc] ?? 0) + 1;
      m.packed = (at + size) % cs ? at + size : 0;
      m.compressed![c] = [at, size];
      len = Math.max(len, at + size);
      img = { ...img, data: addExtent(img.data, c * cs, (c + 1) * cs, cs), snapClusters: m, fileLength: len };
      end = Math.max(end, last, at + size);
      touched = true;
    },
    img: () => (touched ? { ...img, snapClusters: structuredClone(m) } : img0),
    end: () => end,
  };
}
