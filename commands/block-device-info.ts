// BlockDeviceInfo and ImageInfo as block/qapi.c builds them (bdrv_block_device_info,
// bdrv_query_image_info / 10.0's bdrv_do_query_node_info), for query-named-block-nodes and
// query-block's `inserted`. Members are built in QAPI schema order.
import type { Proc } from '../graph/proc.js';
import { getLength } from '../graph/length.js';
import { cowBs, filterOrCowBs, skipImplicitFilters } from '../graph/jobs/chain.js';
import { pseudoFilename } from '../graph/filename.js';
import { makeAbsoluteFilename } from '../graph/dirname.js';
import { pathCombine } from '../graph/host-path.js';
import { QmpError } from '../errors/index.js';
import { rule } from '../graph/rules.js';
import { infoClusterSize, infoNode, qcow2Image, queryDirtyBitmaps } from '../graph/bitmaps.js';
import { ROLE_DATA, ROLE_FILTERED, ROLE_METADATA, ROLE_PRIMARY } from '../graph/perm.js';
import type { Image } from '../graph/types.js';
import { imageBehind } from '../graph/images.js';
import { luksSlots } from '../graph/luks.js';

type Obj = Record<string, unknown>;

/** bs->filename: the plain name, or the json:{…} pseudo-filename bdrv_refresh_filename built. */
export const nodeFilename = (p: Proc, node: string): string => p.node(node)?.filename || pseudoFilename(p, node);

const on = (v: unknown): boolean => v === true || v === 'on' || v === 'true';

/**
 * bdrv_query_image_info: the header's backing file as it is, and as
 * bdrv_get_full_backing_filename(bs, NULL) makes it (absent where bdrv_dirname fails: a qcow2
 * over an NBD client, quorum or blkverify with a relative name), and its format.
 */
function headerBacking(p: Proc, node: string): Obj {
  const h = p.node(node)?.header;
  if (!h?.backing) return {};
  let full: string | undefined;
  try {
    full = makeAbsoluteFilename(p, node, h.backing, pathCombine);
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
  }
  return {
    'backing-filename': h.backing,
    ...(full !== undefined ? { 'full-backing-filename': full } : {}),
    ...(h.backingFormat ? { 'backing-filename-format': h.backingFormat } : {}),
  };
}

/**
 * qcrypto_block_luks_get_info: the header's algorithms (qemu-img's defaults aes-256, xts,
 * plain64, sha256 unless the create options said otherwise), the payload offset and the 8 key
 * slots: each one's key-offset (the header's 4096 bytes, then equal slots up to the payload:
 * qcrypto_block_luks_create's layout), stripes (4000) where active. master-key-iters, uuid and
 * the slots' iters are not the scenario's (oracle/replies.ts removes them).
 */
function luksInfo(p: Proc, img: Image | undefined): Obj | undefined {
  const h = img?.luks;
  if (!h) return undefined;
  // the algorithms: qemu-img's defaults, the only ones the model follows (graph/luks.ts)
  const slots = luksSlots(h);
  const stride = (h.payloadOffset - 4096) / 8;
  return {
    'cipher-alg': 'aes-256', 'cipher-mode': 'xts', 'ivgen-alg': 'plain64', 'hash-alg': 'sha256',
    // 10.0's QCryptoBlockInfoLUKS has detached-header (since 9.0: block->detached_header)
    ...(rule(p, 'qapi-schema') === '10.0' ? { 'detached-header': h.detached === true } : {}),
    'payload-offset': h.payloadOffset,
    slots: slots.map((s, i) => ({ active: s !== null, 'key-offset': 4096 + i * stride, ...(s !== null ? { stripes: 4000 } : {}) })),
  };
}

/** qcow2_get_specific_info: the header's version and features, its bitmap directory, its LUKS header. */
function qcow2Specific(p: Proc, node: string): Obj {
  const img = qcow2Image(p, node);
  const refcountBits = img?.refcountBits ?? 16;
  // compression-type is not optional in ImageInfoSpecificQCow2: a version 2 header's is zlib (0)
  if (img?.compat === '0.10') return { type: 'qcow2', data: { compat: '0.10', 'refcount-bits': refcountBits, 'compression-type': 'zlib' } };
  const f = img?.features ?? {};
  const data: Obj = { compat: '1.1' };
  if (img?.dataFile !== undefined) {
    data['data-file'] = img.dataFile;
    data['data-file-raw'] = img.dataFileRaw === true;
  }
  data['extended-l2'] = f.extendedL2 === true;
  data['lazy-refcounts'] = f.lazyRefcounts === true;
  data.corrupt = false;
  data['refcount-bits'] = refcountBits;
  const luks = luksInfo(p, img);
  if (luks) data.encrypt = { format: 'luks', ...luks };
  // qcow2_get_bitmap_info_list: the bitmap directory in order, NULL (no member) when empty
  if (img?.bitmaps?.length) {
    data.bitmaps = img.bitmaps.map((b) => ({ name: b.name, granularity: b.granularity, flags: [...(b.inUse ? ['in-use'] : []), ...(b.auto ? ['auto'] : [])] }));
  }
  data['compression-type'] = f.compressionType ?? 'zlib';
  return { type: 'qcow2', data };
}

