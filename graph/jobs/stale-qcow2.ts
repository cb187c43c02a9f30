// A qcow2 node whose file child no longer presents the image it was opened on (block/qcow2.c,
// 7.2). qcow2_open reads the header and caches the L1 table once; every later guest read looks
// its L2 table up at the host offset the L1 entry names (qcow2_get_host_offset ->
// l2_load -> bdrv_pread(bs->file)), through whatever the file child is now. A blockdev-snapshot
// whose `node` is the qcow2 node's file node moves that edge onto the overlay (bdrv_append:
// bdrv_replace_node of the file node by the overlay, whose backing becomes the file node), so the
// L2 tables are read from the overlay's guest view: where the overlay holds data of its own, the
// bytes are its data, not an L2 table. The images the model makes hold data written with a
// pattern byte with bit 6 set (qemu-io write -P 90…93, oracle/qsd.ts), so every entry read there
// has QCOW_OFLAG_COMPRESSED (bit 62): qcow2_co_preadv_compressed parses an offset past the file's
// end, reads zeroes, and qcow2_co_decompress fails: -EIO (fuzz 2597031903). Block status
// (qcow2_co_block_status) takes such an entry for data (BDRV_BLOCK_DATA), so the copy reads it.
import type { Proc } from '../proc.js';
import type { Image } from '../types.js';
import { imageBehind } from '../images.js';
import { qcow2L2Offset } from '../open.js';

/**
 * The image whose header and L1 table a qcow2 node holds when its file child is a qcow2 overlay
 * (no image file of its own behind it) stacked by bdrv_append over that image's file node: the
 * image at the bottom of the overlay's backing chain. Undefined where the file child presents an
 * image file (the ordinary case, handled by imageBehind).
 */
export function staleQcow2Image(p: Proc, node: string): { image: Image; file: string } | undefined {
  const file = p.fileChild(node)?.child;
  if (!file || p.node(file)?.driver !== 'qcow2' || imageBehind(p, file)) return undefined;
  // what the node's own writes left in the overlay's guest data (graph/guest-image.ts)
  const own = imageBehind(p, p.fileChild(file)?.child ?? '');
  if (own?.guest) return { image: own.guest, file };
  let cur = file;
  for (let i = 0; i < 1000; i++) {
    const b = p.backing(cur)?.child;
    if (!b || !p.node(b)) return undefined;
    const img = imageBehind(p, b);
    if (img) return img.format === 'qcow2' && img.dataFile === undefined ? { image: img, file } : undefined;
    if (p.node(b)!.driver !== 'qcow2') return undefined;
    cur = b;
  }
  return undefined;
}

/** Whether some overlay between `file` and the image below holds data of its own at host offset `off`. */
function shadowed(p: Proc, file: string, off: number): boolean {
  for (let cur: string | undefined = file, i = 0; cur && !imageBehind(p, cur) && i < 1000; i++) {
    const n = p.node(cur);
    if (!n || n.driver !== 'qcow2') return false;
    const img = imageBehind(p, p.fileChild(cur)?.child ?? '');
    if (off < n.size && (img?.data ?? []).some(([s, e]) => off >= s && off < e)) return true;
    cur = p.backing(cur)?.child;
  }
  return false;
}

/**
 * For a qcow2 node with stale metadata: whether the L2 table mapping guest `offset` is read from
 * an overlay's data (an entry that fails the read with EIO), and how far that table's region goes.
 */
export function staleL2Garbage(p: Proc, node: string, offset: number): { garbage: boolean; end: number } | undefined {
  const st = staleQcow2Image(p, node);
  if (!st) return undefined;
  const cs = st.image.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const end = (Math.floor(offset / l2Span) + 1) * l2Span;
  const l2 = qcow2L2Offset(st.image, offset);
  return { garbage: l2 !== undefined && shadowed(p, st.file, l2), end };
}
