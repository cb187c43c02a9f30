// The host's image catalogue: what `qemu-img create` would have left on disk, as far as
// the block graph can see it (format, virtual size, backing file named in the header).
import { otherFormatLengthAfterData } from './other-format-data.js';
import { markHostData } from './jobs/host-holes.js';
import { backingFormatField } from './backing-format.js';
import { BlockgraphError } from '../errors/index.js';
import type { Draft } from './draft.js';
import { HOST, type Image } from './types.js';
import { imgOpt, luksHeader, luksPayloadOffset } from './luks.js';
import { secretDigest } from './secret-digest.js';
import { hostResolve, pathCombine } from './host-path.js';
import { isOtherFormat, otherFormatBackingError, otherFormatHasBacking, otherFormatFileLength, otherFormatInfoCluster, otherFormatVirtualSize } from './other-formats.js';
import { PASS_THROUGH } from './pass-through.js';

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
  /** Regions written with qemu-io after creation (the scenario's `data`): they allocate clusters. */
  data?: { offset: number; length: number; pattern?: number }[];
  /** an encrypted image's passphrase (luks, or qcow2 with encrypt.format=luks): qemu-img's secret object */
  secret?: string;
}

/**
 * Image.fills with [start, end) set to `byte` (undefined: bytes the model does not know there),
 * sorted, neighbours of one value merged.
 */
export function setFill(fills: [number, number, number][] | undefined, start: number, end: number, byte: number | undefined): [number, number, number][] | undefined {
  const out: [number, number, number][] = [];
  for (const [a, b, v] of fills ?? []) {
    if (b <= start || a >= end) out.push([a, b, v]);
    else {
      if (a < start) out.push([a, start, v]);
      if (b > end) out.push([end, b, v]);
    }
  }
  if (byte !== undefined && end > start) out.push([start, end, byte]);
  out.sort((x, y) => x[0] - y[0]);
  const merged: [number, number, number][] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last[1] === r[0] && last[2] === r[2]) last[1] = r[1];
    else merged.push([...r]);
  }
  return merged.length ? merged : undefined;
}

/**
 * The byte a raw image's host file holds throughout [start, end), when the model knows one:
 * Image.fills, and zeroes where a file as qemu-img or raw_co_create left it was never written
 * (ftruncate's hole, allocate_first_block's zeroes). undefined: not known, or not one value.
 */
export function rawFill(img: Image, start: number, end: number): number | undefined {
  if (img.format !== 'raw') return undefined;
  if (img.fills === undefined) return img.bytesUnknown ? undefined : 0;
  for (const [a, b, v] of img.fills) if (a <= start && b >= end) return v;
  return undefined;
}

/** A raw image with its host bytes [start, end) set to `byte` (undefined: bytes the model does not follow). */
export function withRawFill(img: Image, start: number, end: number, byte: number | undefined): Image {
  if (img.format !== 'raw' || end <= start) return img;
  const base = img.fills ?? (img.bytesUnknown ? undefined : [[0, Math.max(img.size, end), 0] as [number, number, number]]);
  const fills = setFill(base, start, end, byte);
  const { fills: _f, bytesUnknown: _u, ...rest } = img;
  return fills ? { ...rest, fills } : { ...rest, bytesUnknown: true };
}

/** Adds [start, end) to sorted, merged extents, widened to whole clusters (qcow2 allocates clusters). */
export function addExtent(extents: [number, number][] | undefined, start: number, end: number, cluster: number): [number, number][] {
  const s = Math.floor(start / cluster) * cluster;
  const e = Math.ceil(end / cluster) * cluster;
  const all = [...(extents ?? []), [s, e] as [number, number]].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const x of all) {
    const last = out[out.length - 1];
    if (last && x[0] <= last[1]) last[1] = Math.max(last[1], x[1]);
    else out.push([x[0], x[1]]);
  }
  return out;
}

export function backingImage(d: Draft, file: string, backing: string): Image | undefined {
  const key = hostResolve({ d }, pathCombine(file, backing));
  return key === undefined ? undefined : d.get<Image>(HOST, 'images', key);
}

