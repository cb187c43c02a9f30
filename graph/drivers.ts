// Per-driver behaviour the graph rules need: how a node passes permissions to each child
// (the drivers' .bdrv_child_perm in QEMU 7.2), and static facts (filter, backing support).
import { ruleAt } from './rules.js';
import { DEFAULT_QEMU, type QemuVersion } from './version.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z, ROLE_COW, ROLE_DATA, ROLE_FILTERED, ROLE_METADATA, ROLE_PRIMARY } from './perm.js';
import type { BdsNode, Edge } from './types.js';

export interface ChildPermCtx {
  node: BdsNode;
  edge: Edge;
  perm: number;            // the node's cumulative perm
  shared: number;          // the node's cumulative shared
  writableAfter: boolean;  // bdrv_is_writable_after_reopen(node)
  /** !QLIST_EMPTY(&bs->parents): the node has any parent edge (cbw_child_perm asks) */
  hasParents?: boolean;
  /** the process's QEMU version (graph/rules.ts): rules of child perms that differ by version */
  qemu?: QemuVersion;
}

export interface DriverInfo {
  kind: 'protocol' | 'format' | 'filter';
  supportsBacking: boolean;
  reopen: boolean;          // has .bdrv_reopen_prepare
  childPerm?: (c: ChildPermCtx) => { perm: number; shared: number };
}

const PASSTHROUGH = PERM_R | PERM_W | PERM_U | PERM_Z;

/** bdrv_filter_default_perms */
export function filterPerms(perm: number, shared: number) {
  return { perm: perm & PASSTHROUGH, shared: (shared & PASSTHROUGH) | (PERM_ALL & ~PASSTHROUGH) };
}

/** bdrv_default_perms: by role. */
export function defaultPerms(c: ChildPermCtx): { perm: number; shared: number } {
  const role = c.edge.role;
  if (role & ROLE_FILTERED) return filterPerms(c.perm, c.shared);
  if (role & ROLE_COW) {
    const perm = c.perm & PERM_R;
    let shared = c.shared & PERM_W ? PERM_W | PERM_Z : 0;
    shared |= PERM_R | PERM_U;
    // bdrv_default_perms_for_cow: an inactive node lets others write and resize its backing
    if (c.node.inactive) shared |= PERM_W | PERM_Z;
    return { perm, shared };
  }
  let { perm, shared } = filterPerms(c.perm, c.shared);
  if (role & ROLE_METADATA) {
    if (c.writableAfter) perm |= PERM_W | PERM_Z;
    perm |= PERM_R; // NO_IO is never set by the commands we model
    shared &= ~(PERM_W | PERM_Z);
  }
  if (role & ROLE_DATA) {
    shared &= ~PERM_Z;
    if (perm & PERM_U) perm |= PERM_W;
    if (perm & PERM_W) perm |= PERM_Z;
  }
  // bdrv_default_perms_for_storage: the same for an inactive node's file
  if (c.node.inactive) shared |= PERM_W | PERM_Z;
  return { perm, shared };
}

