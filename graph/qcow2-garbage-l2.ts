// A qcow2 node's L2 entry for guest cluster 0 when its `file` child was reopened onto a format
// node (block/qcow2.c, block/qcow2-cluster.c, 7.2 and 10.0 alike): qcow2_do_open read the L1 table
// into memory once (s->l1_table) and qcow2_reopen_prepare never reads it again, but
// qcow2_update_options_prepare makes new, empty L2 caches at every reopen, so the next
// qcow2_get_host_offset loads the L2 table (l2_load -> qcow2_cache_get: bdrv_pread(bs->file, ...))
// at the old image's L2 offset from whatever the new file reads there: here another format
// node's guest data, whose bytes the model knows as fills (Image.fills). A fill byte repeated
// eight times is the entry:
// - 0: QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN, the read goes to the backing (zeroes without one);
// - bit 62 set (QCOW_OFLAG_COMPRESSED, byte & 0x40): qcow2_co_preadv_compressed reads the
//   compressed bytes at `entry & cluster_offset_mask` (at least 2^46 for any such byte), far past
//   the file node's end, so bdrv_aligned_preadv fills the buffer with zeroes; neither zlib's raw
//   inflate (a stored block whose LEN and NLEN do not complement) nor zstd (no frame magic)
//   decompresses zeroes, and qcow2_co_decompress's failure is -EIO.
// Not modelled: the other entries (bit 62 clear, nonzero): a zero flag or an unaligned cluster
// offset, which qcow2_signal_corruption turns into -EIO plus BLOCK_IMAGE_CORRUPTED and a dead node;
// the L1 entries a write through the node allocated after the reopen; and files replaced other
// than by blockdev-reopen (bdrv_append's moved `file` edges: graph/guest-image.ts).
import { readFill } from './qcow2-compress.js';
import { qcow2L2Offset } from './open.js';
import type { Proc } from './proc.js';

/** The image file whose L1 table a qcow2 node holds in memory, where a reopen gave it another file (graph/reopen/prepare.ts). */
export const L1_IMAGE = 'l1Image';

/**
 * What qcow2_get_host_offset finds for guest offset 0 of qcow2 node `q`, read through file child
 * `f`, where the node's in-memory L1 is another image's: `unallocated` (the read goes on to the
 * backing), `compressed-past-end` (the read fails with -EIO after loading the L2 table, `l2`
 * true), or undefined where the model does not know (no such L1 image, bytes it does not know, an
 * entry it does not decode).
 */
export function l2EntryThroughGuest(p: Proc, q: string, f: string): { kind: 'unallocated' | 'compressed-past-end'; l2: boolean } | undefined {
  const name = p.node(q)?.extra?.[L1_IMAGE];
  const img = typeof name === 'string' ? p.image(name) : undefined;
  if (!img || img.format !== 'qcow2' || img.dataFile !== undefined) return undefined;
  const l2 = qcow2L2Offset(img, 0);
  // s->l1_table[0] == 0: no L2 table to load
  if (l2 === undefined) return { kind: 'unallocated', l2: false };
  const v = readFill(p, f, l2, 8);
  if (v === undefined) return undefined;
  if (v === 0) return { kind: 'unallocated', l2: true };
  let entry = 0n;
  for (let i = 0; i < 8; i++) entry = (entry << 8n) | BigInt(v);
  if (!(entry & (1n << 62n))) return undefined;
  // qcow2_parse_compressed_l2_entry: cluster_offset_mask = (1 << csize_shift) - 1,
  // csize_shift = 62 - (cluster_bits - 8)
  const clusterBits = Math.log2(img.clusterSize ?? 65536);
  const coffset = entry & ((1n << BigInt(62 - (clusterBits - 8))) - 1n);
  const len = p.node(f)?.size;
  if (len === undefined || coffset < BigInt(len)) return undefined;
  return { kind: 'compressed-past-end', l2: true };
}