export function createImage(d: Draft, spec: ImageSpecLike): Image {
  if (!spec.file || spec.file.includes('\0')) throw new BlockgraphError('BG_BAD_INPUT', 'image needs a file name');
  if (spec.format !== 'qcow2' && spec.format !== 'raw' && spec.format !== 'qed' && spec.format !== 'luks' && !isOtherFormat(spec.format)) throw new BlockgraphError('BG_BAD_INPUT', `unsupported image format '${spec.format}'`);
  if (spec.format === 'luks' && spec.backing) throw new BlockgraphError('BG_BAD_INPUT', "format 'luks' has no backing file");
  if (spec.backing && (spec.format === 'raw' || (isOtherFormat(spec.format) && !otherFormatHasBacking(spec.format)))) throw new BlockgraphError('BG_BAD_INPUT', `format '${spec.format}' has no backing file`);
  const backingRefusal = spec.backing ? otherFormatBackingError(spec.format, spec['backing-format']) : undefined;
  if (backingRefusal) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': ${backingRefusal}`);
  let size = spec.size !== undefined ? parseSize(spec.size) : undefined;
  // qemu-img create opens the backing file relative to the new image (bdrv_img_create:
  // bdrv_get_full_backing_filename_from_filename -> path_combine)
  const backingImg = spec.backing ? backingImage(d, spec.file, spec.backing) : undefined;
  if (size === undefined && spec.backing) size = backingImg?.size;
  if (size === undefined) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}' needs a size`);
  const img: Image = { file: spec.file, format: spec.format, size: isOtherFormat(spec.format) ? otherFormatVirtualSize(spec.format, size) : size };
  // an encrypted image (qemu-img create -f luks, or -f qcow2 -o encrypt.format=luks): the
  // passphrase of key slot 0 and the LUKS header's payload offset (graph/luks.ts); a luks file
  // holds the header, then the payload of the virtual size (block_crypto_co_create_generic's
  // truncate to payload offset + size)
  const luksPrefix = spec.format === 'luks' ? '' : spec.format === 'qcow2' && imgOpt(spec.options, 'encrypt.format') === 'luks' ? 'encrypt.' : undefined;
  if (luksPrefix !== undefined) {
    if (typeof spec.secret !== 'string') throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': Parameter '${luksPrefix}key-secret' is required for cipher`);
    const payloadOffset = luksPayloadOffset(imgOpt(spec.options, `${luksPrefix}cipher-alg`), imgOpt(spec.options, `${luksPrefix}cipher-mode`));
    // qemu-img's secret fills key slot 0; the model keeps its digest (graph/secret-digest.ts)
    img.luks = luksHeader(secretDigest(Buffer.from(spec.secret, 'utf8')), payloadOffset);
    if (spec.format === 'luks') img.fileLength = payloadOffset + size;
  } else if (spec.secret !== undefined) {
    throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': a secret is for an encrypted image (luks, or qcow2 with encrypt.format=luks)`);
  }
  const cluster = /(?:^|,)cluster_size=([^,]+)/.exec(spec.options ?? '')?.[1];
  if (cluster !== undefined && spec.format !== 'raw') img.clusterSize = parseSize(cluster);
  const info = isOtherFormat(spec.format) ? otherFormatInfoCluster(spec.format, img.size, spec.options, !!spec.backing) : undefined;
  if (info !== undefined) img.infoCluster = info;
  const fileLength = isOtherFormat(spec.format) ? otherFormatFileLength(spec.format, img.size, spec.options, spec.backing) : undefined;
  if (fileLength !== undefined) img.fileLength = fileLength;
  // qemu-io's writes of `data` allocate blocks past it (graph/other-format-data.ts)
  if (fileLength !== undefined && Array.isArray(spec.data) && spec.data.length) {
    const grown = otherFormatLengthAfterData(spec.format, img.size, spec.options, fileLength, spec.data);
    if (grown !== undefined) img.fileLength = grown;
  }
  const table = /(?:^|,)table_size=([^,]+)/.exec(spec.options ?? '')?.[1];
  if (table !== undefined && spec.format === 'qed') img.tableSize = Number(table);
  // qemu-img create -f raw leaves a sparse file (raw_co_create's ftruncate), and qemu-io's
  // writes make their blocks data: its holes are followed unless it was preallocated
  if (spec.format === 'raw' && !/(?:^|,)preallocation=/.test(spec.options ?? '')) {
    // raw_regular_truncate: a new file's first block is written (allocate_first_block: 512 bytes
    // under MAX_BLOCKSIZE, else 4096), so it is data
    let ext: [number, number][] = size > 0 ? markHostData([], 0, Math.min(size, 4096), true) : [];
    for (const r of Array.isArray(spec.data) ? spec.data : []) {
      const off = Number(r?.offset), len = Number(r?.length);
      if (Number.isSafeInteger(off) && Number.isSafeInteger(len) && off >= 0 && len > 0 && off < size) ext = markHostData(ext, off, Math.min(off + len, size), true);
    }
    img.hostData = ext;
  }
  // a raw image's qemu-io writes are its host bytes (Image.fills over the file's zeroes)
  if (spec.format === 'raw' && Array.isArray(spec.data) && spec.data.length) {
    if (spec.data.length > 10000) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': too many data regions`);
    let fills: [number, number, number][] | undefined = [[0, size, 0]];
    for (const r of spec.data) {
      const off = Number(r?.offset), len = Number(r?.length);
      if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len <= 0) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': bad data region`);
      const pat = r?.pattern === undefined ? 90 : Number(r.pattern);
      if (off < size) fills = setFill(fills, off, Math.min(off + len, size), Number.isInteger(pat) && pat >= 0 && pat <= 255 ? pat : undefined);
    }
    if (fills) img.fills = fills;
    else img.bytesUnknown = true;
  }
  if ((spec.format === 'qcow2' || spec.format === 'qed') && Array.isArray(spec.data)) {
    if (spec.data.length > 10000) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': too many data regions`);
    let ext: [number, number][] | undefined;
    let fills: [number, number, number][] | undefined;
    for (const r of spec.data) {
      const off = Number(r?.offset), len = Number(r?.length);
      if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len <= 0) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}': bad data region`);
      ext = addExtent(ext, off, Math.min(off + len, size), img.clusterSize ?? 65536);
      // qemu-io's `write -P PATTERN` (90 unless given, oracle/qsd.ts): the bytes are known
      const pat = r?.pattern === undefined ? 90 : Number(r.pattern);
      if (Number.isInteger(pat) && pat >= 0 && pat <= 255 && off < size) fills = setFill(fills, off, Math.min(off + len, size), pat);
    }
    if (ext?.length) img.data = ext;
    if (fills?.length) img.fills = fills;
  }
  // data_file=NAME: qemu-img creates the raw data file too (the image's virtual size)
  const dataFile = /(?:^|,)data_file=([^,]+)/.exec(spec.options ?? '')?.[1];
  if (dataFile !== undefined && spec.format === 'qcow2') {
    img.dataFile = dataFile;
    if (/(?:^|,)data_file_raw=(on|true)(?:,|$)/.test(spec.options ?? '')) {
      img.dataFileRaw = true;
      // qcow2_co_create: data_file_raw turns preallocation off into metadata, so the L2 tables
      // mapping the whole disk 1:1 follow the L1 table (its own cluster then): the host file
      // ends after them (the data itself is in the data file)
      const cs = img.clusterSize ?? 65536, l2Span = (cs * cs) / 8;
      const l1Clusters = Math.ceil((8 * Math.ceil(img.size / l2Span)) / cs);
      if (img.size > 0) img.fileLength = (3 + l1Clusters + Math.ceil(img.size / l2Span)) * cs;
    }
    if (!d.get<Image>(HOST, 'images', dataFile)) hostCreate(d, { file: dataFile, format: 'raw', size });
  }
  // vmdk_co_do_create (qemu-img create's vmdk_co_create_opts_cb): a flat or split subformat writes
  // a descriptor file whose extent lines name files of their own, made next to it: "PREFIX-flat
  // POSTFIX" for monolithicFlat, "PREFIX-fNNN" / "-sNNN" for every 2 GiB (split_size) of a
  // twoGbMaxExtent one (filename_decompose: the name split at its last '.'); a flat extent is raw
  // data of its size, a sparse one a header of that capacity (vmdk_create_extent)
  const vmdkSub = spec.format === 'vmdk' ? /(?:^|,)subformat=([^,]+)/.exec(spec.options ?? '')?.[1] ?? 'monolithicSparse' : '';
  if (vmdkSub.startsWith('twoGbMaxExtent') || vmdkSub === 'monolithicFlat') {
    const split = vmdkSub.startsWith('twoGbMaxExtent'), flat = vmdkSub.endsWith('Flat');
    const slash = spec.file.lastIndexOf('/');
    const dir = spec.file.slice(0, slash + 1), base = spec.file.slice(slash + 1);
    const dot = base.lastIndexOf('.');
    const prefix = dot < 0 ? base : base.slice(0, dot), postfix = dot < 0 ? '' : base.slice(dot);
    const extents: NonNullable<Image['extents']> = [];
    for (let done = 0, idx = 1; done < img.size; idx++) {
      const cur = split ? Math.min(img.size - done, 0x80000000) : img.size - done;
      const rel = split ? `${prefix}-${flat ? 'f' : 's'}${String(idx).padStart(3, '0')}${postfix}` : `${prefix}-flat${postfix}`;
      extents.push(flat ? { file: rel } : { file: rel, sparse: true });
      const len = flat ? undefined : otherFormatFileLength('vmdk', cur);
      hostCreate(d, flat ? { file: dir + rel, format: 'raw', size: cur } : { file: dir + rel, format: 'vmdk', size: cur, ...(len !== undefined ? { fileLength: len } : {}) });
      done += cur;
    }
    img.extents = extents;
  }
  // header facts only query replies read (graph/types.ts Image.features)
  const features: NonNullable<Image['features']> = {};
  const optOn = (k: string) => /^(on|true)$/.test(new RegExp(`(?:^|,)${k}=([^,]+)`).exec(spec.options ?? '')?.[1] ?? '');
  if (spec.format === 'qcow2') {
    if (optOn('lazy_refcounts')) features.lazyRefcounts = true;
    if (optOn('extended_l2')) features.extendedL2 = true;
    const ct = /(?:^|,)compression_type=([^,]+)/.exec(spec.options ?? '')?.[1];
    if (ct !== undefined && ct !== 'zlib') features.compressionType = ct;
  }
  if (vmdkSub !== '' && vmdkSub !== 'monolithicSparse') features.vmdkSubformat = vmdkSub;
  if (Object.keys(features).length) img.features = features;
  const refBits = /(?:^|,)refcount_bits=([^,]+)/.exec(spec.options ?? '')?.[1];
  if (refBits !== undefined && spec.format === 'qcow2' && Number(refBits) !== 16) img.refcountBits = Number(refBits);
  const compat = /(?:^|,)compat=([^,]+)/.exec(spec.options ?? '')?.[1];
  if ((compat === '0.10' || compat === 'v2') && spec.format === 'qcow2') img.compat = '0.10';
  if (spec.backing) {
    img.backing = spec.backing;
    // bdrv_qed_co_create keeps only whether the backing is raw (QED_F_BACKING_FORMAT_NO_PROBE):
    // any other format is probed again at each open
    if (spec.format === 'qed') {
      if ((spec['backing-format'] ?? backingImg?.format) === 'raw') img.backingFormat = 'raw';
    } else if (spec.format === 'qcow' || spec.format === 'vmdk') {
      // qcow_co_create writes the backing file name only, vmdk_co_do_create a parentFileNameHint
      // line: its format is probed at each open
    } else {
      // qcow2_co_create writes it through bdrv_change_backing_file: at most 15 characters kept
      const fmt = spec['backing-format'] ?? backingImg?.format ?? 'raw';
      img.backingFormat = spec.format === 'qcow2' ? backingFormatField(fmt) : fmt;
    }
  }
  hostCreate(d, img);
  return img;
}

