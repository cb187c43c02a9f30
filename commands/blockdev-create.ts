// blockdev-create (block/create.c qmp_blockdev_create, QEMU 7.2): a plain Job of type "create"
// (JOB_DEFAULT | JOB_MANUAL_DISMISS: auto-finalize, manual dismiss; JOB_STATUS_CHANGE only, no
// BLOCK_JOB_* events) whose .run is the driver's .bdrv_co_create. The model supports the drivers
// libvirt uses: file (raw_co_create) and qcow2 (qcow2_co_create); the image they write goes into
// the host catalogue (graph/images.ts), so a later blockdev-add opens it.
//
// The job does only host I/O, and QSD finishes it moments after the reply; the model runs it to
// its end inside the command (created, running, then waiting/pending/concluded, or aborting/
// concluded with the error in query-jobs), and the oracle harness lets a blockdev-create step
// settle the same way (oracle/harness.ts SETTLE_JOB), so the graph it records is the final one.
import { backingFormatField } from '../graph/backing-format.js';
import { MAIN_CONTEXT, refuseCrossContextReference } from '../graph/aio.js';
import { rule } from '../graph/rules.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { QmpError } from '../errors/index.js';
import { createJob, sendJob, type JobCtx } from '../graph/jobs/runner.js';
import { attachChild, tryRefresh, unrefIfUnused } from '../graph/ops.js';
import { coTruncate, keepPreallocTruncateFailures, preallocTruncateFailures } from '../graph/truncate.js';
import { hostFileLength, openRoot, qcow2FileSize } from '../graph/open.js';
import { growWrittenNodes, writeRoom } from '../graph/length.js';
import { PERM_ALL, PERM_W, PERM_Z, ROLE_IMAGE, permNames } from '../graph/perm.js';
import { defaultPerms } from '../graph/drivers.js';
import { checkParentConflicts } from '../graph/refresh.js';
import type { Proc } from '../graph/proc.js';
import { HOST, type Edge, type Image } from '../graph/types.js';
import { backingImage, bytesBehind, imageBehind } from '../graph/images.js';
import { hostParentExists } from '../graph/host-path.js';
import { refuseOwnFuseMount } from '../graph/fuse-self-open.js';
import { luksHeader, luksPayloadOffset } from '../graph/luks.js';
import { createGuestHome } from '../graph/guest-image.js';
import { qcow2PreallocFileLength, type Qcow2Prealloc } from '../graph/qcow2-prealloc.js';
import { noteWritePath } from '../graph/wr-highest.js';
import { secretLookupUtf8 } from '../graph/secrets.js';
import { VDI_DISK_SIZE_MAX as VDI_DISK_SIZE_MAX_BIG, vmdkSparseCreateWriteEnd, otherFormatFileLength, otherFormatInfoCluster, otherFormatVirtualSize, parallelsOpenError } from '../graph/other-formats.js';
import { consumeAutoNames, creationOpens } from '../graph/id-counter.js';
import { QED_DEFAULT_CLUSTER_SIZE, QED_DEFAULT_TABLE_SIZE, qedFileSize, qedIsClusterSizeValid, qedIsImageSizeValid, qedIsTableSizeValid, qedMaxImageSize } from '../graph/qed.js';
import { removeBlockBackend } from './exports.js';
import { leakedDrainBelow } from '../graph/reopen/drain-leak.js';
import { addRef } from '../graph/jobs/parts.js';
import type { CommandDef } from './types.js';

/** BlockdevCreateOptions drivers of QSD 7.2 (all have .bdrv_co_create) the model writes. */
const MODELLED = new Set(['file', 'qcow2', 'qed', 'vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk', 'luks']);

const BDRV_SECTOR_SIZE = 512;
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;

type Opts = Record<string, any>;

export const blockdevCreate: CommandDef = {
  name: 'blockdev-create',
  mutates: true,
  run({ p, args, emit }) {
    const opts = (args.options ?? {}) as Opts;
    const driver = String(opts.driver);
    if (!MODELLED.has(driver)) {
      throw new QmpError(`blockgraph does not model blockdev-create with driver '${driver}' (qemu-storage-daemon 7.2 has it; see docs/bitmaps.md)`);
    }
    const ctx: JobCtx = { p, emit };
    // job_create: "Invalid job ID", "Job ID … already in use"; then job_start
    const job = createJob(ctx, { id: String(args['job-id']), type: 'create', autoFinalize: true, autoDismiss: false, speed: 0, data: { kind: 'create', driver } });
    sendJob(ctx, job.id, { type: 'START' });
    // blockdev_create_run: ret = drv->bdrv_co_create(opts, errp)
    let error: string | undefined;
    try {
      p.d.atomically(() => {
        inlineRefs = [];
        try {
          if (driver !== 'file') refuseCreateIntoEmptyVpc(p, opts.file);
          if (driver === 'file') fileCreate(p, opts);
          else if (driver === 'qed') qedCreate(p, opts);
          else if (driver === 'qcow2') qcow2Create(p, opts);
          else if (driver === 'luks') luksDriverCreate(p, opts);
          else otherCreate(p, driver, opts);
          // the driver's bdrv_unref of what bdrv_open_blockdev_ref opened for it (a failure rolls
          // the open back whole: CreateFailed.after keeps only the writes)
          for (const n of inlineRefs.reverse()) unrefIfUnused(p, n);
        } finally {
          inlineRefs = [];
        }
      });
    } catch (e) {
      // QEMU dies in the job (graph/qemu-abort.ts): the whole command is refused
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      error = e.desc;
      // the writes that went through before the failing one stay on disk
      if (e instanceof CreateFailed) e.after(p);
    }
    sendJob(ctx, job.id, error === undefined ? { type: 'DONE' } : { type: 'FAIL', error });
    return {};
  },
};

/**
 * qcrypto_block_luks_create up to its PBKDF benchmarks: the key secret (`prefix` "encrypt." for
 * qcow2), its lookup, then the cipher's key length (qcrypto_block_luks_create's defaults:
 * aes-256, xts, plain64, sha256). The benchmarks, the master key and the key slot are not
 * modelled: the image keeps key slot 0's passphrase digest and the payload offset (graph/luks.ts).
 */
function luksCreate(p: Proc, o: Opts, prefix: string): NonNullable<Image['luks']> {
  if (o['key-secret'] === undefined) throw new QmpError(`Parameter '${prefix}key-secret' is required for cipher`);
  const digest = secretLookupUtf8(p, String(o['key-secret']));
  const payloadOffset = luksPayloadOffset(o['cipher-alg'] ?? 'aes-256', o['cipher-mode'] ?? 'xts');
  return luksHeader(digest, payloadOffset);
}

/**
 * block_crypto_co_create_luks (block/crypto.c): the file (bdrv_open_blockdev_ref), then
 * block_crypto_co_create_generic: a BlockBackend with WRITE|RESIZE on it, qcrypto_block_create
 * (luksCreate), whose init function truncates the file to the header plus `size`
 * (block_crypto_create_init_func: blk_truncate with the preallocation asked for) before the
 * header and key slots are written: the image behind the node becomes a luks image.
 * (10.0's detached `header` is not modelled.)
 */
function luksDriverCreate(p: Proc, o: Opts): void {
  // 10.0 (9.0+): `file` is optional next to a detached `header` (7.2's schema requires file)
  if (o.header === undefined && o.file === undefined) throw new QmpError("Either the parameter 'header' or 'file' must be specified");
  if (o.preallocation !== undefined && o.preallocation !== 'off' && o.file === undefined) {
    throw new QmpError("Parameter 'preallocation' requires 'file' to be specified for formatting LUKS disk");
  }
  if (o.header !== undefined) return luksDetachedCreate(p, o);
  const file = blockdevRef(p, o.file);
  const size = Number(o.size);
  const n = p.node(file)!;
  const bbId = 'bb' + p.nextSeq();
  p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'blockdev-create' }, perm: PERM_W | PERM_Z, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
  attachChild(p, { kind: 'bb', bb: bbId }, file, 'root', 0, { perm: PERM_W | PERM_Z, shared: PERM_ALL });
  const luks = luksCreate(p, o, '');
  p.step(`write luks header through ${file}`);
  // block_crypto_create_init_func → blk_truncate(size + headerlen), through the graph
  coTruncate(p, file, size + luks.payloadOffset);
  const img = imageBehind(p, file);
  if (img) p.d.put(HOST, 'images', img.file, { file: img.file, format: 'luks', size, luks, fileLength: size + luks.payloadOffset });
  releaseCreateBackend(p, file, bbId, 'luks');
}

