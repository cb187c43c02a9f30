// The QED image format (block/qed.c, qed.h; the same on 7.2 and 10.0.2): the header
// qemu-img create writes (bdrv_qed_co_create), the checks bdrv_qed_do_open makes on it, and the
// limits bdrv_qed_co_truncate and bdrv_qed_change_backing_file apply.
import type { Image } from './types.js';

export const QED_MAGIC = 0x00444551; // 'Q' | 'E' << 8 | 'D' << 16
export const QED_F_BACKING_FILE = 0x01;
export const QED_F_NEED_CHECK = 0x02;
export const QED_F_BACKING_FORMAT_NO_PROBE = 0x04;
export const QED_DEFAULT_CLUSTER_SIZE = 65536;
export const QED_DEFAULT_TABLE_SIZE = 4;
const QED_MIN_CLUSTER_SIZE = 4 * 1024;
const QED_MAX_CLUSTER_SIZE = 64 * 1024 * 1024;
const QED_MIN_TABLE_SIZE = 1;
const QED_MAX_TABLE_SIZE = 16;
/** sizeof(QEDHeader): where qed_co_create puts the backing file name */
export const QED_HEADER_SIZE = 64;

const pow2 = (n: number) => n > 0 && Number.isInteger(n) && (n & (n - 1)) === 0;

/** qed_is_cluster_size_valid */
export function qedIsClusterSizeValid(c: number): boolean {
  return c >= QED_MIN_CLUSTER_SIZE && c <= QED_MAX_CLUSTER_SIZE && pow2(c);
}

/** qed_is_table_size_valid */
export function qedIsTableSizeValid(t: number): boolean {
  return t >= QED_MIN_TABLE_SIZE && t <= QED_MAX_TABLE_SIZE && pow2(t);
}

/** qed_max_image_size: table entries (8 bytes each) of one L1 table, times an L2 table's reach */
export function qedMaxImageSize(cluster: number, table: number): number {
  const entries = (table * cluster) / 8;
  return entries * cluster * entries;
}

/** qed_is_image_size_valid: whole sectors, within the tables' reach */
export function qedIsImageSizeValid(size: number, cluster: number, table: number): boolean {
  return size % 512 === 0 && size <= qedMaxImageSize(cluster, table);
}

export function qedCluster(img: Pick<Image, 'clusterSize'>): number { return img.clusterSize ?? QED_DEFAULT_CLUSTER_SIZE; }
export function qedTable(img: Pick<Image, 'tableSize'>): number { return img.tableSize ?? QED_DEFAULT_TABLE_SIZE; }

/**
 * The host file's length: bdrv_qed_co_create truncates to 0 and writes the header cluster
 * (header_size 1) and the L1 table at l1_table_offset = cluster_size; qed_alloc_clusters then
 * appends at s->file_size, one L2 table (table_size clusters) per L1 entry a write first touches,
 * then the data clusters (the scenario's qemu-io writes, in ascending order).
 */
export function qedFileSize(img: Image): number {
  if (img.fileLength !== undefined) return img.fileLength;
  const cs = qedCluster(img);
  const ts = qedTable(img);
  const l2Span = ((ts * cs) / 8) * cs;
  let clusters = 1 + ts;
  const l2 = new Set<number>();
  for (const [s, e] of img.data ?? []) {
    clusters += Math.ceil((e - s) / cs);
    for (let r = Math.floor(s / l2Span); r <= Math.floor((e - 1) / l2Span); r++) l2.add(r);
  }
  return (clusters + l2.size * ts) * cs;
}

/**
 * bdrv_qed_do_open's checks of a header qemu-img wrote (magic and feature bits are always
 * right there): the error text, or undefined. qed_check_table_offset tests the L1 table's first
 * and last cluster, and rejects an end offset not past the start as an overflow: with
 * table_size 1 the last cluster is the first, so such an image never opens ("QED table offset
 * is invalid", as QEMU answers for `qemu-img create -o table_size=1`).
 */