/**
 * vmdk_get_specific_info: create-type and one ImageInfo per extent (vmdk_get_extent_info:
 * filename, format = the descriptor's extent type, "" for a monolithic image's own extent,
 * virtual-size, cluster-size unless flat, compressed where set). cid and parent-cid are random.
 */
function vmdkSpecific(p: Proc, node: string, size: number): Obj | undefined {
  // the create type vmdk_open read (graph/open.ts openVmdk); the extent's file is bs->file now
  const opened = (p.node(node)!.extra as { openVmdk?: string } | undefined)?.openVmdk;
  const img = opened === undefined ? qcow2Image(p, node) : undefined;
  if (opened === undefined && (!img || img.extents?.length)) return undefined;
  const sub = opened ?? img?.features?.vmdkSubformat ?? 'monolithicSparse';
  const file = nodeFilename(p, p.fileChild(node)!.child);
  const stream = sub === 'streamOptimized';
  return {
    type: 'vmdk',
    data: {
      'create-type': sub,
      extents: [{ filename: file, format: '', 'virtual-size': size, 'cluster-size': 65536, ...(stream ? { compressed: true } : {}) }],
    },
  };
}

/** bdrv_get_specific_info: the driver's .bdrv_get_specific_info (none for most, no filter pass-through). */
function formatSpecific(p: Proc, node: string, size: number): Obj | undefined {
  const drv = p.node(node)!.driver;
  if (drv === 'qcow2') return qcow2Specific(p, node);
  if (drv === 'luks') {
    const f = p.fileChild(node);
    const data = luksInfo(p, f ? imageBehind(p, f.child) : undefined);
    return data ? { type: 'luks', data } : undefined;
  }
  if (drv === 'vmdk') return vmdkSpecific(p, node, size);
  // 10.0's file-posix raw_get_specific_info: ImageInfoSpecificFile, extent-size-hint only where
  // FS_IOC_FSGETXATTR gives one (not on ext4 or tmpfs)
  if ((drv === 'file' || drv === 'host_device') && rule(p, 'file-format-specific')) return { type: 'file', data: {} };
  return undefined;
}

/**
 * bdrv_query_snapshot_info_list: bdrv_snapshot_list of the node, or through
 * bdrv_snapshot_fallback (the primary child, when no other child holds data or metadata);
 * -ENOTSUP (no member) where no qcow2 answers, and an empty list gives none either.
 */
function snapshotsOf(p: Proc, node: string): Obj[] | undefined {
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return undefined;
    if (n.driver === 'qcow2') {
      const list = n.snapshots ?? [];
      return list.length ? list.map((s) => ({ id: s.id, name: s.name, 'vm-state-size': 0 })) : undefined;
    }
    const kids = p.childrenOf(cur);
    const primary = kids.find((e) => e.role & ROLE_PRIMARY);
    if (!primary || kids.some((e) => e !== primary && (e.role & (ROLE_DATA | ROLE_METADATA | ROLE_FILTERED)))) return undefined;
    cur = primary.child;
  }
  return undefined;
}

/**
 * One node's ImageInfo (bdrv_query_image_info / bdrv_do_query_node_info), without backing-image,
 * its members in QAPI schema order (the order QEMU's output visitor fills its QDict, which fixes
 * the wire order of colliding keys): filename, format, dirty-flag, actual-size, virtual-size,
 * cluster-size, encrypted, backing names, snapshots, format-specific.
 */