/**
 * block_crypto_co_create_luks with a detached header (10.0): the header node
 * (bdrv_co_open_blockdev_ref) is formatted by block_crypto_co_create_generic with size 0 and
 * QCRYPTO_BLOCK_CREATE_DETACHED: qcrypto_block_luks_create sets payload_offset_sector to 0 and its
 * init function truncates the header file to the header and key slots (detached_header_size, the
 * payload offset a non-detached header would have). Formatting a payload `file` beside it
 * (block_crypto_co_format_luks_payload) is not modelled.
 */
function luksDetachedCreate(p: Proc, o: Opts): void {
  const hdr = blockdevRef(p, o.header);
  if (o.file !== undefined) throw new QmpError('blockgraph does not model blockdev-create of luks with both a detached header and a file');
  const n = p.node(hdr)!;
  const bbId = 'bb' + p.nextSeq();
  p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'blockdev-create' }, perm: PERM_W | PERM_Z, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
  attachChild(p, { kind: 'bb', bb: bbId }, hdr, 'root', 0, { perm: PERM_W | PERM_Z, shared: PERM_ALL });
  const made = luksCreate(p, o, '');
  const headerSize = made.payloadOffset;
  p.step(`write detached luks header through ${hdr}`);
  coTruncate(p, hdr, headerSize);
  const img = imageBehind(p, hdr);
  if (img) p.d.put(HOST, 'images', img.file, { file: img.file, format: 'luks', size: 0, luks: { ...made, payloadOffset: 0, detached: true }, fileLength: headerSize });
  releaseCreateBackend(p, hdr, bbId, 'luks');
}

/** A .bdrv_co_create that failed part-way: `after` redoes what it had already done on disk. */
class CreateFailed extends QmpError {
  constructor(desc: string, readonly after: (p: Proc) => void) {
    super(desc);
    this.name = 'CreateFailed';
  }
}

/**
 * The blk_co_truncate a .bdrv_co_create runs on its BlockBackend (vdi_co_do_create's static
 * allocation, create_fixed_disk, qed_co_create's truncate to 0, vmdk_init_extent's): over a host
 * file the model knows, the layout written below gives the length; over anything else
 * bdrv_co_truncate follows the graph (graph/truncate.ts coTruncate), where a node that cannot
 * resize (null-co) fails the create and a preallocate filter on the way keeps the errno, which the
 * BlockBackend's release turns into its claim on the file (fuzz --qemu 10.0 2876630500).
 * (nbd_co_truncate is not modelled: an NBD node on the way is left as before.)
 */
function createTruncate(p: Proc, file: string, size: number, prefix = ''): void {
  if (imageBehind(p, file)) return;
  for (let cur: string | undefined = file, i = 0; cur && i < 1000; i++) {
    const d = p.node(cur)?.driver;
    if (d === undefined || d === 'nbd') return;
    cur = p.children({ kind: 'node', node: cur }).find((e) => e.name === 'file' || e.name === 'image')?.child;
  }
  try {
    p.d.atomically(() => coTruncate(p, file, size));
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    const failed = e;
    throw new CreateFailed(prefix + failed.desc, (q) => {
      keepPreallocTruncateFailures(q, failed);
      tryRefresh(q, preallocTruncateFailures(failed).filter((x) => q.node(x)));
    });
  }
}

/**
 * fuzz 3456471345 (7.2 and 10.0 die alike): a create whose `file` is a dynamic vpc node of size 0
 * (a blockdev-create'd vpc of size 0: max_table_entries 0). The creating BlockBackend holds
 * BLK_PERM_RESIZE, so its first write (every format's header at offset 0) passes
 * bdrv_co_write_req_prepare past the node's end; vpc_co_pwritev's get_image_offset finds no table
 * entry (pagetable_index >= max_table_entries) and alloc_block reads s->pagetable[0] past the
 * table: "alloc_block: Assertion `s->pagetable[index] == 0xFFFFFFFF' failed" (block/vpc.c).
 * Refused whole; the fuzzer sends no create over a vpc node (oracle/fuzz/aborts.ts). A larger
 * vpc node is written past its table only by metadata beyond its size: not followed.
 */
function refuseCreateIntoEmptyVpc(p: Proc, ref: unknown): void {
  if (typeof ref !== 'string') return;
  const n = p.node(ref);
  if (n?.driver !== 'vpc' || n.size !== 0) return;
  const f = p.fileChild(n.name)?.child;
  const img = f ? imageBehind(p, f) : undefined;
  if (img?.format === 'vpc' && img.infoCluster === 0) return; // fixed: vpc_co_pwritev writes the file directly
  throw new QemuAbortRefusal(`blockdev-create's header write through vpc node '${n.name}' of size 0 would pass its block table ` +
    "(QEMU 7.2 and 10.0 abort: vpc.c alloc_block: Assertion `s->pagetable[index] == 0xFFFFFFFF' failed); refused by blockgraph", 'alloc_block');
}

/**
 * vmdk_co_do_create opens the backing file by name (blk_co_new_open with no options), two
 * anonymous nodes each taking a name from the counter (id_generate in bdrv_open_common): the
 * protocol node, then the probed format node. A file that does not exist fails the protocol
 * node's open after it took its name (fuzz 797768116).
 */
function vmdkBackingOpenNames(back: Image | undefined): number {
  return back ? 2 : 1;
}

/** Open file descriptions of one host file with their lock bytes, in every process. */
function lockHolders(p: Proc, filename: string): { perm: number; unshared: number }[] {
  const out: { perm: number; unshared: number }[] = [];
  for (const q of [p, ...p.others()]) {
    for (const n of q.nodes()) {
      if (n.driver !== 'file' || n.filename !== filename || !n.lock) continue;
      out.push({ perm: n.lock.perm, unshared: PERM_ALL & ~n.lock.shared });
    }
  }
  return out;
}

/**
 * raw_co_create (file-posix): create the file, take WRITE|RESIZE sharing all but RESIZE
 * (raw_apply_lock_bytes), check nobody holds a conflicting lock (raw_check_lock_bytes), then
 * truncate to 0 and to the size: the catalogue now holds a raw file of that size.
 */
function fileCreate(p: Proc, o: Opts): void {
  const filename = String(o.filename);
  // raw_co_create validates extent-size-hint (default 1 MiB) before it creates the file
  if (o['extent-size-hint'] !== undefined && Number(o['extent-size-hint']) > 0xffffffff) throw new QmpError('Extent size hint is too large');
  // raw_co_create -> qemu_create(O_RDWR | O_CREAT), before the locks: open(2) fails when a
  // directory on the way is missing ("Could not create '%s': No such file or directory")
  if (!hostParentExists(p, filename)) throw new QmpError(`Could not create '${filename}': No such file or directory`);
  rawCreateLocks(p, filename);
  const size = Number(o.size);
  p.step(`create ${filename}`);
  // the file is created through a file descriptor of its own: nodes already open on it keep
  // their length (bdrv_file has no .has_variable_length, so bdrv_getlength never asks fstat again)
  const put = (q: Proc, length: number) => q.d.put(HOST, 'images', filename, { file: filename, format: 'raw', size: length } satisfies Image);
  // raw_regular_truncate to the size with the preallocation asked for: off, falloc and full only
  // ("Unsupported preallocation mode: metadata", iotests 175); the file was created and truncated
  // to 0 before, and the failed truncate restores that length (raw_regular_truncate's out:)
  const prealloc = String(o.preallocation ?? 'off');
  if (!['off', 'falloc', 'full'].includes(prealloc)) {
    throw new CreateFailed(`Unsupported preallocation mode: ${prealloc}`, (q) => put(q, 0));
  }
  put(p, size);
}

/** raw_co_create's raw_apply_lock_bytes + raw_check_lock_bytes (also under bdrv_img_create: drive-backup). */
export function rawCreateLocks(p: Proc, filename: string): void {
  // raw_co_create's qemu_create of a path this daemon's main loop serves through FUSE hangs first
  refuseOwnFuseMount(p, filename, 'raw_co_create');
  const perm = PERM_W | PERM_Z;
  const shared = PERM_ALL & ~PERM_Z;
  const others = lockHolders(p, filename);
  for (let i = 0; i < 4; i++) {
    if (perm & (1 << i) && others.some((x) => x.unshared & (1 << i))) throw new QmpError(`Failed to get "${permNames(1 << i)}" lock`);
  }
  for (let i = 0; i < 4; i++) {
    if (~shared & PERM_ALL & (1 << i) && others.some((x) => x.perm & (1 << i))) throw new QmpError(`Failed to get shared "${permNames(1 << i)}" lock`);
  }
}