// What bdrv_img_create (block.c) writes is on the host's disk the moment bdrv_create returns: no
// tran_abort, transaction .abort or *_start fail path deletes or restores the file. A command that
// fails after creating its target (drive_backup_prepare's do_backup_common checks, a mirror or
// snapshot refused once the image exists) leaves the new image in place, and a later qcow2 open of
// that file reads its header (fuzz seeds 4271229576, 1296433776, 427091665: drive-backup onto an
// existing file, refused for its bitmap). The Draft's journal would undo the write with the rest of
// a refused command, so each Draft's creations are remembered here; commands/model.ts writes them
// back into a refusal's residue (keepCreatedImages), as it does the id counters.
const created = new WeakMap<Draft, Map<string, Image>>();

function hostCreate(d: Draft, img: Image): void {
  d.put(HOST, 'images', img.file, img);
  let m = created.get(d);
  if (!m) created.set(d, (m = new Map()));
  m.delete(img.file); // re-created: keep the creation order
  m.set(img.file, img);
}

/** Writes the images the command `from` created into `to` (a refused command's residue). Returns whether any changed. */
export function keepCreatedImages(from: Draft, to: Draft): boolean {
  let changed = false;
  for (const img of created.get(from)?.values() ?? []) {
    if (JSON.stringify(to.get(HOST, 'images', img.file)) === JSON.stringify(img)) continue;
    to.put(HOST, 'images', img.file, img);
    changed = true;
  }
  return changed;
}

