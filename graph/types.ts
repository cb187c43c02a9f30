// The state shape. Everything is plain JSON so that the same state can be hashed,
// snapshotted and rebuilt byte-identically by replay. Order-sensitive QEMU lists
// (parents and children, both newest first) are kept as `at` sequence numbers, never
// as object key order.

/** Whole store state: one scope per QEMU process ("A", "B", …) plus "@host" for the image catalogue. */
export type State = Record<string, Scope>;
export type Scope = Record<string, Record<string, unknown>>;

export const HOST = '@host';

export type ParentRef =
  | { kind: 'node'; node: string }
  | { kind: 'bb'; bb: string }
  | { kind: 'job'; job: string };

export interface Edge {
  id: string;
  parent: ParentRef;
  name: string;            // file, backing, image, children.N, root, "main node", …
  child: string;           // node name
  role: number;            // ROLE_* bits
  perm: number;
  shared: number;
  frozen: boolean;
  at: number;              // attach order: higher is newer (QEMU inserts at the list head)
}

export interface BdsNode {
  name: string;
  auto: boolean;           // generated name (#block…)
  driver: string;
  ro: boolean;
  filename: string;        // what query-named-block-nodes reports as `file` ("" where QEMU gives json:{…})
  options: Record<string, unknown>; // bs->options: effective, flattened, children's sub-QDicts removed (graph/options.ts)
  explicit?: Record<string, unknown>;
  unmap?: boolean;         // BDRV_O_UNMAP in bs->open_flags (discard=unmap); absent: derived from options // bs->explicit_options (absent: nodes made by job code, = options)
  /** bdrv_reopen_queue_child clears BDRV_O_PROTOCOL from the flags bdrv_reopen_commit stores in
   *  bs->open_flags: true once reopened (absent: open_flags has it iff the driver is a protocol) */
  protocolCleared?: boolean;
  monitor: boolean;        // the monitor holds a reference (blockdev-add of a root)
  implicit: boolean;       // job filter created without filter-node-name
  neverFreeze: boolean;
  inheritsFrom: string | null;
  aio: string;             // "main" or an iothread id
  size: number;            // bytes
  align: number;           // request alignment (blkdebug align)
  /** image header (qcow2); auto: bs->auto_backing_file where it differs from the header's name */
  header: { backing?: string; backingFormat?: string; auto?: string } | null;
  lock: { perm: number; shared: number } | null; // file-posix committed lock state; null: locking off
  forceShare: boolean;
  order: number;           // name-assignment order (x-debug-query-block-graph lists nodes in it)
  extra?: Record<string, unknown>; // driver state: throttle group, quorum threshold, blkdebug perms…
  writeThreshold?: number; // bs->write_threshold_offset (block-set-write-threshold); absent: 0
  /** bs->wr_highest_offset where the model made the writes (graph/wr-highest.ts); absent: 0 */
  wrHighest?: number;
  /** file-posix: the discards raw_co_pdiscard counted (raw_account_discard; graph/discard-stats.ts); absent: none */
  discards?: { nb: number; bytes: number };
  bitmaps?: DirtyBitmap[]; // bs->dirty_bitmaps, newest first (graph/bitmaps.ts); absent: none
  /** qcow2: BDRVQcow2State.snapshots, the table qcow2_read_snapshots read at open and the snapshot
   *  operations keep in memory (graph/internal-snapshot.ts); absent: none */
  snapshots?: { id: string; name: string; vm?: true }[]; // vm: vm_state_size > 0 (snapshot-save, savevm)
  /** 10.0: drained sections blockdev-reopen left open on this node for good (rule
   *  'reopen-queue-drains-per-call', graph/jobs/held-drain.ts); absent: none */
  leakedDrains?: number;
  /** BDRV_O_INACTIVE (10.0: blockdev-add's active=false, blockdev-set-active; graph/inactive.ts); absent: active */
  inactive?: boolean;
  /** file: the host file was unlinked right after its open (raw_open_common with BDRV_O_TEMPORARY: a snapshot=on overlay's); absent: it is there */
  unlinked?: true;
  /** bs->copy_on_read > 0: a legacy drive's copy-on-read=on (blockdev_init's BDRV_O_COPY_ON_READ, bdrv_enable_copy_on_read); absent: 0 */
  copyOnRead?: true;
  /**
   * qcow2: BDRVQcow2State.flags had BDRV_O_INACTIVE, i.e. qcow2_do_open ran on an inactive node
   * (blockdev-add active=false, an incoming machine's images): it loaded no persistent bitmaps,
   * and the close of qcow2_co_invalidate_cache runs no qcow2_inactivate. Cleared by the
   * activation's qcow2_do_open. Absent: opened active.
   */
  qcow2OpenedInactive?: boolean;
}