/** The nodes bdrv_open_blockdev_ref opened from inline definitions during the running create. */
let inlineRefs: string[] = [];

/**
 * bdrv_open_blockdev_ref: a reference (a name) is looked up (bdrv_lookup_bs, one more
 * reference); an inline definition (a dict) is opened as a root of its own, as blockdev-add
 * opens one but without a monitor reference (bdrv_open(NULL, NULL, qdict, 0)): the driver's
 * .bdrv_co_create writes through it and drops it with bdrv_unref at its end, which closes it
 * (qcow2_co_create, vdi_co_do_create, parallels_co_create, vhdx_co_create, vpc_co_create,
 * vmdk_co_create's extents; iotests 206/211/212/213/237).
 */
function blockdevRef(p: Proc, ref: unknown): string {
  if (ref !== null && typeof ref === 'object' && !Array.isArray(ref)) {
    const n = openRoot(p, ref as Opts);
    inlineRefs.push(n.name);
    return n.name;
  }
  if (typeof ref !== 'string') throw new QmpError('blockgraph does not model blockdev-create with an inline file definition; add the node first');
  if (!p.node(ref)) throw new QmpError(`Cannot find device='${ref}' nor node-name='${ref}'`);
  return ref;
}

/**
 * qcow2_co_create: its option checks in QEMU's order, then a BlockBackend on the file node with
 * WRITE|RESIZE (blk_new_with_bs: permission conflicts fail the job), the header written through
 * it: the image behind the node becomes a qcow2 image of that size in the catalogue.
 */
/**
 * The end of qcow2_co_create's highest write through its file (wr_highest_offset,
 * graph/wr-highest.ts): the header cluster and the refcount table and block (blk_co_pwrite of
 * clusters 0-2), then qcow2_grow_l1_table's bdrv_pwrite_sync of the L1 table's new_l1_size *
 * L1E_SIZE bytes at cluster 3; with preallocation, the L2 tables written whole (l2_allocate), each
 * before the data clusters it maps (preallocate_co: data clusters are allocated, not written), so
 * the last one ends highest.
 */
function qcow2CreateWriteEnd(cs: number, size: number, extendedL2: boolean, prealloc: boolean): number {
  const perL2 = cs / (extendedL2 ? 16 : 8);
  const l1Entries = Math.ceil(size / (cs * perL2));
  const afterL1 = 3 + Math.ceil((l1Entries * 8) / cs);
  const l2Used = Math.ceil(Math.ceil(size / cs) / perL2);
  if (prealloc && l2Used > 0) return (afterL1 + (l2Used - 1) * (1 + perL2) + 1) * cs;
  return 3 * cs + l1Entries * 8;
}