/**
 * The image whose bytes a node exposes from offset 0, as a format driver opening on top of it
 * reads its header (bdrv_open_inherit → qcow2_open → bdrv_pread(bs->file, 0, …)): a file
 * node's image; filters (blkdebug, throttle, copy-on-read) and a raw node without an offset
 * pass their child's bytes through; a quorum reads its first child. Anything else (a qcow2 or
 * null node's guest view, a raw slice at an offset) shows no image header the model knows.
 */
interface ImageView {
  name?: string;
  node(n: string): { driver: string; filename: string; options: Record<string, unknown> } | undefined;
  image(f: string): Image | undefined;
  childrenOf(n: string): { name: string; child: string }[];
  /** the store's other processes (an NBD client node reads its export's node there) */
  others?(): ImageView[];
  export?(id: string): { node: string } | undefined;
}

export function imageBehind(p: ImageView, node: string): Image | undefined {
  const b = bytesBehind(p, node);
  return b && 'image' in b ? b.image : undefined;
}

/**
 * imageBehind's walk, telling also where it stopped on a qcow2 node (in process `p`: an NBD
 * client's walk goes on in the serving process), whose guest view may show an image the model
 * knows (graph/guest-image.ts), or on a null-co / null-aio node, which keeps nothing written
 * (null_co_pwritev returns at once; a read gives zeroes, or with read-zeroes off leaves the
 * buffer as it was: never what was written).
 */