/** A named BdrvDirtyBitmap (block/dirty-bitmap.c): its flags, no contents. */
export interface DirtyBitmap {
  name: string;
  granularity: number;
  persistent: boolean;
  disabled: boolean;
  busy: boolean;           // held by a job or an export (bdrv_dirty_bitmap_set_busy)
  readonly: boolean;       // loaded from / reopened to a read-only qcow2 image
  inconsistent: boolean;   // loaded with IN_USE set (its writer never stored it back)
  successorEnabled?: boolean; // a running job's anonymous successor records (bdrv_dirty_bitmap_create_successor)
  owner?: string;          // an anonymous bitmap (name NULL in QEMU, '' here): the key its creator finds it by (graph/anon-bitmaps.ts)
  /**
   * bitmap->size: bdrv_getlength of its node when it was created (bdrv_create_dirty_bitmap),
   * then bdrv_dirty_bitmap_truncate's whenever the node's total_sectors grows or is truncated
   * (bdrv_co_write_req_finish): whole sectors. A variable-length node (raw over a resized file)
   * can be longer or shorter than its bitmaps. Absent in logs older than it: the node's length.
   */
  size?: number;
  /**
   * No bit is set: created by block-dirty-bitmap-add (bdrv_create_dirty_bitmap allocates a zeroed
   * HBitmap) or emptied by block-dirty-bitmap-clear (bdrv_clear_dirty_bitmap), with no write since
   * (bdrv_set_dirty on every write request: graph/jobs/guest-write.ts drops it on every bitmap) and
   * no merge of a bitmap that may hold bits (bdrv_merge_dirty_bitmap). Absent: may hold bits (the
   * model keeps no contents), as a bitmap loaded from an image does.
   */
  empty?: true;
  /**
   * The set granules as byte ranges, where the model follows them (graph/bitmap-contents.ts): from
   * block-dirty-bitmap-add or -clear on, through writes to the node itself and the filters and raw
   * nodes above it, merges and a backup's successor. Absent: not known (count reported as 0).
   */
  dirty?: [number, number][];
}

/** An entry of a qcow2 image's bitmap directory (Qcow2Bitmap): flags IN_USE and AUTO. */
export interface ImageBitmap {
  name: string; granularity: number; auto: boolean; inUse: boolean;
  /** the host clusters of its stored data and table (graph/qcow2-bitmap-clusters.ts; absent: not followed) */
  clusters?: number[];
  /** how many of `clusters`, from the first, are data clusters (the rest: the table; absent: 0) */
  dataClusters?: number;
  /** the bits stored with it, where the model knew them (graph/bitmap-contents.ts; absent: not known) */
  dirty?: [number, number][];
}

