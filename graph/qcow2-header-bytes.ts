// The bytes of a qcow2 image's first sector as qcow2_update_header (block/qcow2.c, 7.2 and 10.0
// alike) writes them, for another driver's open that reads a qcow2 image as its own header
// (fuzz 3845790059: vdi_open over a qcow2 file reads the VDI disk_size at 0x170 out of the
// feature name table). Only what can reach past the fixed header is laid out: the header
// extensions in qcow2_update_header's order, the end marker and the backing file name; the
// extension payloads other than names are left zero (none reaches 0x170 before the feature table).
import type { Image } from './types.js';

const enc = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

/** qcow2_update_header's feature table (Qcow2Feature: type, bit, name[46]). */
const FEATURES: [number, number, string][] = [
  [0, 0, 'dirty bit'], [0, 1, 'corrupt bit'], [0, 2, 'external data file'], [0, 3, 'compression type'],
  [0, 4, 'extended L2 entries'], [1, 0, 'lazy refcounts'], [2, 0, 'bitmaps'], [2, 1, 'raw external data'],
];

/** The first `len` bytes of a qcow2 image's header cluster (see above); the fixed header is zero but its length. */
export function qcow2HeaderBytes(img: Image, len: number): Uint8Array {
  const buf = new Uint8Array(Math.max(len, 4096));
  const v3 = img.compat !== '0.10';
  const cs = img.clusterSize ?? 65536;
  // header_length: sizeof(QCowHeader) (112: compression_type and its padding) for v3, 72 for v2
  let at = v3 ? 112 : 72;
  const ext = (data: number[] | number): void => {
    const bytes = typeof data === 'number' ? new Array<number>(data).fill(0) : data;
    at += 8;
    bytes.forEach((b, i) => { if (at + i < buf.length) buf[at + i] = b; });
    at += pad8(bytes.length);
  };
  // s->image_backing_format: QCOW2_EXT_MAGIC_BACKING_FORMAT
  if (img.backing !== undefined && img.backingFormat !== undefined) ext(enc(img.backingFormat));
  // QCOW2_EXT_MAGIC_DATA_FILE
  if (img.dataFile !== undefined) ext(enc(img.dataFile));
  // QCOW2_EXT_MAGIC_CRYPTO_HEADER: offset and length, 16 bytes
  if (img.luks) ext(16);
  // the feature table: v3 with clusters above 4 KiB only
  if (v3 && cs > 4096) {
    const t: number[] = [];
    for (const [type, bit, name] of FEATURES) {
      const e = new Array<number>(48).fill(0);
      e[0] = type;
      e[1] = bit;
      enc(name).forEach((b, i) => { e[2 + i] = b; });
      t.push(...e);
    }
    ext(t);
  }
  // QCOW2_EXT_MAGIC_BITMAPS: 24 bytes
  if (v3 && (img.bitmaps?.length ?? 0) > 0) ext(24);
  at += 8; // the end marker
  // the backing file name follows (backing_file_offset)
  if (img.backing !== undefined) enc(img.backing).forEach((b, i) => { if (at + i < buf.length) buf[at + i] = b; });
  return buf.subarray(0, len);
}

/** A little-endian unsigned integer of `n` bytes at `off` (as a BigInt). */
export function readLe(buf: Uint8Array, off: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i] ?? 0);
  return v;
}