export function qedOpenError(img: Image): string | undefined {
  const cs = qedCluster(img);
  const ts = qedTable(img);
  if (!qedIsClusterSizeValid(cs)) return 'QED cluster size is invalid';
  // s->file_size = qed_start_of_cluster(s, bdrv_getlength(bs->file->bs))
  const fileSize = Math.floor(qedFileSize(img) / cs) * cs;
  if (!qedIsTableSizeValid(ts)) return 'QED table size is invalid';
  if (!qedIsImageSizeValid(img.size, cs, ts)) return 'QED image size is invalid';
  // qed_check_table_offset(s, l1_table_offset = cluster_size)
  const offset = cs;
  const end = offset + (ts - 1) * cs;
  const ok = (o: number) => o % cs === 0 && o >= cs && o < fileSize;
  if (end <= offset || !ok(offset) || !ok(end)) return 'QED table offset is invalid';
  return undefined;
}

/**
 * bdrv_qed_co_truncate: preallocation off only, a valid size, never smaller. The text is the
 * driver's; bdrv_co_truncate passes it on as it is.
 */
export function qedTruncateError(img: Pick<Image, 'size' | 'clusterSize' | 'tableSize'>, size: number, prealloc: string): string | undefined {
  if (prealloc !== 'off') return `Unsupported preallocation mode '${prealloc}'`;
  if (!qedIsImageSizeValid(size, qedCluster(img), qedTable(img))) return 'Invalid image size specified';
  if (size < img.size) return 'Shrinking images is currently not supported';
  return undefined;
}

/**
 * bdrv_qed_change_backing_file: the new header and the name must fit in the header's clusters
 * (header_size 1, as qemu-img made it), else -ENOSPC before anything is written.
 */
export function qedBackingNameFits(img: Image, name: string | null): boolean {
  const len = name === null ? 0 : Buffer.byteLength(name, 'utf8');
  return QED_HEADER_SIZE + len <= qedCluster(img);
}

/**
 * The header cluster bdrv_qed_co_create writes (QEDHeader, little-endian, then the backing file
 * name at offset 64): what `qemu-img create -f qed` leaves in the file's first bytes.
 */
export function qedHeaderBytes(o: { size: number; clusterSize?: number; tableSize?: number; backing?: string; backingFormat?: string }): Buffer {
  const cs = o.clusterSize ?? QED_DEFAULT_CLUSTER_SIZE;
  const ts = o.tableSize ?? QED_DEFAULT_TABLE_SIZE;
  const name = o.backing !== undefined ? Buffer.from(o.backing, 'utf8') : Buffer.alloc(0);
  const b = Buffer.alloc(QED_HEADER_SIZE + name.length);
  let features = 0;
  if (o.backing !== undefined) {
    features |= QED_F_BACKING_FILE;
    // qed_fmt_is_raw(backing_fmt)
    if (o.backingFormat === 'raw') features |= QED_F_BACKING_FORMAT_NO_PROBE;
  }
  b.writeUInt32LE(QED_MAGIC, 0);
  b.writeUInt32LE(cs, 4);
  b.writeUInt32LE(ts, 8);
  b.writeUInt32LE(1, 12); // header_size (clusters)
  b.writeBigUInt64LE(BigInt(features), 16);
  b.writeBigUInt64LE(0n, 24); // compat_features
  b.writeBigUInt64LE(0n, 32); // autoclear_features
  b.writeBigUInt64LE(BigInt(cs), 40); // l1_table_offset
  b.writeBigUInt64LE(BigInt(o.size), 48); // image_size
  b.writeUInt32LE(o.backing !== undefined ? QED_HEADER_SIZE : 0, 56);
  b.writeUInt32LE(name.length, 60);
  name.copy(b, QED_HEADER_SIZE);
  return b;
}