export interface BlockBackend {
  id: string;
  owner: { kind: 'export' | 'job' | 'tmp' | 'device' | 'leak' | 'drive'; id: string; role?: string };
  /**
   * vm target: blk->name, the monitor's name of a legacy drive (monitor_add_blk: drive_add's id);
   * absent for an anonymous BlockBackend and after monitor_remove_blk (drive_del)
   */
  name?: string;
  /** vm target: blk->legacy_dinfo of a drive_add'ed drive (graph/named-blk.ts), kept while the BlockBackend lives */
  legacy?: LegacyDrive;
  /** vm target: blk->enable_write_cache where it is not a device's choice (a drive's cache.writeback; absent: on) */
  wce?: boolean;
  /**
   * vm target: the attached guest device's name (blk_get_attached_dev_id), e.g. `sd0` or
   * `/machine/peripheral/vd0/virtio-backend`; absent or "" for an anonymous BlockBackend.
   */
  dev?: string;
  /** vm target: blk->on_read_error / on_write_error a legacy drive set (blockdev_init's rerror/werror; absent: blk_new's report/enospc) */
  onError?: { read: string; write: string };
  /**
   * vm target: drive_del of a drive a device holds ran blk_set_on_error(report, report) after the
   * device's realize had applied its rerror/werror: `onError` is what the BlockBackend has now,
   * whatever the device's properties say (absent: the device's non-auto ones win)
   */
  onErrorLast?: true;
  /**
   * vm target: blk->stats (BlockAcctStats) a legacy drive set up: blockdev_init's block_acct_setup
   * (stats-account-invalid/-failed; absent: block_acct_init's true) and parse_stats_intervals
   */
  acct?: { invalid: boolean; failed: boolean; intervals: number[] };
  /** vm target: blk->stats' latency histograms (block-latency-histogram-set), their boundaries by kind */
  histograms?: Partial<Record<'read' | 'write' | 'zone_append' | 'flush', number[]>>;
  /** vm target: blk->root_state.read_only, taken when the medium is removed (blk_update_root_state). */
  rootRo?: boolean;
  /** vm target: BDRV_O_INACTIVE in blk->root_state.open_flags (blk_update_root_state copies the old medium's open_flags). */
  rootInactive?: boolean;
  /**
   * vm target: block_set_io_throttle's throttling (no graph change): the ThrottleGroup the
   * BlockBackend is a member of (graph/throttle-groups.ts) and the limits it set.
   */
  throttle?: { group: string; limits: Record<string, number> };
  perm: number;
  shared: number;
  allowAioChange: boolean;
  aio: string;
  at: number;
  /** blk->disable_perm: over an inactive node, the BlockBackend holds no permissions (graph/inactive.ts) */
  disablePerm?: boolean;
  /** blk->force_allow_inactivate: an export added with allow-inactive, a mirror job's target (not an active commit's) */
  forceAllowInactivate?: boolean;
}

/** DriveInfo (include/sysemu/blockdev.h): a drive's interface, bus and unit, media, auto_del. */
export interface LegacyDrive {
  /** BlockInterfaceType: 0 none, 1 ide, 2 scsi, 3 floppy, 4 pflash, 5 mtd, 6 sd, 7 virtio, 8 xen */
  type: number;
  bus: number;
  unit: number;
  cdrom: boolean;
  /** dinfo->opts' id (the drive QemuOptsList's: drive_add's `id`, absent without one) */
  optsId?: string;
  /** blockdev_mark_auto_del: the device going away takes the drive with it */
  autoDel?: boolean;
}

export type JobStatus =
  | 'undefined' | 'created' | 'running' | 'paused' | 'ready' | 'standby'
  | 'waiting' | 'pending' | 'aborting' | 'concluded' | 'null';

/** is_block_job: a Job with a BlockJob around it (blockdev-create's and the snapshot jobs are plain Jobs). */
export const isBlockJob = (j: { type: string }): boolean => !['create', 'amend', 'snapshot-save', 'snapshot-load', 'snapshot-delete'].includes(j.type);

export interface Job {
  id: string;
  // create: blockdev-create; snapshot-*: migration/savevm.c's snapshot jobs; plain Jobs, not block jobs
  type: 'stream' | 'commit' | 'mirror' | 'backup' | 'create' | 'amend' | 'snapshot-save' | 'snapshot-load' | 'snapshot-delete';
  status: JobStatus;
  autoFinalize: boolean;
  autoDismiss: boolean;
  paused: number;          // pause counter (job-pause nests)
  speed: number;
  cancelled: boolean;
  error: string | null;
  data: Record<string, unknown>; // job-specific: top, base, filter, target, …
  at: number;
  aio?: string;            // the job's AioContext (moves with its nodes); absent = "main"
  aioMoved?: boolean;      // moved into another AioContext after it started (graph/moved-backup-clean-hang.ts)
}

/** What the model keeps of a loaded secret (graph/secrets.ts). */
export interface SecretFacts {
  digest: string;
  length: number;
  /** g_utf8_validate of the bytes, and no NUL in them (qcrypto_secret_lookup_as_utf8) */
  utf8: boolean;
}

