// Compressed writes into a qcow2 image (block/qcow2.c, 7.2): a backup with `compress: true`
// (block-copy's BDRV_REQ_WRITE_COMPRESSED) reaches qcow2_co_pwritev_compressed_part, which cuts
// the request into clusters; qcow2_co_pwritev_compressed_task deflates each one
// (qcow2_co_compress -> qcow2_compress: raw deflate, default level, 12-bit window, memLevel 9;
// a last cluster short of a cluster-unaligned image end is zero padded first), and
// qcow2_alloc_compressed_cluster_offset gives it s->free_byte_offset's bytes
// (graph/snapshot-clusters.ts compressedWriter). So the host file's length depends on the
// deflated lengths, that is on the guest bytes: the model knows them where they are one-byte runs
// (Image.fills: the scenario's qemu-io `write -P` and what jobs copied from there, the zeroes of
// unallocated clusters). The deflated length of such a cluster is computed as QEMU does it (the
// same zlib stream; Node's zlib gives the same lengths as the host's zlib 1.2.13 for these
// inputs). Bytes the model does not know (a copy of a host file's qcow2 metadata, a VM guest's
// writes) are taken as qemu-io's default pattern 0x5a: a guess, not QEMU.
// Not modelled: compression-type zstd (qcow2_zstd_compress), a cluster that does not deflate
// below the cluster size (-ENOMEM: written as a normal cluster; no one-byte run does that).
import { deflateRawSync } from 'node:zlib';
import { imageBehind, rawFill } from './images.js';
import { layerStatus } from './jobs/allocation.js';
import { filterChild, filterOrCowBs, isFilter } from './jobs/chain.js';
import type { Proc } from './proc.js';

/** qemu-io's `write -P` default (oracle/qsd.ts), for bytes the model does not know. */
const UNKNOWN_FILL = 0x5a;

const sizes = new Map<string, number>();

/**
 * qcow2_compress's output length for a cluster of `cs` bytes whose first `bytes` are `byte` and
 * the rest zeroes (qcow2_co_pwritev_compressed_task's zero padding).
 */
export function deflatedSize(cs: number, byte: number | undefined, bytes = cs): number {
  const v = byte ?? UNKNOWN_FILL;
  const key = `${cs}:${v}:${bytes}`;
  let n = sizes.get(key);
  if (n === undefined) {
    const buf = Buffer.alloc(cs, 0);
    buf.fill(v, 0, Math.min(bytes, cs));
    n = deflateRawSync(buf, { level: -1, windowBits: 12, memLevel: 9 }).length;
    sizes.set(key, n);
  }
  return n;
}

/** The byte value of Image.fills over [s, e), when one run covers it all. */
function fillOf(fills: [number, number, number][] | undefined, s: number, e: number): number | undefined {
  for (const [a, b, v] of fills ?? []) if (a <= s && b >= e) return v;
  return undefined;
}

/**
 * What a read of [offset, offset + bytes) of `node` returns, when the model knows it is one byte
 * value throughout: down through filters, a qcow2 layer's own clusters (their Image.fills) or its
 * backing where it has none (bdrv_co_preadv -> qcow2_co_preadv_part), zeroes past the chain's end
 * and from a null node with read-zeroes. undefined: bytes the model does not know.
 */
export function readFill(p: Proc, node: string, offset: number, bytes: number, depth = 0): number | undefined {
  if (bytes <= 0 || depth > 1000) return undefined;
  const n = p.node(node);
  if (!n) return undefined;
  if (isFilter(p, node)) {
    const f = filterChild(p, node)?.child;
    return f ? readFill(p, f, offset, bytes, depth + 1) : undefined;
  }
  if (n.driver === 'null-co' || n.driver === 'null-aio') return n.options['read-zeroes'] === true || n.options['read-zeroes'] === 'on' ? 0 : undefined;
  if (n.driver === 'raw') {
    // raw_co_preadv: the slice's offset added (raw_adjust_offset), read from its file
    const f = p.fileChild(node)?.child;
    return f ? readFill(p, f, offset + (Number(n.options.offset ?? 0) || 0), bytes, depth + 1) : undefined;
  }
  if (n.driver === 'file') {
    // file-posix reads the host file: a raw image's bytes (a qcow2 image's file bytes are its
    // metadata and clusters, not followed)
    const img = p.image(n.filename);
    if (!img) return undefined;
    // bdrv_aligned_preadv zero-fills what a read asks past the node's end (and file-posix's short
    // read at EOF is padded with zeroes): a backing raw file shorter than its overlay reads as
    // zeroes there (iotests 030 TestSmallerBackingFile: the stream's copy-on-read then finds
    // the bounce buffer zero, bdrv_co_do_copy_on_readv's buffer_is_zero)
    if (img.format === 'raw' && offset + bytes > img.size) {
      if (offset >= img.size) return 0;
      return rawFill(img, offset, img.size) === 0 ? 0 : undefined;
    }
    return rawFill(img, offset, offset + bytes);
  }
  if (n.driver !== 'qcow2' || n.options['data-file'] !== undefined) return undefined;
  let value: number | undefined;
  for (let o = offset, g = 0; o < offset + bytes && g < 100000; g++) {
    const st = layerStatus(p, node, o, offset + bytes - o);
    const run = st.n > 0 ? st.n : offset + bytes - o;
    let v: number | undefined;
    if (st.alloc) {
      const file = p.fileChild(node)?.child;
      const img = file ? imageBehind(p, file) : undefined;
      v = fillOf(img?.fills, o, o + run);
    } else {
      const b = filterOrCowBs(p, node);
      const len = b ? (p.node(b)?.size ?? 0) : 0;
      // past the backing's end (or without one) the layer reads zeroes
      v = !b || o >= len ? 0 : readFill(p, b, o, Math.min(run, len - o), depth + 1);
      if (b && o < len && o + run > len && v !== 0) v = undefined;
    }
    if (v === undefined || (value !== undefined && v !== value)) return undefined;
    value = v;
    o += run;
  }
  return value;
}