const DRIVERS: Record<string, DriverInfo> = {
  file: { kind: 'protocol', supportsBacking: false, reopen: true },
  // file-posix's host_device: opened from a header's backing name that is a host device node
  host_device: { kind: 'protocol', supportsBacking: false, reopen: true },
  'null-co': { kind: 'protocol', supportsBacking: false, reopen: true },
  'null-aio': { kind: 'protocol', supportsBacking: false, reopen: true },
  // block/nbd.c: a protocol driver (.bdrv_file_open) whose image lives in another process
  nbd: { kind: 'protocol', supportsBacking: false, reopen: true },
  qcow2: { kind: 'format', supportsBacking: true, reopen: true, childPerm: defaultPerms },
  // block/qed.c: .supports_backing, .bdrv_child_perm = bdrv_default_perms, and a
  // bdrv_qed_reopen_prepare that accepts every reopen
  qed: { kind: 'format', supportsBacking: true, reopen: true, childPerm: defaultPerms },
  // the other formats over a file child: all bdrv_default_perms; .supports_backing for qcow,
  // vmdk and parallels; parallels has no .bdrv_reopen_prepare (7.2 and 10.0)
  vdi: { kind: 'format', supportsBacking: false, reopen: true, childPerm: defaultPerms },
  vpc: { kind: 'format', supportsBacking: false, reopen: true, childPerm: defaultPerms },
  vhdx: { kind: 'format', supportsBacking: false, reopen: true, childPerm: defaultPerms },
  parallels: { kind: 'format', supportsBacking: true, reopen: false, childPerm: defaultPerms },
  qcow: { kind: 'format', supportsBacking: true, reopen: true, childPerm: defaultPerms },
  vmdk: { kind: 'format', supportsBacking: true, reopen: true, childPerm: defaultPerms },
  // block/bochs.c, cloop.c, dmg.c: read-only formats (bdrv_default_perms, no .bdrv_reopen_prepare);
  // the model opens none of them (graph/read-only-formats.ts: their open errors over zeroes)
  bochs: { kind: 'format', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  cloop: { kind: 'format', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  dmg: { kind: 'format', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  // block/vvfat.c: a protocol over a host directory; only its option checks are modelled
  vvfat: { kind: 'protocol', supportsBacking: false, reopen: false },
  raw: {
    kind: 'format', supportsBacking: false, reopen: true,
    // raw_child_perm: only forward W and Z when the parent itself has them
    childPerm: (c) => {
      const d = defaultPerms(c);
      return { perm: (d.perm & ~(PERM_W | PERM_Z)) | (c.perm & (PERM_W | PERM_Z)), shared: d.shared };
    },
  },
  // block/crypto.c: .is_format, no backing, block_crypto_reopen_prepare checks nothing
  luks: {
    kind: 'format', supportsBacking: false, reopen: true,
    // block_crypto_child_perms: bdrv_default_perms, then (not "fully a format driver") write and
    // resize shared as the node's parents share them, and taken only where its parents take
    // them; while crypto->updating_keys (x-blockdev-amend's block_crypto_amend_prepare, from the
    // command until the job is freed: commands/x-blockdev-amend.ts) write is taken and
    // consistent-read and write are not shared
    childPerm: (c) => {
      const d = defaultPerms(c);
      let perm = (d.perm & ~(PERM_W | PERM_Z)) | (c.perm & (PERM_W | PERM_Z));
      let shared = d.shared | (c.shared & (PERM_W | PERM_Z));
      if ((c.node.extra as { updatingKeys?: boolean } | undefined)?.updatingKeys) {
        perm |= PERM_W;
        shared &= ~(PERM_R | PERM_W);
      }
      return { perm, shared };
    },
  },
  throttle: { kind: 'filter', supportsBacking: false, reopen: true, childPerm: defaultPerms },
  'copy-on-read': {
    kind: 'filter', supportsBacking: false, reopen: false,
    // cor_child_perm: write-unchanged (for the copies it makes) only while the filter is active;
    // an inactive node "cannot provide it" (BDRV_O_INACTIVE, 10.0's blockdev-set-active)
    childPerm: (c) => ({
      perm: (c.perm & (PERM_R | PERM_W | PERM_Z)) | (c.node.inactive ? 0 : PERM_U),
      shared: (c.shared & (PERM_R | PERM_W | PERM_Z)) | PERM_U,
    }),
  },
  blkdebug: {
    kind: 'filter', supportsBacking: false, reopen: true,
    childPerm: (c) => {
      const d = defaultPerms(c);
      const x = (c.node.extra ?? {}) as { take?: number; unshare?: number };
      return { perm: d.perm | (x.take ?? 0), shared: d.shared & ~(x.unshare ?? 0) };
    },
  },
  quorum: {
    kind: 'format', supportsBacking: false, reopen: false,
    childPerm: (c) => {
      const x = (c.node.extra ?? {}) as { rewriteCorrupted?: boolean };
      return {
        perm: (c.perm & PASSTHROUGH) | (x.rewriteCorrupted ? PERM_W : 0),
        shared: (c.shared & (PERM_R | PERM_U)) | (PERM_ALL & ~PASSTHROUGH),
      };
    },
  },
  // blkverify.c: a filter over `raw` (its bs->file) that also reads `test`; bdrv_default_perms,
  // no .bdrv_reopen_prepare
  blkverify: { kind: 'filter', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  // block/preallocate.c preallocate_child_perm: bdrv_default_perms, and where the filter's own
  // perm has both write and resize (can_write_resize) it takes them on its file and shares
  // neither (to keep its file_end/data_end/zero_start valid)
  // 10.0 also while s->data_end is valid: from a preallocate_set_perm that could write and
  // resize until preallocate_drop_resize_bh runs after the command (graph/preallocate-bh.ts,
  // rule 'preallocate-drop-resize-bh')
  preallocate: {
    kind: 'filter', supportsBacking: false, reopen: true,
    childPerm: (c) => {
      const d = defaultPerms(c);
      // (s->data_end != -EINVAL: valid, or a failed truncate's other errno, graph/truncate.ts keepPreallocTruncateFailures)
      const x = c.node.extra as { preallocHeld?: boolean; preallocError?: boolean } | undefined;
      const held = ruleAt(c.qemu ?? DEFAULT_QEMU, 'preallocate-drop-resize-bh') && (x?.preallocHeld === true || x?.preallocError === true);
      if (((c.perm & PERM_W) && (c.perm & PERM_Z)) || held) return { perm: d.perm | PERM_W | PERM_Z, shared: d.shared & ~(PERM_W | PERM_Z) };
      return d;
    },
  },
  // block/blklogwrites.c: blk_log_writes_child_perm is bdrv_default_perms for both children
  // (file: filtered, log: metadata); no .bdrv_reopen_prepare
  blklogwrites: { kind: 'filter', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  // block/replication.c (CONFIG_REPLICATION, built into Debian's QSD 7.2 and 10.0): a filter
  // (.is_filter) without .bdrv_reopen_prepare; replication_child_perm: consistent-read for the
  // primary child, write while bs->open_flags has BDRV_O_RDWR and not BDRV_O_INACTIVE, and it
  // shares consistent-read, write and write-unchanged whatever its parents need
  replication: {
    kind: 'filter', supportsBacking: false, reopen: false,
    childPerm: (c) => ({
      perm: (c.edge.role & ROLE_PRIMARY ? PERM_R : 0) | (!c.node.ro && !c.node.inactive ? PERM_W : 0),
      shared: PERM_R | PERM_W | PERM_U,
    }),
  },
  // filter-compress.c: a plain filter, bdrv_default_perms
  compress: { kind: 'filter', supportsBacking: false, reopen: false, childPerm: defaultPerms },
  // block/copy-before-write.c cbw_child_perm: the target (not the filtered child) is written and
  // shares all but resize; the source child gets the default filter perms and, once the filter
  // has parents, consistent read with write and no sharing of write or resize.
  'copy-before-write': {
    kind: 'filter', supportsBacking: false, reopen: false,
    childPerm: (c) => {
      if (!(c.edge.role & ROLE_FILTERED)) return { perm: PERM_W, shared: PERM_ALL & ~PERM_Z };
      let { perm, shared } = defaultPerms(c);
      if (c.hasParents) {
        if (ruleAt(c.qemu ?? DEFAULT_QEMU, 'cbw-file-perm') === 'always' || c.perm & PERM_W) perm |= PERM_R;
        // 10.0's discard-source (s->discard_source, a backup's BDRV_O_CBW_DISCARD_SOURCE): write too
        if ((c.node.extra as { discardSource?: boolean } | undefined)?.discardSource) perm |= PERM_W;
        shared &= ~(PERM_W | PERM_Z);
      }
      return { perm, shared };
    },
  },
  // block/snapshot-access.c: a format-like node (not a filter) over a copy-before-write filter's
  // snapshot API; snapshot_access_child_perm takes nothing and shares everything
  'snapshot-access': { kind: 'format', supportsBacking: false, reopen: false, childPerm: () => ({ perm: 0, shared: PERM_ALL }) },
  // Job filters: their perms are set by the job code (graph/jobs), these are the defaults.
  commit_top: { kind: 'filter', supportsBacking: true, reopen: false, childPerm: () => ({ perm: 0, shared: PERM_ALL }) },
  mirror_top: { kind: 'filter', supportsBacking: true, reopen: false, childPerm: defaultPerms },
};

/**
 * block_driver_can_compress (include/block/block_int-common.h): the drivers with
 * .bdrv_co_pwritev_compressed(_part) among the modelled ones. In 7.2 and 10.0 that is qcow2,
 * qcow (qcow_co_pwritev_compressed) and vmdk (vmdk_co_pwritev_compressed), plus two filters that
 * forward compressed writes: copy-on-read (cor_co_pwritev_compressed) and throttle
 * (throttle_co_pwritev_compressed). compress, blkdebug, raw, qed, vdi, vpc, vhdx, parallels and
 * the protocols have none.
 */
const CAN_COMPRESS = new Set(['qcow2', 'qcow', 'vmdk', 'copy-on-read', 'throttle']);

export function blockDriverCanCompress(driver: string): boolean {
  return CAN_COMPRESS.has(driver);
}

export function driverInfo(name: string): DriverInfo | undefined {
  return DRIVERS[name];
}

/** Lets job code install the perms of its filters (mirror_top changes them as the job runs). */
export function registerDriver(name: string, info: DriverInfo): void {
  DRIVERS[name] = info;
}

/**
 * Whether a driver's nodes are opened with BDRV_O_PROTOCOL (bdrv_fill_options: protocol =
 * drv->bdrv_file_open, which the protocols have and so do the filters blkdebug and blkverify,
 * opened over a filename of their own syntax). Only such a node has the flag for a reopen to clear.
 */
export const opensAsProtocol = (driver: string): boolean => driverInfo(driver)?.kind === 'protocol' || driver === 'blkdebug' || driver === 'blkverify';

/** The drivers of block/file-posix.c (bdrv_file, bdrv_host_device): their own discard counters, raw_get_info. */
export const FILE_POSIX: ReadonlySet<string> = new Set(['file', 'host_device']);