export interface QomObject {
  id: string; qomType: string; props: Record<string, unknown>;
  /** throttle-group: the `limits` qom-set applied since object-add, in order (commands/qom.ts) */
  limitSets?: Record<string, unknown>[];
  /**
   * throttle-group: the whole config a BlockBackend in the group set last (block_set_io_throttle:
   * blk_set_io_limits -> throttle_group_config); limitSets are then the qom-sets since.
   */
  config?: Record<string, number>;
  /**
   * secret: what the model keeps of the bytes qcrypto_secret_complete loaded (secret->rawdata):
   * their digest (graph/secret-digest.ts), length and whether they are UTF-8; never the bytes
   */
  secret?: SecretFacts;
  /** secret, in a log written before stop 38: the loaded bytes as hex (read, never written) */
  secretHex?: string;
}

/**
 * A LUKS header as far as the model follows it (graph/luks.ts): each of the 8 key slots' passphrase
 * digest (null: inactive) and the payload offset.
 */
export interface LuksHeader {
  slots?: (string | null)[];
  /** a log written before stop 38: key slot 0's passphrase as hex (read, never written) */
  keyHex?: string;
  payloadOffset: number;
  /** 10.0's detached header (QCRYPTO_BLOCK_CREATE_DETACHED): the payload starts at 0 */
  detached?: true;
}

export interface BlockExport {
  id: string;
  type: string;
  node: string;
  name: string;            // NBD export name
  writable: boolean;
  bb: string;
  iothread: string | null;
  fixed: boolean;
  bitmaps?: { node: string; name: string }[]; // NBD bitmaps it holds busy (nbd_export_create)
  /** NBD: exp->allocation_depth, the export offers the qemu:allocation-depth meta context */
  allocationDepth?: boolean;
  /** NBD: exp->size, blk_getlength of the node at nbd_export_create (fixed: the export forbids resize) */
  size?: number;
  /** FUSE: the mountpoint path string (fuse_export_create's exports table is keyed by it) */
  mountpoint?: string;
}

export interface ProcMeta {
  autoName: number;        // QEMU's global counter for #block names
  seq: number;             // monotonic counter for edge/BB/attach order ids
  /** tls: the server took tls-creds (nbd_server_start: nbd_server->tlscreds, kept past the object's object-del) */
  nbd: { addr: unknown; tls?: true } | null;
  /** Seed 002's format locking as a fallback where the protocol leaf cannot lock (off: QEMU never merged it). */
  formatLocking?: boolean;
  /** The process is a QEMU VM (issue 17: qemu-system-x86_64 q35) instead of qemu-storage-daemon. */
  target?: 'vm';
  /** vm target: the run state (`-S`: prelaunch until `cont`). */
  runState?: 'prelaunch' | 'running' | 'paused' | 'save-vm' | 'restore-vm' | 'postmigrate' | 'finish-migrate' | 'inmigrate';
  /**
   * vm target: ACPI PCI hotplug kept on (libvirt's q35; the `vm` member's `acpi-pci-hotplug`): a
   * device on a pcie-root-port unplugs through ACPI, waiting for the guest's eject.
   */
  acpiPciHotplug?: boolean;
  /** vm target: the machine type when it is not q35 (x-blockgraph-machine's `machine`). */
  machine?: 'pc';
  /** vm target: QEMU's counter for devices without an id (/machine/peripheral-anon/device[N]). */
  anonDevices?: number;
  /** vm target: each bus type's BusClass automatic_ids (qbus_init_internal's "scsi.N", "usb-bus.N" of buses without a name). */
  busAutoIds?: Record<string, number>;
  /** vm: the next /machine/unattached/device[N] (a usb-hub usb_claim_port chains on; rule machine-unattached-devices gives the first). */
  unattachedNext?: number;
  /**
   * vm target: boot indexes of devices QEMU never finalized (an nvme whose namespace setup failed:
   * commands/vm/device-add.ts nvmeRealize): their fw_boot_order entries stay taken.
   */
  leakedBootIndexes?: number[];
  /** The QEMU version this process models (graph/version.ts); absent: 7.2, as in every older log. */
  qemu?: '7.2' | '10.0';
  /** vm target: migration capabilities set by migrate-set-capabilities (migrate_params' s->capabilities). */
  migrateCaps?: Record<string, boolean>;
  /** vm target: `-name guest=NAME` (query-name). */
  name?: string;
  /** vm target: the command line's chardevs (query-chardev), in the order they were created. */
  chardevs?: { label: string; filename: string; 'frontend-open': boolean }[];
}

/**
 * The fixture x-blockgraph-machine-facts logs (oracle/machine-facts.ts MachineFacts), kept under
 * its own meta key ('machine-facts'): the proc meta is rewritten by every nextSeq.
 */