function qcow2Create(p: Proc, o: Opts): void {
  const file = blockdevRef(p, o.file);
  const size = Number(o.size);
  if (size % BDRV_SECTOR_SIZE !== 0) throw new QmpError(`Image size must be a multiple of ${BDRV_SECTOR_SIZE} bytes`);
  const version = o.version === 'v2' ? 2 : 3;
  const cluster = o['cluster-size'] !== undefined ? Number(o['cluster-size']) : 65536;
  const extendedL2 = Boolean(o['extended-l2']);
  if (extendedL2 && version < 3) throw new QmpError('Extended L2 entries are only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  const bits = Math.log2(cluster);
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw new QmpError(`Cluster size must be a power of two between ${1 << MIN_CLUSTER_BITS} and ${1 << (MAX_CLUSTER_BITS - 10)}k`);
  }
  if (extendedL2 && cluster < (1 << MIN_CLUSTER_BITS) * 32) {
    throw new QmpError(`Extended L2 entries are only supported with cluster sizes of at least ${(1 << MIN_CLUSTER_BITS) * 32} bytes`);
  }
  const prealloc = o.preallocation ?? 'off';
  if (o['backing-file'] !== undefined && prealloc !== 'off' && !extendedL2) throw new QmpError('Backing file and preallocation can only be used at the same time if extended_l2 is on');
  if (o['backing-fmt'] !== undefined && o['backing-file'] === undefined) throw new QmpError('Backing format cannot be used without backing file');
  if (version < 3 && o['lazy-refcounts']) throw new QmpError('Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  const refBits = o['refcount-bits'] !== undefined ? Number(o['refcount-bits']) : 16;
  if (refBits > 64 || refBits <= 0 || (refBits & (refBits - 1)) !== 0) throw new QmpError('Refcount width must be a power of two and may not exceed 64 bits');
  if (version < 3 && refBits !== 16) throw new QmpError('Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)');
  // qcow2_co_create's external data file checks, then bdrv_open_blockdev_ref of the data file
  // (iotests 244): data-file-raw needs a data file and no backing file; a data file needs v3
  const dataFileRaw = Boolean(o['data-file-raw']);
  if (dataFileRaw && o['data-file'] === undefined) throw new QmpError('data-file-raw requires data-file');
  if (dataFileRaw && o['backing-file'] !== undefined) throw new QmpError('Backing file and data-file-raw cannot be used at the same time');
  let dataNode: string | undefined;
  if (o['data-file'] !== undefined) {
    if (version < 3) throw new QmpError('External data files are only supported with compatibility level 1.1 and above (use version=v3 or greater)');
    dataNode = blockdevRef(p, o['data-file']);
  }
  if (o.encrypt !== undefined && (o.encrypt as Opts).format !== 'luks') {
    throw new QmpError("blockgraph does not model blockdev-create of qcow2 with encrypt.format 'qcow' (AES)");
  }
  // qcow2_co_create: a compression type other than zlib needs a v3 header (the field and its
  // incompatible bit are v3 only); zstd is built in (CONFIG_ZSTD) on 7.2 and 10.0. Checked before
  // blk_new_with_bs: nothing is written, the file keeps what it had (fuzz 3698382632)
  if (o['compression-type'] !== undefined && o['compression-type'] !== 'zlib' && version < 3) {
    throw new QmpError('Non-zlib compression type is only supported with compatibility level 1.1 and above (use version=v3 or greater)');
  }
  // blk_new_with_bs(bs, BLK_PERM_WRITE | BLK_PERM_RESIZE, BLK_PERM_ALL)
  const n = p.node(file)!;
  const bbId = 'bb' + p.nextSeq();
  p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'blockdev-create' }, perm: PERM_W | PERM_Z, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
  attachChild(p, { kind: 'bb', bb: bbId }, file, 'root', 0, { perm: PERM_W | PERM_Z, shared: PERM_ALL });
  // 10.0: on a node a blockdev-reopen left drained (or above one), the BlockBackend's first write
  // waits in blk_wait_while_drained for ever: the job never ends, job-cancel cannot wake it, and
  // the daemon hangs when it quits (bdrv_close_all). Refused, never generated (oracle/fuzz/aborts.ts).
  // Only once the BlockBackend exists: a permission conflict of blk_co_new_with_bs fails the job
  // before any write (fuzz 1736587111: the file node of a copy-on-read filter)
  const drainedAt = leakedDrainBelow(p, file);
  if (drainedAt !== undefined) {
    throw new QemuAbortRefusal(`Node '${drainedAt}' was left drained by a blockdev-reopen that queued it twice: ` +
      `blockdev-create's writes through '${file}' would wait for ever (QEMU 10.0 hangs: blk_wait_while_drained in qcow2_co_create); refused by blockgraph`, 'blk_wait_while_drained');
  }
  p.step(`write qcow2 header through ${file}`);
  const img = imageBehind(p, file);
  // qcow2_co_create's writes through `file`, in order: the header cluster, the refcount table and
  // block (clusters 1-2), then blk_co_truncate's qcow2_grow_l1_table writes the L1 table at cluster
  // 3. A raw `size` window refuses a write ending past it (raw_adjust_offset: -ENOSPC).
  const room = writeRoom(p, file);
  const l1End = qcow2FileSize({ file: '', format: 'qcow2', size, clusterSize: cluster });
  const resize = qcow2CreateResizeError(size, cluster);
  const failed = cluster > room ? 'Could not write qcow2 header: No space left on device'
    : 3 * cluster > room ? 'Could not write refcount table: No space left on device'
      : resize ? `Could not resize image: ${resize}`
        : l1End > room ? 'Could not resize image: Failed to grow the L1 table: No space left on device' : undefined;
  // after the header and refcount writes, blk_co_unref drops the creating BlockBackend and
  // blk_co_new_open(driver=qcow2, file=<the node>, BDRV_O_RDWR) opens the new image over the node:
  // its file child (a writable qcow2's, bdrv_default_perms_for_storage) must fit the node's other
  // parents, or the job fails there, before blk_co_truncate gives the image its size
  const openConflict = 3 * cluster <= room ? newQcow2OpenConflict(p, file, bbId) : undefined;
  // what is on disk stays after a failure past the header: a qcow2 image of size 0 (the header's
  // size, before blk_co_truncate)
  const partialImage = (): Image | undefined => {
    if (!img || cluster > room) return undefined;
    const partial: Image = {
      file: img.file, format: 'qcow2', size: 0,
      ...(cluster !== 65536 ? { clusterSize: cluster } : {}), ...(version === 2 ? { compat: '0.10' } : {}),
    };
    if (hostFileLength(img) > qcow2FileSize(partial)) partial.fileLength = hostFileLength(img);
    return partial;
  };
  const partial = partialImage();
  // the header and refcount writes extend the file node they went through as on success
  // (bdrv_co_write_req_finish), so a node opened over it later reads the partial image (fuzz
  // --qemu 10.0 3647510610: a failed resize leaves a qcow2 image of size 0 that opens)
  const partialEnd = 3 * cluster <= room ? 3 * cluster : cluster;
  if (openConflict !== undefined && partial) {
    // the failed open had named its qcow2 node (bdrv_open_common's bdrv_assign_node_name) first
    throw new CreateFailed(openConflict, (q) => {
      q.d.put(HOST, 'images', partial.file, partial);
      growWrittenNodes(q, file, partialEnd);
      consumeAutoNames(q, 1);
    });
  }
  // blk_co_new_open's qcow2_do_open reads the header back through the node: where the writes went
  // into a null-co / null-aio node nothing was kept (graph/images.ts bytesBehind), and the open
  // fails as blockdev-add's does (graph/open.ts), its node named first (fuzz 1742388600); the
  // header and refcount writes grew the nodes they passed (a 64 KiB null-co node is 192 KiB long)
  const sink = 3 * cluster <= room ? bytesBehind(p, file) : undefined;
  if (sink && 'null' in sink) {
    throw new CreateFailed('Image is not in qcow2 format', (q) => {
      growWrittenNodes(q, file, partialEnd);
      consumeAutoNames(q, 1);
    });
  }
  if (failed) {
    // the L1 or resize stage had opened the new image once (blk_new_open)
    const opens = (resize || l1End > room) && 3 * cluster <= room ? 1 : 0;
    throw new CreateFailed(failed, (q) => {
      if (partial) {
        q.d.put(HOST, 'images', partial.file, partial);
        growWrittenNodes(q, file, partialEnd);
      }
      consumeAutoNames(q, opens);
    });
  }
  // a qcow2 format node as `file`: the writes go into its guest data (graph/guest-image.ts
  // createGuestHome), where a qcow2 node opened over it later reads the new image (graph/read.ts);
  // only where the new image's metadata fits in the node (a write past its end would grow it,
  // bdrv_co_write_req_finish, and allocate in its image: not modelled), and not encrypted
  const home = img ? undefined : createGuestHome(p, file);
  if (!img && home && o.encrypt === undefined && prealloc === 'off') {
    const next: Image = { file: home.file, format: 'qcow2', size };
    if (cluster !== 65536) next.clusterSize = cluster;
    if (version === 2) next.compat = '0.10';
    if (refBits !== 16) next.refcountBits = refBits;
    if (o['backing-file'] !== undefined) {
      next.backing = String(o['backing-file']);
      next.backingFormat = o['backing-fmt'] !== undefined ? backingFormatField(String(o['backing-fmt'])) : undefined;
      if (next.backingFormat === undefined) delete next.backingFormat;
    }
    if (qcow2FileSize(next) <= Math.ceil(n.size / 512) * 512) p.d.put(HOST, 'images', home.file, { ...home, guest: next });
  }
  if (img) {
    const next: Image = { file: img.file, format: 'qcow2', size };
    if (cluster !== 65536) next.clusterSize = cluster;
    if (version === 2) next.compat = '0.10';
    if (refBits !== 16) next.refcountBits = refBits;
    // header facts query replies read (Image.features: qcow2_co_create's lazy refcounts, extended L2, compression type)
    const features: NonNullable<Image['features']> = {
      ...(o['lazy-refcounts'] ? { lazyRefcounts: true as const } : {}), ...(extendedL2 ? { extendedL2: true as const } : {}),
      ...(o['compression-type'] !== undefined && o['compression-type'] !== 'zlib' ? { compressionType: String(o['compression-type']) } : {}),
    };
    if (Object.keys(features).length) next.features = features;
    if (dataNode !== undefined) {
      // qcow2_co_create: s->image_data_file = data_bs->filename (the header's data file name,
      // QCOW2_INCOMPAT_DATA_FILE), QCOW2_AUTOCLEAR_DATA_FILE_RAW for data-file-raw; blk_co_truncate
      // forwards the size to the data file, which only grows (bdrv_co_truncate with exact=false:
      // raw_co_truncate; preallocate_co for the metadata preallocation data-file-raw enforces)
      next.dataFile = p.node(dataNode)!.filename;
      if (dataFileRaw) next.dataFileRaw = true;
      const dataImg = imageBehind(p, dataNode);
      if (dataImg && dataImg.size < size) {
        p.d.put(HOST, 'images', dataImg.file, { ...dataImg, size });
        growWrittenNodes(p, dataNode, size);
      }
    }
    if (o['backing-file'] !== undefined) {
      next.backing = String(o['backing-file']);
      // qcow2_co_create -> bdrv_change_backing_file: the name as bs->backing_format keeps it (15 characters)
      next.backingFormat = o['backing-fmt'] !== undefined ? backingFormatField(String(o['backing-fmt'])) : undefined;
      if (next.backingFormat === undefined) delete next.backingFormat;
    }
    // qcow2_co_create writes the header, refcount table and L1 table from offset 0 and truncates
    // nothing below them: a longer file (a 16M raw image) keeps its length on disk, which a file
    // node opened on it later reads (raw_getlength) — e.g. to compare with a backup source's
    const before = hostFileLength(img);
    if (before > qcow2FileSize(next)) next.fileLength = before;
    // blk_co_truncate with a preallocation: qcow2_co_truncate's preallocate_co (metadata) or
    // qcow2_refcount_area and the data clusters after it (falloc, full) lengthen the file
    // (graph/qcow2-prealloc.ts; fuzz 742733146); over a plain file node only
    const preallocLength = prealloc !== 'off' && n.driver === 'file'
      ? qcow2PreallocFileLength({ clusterSize: cluster, size, refcountBits: refBits, extendedL2 }, prealloc as Qcow2Prealloc) : undefined;
    if (preallocLength !== undefined && preallocLength > hostFileLength(next)) next.fileLength = preallocLength;
    p.d.put(HOST, 'images', img.file, next);
    growWrittenNodes(p, file, Math.max(qcow2FileSize(next), preallocLength ?? 0));
    noteWritePath(p, file, 0, qcow2CreateWriteEnd(cluster, size, extendedL2, preallocLength !== undefined));
    // qcow2_set_up_encryption, after the truncate and the backing file: on the image opened once
    // (blk_new_open); a failure leaves the unencrypted image of its size on disk
    if (o.encrypt !== undefined) {
      let luks: Image['luks'];
      try {
        luks = luksCreate(p, o.encrypt as Opts, 'encrypt.');
      } catch (e) {
        if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
        throw new CreateFailed(e.desc, (q) => {
          q.d.put(HOST, 'images', next.file, next);
          growWrittenNodes(q, file, qcow2FileSize(next));
          consumeAutoNames(q, 1);
        });
      }
      // qcow2_crypto_hdr_init_func: the LUKS header in clusters of the image (hostFileLength)
      const enc: Image = { ...next, luks };
      p.d.put(HOST, 'images', img.file, enc);
      growWrittenNodes(p, file, hostFileLength(enc));
    }
  }
  releaseCreateBackend(p, file, bbId, 'qcow2');
}

