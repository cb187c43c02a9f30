// qcow2_do_open's read of the backing file name (block/qcow2.c, 7.2 and 10.0):
// bdrv_pread(bs->file, header.backing_file_offset, header.backing_file_size). bdrv_aligned_preadv
// serves what lies past a node's length as zeroes ("Reading beyond end of file is supposed to
// produce zeroes"), and file-posix pads a short read past the host file's end with zeroes too,
// so a file child that ends before the name does (a raw `size` window over the image: fuzz
// 347067830, a 512-byte window over an image whose name lies at 528) yields the name cut at that
// end, NUL-terminated: empty when it starts past it. bdrv_open_backing_file then opens nothing
// (bs->backing_file[0] == '\0' and no backing options), where the whole image has a backing file.
import type { Proc } from './proc.js';
import type { Image } from './types.js';
import { hostFileLength } from './open.js';

/** sizeof(QCowExtension) + the payload padded to 8 bytes (header_ext_add) */
const ext = (len: number): number => 8 + Math.ceil(len / 8) * 8;
/** the feature name table of qcow2_update_header: 8 Qcow2Feature entries of 48 bytes */
const FEATURE_TABLE = ext(8 * 48);
/** Qcow2BitmapHeaderExt */
const BITMAPS_EXT = ext(24);

/**
 * Where the backing file name lies: qcow2_update_header's layout (qemu-img create and every header
 * rewrite): the header (header_length 72 for v2, 112 for v3), then the extensions in order:
 * backing format, external data file, the feature name table (v3 with clusters over 4 KiB),
 * bitmaps (when the image has some), the end marker; the name follows.
 */
export function backingNameOffset(img: Image): number {
  return bitmapsExtOffset(img) + (hasBitmapsExt(img) ? BITMAPS_EXT : 0) + 8;
}

const hasBitmapsExt = (img: Image): boolean => img.compat !== '0.10' && (img.bitmaps?.length ?? 0) > 0;

/** Where the bitmaps extension (or, without bitmaps, the end marker) lies in qcow2_update_header's layout. */
function bitmapsExtOffset(img: Image): number {
  const v2 = img.compat === '0.10';
  let off = v2 ? 72 : 112;
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  if (img.backingFormat) off += ext(bytes(img.backingFormat));
  if (img.dataFile !== undefined) off += ext(bytes(img.dataFile));
  if (!v2 && (img.clusterSize ?? 65536) > 4096) off += FEATURE_TABLE;
  return off;
}

/**
 * qcow2_read_extensions over the same short file child: an extension header past its end reads
 * as zeroes, the end marker, so the bitmaps extension is not seen and no persistent bitmap is
 * loaded ('none'); a header inside with its payload past the end reads nb_bitmaps 0: "found
 * bitmaps extension with zero bitmaps" (probed live on 7.2: a 512-byte window over an image
 * without backing, its bitmaps extension at 504).
 */
export function bitmapsExtSeen(p: Proc, file: string, img: Image): 'all' | 'none' | 'zero' | 'no-directory' {
  if (!hasBitmapsExt(img)) return 'all';
  const at = bitmapsExtOffset(img);
  // raw windows only: the host file length the model keeps leaves out the clusters
  // qcow2_store_persistent_dirty_bitmaps allocated (qcow2FileSize), so it says nothing here
  const end = visibleEnd(p, file, false);
  if (at + 8 > end) return 'none';
  if (at + 8 >= end) return 'zero';
  // qcow2_load_dirty_bitmaps -> bitmap_list_load reads the bitmap directory, which
  // qcow2_store_persistent_dirty_bitmaps put in clusters past the image's fixed metadata (header,
  // refcount table and block, L1 table): a child ending inside those gives an all-zero entry,
  // "Bitmap '' doesn't satisfy the constraints" (check_dir_entry; probed live on 7.2: a 1024-byte
  // window). Where exactly the directory lies is not modelled: a longer child is taken to show it.
  const cs = img.clusterSize ?? 65536;
  const fixed = (3 + Math.ceil((8 * Math.ceil(img.size / ((cs * cs) / 8))) / cs)) * cs;
  return end <= fixed ? 'no-directory' : 'all';
}

/**
 * Where the bytes a read through `file` finds end, in the qcow2 node's offsets: a raw node's
 * window (raw_getlength: its `size`, a multiple of 512) shifted by its offset, down to the host
 * file's own length (a file node's size). Other drivers are taken to show everything.
 */
function visibleEnd(p: Proc, file: string, hostLength = true): number {
  let end = Infinity;
  let base = 0;
  for (let cur: string | undefined = file, i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) break;
    // (the host file as the catalogue has it now: a node's size is what it had at open, and
    // file-posix reads the file as it is)
    const img = n.driver === 'file' ? p.image(n.filename) : undefined;
    if (n.driver === 'file') return hostLength ? Math.min(end, base + Math.max(n.size, img ? hostFileLength(img) : 0)) : end;
    if (n.driver !== 'raw') break;
    end = Math.min(end, base + n.size);
    base -= Number(n.options.offset ?? 0) || 0;
    cur = p.fileChild(cur)?.child;
  }
  return end;
}

/** The backing file name qcow2_do_open reads for `img` through `file` (undefined: none, or it reads as empty). */
export function readBackingName(p: Proc, file: string, img: Image): string | undefined {
  if (!img.backing) return undefined;
  const name = Buffer.from(img.backing, 'utf8');
  const seen = Math.max(0, Math.min(name.length, visibleEnd(p, file) - backingNameOffset(img)));
  // (a cut inside a multi-byte character is not modelled: names are ASCII)
  return seen > 0 ? name.subarray(0, seen).toString('utf8') : undefined;
}