export interface VmMachineFacts {
  qemu: '7.2' | '10.0';
  machine: 'q35' | 'pc';
  cpu: string;
  'migrate-capabilities': { capability: string; state: boolean }[];
  'hotpluggable-cpus': unknown[];
  'cpus-fast': Record<string, unknown>[];
  /** The vCPU's QOM path and qom-list of it. */
  'cpu-path': string;
  'cpu-properties': { name: string; type: string }[];
  /** qom-get of every property qom-list shows but links and children: its answer or its error. */
  'cpu-values': Record<string, { return: unknown } | { error: { class: string; desc: string } }>;
}

export interface Image {
  file: string;
  format: string;          // qcow2, qed, raw
  size: number;
  backing?: string;
  /** qed: set only where the header has QED_F_BACKING_FORMAT_NO_PROBE (raw); absent, the backing is probed */
  backingFormat?: string;
  clusterSize?: number;
  /** vdi, vpc, vhdx, qcow, vmdk: the cluster_size their .bdrv_get_info answers (graph/other-formats.ts otherFormatInfoCluster) */
  infoCluster?: number;
  /** qed header's table_size (clusters per L1/L2 table; absent: QED_DEFAULT_TABLE_SIZE) */
  tableSize?: number;
  /** Allocated extents [start, end) of a qcow2 image's own data, cluster-aligned and merged (absent: none). */
  data?: [number, number][];
  /**
   * The bytes of that data where the model knows them: [start, end, byte] runs of one byte value
   * (the scenario's `qemu-io write -P`, and what jobs copied from such runs); data outside them
   * holds bytes the model does not know. Only compressed writes look at them (graph/qcow2-compress.ts).
   * A raw image's are its host bytes (graph/images.ts rawFill): absent, the file reads zeroes as
   * qemu-img or raw_co_create left it, unless `bytesUnknown`.
   */
  fills?: [number, number, number][];
  /**
   * A raw image's host file extents that hold data, sorted and disjoint, in whole file system
   * blocks (graph/jobs/host-holes.ts): the rest are holes (lseek SEEK_HOLE, raw_co_block_status'
   * BDRV_BLOCK_ZERO). Absent: not followed (all data).
   */
  hostData?: [number, number][];
  /** A raw image whose bytes outside `fills` the model does not know (written with bytes it does not follow). */
  bytesUnknown?: true;
  /** vmdk: a sparse header without its descriptor (a vmdk_co_do_create that failed after the extent): vmdk_open answers -EINVAL */
  brokenDescriptor?: true;
  /**
   * vmdk: a descriptor file's extents (the flat and split subformats), in descriptor order: each
   * line's file name, relative to the descriptor's directory (vmdk_parse_extents), and whether the
   * extent is SPARSE (its own header and grain tables) or FLAT (raw data)
   */
  extents?: { file: string; sparse?: true }[];
  /**
   * vmdk: what vmdk_open answers for what blockdev-create left where vmdk_open_vmdk4 finds a
   * header of capacity 0 and reads the embedded descriptor instead (vmdk_open_desc_file): none
   * written ("invalid VMDK image descriptor") or a monolithic one ("Unsupported image type").
   */
  openError?: string;
  /**
   * luks: the key slot's passphrase and the payload offset (graph/luks.ts); qcow2: LUKS encryption
   * (crypt_method QCOW_CRYPT_LUKS and its CRYPTO header extension), the same two facts
   */
  luks?: LuksHeader;
  dataFile?: string;       // qcow2 external data file named in the header (QCOW2_INCOMPAT_DATA_FILE)
  dataFileRaw?: boolean;
  compat?: string;         // qcow2 compat level ("0.10" = v2: no persistent bitmaps); absent: 1.1
  bitmaps?: ImageBitmap[]; // qcow2 bitmap directory, in directory order
  /** qcow2: the host clusters of the bitmap directory (graph/qcow2-bitmap-clusters.ts) */
  bitmapDir?: number[];
  /** qcow2: the end of the last bitmap metadata write in the host file (the file is at least this long) */
  bitmapEnd?: number;
  /** qcow2 internal snapshots (the snapshot table, in table order): id and name only (absent: none). */
  snapshots?: { id: string; name: string; vm?: true }[]; // vm: vm_state_size > 0 (snapshot-save, savevm)
  /**
   * Where qcow2_snapshot_create / qcow2_write_snapshots put the snapshot metadata (graph/snapshot-clusters.ts):
   * cluster runs [first, count] of the snapshot table and of each snapshot's L1 copy (by id), and the
   * clusters freed again below the refcounts' end (reused first-fit by qcow2_alloc_clusters),
   * `leaked` runs a failed snapshot operation left allocated and unreferenced (graph/snapshot-clusters.ts).
   */
  /**
   * Header facts only query replies read (qcow2_get_specific_info, vmdk_get_specific_info,
   * qcrypto_block_luks_get_info): qcow2's lazy_refcounts (QCOW2_COMPAT_LAZY_REFCOUNTS),
   * extended_l2 (QCOW2_INCOMPAT_EXTL2) and a compression type other than zlib; vmdk's subformat
   * (absent: monolithicSparse). Absent: the defaults.
   */
  features?: { lazyRefcounts?: true; extendedL2?: true; compressionType?: string; vmdkSubformat?: string };
  /** qcow2: the header's refcount_order as bits per refcount (absent: 16); s->refcount_max = 2^bits - 1 */
  refcountBits?: number;
  snapClusters?: {
    table: [number, number] | null; l1: Record<string, [number, number]>; free: number[]; leaked?: [number, number][];
    /** the guest data extents laid out by qcow2FileSize's ascending layout (what the image held when its first snapshot metadata was allocated); absent: `data` */
    baseData?: [number, number][];
    /** clusters guest writes allocated since (qcow2_alloc_clusters: new data and L2 tables, copies-on-write) */
    extra?: [number, number][];
    /** per snapshot id: the guest extents and L2 regions whose clusters it still shares with the active tables (no QCOW_OFLAG_COPIED) */
    shared?: Record<string, { data: [number, number][]; l2: number[] }>;
    /** the host cluster of each guest cluster (by cluster index) allocated since (absent: the baseData layout's) */
    map?: Record<string, number>;
    /** the host cluster of each L2 table (by L1 index) allocated since, or kept after its data was freed (absent: the baseData layout's) */
    l2map?: Record<string, number>;
    /** clusters the active tables no longer use that snapshots still do (after a copy-on-write or a zero write with unmap): [host cluster, snapshot ids] */
    kept?: [number, string[]][];
    /**
     * compressed clusters (graph/qcow2-compress.ts): per guest cluster index, the host byte offset
     * and deflated length qcow2_alloc_compressed_cluster_offset gave it (QCOW_OFLAG_COMPRESSED)
     */
    compressed?: Record<string, [number, number]>;
    /** per host cluster, its refcount from compressed clusters (qcow2_alloc_bytes' increments, and a snapshot's of the ones it shares) */
    crefs?: Record<string, number>;
    /** per snapshot id: the compressed clusters ([host byte offset, length]) its L1 copy references (qcow2_update_snapshot_refcount) */
    snapCompressed?: Record<string, [number, number][]>;
    /** s->free_byte_offset: where qcow2_alloc_bytes packs the next compressed cluster (absent or 0: a new cluster) */
    packed?: number;
    /**
     * s->free_cluster_index of the node that last allocated (owner: process and node order; a
     * node opened since starts at 0, qcow2_do_open): where alloc_clusters_noref's scan starts
     */
    fci?: { owner: string; index: number };
    /** where qcow2_grow_l1_table moved the active L1 table ([first cluster, count]; absent: the layout's, after the refcount block) */
    activeL1?: [number, number];
  };
  /**
   * A qcow2 image's host file length when a truncate of a file node over it set one (raw_co_truncate
   * -> ftruncate); absent: the length the image's layout gives (qcow2FileSize). A raw image's file
   * length is its size.
   */
  fileLength?: number;
  /**
   * A qcow2 image's guest data as a qcow2 parent's metadata writes left it (graph/guest-image.ts):
   * the image that parent sees through the node over this file (its header, layout and snapshot
   * metadata); absent: none written, the guest view is this image's own data or its backing's.
   */
  guest?: Image;
}

/** Collection names inside a process scope. */
export type Coll = 'nodes' | 'edges' | 'bbs' | 'jobs' | 'objects' | 'exports' | 'meta' | 'devices' | 'buses';