const INT64_MAX = 2n ** 63n - 1n;
// BDRV_MAX_LENGTH: QEMU_ALIGN_DOWN(INT64_MAX, BDRV_MAX_ALIGNMENT = 1 GiB)
const BDRV_MAX_LENGTH = INT64_MAX - (INT64_MAX % 2n ** 30n);
// QCOW_MAX_L1_SIZE (block/qcow2.h): 32 MiB of 8-byte L1 entries
const QCOW_MAX_L1_ENTRIES = (32 * 1024 * 1024) / 8;

/**
 * qcow2_co_create's last step, blk_co_truncate of the new image (opened over the header it wrote)
 * to the size asked: bdrv_co_truncate refuses a size that is negative as int64_t (2^63 and up)
 * and one past BDRV_MAX_LENGTH (bdrv_check_request); qcow2_co_truncate's qcow2_grow_l1_table
 * then -EFBIG past QCOW_MAX_L1_SIZE of L1 entries (each maps cluster * cluster / 8 bytes), e.g.
 * 256 TiB of 512-byte clusters (iotests 206). The header stays, of size 0.
 */
function qcow2CreateResizeError(size: number, cluster: number): string | undefined {
  const big = BigInt(size);
  if (big > INT64_MAX) return 'Image size cannot be negative';
  if (big > BDRV_MAX_LENGTH) return `offset(${big}) exceeds maximum(${BDRV_MAX_LENGTH})`;
  const l1Entries = Math.ceil(size / ((cluster * cluster) / 8));
  if (l1Entries > QCOW_MAX_L1_ENTRIES) return 'Failed to grow the L1 table: File too large';
  return undefined;
}

/**
 * qcow2_co_create's blk_co_new_open of the new image over `file`, once the creating BlockBackend
 * (`bbId`) is gone: the qcow2 node's file child takes what bdrv_default_perms gives a writable
 * node's BDRV_CHILD_IMAGE child with no parent of its own (consistent-read, write, resize; shares
 * neither write nor resize); bdrv_attach_child_common refuses it when it does not fit the node's
 * other parents (bdrv_parent_perms_conflict). The conflict's text, or undefined.
 */
function newQcow2OpenConflict(p: Proc, file: string, bbId: string): string | undefined {
  const others = p.parents(file).filter((e) => !(e.parent.kind === 'bb' && e.parent.bb === bbId));
  const fileNode = p.node(file)!;
  const fake: Edge = { id: 'new-qcow2-file', parent: { kind: 'node', node: '#new-qcow2' }, name: 'file', child: file, role: ROLE_IMAGE, perm: 0, shared: PERM_ALL, frozen: false, at: Number.MAX_SAFE_INTEGER };
  const { perm, shared } = defaultPerms({
    node: { ...fileNode, name: '#new-qcow2', driver: 'qcow2', ro: false, inactive: false }, edge: fake, perm: 0, shared: PERM_ALL, writableAfter: true,
  });
  try {
    checkParentConflicts(p, file, [...others, { ...fake, perm, shared }]);
    return undefined;
  } catch (e) {
    if (e instanceof QmpError) return e.message;
    throw e;
  }
}

/**
 * The end of a .bdrv_co_create that wrote through a BlockBackend on the file node: blk_unref
 * (the node may leave its iothread), then the driver's opens of the new image over it
 * (qcow2_co_create's blk_new_open; qed opens none: graph/id-counter.ts).
 */
function releaseCreateBackend(p: Proc, file: string, bbId: string, driver: string): void {
  p.step('release blockdev-create BlockBackend');
  const ctxBefore = p.node(file)?.aio;
  removeBlockBackend(p, bbId);
  // Both happen in the job's main-loop coroutine, which holds no iothread's AioContext lock, so
  // 7.2 aborts in bdrv_set_aio_context_commit (qemu_mutex_unlock_impl) when the file node leaves
  // its iothread (fuzz seed 2167532356, a file node moved with x-blockdev-set-iothread; the same
  // lock rule as oracle crash 5 in graph/aio.ts). 10.0 has no such lock and carries it out.
  // blk_unref: bdrv_detach_child moves a node no parent keeps in its iothread back to the main loop
  if (rule(p, 'aio-context-lock-aborts') && ctxBefore !== undefined && ctxBefore !== MAIN_CONTEXT && p.node(file)?.aio === MAIN_CONTEXT) {
    throw new QemuAbortRefusal(
      `Node '${file}' is in iothread '${ctxBefore}': blockdev-create's BlockBackend on it is released from the main loop, ` +
      'which moves the node back there without its lock held (QEMU 7.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted); ' +
      'refused by blockgraph: move it back to the main loop first', 'bdrv_set_aio_context_commit');
  }
  // then blk_new_open(file=<the node>) opens the new image over it (bdrv_attach_child_common)
  const why = driver !== 'qcow2' ? undefined : refuseCrossContextReference(p, file, 'file', 'qcow2');
  if (why) throw new QemuAbortRefusal(why, 'bdrv_set_aio_context_commit');
  // qcow2_co_create opens the new image twice (blk_new_open): two #block names (graph/id-counter.ts)
  consumeAutoNames(p, creationOpens(driver, 'blockdev-create'));
}


/**
 * bdrv_qed_co_create: its option checks (before the file is looked up), then a BlockBackend on
 * the file node with WRITE|RESIZE, blk_co_truncate to 0 (QED ties allocation to the file's
 * length) and the header and L1 table written: the image behind the node becomes a qed image.
 */
function qedCreate(p: Proc, o: Opts): void {
  const cluster = o['cluster-size'] !== undefined ? Number(o['cluster-size']) : QED_DEFAULT_CLUSTER_SIZE;
  const table = o['table-size'] !== undefined ? Number(o['table-size']) : QED_DEFAULT_TABLE_SIZE;
  const size = Number(o.size);
  if (!qedIsClusterSizeValid(cluster)) throw new QmpError('QED cluster size must be within range [4096, 67108864] and power of 2');
  if (!qedIsTableSizeValid(table)) throw new QmpError('QED table size must be within range [1, 16] and power of 2');
  if (!qedIsImageSizeValid(size, cluster, table)) {
    throw new QmpError(`QED image size must be a non-zero multiple of cluster size and less than ${qedMaxImageSize(cluster, table)} bytes`);
  }
  const file = blockdevRef(p, o.file);
  const n = p.node(file)!;
  const bbId = 'bb' + p.nextSeq();
  p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'blockdev-create' }, perm: PERM_W | PERM_Z, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
  attachChild(p, { kind: 'bb', bb: bbId }, file, 'root', 0, { perm: PERM_W | PERM_Z, shared: PERM_ALL });
  // qed_co_create: "a new file (which is empty) must have a length of 0"
  createTruncate(p, file, 0);
  p.step(`write qed header through ${file}`);
  const img = imageBehind(p, file);
  if (img) {
    const next: Image = { file: img.file, format: 'qed', size };
    if (cluster !== QED_DEFAULT_CLUSTER_SIZE) next.clusterSize = cluster;
    if (table !== QED_DEFAULT_TABLE_SIZE) next.tableSize = table;
    if (o['backing-file'] !== undefined) {
      next.backing = String(o['backing-file']);
      if (o['backing-fmt'] === 'raw') next.backingFormat = 'raw';
    }
    p.d.put(HOST, 'images', img.file, next);
    growWrittenNodes(p, file, qedFileSize(next));
  }
  releaseCreateBackend(p, file, bbId, 'qed');
}

/**
 * vmdk_co_do_create -> vmdk_co_create_cb for a flat or split subformat: the data extents are the
 * `extents` nodes, one per 2 GiB (split_size) or one (flat), each given vmdk_init_extent (a flat
 * one truncated to its size, a sparse one its header and grain tables) and named in the
 * descriptor by the basename of its node's file name (vmdk_desc_add_extent: g_path_get_basename),
 * which vmdk_parse_extents opens again relative to the descriptor (graph/open.ts openVmdkExtents).
 * Extent 0, the descriptor's own file, was given vmdk_init_extent(0) before (vmdkExtentZero): a
 * failure on the way (a missing entry, "Extent [%d] not specified"; a node that is not there;
 * unused entries) leaves it so, and the data extents written before it, without a descriptor.
 * A monolithic subformat has no data extent, but the excess check still opens `extents[0]`.
 */