function nodeImageInfo(p: Proc, node: string): Obj {
  const n = p.node(node)!;
  const file = nodeFilename(p, node);
  const size = getLength(p, node);
  const info: Obj = { filename: file, format: n.driver };
  // bdrv_get_info: the driver's, or its filtered child's; -ENOTSUP leaves both members out
  const answers = infoNode(p, node) !== undefined;
  if (answers) info['dirty-flag'] = false;
  // bdrv_get_allocated_file_size: null-co/null-aio's null_allocated_file_size answers 0; a host
  // file's st_blocks is not the scenario's (oracle/replies.ts removes it), so the model leaves it out
  if (n.driver.startsWith('null-')) info['actual-size'] = 0;
  info['virtual-size'] = size;
  if (answers) {
    const cluster = infoClusterSize(p, node) ?? 0;
    if (cluster !== 0) info['cluster-size'] = cluster;
  }
  if ((n.extra as { encrypted?: boolean } | undefined)?.encrypted === true) info.encrypted = true;
  Object.assign(info, headerBacking(p, node));
  const snaps = snapshotsOf(p, node);
  if (snaps) info.snapshots = snaps;
  const spec = formatSpecific(p, node, size);
  if (spec) info['format-specific'] = spec;
  return info;
}

/**
 * The ImageInfo chain of bdrv_block_device_info: the node's, then (unless flat) each
 * bdrv_filter_or_cow_bs below it as backing-image, skipping implicit filters for query-block
 * (blk set). Returns the depth too (backing_file_depth).
 */
function imageChain(p: Proc, node: string, flat: boolean, skipImplicit: boolean): { image: Obj; depth: number } {
  const image = nodeImageInfo(p, node);
  let depth = 0;
  let at = image;
  let cur: string | null = node;
  for (let i = 0; !flat && i < 10000; i++) {
    let next = filterOrCowBs(p, cur);
    if (!next) break;
    if (skipImplicit) next = skipImplicitFilters(p, next);
    depth++;
    const below = nodeImageInfo(p, next);
    at['backing-image'] = below;
    at = below;
    cur = next;
  }
  return { image, depth };
}

export interface BlkView {
  /** blk_enable_write_cache */
  writeback: boolean;
  /** the BlockBackend's throttling (block_set_io_throttle), limits by BlockIOThrottle member */
  throttle?: { group: string; limits: Record<string, number> };
}

/** BlockDeviceInfo's member and ThrottleConfig's bucket (commands/throttle-group.ts configToLimits keys). */
const THROTTLE_AVG = [['bps', 'bps-total'], ['bps_rd', 'bps-read'], ['bps_wr', 'bps-write'], ['iops', 'iops-total'], ['iops_rd', 'iops-read'], ['iops_wr', 'iops-write']] as const;

/** bdrv_block_device_info(blk, bs, flat), its members in QAPI schema order. */
export function blockDeviceInfo(p: Proc, node: string, flat: boolean, blk?: BlkView): Obj {
  const n = p.node(node)!;
  const file = nodeFilename(p, node);
  const cow = cowBs(p, node);
  const encrypted = (n.extra as { encrypted?: boolean } | undefined)?.encrypted === true;
  const { image, depth } = imageChain(p, node, flat, blk !== undefined);
  const out: Obj = {
    file, 'node-name': n.name, ro: n.ro, drv: n.driver,
    ...(cow ? { backing_file: nodeFilename(p, cow) } : {}),
    backing_file_depth: depth,
    // 10.0's BlockDeviceInfo has `active` (bdrv_block_device_info: !bdrv_is_inactive(bs))
    ...(rule(p, 'qapi-schema') === '10.0' ? { active: !n.inactive } : {}),
    encrypted,
    // bs->detect_zeroes, parsed from the detect-zeroes option at open (bdrv_parse_detect_zeroes)
    detect_zeroes: typeof n.options['detect-zeroes'] === 'string' ? n.options['detect-zeroes'] : 'off',
  };
  // throttle_group_get_config of the BlockBackend's group: each bucket's avg; its max and burst
  // length only where a max is set; iops_size where set; the group's name
  const limits = blk?.throttle?.limits ?? {};
  for (const [k, b] of THROTTLE_AVG) out[k] = limits[b] ?? 0;
  out.image = image;
  if (blk?.throttle) {
    for (const [k, b] of THROTTLE_AVG) if (limits[`${b}-max`]) out[`${k}_max`] = limits[`${b}-max`];
    for (const [k, b] of THROTTLE_AVG) if (limits[`${b}-max`]) out[`${k}_max_length`] = limits[`${b}-max-length`] ?? 1;
    if (limits['iops-size']) out.iops_size = limits['iops-size'];
    out.group = blk.throttle.group;
  }
  out.cache = { writeback: blk ? blk.writeback : true, direct: on(n.options['cache.direct']), 'no-flush': on(n.options['cache.no-flush']) };
  out.write_threshold = n.writeThreshold ?? 0;
  if (n.bitmaps?.length) out['dirty-bitmaps'] = queryDirtyBitmaps(n, p);
  return out;
}