export function bytesBehind<P extends ImageView>(p: P, node: string): { image: Image } | { qcow2: string; p: P } | { null: string } | undefined {
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    const kids = p.childrenOf(cur);
    const via = (name: string) => kids.find((e) => e.name === name)?.child;
    switch (n.driver) {
      case 'file': {
        const image = p.image(n.filename);
        return image ? { image } : undefined;
      }
      case 'qcow2': return { qcow2: cur, p };
      case 'null-co': case 'null-aio': return { null: cur };
      // snapshot-access reads its file's snapshot (only a copy-before-write file gets this far:
      // graph/jobs/snapshot-io.ts); cbw_co_preadv reads the source, its `file` (PASS_THROUGH)
      case 'snapshot-access': cur = via('file'); break;
      case 'quorum': cur = via('children.0'); break;
      case 'blkverify': {
        // blkverify_co_preadv returns the `test` child's bytes after comparing them with `raw`'s
        // (a mismatch is blkverify_err: the process exits, not modelled); so only where both
        // children show the same image file is what a format above reads known
        const test = via('test');
        const raw = via('raw');
        const a = test === undefined ? undefined : imageBehind(p, test);
        const b = raw === undefined ? undefined : imageBehind(p, raw);
        return a && b && a.file === b.file ? { image: a } : undefined;
      }
      case 'raw':
        if (Number(n.options.offset ?? 0) !== 0) return undefined;
        cur = via('file');
        break;
      case 'nbd': {
        // the bytes of the export's node in the serving process (graph/nbd-client.ts)
        const c = (n as { extra?: { nbd?: { proc: string; export: string } } }).extra?.nbd;
        const host = c && p.others ? ([p, ...p.others()] as P[]).find((q) => q.name === c.proc) : undefined;
        const exp = host?.export?.(c!.export);
        if (!host || !exp) return undefined;
        p = host;
        cur = exp.node;
        break;
      }
      default: {
        const next = PASS_THROUGH[n.driver];
        if (next === undefined) return undefined;
        cur = via(next);
      }
    }
  }
  return undefined;
}