function vmdkCreateExtents(p: Proc, o: Opts, size: number, desc: Image, file: string): void {
  const sub = String(o.subformat ?? 'monolithicSparse');
  const split = sub.startsWith('twoGbMaxExtent'), flat = sub.endsWith('Flat');
  if (!Array.isArray(o.extents)) return;
  if (!(split || flat)) {
    // the monolithic extent (header and grain tables) is on disk, its embedded descriptor not
    if (o.extents.length > 0 && excessExtentOpens(p, o.extents[0])) {
      const written: Image = { file: desc.file, format: 'vmdk', size: desc.size, ...(desc.fileLength !== undefined ? { fileLength: desc.fileLength } : {}), brokenDescriptor: true };
      throw new CreateFailed('List of extents contains unused extents', (q) => putCreateWrite(q, file, written));
    }
    return;
  }
  const count = split ? Math.ceil(size / 0x80000000) : 1;
  const extents: NonNullable<Image['extents']> = [];
  const writes: { node: string; image: Image }[] = [{ node: file, image: vmdkExtentZero(desc.file, flat) }];
  const failed = (why: string) => new CreateFailed(why, (q) => { for (const w of writes) putCreateWrite(q, w.node, w.image); });
  for (let i = 0, done = 0; i < count; i++) {
    const cur = split ? Math.min(size - done, 0x80000000) : size;
    // vmdk_co_create_cb(idx = i + 1): the list's entry i, or "Extent [i] not specified"
    if (i >= o.extents.length) throw failed(`Extent [${i}] not specified`);
    let node: string;
    try {
      node = p.d.atomically(() => blockdevRef(p, o.extents[i]));
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      throw failed(e.desc);
    }
    const name = String(p.node(node)?.filename ?? '').replace(/\/+$/, '');
    const base = name.slice(name.lastIndexOf('/') + 1);
    extents.push(flat ? { file: base } : { file: base, sparse: true });
    const old = imageBehind(p, node);
    if (old) {
      const len = flat ? undefined : otherFormatFileLength('vmdk', cur);
      const w: Image = flat
        ? (old.format === 'raw' ? { ...old, size: cur } : { file: old.file, format: 'raw', size: cur, bytesUnknown: true })
        : { file: old.file, format: 'vmdk', size: cur, ...(len !== undefined ? { fileLength: len } : {}) };
      p.d.put(HOST, 'images', old.file, w);
      growWrittenNodes(p, node, hostFileLength(w));
      writes.push({ node, image: w });
    }
    done += cur;
  }
  // vmdk_co_do_create's "Check whether we got excess extents": vmdk_co_create_cb(-1, idx) opens
  // the entry after the last one used (with a NULL errp: one that does not open is no excess);
  // the extents are written by then, the descriptor not yet (iotests 237: 512 bytes, 3 extents)
  if (o.extents.length > count && excessExtentOpens(p, o.extents[count])) throw failed('List of extents contains unused extents');
  desc.extents = extents;
}

/**
 * What vmdk_init_extent(blk, 0, flat) leaves in the descriptor's file of a flat or split
 * subformat: a flat extent truncated to 0 (blk_co_truncate: the old bytes gone), or a sparse
 * header of capacity 0 whose embedded descriptor (sector 1) is never written.
 */
function vmdkExtentZero(file: string, flat: boolean): Image {
  return flat ? { file, format: 'raw', size: 0 }
    : { file, format: 'vmdk', size: 0, fileLength: otherFormatFileLength('vmdk', 0), openError: 'invalid VMDK image descriptor' };
}

/**
 * A write a failed create leaves on disk: the image behind `node`, whose length the node takes
 * (a truncate through it, refresh_total_sectors; a longer write, bdrv_co_write_req_finish).
 */
function putCreateWrite(q: Proc, node: string, image: Image): void {
  const before = q.image(image.file);
  q.d.put(HOST, 'images', image.file, image);
  const n = q.node(node);
  if (!n) return;
  const len = hostFileLength(image);
  if (n.driver === 'file' && before && hostFileLength(before) > len) q.patchNode(node, { size: len });
  else growWrittenNodes(q, node, len);
}

/** vmdk_co_create_cb's bdrv_open_blockdev_ref of an excess entry, its error dropped (errp NULL). */
function excessExtentOpens(p: Proc, ref: unknown): boolean {
  if (typeof ref === 'string') return p.node(ref) !== undefined;
  try {
    p.d.atomically(() => blockdevRef(p, ref));
    return true;
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    return false;
  }
}

// (uint64_t)VDI_BLOCKS_IN_IMAGE_MAX * DEFAULT_CLUSTER_SIZE (graph/other-formats.ts; it was 16 times too small here)
const VDI_DISK_SIZE_MAX = Number(VDI_DISK_SIZE_MAX_BIG);
const MAX_PARALLELS_IMAGE_FACTOR = 2 ** 32;
const VHD_MAX_SECTORS = 0xff000000;
const VHDX_MAX_IMAGE_SIZE = 64 * 1024 ** 4; // 64 TiB
const VHDX_BLOCK_SIZE_MAX = 256 * 1024 * 1024;
const VHD_MAX_GEOMETRY = 65535 * 16 * 255;

/**
 * The other formats' .bdrv_co_create (block/vdi.c vdi_co_do_create, vpc.c vpc_co_create,
 * parallels.c parallels_co_create, qcow.c qcow_co_create, vmdk.c vmdk_co_create), 7.2 and 10.0
 * alike: each driver's option checks in its order, then bdrv_open_blockdev_ref and a BlockBackend
 * on the file node with WRITE|RESIZE (blk_new_with_bs), the header written through it: the image
 * behind the node becomes one of that format (its virtual size as the driver's open reports it).
 * None opens the new image again (no blk_new_open over the node, unlike qcow2_co_create).
 */
