// The image a qcow2 node sees when its `file` child is itself a format node (block/qcow2.c,
// block/io.c, 7.2): qcow2 over a qcow2 overlay, or over raw over one, as a blockdev-snapshot(-sync)
// of the qcow2 node's file node leaves it (bdrv_append moves the `file` edge onto the overlay,
// whose backing becomes the old file node). qcow2 reads and writes its metadata with
// bdrv_pread/bdrv_pwrite(bs->file), so they are guest I/O of the lower format node: reads of
// clusters the overlay never wrote fall through to its backing (bdrv_co_preadv ->
// qcow2_co_preadv_part: an unallocated cluster reads the backing), so an empty overlay over the
// old file node shows the very image the qcow2 node was opened on; writes allocate clusters in
// the overlay's own image (qcow2_co_pwritev_part), never in the image below, and one past the
// overlay's end grows it (bdrv_co_write_req_finish: bs->total_sectors = end_sector; qcow2 holds
// BLK_PERM_RESIZE on its file, so bdrv_co_write_req_prepare lets it). What those writes leave is
// kept on the overlay's image file (Image.guest): the image the overlay's guest data now holds.
// An overlay's own data elsewhere (the image's guest data) changes nothing of this. Not modelled:
// an overlay whose own data covers the image's metadata (QEMU reads garbage L2/refcount entries:
// a snapshot fails with 'File too large' after allocating far out), the overlay image's own
// allocation for those writes (its host file's growth), and the zeroes read past the overlay's end
// (its length cuts the image below; the metadata a snapshot operation reads lies in the first
// clusters).
import { bytesBehind, imageBehind } from './images.js';
import { qcow2L2Offset } from './open.js';
import type { Proc } from './proc.js';
import { HOST, type Image } from './types.js';

const GUEST = 'guest:';
const roundUp = (n: number) => Math.ceil(n / 512) * 512;

/**
 * What a qcow2 node's metadata I/O reaches through bs->file: the image it reads there (its
 * fileLength: the length of the bytes the writes land in), and where to store it after a write:
 * `key` names a host image file, or (GUEST prefix) the guest data of the format node `node`
 * over that image file.
 */
export interface MetadataView { img: Image; key: string; node?: string }

/** The qcow2 image a qcow2 format node's guest view shows from offset 0 (qcow2_co_preadv_part); undefined: none the model knows. */
function guestView(p: Proc, f: string, depth = 0): { img: Image; home: string } | undefined {
  if (depth > 1000) return undefined;
  const fileNode = p.fileChild(f)?.child;
  const own = fileNode ? imageBehind(p, fileNode) : undefined;
  if (!own || own.format !== 'qcow2' || own.dataFile !== undefined) return undefined;
  if (own.guest) return { img: own.guest, home: own.file };
  // the clusters it has not written read its backing (none: zeroes, no image)
  const b = p.backing(f)?.child;
  if (!b) return undefined;
  const below = bytesBehind(p, b);
  if (!below) return undefined;
  let img: Image | undefined;
  if ('image' in below) img = below.image.format === 'qcow2' ? below.image : undefined;
  else if ('qcow2' in below && below.p === p) img = guestView(p, below.qcow2, depth + 1)?.img;
  // its own data where that image keeps metadata: bytes the model does not know
  if (!img || (own.data ?? []).some(([s, e]) => metadataRuns(img).some(([ms, me]) => s < me && ms < e))) return undefined;
  return { img, home: own.file };
}

/**
 * The host byte ranges a qcow2 image keeps metadata in (what its node reads back through bs->file):
 * qcow2_co_create's header, refcount table and block and L1 table, the L2 tables
 * (graph/open.ts qcow2L2Offset), and the snapshot metadata (graph/snapshot-clusters.ts).
 */
function metadataRuns(img: Image): [number, number][] {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const l1Bytes = 8 * Math.ceil(img.size / l2Span);
  const runs: [number, number][] = [[0, (3 + Math.ceil(l1Bytes / cs)) * cs]];
  for (let r = 0; r * l2Span < img.size && r < 100000; r++) {
    const l2 = qcow2L2Offset(img, r * l2Span);
    if (l2 !== undefined) runs.push([l2, l2 + cs]);
  }
  const m = img.snapClusters;
  for (const [c, n] of [...(m?.table ? [m.table] : []), ...Object.values(m?.l1 ?? {}), ...(m?.leaked ?? [])]) runs.push([c * cs, (c + n) * cs]);
  return runs;
}

/** Where qcow2 node `q`'s metadata reads and writes go (bdrv_pread/bdrv_pwrite(bs->file)); undefined: no image the model knows. */
export function metadataView(p: Proc, q: string): MetadataView | undefined {
  const file = p.fileChild(q)?.child;
  const b = file ? bytesBehind(p, file) : undefined;
  if (!b) return undefined;
  if ('image' in b) return { img: b.image, key: b.image.file };
  if (!('qcow2' in b) || b.p !== p) return undefined;
  const g = guestView(p, b.qcow2);
  if (!g) return undefined;
  const { guest: _, ...img } = g.img;
  // the bytes the writes land in end where the format node ends (bdrv_getlength: total_sectors)
  return { img: { ...img, fileLength: roundUp(p.node(b.qcow2)!.size) }, key: GUEST + g.home, node: b.qcow2 };
}

/**
 * blockdev-create of qcow2 whose `file` is a qcow2 format node q (fuzz --qemu 10.0 1426600248):
 * qcow2_co_create's blk_co_pwrite calls of the header, refcount table and block, and
 * qcow2_co_truncate's L1 table are guest writes of q (qcow2_co_pwritev_part), so they land in q's
 * guest data, never in the image below. The image file whose guest data that is (q's own image,
 * as guestView reads it back) or undefined where the model does not know q's guest data (q's
 * file not a plain qcow2 image: a data file, or no image the model knows). What the create
 * writes covers every byte of the new image's metadata (no L2 table yet), so whatever q's guest
 * data held before does not matter.
 */
export function createGuestHome(p: Proc, q: string): Image | undefined {
  if (p.node(q)?.driver !== 'qcow2') return undefined;
  const fileNode = p.fileChild(q)?.child;
  const own = fileNode ? imageBehind(p, fileNode) : undefined;
  if (!own || own.format !== 'qcow2' || own.dataFile !== undefined || own.luks) return undefined;
  return own;
}

/** The image stored under a MetadataView key. */
export function readView(p: Proc, key: string): Image | undefined {
  return key.startsWith(GUEST) ? p.image(key.slice(GUEST.length))?.guest : p.image(key);
}

/** Stores an image under a MetadataView key: a host image file, or the guest data of a format node's image file. */
export function writeView(p: Proc, key: string, img: Image): void {
  if (!key.startsWith(GUEST)) {
    p.d.put(HOST, 'images', key, img);
    return;
  }
  const home = p.image(key.slice(GUEST.length));
  if (home) p.d.put(HOST, 'images', home.file, { ...home, guest: img });
}

/**
 * Which open of an image allocates (graph/snapshot-clusters.ts: s->free_cluster_index lives in the
 * node's BDRVQcow2State, 0 at qcow2_do_open): the process and the qcow2 node's order.
 */
export function allocOwner(p: Proc, q: string): string | undefined {
  const n = p.node(q);
  return n ? `${p.name}:${n.order}` : undefined;
}