function otherCreate(p: Proc, driver: string, o: Opts): void {
  const size = Number(o.size);
  const sectorsSize = Math.ceil(size / BDRV_SECTOR_SIZE) * BDRV_SECTOR_SIZE;
  if (driver === 'vdi') {
    // vdi_co_do_create: only dynamic images, 1 MiB blocks, and at most VDI_DISK_SIZE_MAX
    if (o.preallocation !== undefined && o.preallocation !== 'off' && o.preallocation !== 'metadata') throw new QmpError('Preallocation mode not supported for vdi');
    // (metadata: a static image; CONFIG_VDI_STATIC_IMAGE is defined in block/vdi.c, so the
    // "cannot be created in this build" refusal is compiled out on 7.2 and 10.0: fuzz 3135187993)
    if (size > VDI_DISK_SIZE_MAX) {
      throw new QmpError(`Unsupported VDI image size (size is 0x${size.toString(16)}, max supported is 0x${VDI_DISK_SIZE_MAX.toString(16)})`);
    }
  } else if (driver === 'parallels') {
    // parallels_co_create: the cluster size (1 MiB unless given) and the size against it
    const cl = o['cluster-size'] !== undefined ? Number(o['cluster-size']) : 1024 * 1024;
    // INT64_MAX / MAX_PARALLELS_IMAGE_FACTOR in integer arithmetic: 2^31 - 1
    if (cl >= Math.floor((2 ** 63 - 1) / MAX_PARALLELS_IMAGE_FACTOR)) throw new QmpError('Cluster size is too large');
    if (size >= MAX_PARALLELS_IMAGE_FACTOR * cl) throw new QmpError('Image size is too large for this cluster size');
    if (size % BDRV_SECTOR_SIZE !== 0) throw new QmpError('Image size must be a multiple of 512 bytes');
    if (cl % BDRV_SECTOR_SIZE !== 0) throw new QmpError('Cluster size must be a multiple of 512 bytes');
  } else if (driver === 'vhdx') {
    // vhdx_co_create: the size, the log size (default 1 MiB), then the block size (default by image
    // size: 8, 16, 32 or 64 MiB), each before the file node is opened
    const MiB = 1024 * 1024;
    if (size > VHDX_MAX_IMAGE_SIZE) throw new QmpError('Image size too large; max of 64TB');
    if (o['log-size'] !== undefined && Number(o['log-size']) > 0xffffffff) throw new QmpError('Log size must be smaller than 4 GB');
    const log = o['log-size'] !== undefined ? Number(o['log-size']) : MiB;
    if (log < MiB || log % MiB !== 0) throw new QmpError('Log size must be a multiple of 1 MB');
    // (block_size is a uint32_t: QAPI's uint64 is truncated to 32 bits)
    const block = o['block-size'] !== undefined ? Number(BigInt(o['block-size']) & 0xffffffffn) : otherFormatInfoCluster('vhdx', size)!;
    if (block < MiB || block % MiB !== 0) throw new QmpError('Block size must be a multiple of 1 MB');
    if ((block & (block - 1)) !== 0) throw new QmpError('Block size must be a power of two');
    if (block > VHDX_BLOCK_SIZE_MAX) throw new QmpError(`Block size must not exceed ${VHDX_BLOCK_SIZE_MAX}`);
  } else if (driver === 'qcow') {
    if (size === 0) throw new QmpError('Image size is too small, cannot be zero length');
    // qcow_co_create: only the legacy "qcow" (AES) encryption, refused before the file is opened
    if (o.encrypt !== undefined && (o.encrypt as Opts).format !== 'qcow') throw new QmpError('Unsupported encryption format');
  } else if (driver === 'vmdk') {
    // vmdk_co_create validates the size before vmdk_co_do_create opens anything; then
    // vmdk_co_do_create's flat checks, also before the descriptor file is opened
    if (size % BDRV_SECTOR_SIZE !== 0) throw new QmpError('Image size must be a multiple of 512 bytes');
    const flat = /Flat$/.test(String(o.subformat ?? ''));
    if (flat && o['backing-file'] !== undefined) throw new QmpError("Flat image can't have backing file");
    if (flat && o['zeroed-grain'] === true) throw new QmpError("Flat image can't enable zeroed grain");
  }
  const file = blockdevRef(p, o.file);
  const n = p.node(file)!;
  const bbId = 'bb' + p.nextSeq();
  p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'blockdev-create' }, perm: PERM_W | PERM_Z, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
  try {
    attachChild(p, { kind: 'bb', bb: bbId }, file, 'root', 0, { perm: PERM_W | PERM_Z, shared: PERM_ALL });
  } catch (e) {
    // vmdk_co_create_cb (7.2 and 10.0): bdrv_open_blockdev_ref took a reference on the file
    // node, and when blk_new_with_bs refuses it (a permission or lock conflict) the callback
    // returns NULL without bdrv_unref: the node keeps that reference for good, so it outlives
    // every parent it had (fuzz 621901071: blockdev-del of the qcow2 node over it leaves it).
    // (An inline file dict would leak a node of its own, anonymous: not modelled.)
    if (driver === 'vmdk' && typeof o.file === 'string' && e instanceof QmpError && !(e instanceof QemuAbortRefusal)) {
      throw new CreateFailed(e.desc, (q) => addRef(q, file));
    }
    throw e;
  }
  if (driver === 'vpc' && o['force-size'] !== true) {
    // vpc_co_create -> calculate_rounded_size: past the largest CHS geometry at most 2040 GiB
    // (VHD_MAX_SECTORS), below it only a size some geometry gives exactly; either fails before
    // anything is written (the file keeps its bytes)
    // (total_size / BDRV_SECTOR_SIZE rounds down)
    const sectors = Math.floor(size / BDRV_SECTOR_SIZE);
    if (sectors > VHD_MAX_GEOMETRY && sectors > VHD_MAX_SECTORS) {
      throw new QmpError('Disk size is too large, max size is 2040 GiB');
    }
    // vpc_co_create compares total_size itself with total_sectors * BDRV_SECTOR_SIZE: a size that
    // is no multiple of 512 never matches
    if (size % BDRV_SECTOR_SIZE !== 0 || otherFormatVirtualSize('vpc', size) !== sectorsSize) throw new QmpError('The requested image size cannot be represented in CHS geometry');
  } else if (driver === 'vpc') {
    // force-size: calculate_rounded_size takes the largest CHS geometry, so total_sectors is
    // total_size / BDRV_SECTOR_SIZE, and past VHD_MAX_SECTORS (2040 GiB) it fails with -EFBIG
    // before anything is written (the file stays as it was: an empty one is then "File too
    // small for a VHD header" to vpc_open; fuzz 1980328814)
    if (Math.floor(size / BDRV_SECTOR_SIZE) > VHD_MAX_SECTORS) throw new QmpError('Disk size is too large, max size is 2040 GiB');
    // then vpc_co_create's `total_size != total_sectors * BDRV_SECTOR_SIZE`, force-size or not:
    // a size that is no multiple of 512 fails before anything is written (fuzz --qemu 10.0 1586296378)
    if (size % BDRV_SECTOR_SIZE !== 0) throw new QmpError('The requested image size cannot be represented in CHS geometry');
  }
  // the drivers' own truncates, before anything else they write could fail (vdi's static
  // allocation comes after its header and block map, which a null-co node takes)
  const sub0 = String(o.subformat ?? (driver === 'vmdk' ? 'monolithicSparse' : 'dynamic'));
  if (driver === 'vdi' && o.preallocation === 'metadata') createTruncate(p, file, otherFormatFileLength('vdi', size, 'preallocation=metadata') ?? size, 'Failed to statically allocate file');
  if (driver === 'vpc' && sub0 === 'fixed') createTruncate(p, file, size + 512);
  if (driver === 'vmdk' && (sub0 === 'monolithicSparse' || sub0 === 'streamOptimized')) createTruncate(p, file, otherFormatFileLength('vmdk', size) ?? size);
  const img = imageBehind(p, file);
  if (driver === 'vmdk') {
    const sub = String(o.subformat ?? 'monolithicSparse');
    const split = sub.startsWith('twoGbMaxExtent'); const flat = sub.endsWith('Flat');
    // vmdk_co_do_create: the descriptor file is extent 0, given vmdk_init_extent(created_size):
    // the whole size for a monolithic sparse or stream-optimized image, 0 for split and flat
    // ones (a flat extent truncated to 0, a sparse header of capacity 0), whose data extents
    // come from `extents` (vmdk_co_create_cb: "Extent [%d] not specified" when missing)
    if ((split || flat) && !(Array.isArray(o.extents) && o.extents.length)) {
      if (size === 0) {
        // no extent at all, the descriptor lists none: vmdk_get_info asserts s->num_extents when
        // the image is opened (oracle/fuzz/aborts.ts avoids the create)
        removeBlockBackend(p, bbId);
        throw new QmpError(`blockgraph does not model a ${sub} vmdk without extents (QEMU dies opening it: vmdk_get_info)`);
      }
      if (flat) {
        // vmdk_init_extent(blk, 0, flat): the descriptor's file truncated to 0, then extent 1
        // is missing (vmdk_co_create_cb: "Extent [0] not specified")
        const written = img && hostFileLength(img) !== 0 ? vmdkExtentZero(img.file, true) : undefined;
        throw new CreateFailed('Extent [0] not specified', (q) => { if (written) putCreateWrite(q, file, written); });
      }
      // the sparse header of capacity 0 is written, then extent 1 is missing: vmdk_open_vmdk4
      // reads the embedded descriptor at sector 1, never written (vmdk_open_desc_file)
      // (a backing file is opened between the two: its refusal comes first)
      const back = o['backing-file'] !== undefined && img ? backingImage(p.d, img.file, String(o['backing-file'])) : undefined;
      if (o['backing-file'] !== undefined && img) consumeAutoNames(p, vmdkBackingOpenNames(back));
      const why = o['backing-file'] === undefined || back?.format === 'vmdk' ? 'Extent [0] not specified'
        : back ? `Invalid backing file format: ${back.format}. Must be vmdk` : 'Could not open backing file';
      // (the header and tables of capacity 0 take the file's first grain: otherFormatFileLength)
      const written: Image | undefined = img && { file: img.file, format: 'vmdk', size: 0, fileLength: otherFormatFileLength('vmdk', 0), openError: 'invalid VMDK image descriptor' };
      throw new CreateFailed(why,
        (q) => { if (written) { q.d.put(HOST, 'images', written.file, written); growWrittenNodes(q, file, hostFileLength(written)); } });
    }
    if (o['backing-file'] !== undefined) {
      // the monolithic extent (header and grain tables) is written first, then the backing opened
      // (blk_new_open) and refused unless it is vmdk: the file is left with a sparse header and
      // no descriptor, which vmdk_open fails with -EINVAL ("Could not open '…': Invalid argument")
      const back = img ? backingImage(p.d, img.file, String(o['backing-file'])) : undefined;
      if (img) consumeAutoNames(p, vmdkBackingOpenNames(back));
      if (back?.format !== 'vmdk') {
        // (a header of capacity 0 sends vmdk_open_vmdk4 to the embedded descriptor instead, never
        // written: "invalid VMDK image descriptor", as for the split subformats above; fuzz
        // --qemu 10.0 2143257050)
        const written: Image | undefined = img && (size === 0
          ? { file: img.file, format: 'vmdk', size: 0, fileLength: otherFormatFileLength('vmdk', 0), openError: 'invalid VMDK image descriptor' }
          // the extent's header and tables are on disk (vmdk_init_extent), its length qemu-img's
          : { file: img.file, format: 'vmdk', size: otherFormatVirtualSize('vmdk', size), fileLength: otherFormatFileLength('vmdk', size), brokenDescriptor: true });
        throw new CreateFailed(back ? `Invalid backing file format: ${back.format}. Must be vmdk` : 'Could not open backing file',
          (q) => { if (written) { q.d.put(HOST, 'images', written.file, written); growWrittenNodes(q, file, hostFileLength(written)); } });
      }
    }
  }
  p.step(`write ${driver} header through ${file}`);
  if (img) {
    // the header holds `size` as given (qemu-img's is whole sectors already); qcow_open takes
    // bs->total_sectors = header.size / 512, rounded down, vdi_open rounds an odd disk_size up
    // (fuzz --qemu 10.0 3155884801: a qcow of 1000 bytes is 512 long; vhdx_open rounds down
    // too, but blockdev-create of vhdx is not modelled)
    // vpc_co_create with force-size writes creator_app "qem2", which vpc_open takes at the
    // footer's current_size (use_chs false): the size as given, no CHS rounding
    const opened = driver === 'qcow' || (driver === 'vpc' && o['force-size'] === true) ? Math.floor(size / BDRV_SECTOR_SIZE) * BDRV_SECTOR_SIZE : otherFormatVirtualSize(driver, size);
    const next: Image = { file: img.file, format: driver, size: opened };
    // vmdk_open_vmdk4: a header of capacity 0 sends it to the embedded descriptor, whose
    // createType (monolithicSparse, streamOptimized) vmdk_open_desc_file does not take
    // the file holds the layout the driver's create writes, the same as qemu-img create's
    // (vdi_co_do_create, vpc_co_create, parallels_co_create, qcow_co_create, vmdk_init_extent:
    // otherFormatFileLength), which a file node over it measures (fuzz 2680180279: a backup
    // from that file node meets a 16 MiB target: "different sizes"); an empty image still has its
    // header (and tables), which the driver's open reads (fuzz 1377773167)
    const layout = [o['cluster-size'] !== undefined ? `cluster_size=${Number(o['cluster-size'])}` : '', o.subformat !== undefined ? `subformat=${String(o.subformat)}` : '', o.preallocation !== undefined && o.preallocation !== 'off' ? `preallocation=${String(o.preallocation)}` : '',
      // vhdx_create_new_region_table: the BAT after the log, the file truncated past it (and the data, fixed)
      o['block-size'] !== undefined ? `block_size=${Number(o['block-size'])}` : '', o['log-size'] !== undefined ? `log_size=${Number(o['log-size'])}` : ''].filter(Boolean).join(',');
    const len = size === 0 && driver === 'vmdk' ? undefined : otherFormatFileLength(driver, size, layout, driver === 'qcow' && o['backing-file'] !== undefined ? String(o['backing-file']) : undefined);
    if (len !== undefined) next.fileLength = len;
    // the block or grain size the header holds, which .bdrv_get_info of a node opened on it
    // answers (vdi_get_info's block_size, vpc's, vhdx's, qcow's cluster size, vmdk's grain):
    // the same header qemu-img create writes (fuzz 1875206948: a copy-before-write filter whose
    // target is a vdi made by blockdev-create takes 1 MiB clusters, block_copy_calculate_cluster_size)
    const infoLayout = [o.subformat !== undefined ? `subformat=${String(o.subformat)}` : '', o['block-size'] !== undefined ? `block_size=${Number(o['block-size'])}` : ''].filter(Boolean).join(',');
    const info = otherFormatInfoCluster(driver, next.size, infoLayout, o['backing-file'] !== undefined);
    if (info !== undefined) next.infoCluster = info;
    if (size === 0 && driver !== 'vmdk') {
      // vpc_open: a footer with the "conectix" cookie at offset 0 is a dynamic image's copy
      // (disk_type stays VHD_DYNAMIC); an empty fixed image's only footer is there, so its
      // data_offset (none: all ones) is read as the dynamic header's
      if (driver === 'vpc' && o.subformat === 'fixed') next.openError = 'Error reading dynamic VHD header';
    }
    if (driver === 'parallels') {
      const bad = parallelsOpenError(size, o['cluster-size'] !== undefined ? Number(o['cluster-size']) : 1024 * 1024);
      if (bad) next.openError = bad;
    }
    if (driver === 'vmdk' && size === 0) Object.assign(next, { openError: `Unsupported image type '${String(o.subformat ?? 'monolithicSparse')}'`, fileLength: otherFormatFileLength('vmdk', 0) });
    // qcow_co_create writes the backing file's name, vmdk_co_do_create its parentFileNameHint
    if ((driver === 'qcow' || driver === 'vmdk') && o['backing-file'] !== undefined) next.backing = String(o['backing-file']);
    if (driver === 'vmdk' && size > 0) vmdkCreateExtents(p, o, size, next, file);
    // vmdk_co_do_create writes the subformat into the descriptor's createType, which
    // vmdk_get_specific_info reports (fuzz 364739060: a streamOptimized image made by
    // blockdev-create), as for one qemu-img made (graph/images.ts)
    if (driver === 'vmdk' && o.subformat !== undefined && o.subformat !== 'monolithicSparse') next.features = { ...(next.features ?? {}), vmdkSubformat: String(o.subformat) };
    p.d.put(HOST, 'images', img.file, next);
    // the header's writes extend the file node opened on it (bdrv_co_write_req_finish; a layout
    // otherFormatFileLength does not know, e.g. streamOptimized vmdk: the virtual size)
    growWrittenNodes(p, file, hostFileLength(next));
    // and their requests' end is the file node's wr_highest_offset (bdrv_co_write_req_finish)
    // where the create only writes: its last byte is the file's length; a static vdi writes the
    // same header and block map, then vdi_co_do_create's blk_co_truncate lengthens the file
    // (a truncate is no write request)
    const wrEnd = driver === 'vdi' ? otherFormatFileLength('vdi', size)
      : driver === 'vmdk' ? (size > 0 && (sub0 === 'monolithicSparse' || sub0 === 'streamOptimized') ? vmdkSparseCreateWriteEnd(size) : undefined)
        : createOnlyWrites(driver, o) ? len : undefined;
    if (wrEnd !== undefined) noteWritePath(p, file, 0, wrEnd);
  } else if (bytesBehind(p, file) && 'qcow2' in bytesBehind(p, file)!) {
    // a qcow2 format node as `file`: the header and tables go into its guest view (not modelled
    // as data), but blk_set_allow_write_beyond_eof lets them pass the node's end, and
    // bdrv_co_write_req_finish grows each node they went through to the last byte written
    // (bs->total_sectors = end_sector; qcow2 keeps its header's size, so a reopen would shrink it
    // back). A parallels image of 128 GiB in 4 KiB clusters writes 128 MiB of BAT zeroes
    // (parallels_co_create's blk_co_pwrite_zeroes): a 16 MiB qcow2 node is 134,221,824 bytes long
    // afterwards, and a mirror from it meets "Source and target image have different sizes"
    // (fuzz --against vm 3039429535). Only the drivers whose create writes and never truncates
    // (parallels_co_create, qcow_co_create, vdi_co_do_create of a dynamic image, vpc's
    // create_dynamic_disk), whose last byte written is the file length qemu-img create leaves.
    const dynamic = createOnlyWrites(driver, o);
    const layout = o['cluster-size'] !== undefined ? `cluster_size=${Number(o['cluster-size'])}` : '';
    const end = dynamic ? otherFormatFileLength(driver, size, layout, driver === 'qcow' && o['backing-file'] !== undefined ? String(o['backing-file']) : undefined) : undefined;
    if (end !== undefined) {
      growWrittenNodes(p, file, end);
      noteWritePath(p, file, 0, end);
    }
  }
  releaseCreateBackend(p, file, bbId, driver);
}

/**
 * The creates that write their image and never truncate (parallels_co_create, qcow_co_create,
 * vdi_co_do_create of a dynamic image, vpc's create_dynamic_disk): the last byte they write is the
 * file length qemu-img create leaves.
 */
function createOnlyWrites(driver: string, o: Record<string, unknown>): boolean {
  return driver === 'parallels' || driver === 'qcow' || (driver === 'vdi' && (o.preallocation ?? 'off') === 'off') ||
    (driver === 'vpc' && String(o.subformat ?? 'dynamic') === 'dynamic');
}
