// Every rule that differs between the QEMU versions the model knows, in one table: the rule's
// behaviour on each version, the QEMU function that gives it there, and the transcript pair
// that proves the difference (the same scenario recorded on qemu-storage-daemon 7.2.22 in
// oracle/transcripts/ and on 10.0.2 in oracle/transcripts/qemu-10.0/). Code asks `rule(p, name)`
// for the process's version; nothing else in the model tests a version. A rule listed here
// with `modelled: false` is a difference found and recorded but not (yet) carried out by the
// model (docs/fidelity.md "QEMU 10.0" says why); conformance on 10.0 lists it as known.
import type { Proc } from './proc.js';
import { type QemuVersion, versionOf } from './version.js';

export interface RuleSide<T> {
  /** The QEMU function(s) that give this behaviour in that version's source. */
  fn: string;
  value: T;
}

export interface VersionedRule<T> {
  what: string;
  '7.2': RuleSide<T>;
  '10.0': RuleSide<T>;
  /** The transcript that shows it on each version (file name; 10.0's under qemu-10.0/), step index. */
  proof: { transcript: string; step: number }[];
  modelled: boolean;
  /** The difference shows in the proof step's events only (its outcome, error text and graph agree). */
  shows?: 'events';
}

/** Per machine: which of the board's drive devices come first and the unattached index each kind starts at (rule board-drive-devices). */
export type BoardDriveDevices = Record<'q35' | 'pc', { first: 'floppy' | 'ide'; floppy: number; ide: number }>;

type MirrorBitmap = (a: { writeBlocking: boolean }) => { on: 'source' | 'filter'; disabled: boolean };
type ResizeBusy = (a: { device: string | undefined; node: string; blocker: string }) => string;

function defineRules<T extends Record<string, VersionedRule<any>>>(t: T): T { return t; }

export const RULES = defineRules({
  'stream-prefetch-pad-crashes': {
    what: "a stream's copy read (stream_populate: a prefetch without an I/O vector) that a layer below the copy-on-read filter must pad to its request alignment (a compress filter over a qcow2 whose base holds less than the filter's cluster)",
    '7.2': { fn: 'bdrv_co_preadv_part -> bdrv_pad_request -> qemu_iovec_init_extended over the NULL qiov: SIGSEGV (seen live on 7.2.22, exit 139); the model refuses the block-stream, saying so (graph/jobs/rate.ts refuseUnalignedPrefetch)', value: true },
    '10.0': { fn: 'bdrv_pad_request: a request without qiov (BDRV_REQ_PREFETCH) is padded without building a vector (the fix tests/stream-unaligned-prefetch covers): the stream runs', value: false },
    // a 7.2 death has no 7.2 transcript: 10.0's survival is in qemu-10.0/aborts/
    proof: [{ transcript: 'aborts/abort-32-stream-unaligned-prefetch-compress.json', step: 2 }],
    modelled: true,
  },
  'stream-prepare-diamond-asserts': {
    what: "finishing a stream (stream_prepare re-attaches the base) when a node below the base is reached by two paths: a backup's copy-before-write filter above the base's node whose target has that node as backing, a quorum over a node and a raw node over it",
    '7.2': { fn: "stream_prepare: bdrv_subtree_drained_begin(above_base), bdrv_set_backing_hd (bdrv_unapply_subtree_drain / bdrv_apply_subtree_drain walk the subtree once per path), bdrv_subtree_drained_end: bdrv_parent_drained_end_single_no_poll: Assertion `c->parent_quiesce_counter > 0' failed (probed live on 7.2.22: each diamond below the base aborts, the same graph with one path finalizes); refused (graph/jobs/stream-diamond.ts)", value: true },
    '10.0': { fn: 'stream_prepare drains unfiltered_bs and its COW child only (no subtree drains since 8.0) and finalizes', value: false },
    // a 7.2 death has no 7.2 transcript: 10.0's finalize is in qemu-10.0/aborts/ (boundary on both:
    // abort-32-finalize-stream-backup-below-base-no-diamond-survives)
    proof: [{ transcript: 'aborts/abort-32-finalize-stream-diamond-below-base.json', step: 5 }],
    modelled: true,
  },
  'qapi-schema': {
    what: "the QAPI schema a command's arguments are checked against: the commands and members added since 7.2 (block-job-change, blockdev-set-active; BlockdevOptions' active, BlockExportOptions' allow-inactive, BackupCommon's discard-source, BackupPerf's min-cluster-size, block-stream/block-commit backing-mask-protocol, BlockdevOptionsQcow2's discard-no-unref (8.1; 245-f-qcow2-reopen-opts), nbd-server-start's handshake-max-seconds with its base members before addr, SecretCommonProperties without 7.2's read-only loaded, BlockdevOptionsLUKS' header and BlockdevCreateOptionsLUKS' header with an optional file (9.0; graph/open.ts, commands/blockdev-create.ts luksDetachedCreate); commands/schema/table-10.0.ts). What they do is modelled unversioned (commands/job-verbs.ts change, graph/jobs/backup.ts discardSource, graph/inactive.ts): no 7.2 process can reach it",
    '7.2': { fn: 'qmp_dispatch over 7.2\'s generated qapi-commands/qapi-visit (qapi/block-core.json of 7.2): "The command block-job-change has not been found", "Parameter \'discard-source\' is unexpected"', value: '7.2' as '7.2' | '10.0' },
    '10.0': { fn: 'qmp_dispatch over 10.0.2\'s generated code (block-core.json: BlockJobChangeOptions since 8.2, BackupCommon.discard-source since 9.1, BlockdevOptions.active and blockdev-set-active since 10.0; block-export.json: allow-inactive since 10.0); in replies, BlockDeviceInfo.active since 10.0 (bdrv_block_device_info: !bdrv_is_inactive; also QSD 10.0.2\'s bytes in specs/qmp/named-nodes-active.spec.ts), BlockDeviceStats\' zone_append_* counters (8.1), QCryptoBlockInfoLUKS\' detached-header (9.0), BlockJobInfoMirror\'s actively-synced (8.2); stop 40\'s `replies` transcripts record them', value: '10.0' as '7.2' | '10.0' },
    proof: [
      // stop 44 (lead): HMP qemu-io through an open tray (fuzz --against vm --qemu 10.0 1056330914): query-block's BlockDeviceInfo.active
      { transcript: 'vm/fuzz-vm-qemu-io-tray-open-no-perm.json', step: 7 },
      // stop 44 (wt-vm26): the sixteenth VM set vm-r (BlockDeviceInfo.active in query-block and query-named-block-nodes, BlockDeviceStats' zone append counters)
      { transcript: 'vm/vm-r-pflash-active-commit-pc.json', step: 0 }, { transcript: 'vm/vm-r-pflash-hmp-pc.json', step: 7 }, { transcript: 'vm/vm-r-pflash-incoming-q35.json', step: 0 }, { transcript: 'vm/vm-r-pflash-reopen-ro-rw-q35.json', step: 2 }, { transcript: 'vm/vm-r-pflash-snapshot-overlays-pc.json', step: 2 }, { transcript: 'vm/vm-r-pflash-throttle-quorum-pc.json', step: 4 }, { transcript: 'vm/vm-r-pflash-media-verbs-pc.json', step: 9 }, { transcript: 'vm/vm-r-pflash-savevm-raw-vars-pc.json', step: 7 }, { transcript: 'vm/vm-r-nvme-ns-nsid-allocated-qom.json', step: 3 }, { transcript: 'vm/vm-r-pflash-internal-snapshots-stats-q35.json', step: 4 }, { transcript: 'vm/vm-r-pflash-qemu-io-info-pc.json', step: 6 }, { transcript: 'vm/vm-r-pflash-set-iothread-pc.json', step: 4 }, { transcript: 'vm/vm-r-pflash-hotplug-disk-on-vars-pc.json', step: 3 }, { transcript: 'vm/vm-r-pflash-reopen-swap-file-pc.json', step: 5 }, { transcript: 'vm/vm-r-hmp-drive-add-pflash-node-info.json', step: 7 }, { transcript: 'vm/vm-r-nvme-ns-hotplug-refused.json', step: 6 }, { transcript: 'vm/vm-r-pc-pflash-floppy-migrate.json', step: 1 }, { transcript: 'vm/vm-r-ide-units-unset-pc.json', step: 2 }, { transcript: 'vm/vm-r-postmigrate-hmp-change-cd-quorum.json', step: 2 }, { transcript: 'vm/vm-r-throttle-group-flash-and-disks-info.json', step: 8 },
      // stop 40 (wt-qrep): query replies (replies: true) — BlockDeviceInfo.active, zone append counters, detached-header, actively-synced
      { transcript: 'qr-qcow2-defaults.json', step: 1 }, { transcript: 'qr-raw-null.json', step: 5 }, { transcript: 'qr-luks-image.json', step: 2 }, { transcript: 'qr-job-mirror-ready.json', step: 5 },
      // stop 40 (lead): the replies of the dirty-bitmap count and inline-child filename transcripts (BlockDeviceInfo.active)
      { transcript: 'bitmap-count-backup-modes.json', step: 7 }, { transcript: 'bitmap-count-mirror-target.json', step: 7 }, { transcript: 'json-filename-inline-child-order.json', step: 1 },
      // each qr transcript's first step where the recordings differ (BlockDeviceInfo.active; the VM ones: query-block's)
      { transcript: 'qr-bitmaps-kinds.json', step: 6 }, { transcript: 'qr-bitmaps-raw-file.json', step: 5 }, { transcript: 'qr-blkdebug-json-filename.json', step: 2 }, { transcript: 'qr-cache-detect-zeroes-ro.json', step: 3 }, { transcript: 'qr-chain-backing-null.json', step: 1 }, { transcript: 'qr-chain-backing-override.json', step: 2 }, { transcript: 'qr-chain-raw-backing.json', step: 1 }, { transcript: 'qr-chain-snapshot-overlay.json', step: 3 }, { transcript: 'qr-chain-subdir-relative.json', step: 1 }, { transcript: 'qr-chain-three.json', step: 1 }, { transcript: 'qr-exports-nbd.json', step: 6 }, { transcript: 'qr-exports-vhost-user-blk.json', step: 6 }, { transcript: 'qr-filters-cor-preallocate-compress.json', step: 3 }, { transcript: 'qr-internal-snapshots.json', step: 3 }, { transcript: 'qr-iothreads.json', step: 8 }, { transcript: 'qr-job-create-concluded.json', step: 7 }, { transcript: 'qr-job-stream-concluded.json', step: 6 }, { transcript: 'qr-qcow2-compat-010.json', step: 1 }, { transcript: 'qr-qcow2-data-file.json', step: 3 }, { transcript: 'qr-qcow2-encrypt-luks.json', step: 2 }, { transcript: 'qr-qcow2-extended-l2.json', step: 1 }, { transcript: 'qr-qcow2-lazy-refcounts-4k.json', step: 1 }, { transcript: 'qr-qcow2-refcount-bits-1.json', step: 2 }, { transcript: 'qr-qcow2-zstd.json', step: 1 }, { transcript: 'qr-qed-vdi-vpc.json', step: 3 }, { transcript: 'qr-raw-null.json', step: 3 }, { transcript: 'qr-throttle-filter.json', step: 3 }, { transcript: 'qr-vmdk-monolithic.json', step: 2 }, { transcript: 'qr-write-threshold.json', step: 3 }, { transcript: 'vm/qr-vm-devices-throttled.json', step: 5 }, { transcript: 'vm/qr-vm-iothread-cdrom.json', step: 5 },
      // stop 43 (wt-vm25): the flash and cold-object replies of the vm-q set (query-block's and query-named-block-nodes' BlockDeviceInfo.active)
      { transcript: 'vm/vm-q-object-throttle-group-good-then-use.json', step: 0 }, { transcript: 'vm/vm-q-pflash-drive-q35.json', step: 0 },
      { transcript: 'vm/vm-q-pflash-drive-snapshot-sync-pc.json', step: 0 }, { transcript: 'vm/vm-q-pflash-machine-pc.json', step: 0 },
      { transcript: 'vm/vm-q-pflash-machine-readonly-q35.json', step: 0 }, { transcript: 'vm/vm-q-pflash-share-node-with-disk.json', step: 0 },
      // stop 42 (wt-fz22): the fresh fuzz findings' regression transcripts (BlockDeviceInfo.active, 10.0's zone append counters, blockdev-set-active)
      { transcript: 'fuzz-vmdk-create-refused-leaks-file-ref.json', step: 4 }, { transcript: 'vm/fuzz-vm-drive-del-held-reports-errors.json', step: 4 },
      { transcript: 'vm/fuzz-vm-hmp-commit-inactive-node.json', step: 1 }, { transcript: 'vm/fuzz-vm-qemu-io-qdev-virtio-proxy.json', step: 9 },
      // stop 41 (wt-combo13): the twelfth held-out set's query replies after reopens (BlockDeviceInfo.active) and 10.0's discard-no-unref
      ...([['b2-replies-backing-change', 4], ['b2-replies-cache-detect-zeroes', 3], ['b2-replies-list-rollback', 3], ['b2-replies-nbd-client', 5], ['b2-replies-null-and-blkdebug', 4], ['b2-replies-qcow2-options', 2], ['b2-replies-raw-slice', 4], ['b3-data-file-child-ref', 7], ['b3-null-latency-and-sizes', 7], ['b3-raw-offset-file-swap-sizes', 9], ['qcow2-pass-discard', 5]] as const).map(([t, step]) => ({ transcript: `combo-c12-${t}.json`, step })),
      // stop 39 (wt-vm21, the eleventh VM set)
      { transcript: 'vm/vm-m-migrate-blk-inc.json', step: 0 }, { transcript: 'vm/vm-m-set-active-devices.json', step: 0 }, { transcript: 'vm/vm-m-set-active-jobs-exports.json', step: 2 }, { transcript: 'vm/vm-m-set-active-media.json', step: 0 },{ transcript: 'vm/vm-i-migrate-uris-args.json', step: 1 }, { transcript: 'vm/vm-i-migrate-uris-args.json', step: 2 }, { transcript: 'iotests/tests-d-mirror-change-copy-mode.json', step: 10 }, { transcript: 'iotests/tests-d-mirror-change-copy-mode-b.json', step: 7 }, { transcript: 'iotests/tests-d-backup-discard-source.json', step: 5 },
      // the sixth VM held-out set (wt-vm16): blockdev-set-active before device_add on an inactive node
      { transcript: 'vm/vm-h-drive-inactive.json', step: 2 },
      // stop 38 (wt-luks2): luks's detached header (7.2: "Parameter 'header' is unexpected")
      { transcript: 'luks2-detached-header-open.json', step: 4 },
      // blockdev-add's active, blockdev-set-active, allow-inactive (inactive nodes: graph/inactive.ts)
      // stop 36 (wt-fz17): a failed inactivation's bottom half, qcow2_inactivate's persistent bitmaps
      { transcript: 'fuzz-set-inactive-preallocate-drop-resize-bh.json', step: 1 }, { transcript: 'fuzz-set-inactive-stores-persistent-bitmaps.json', step: 4 },
      // stop 38 (wt-fz18): a failed reopen of a preallocate filter to read-only, then blockdev-set-active
      { transcript: 'fuzz-preallocate-failed-reopen-ro-keeps-drop.json', step: 1 },
      { transcript: 'iotests/tests-d-inactive-node-nbd-jobs.json', step: 1 }, { transcript: 'iotests/tests-d-inactive-node-nbd-parents.json', step: 8 }, { transcript: 'iotests/tests-d-inactive-node-nbd-exports.json', step: 15 },
      // wt-iote's blind ports: iotests 151 (block-job-change: in ready, a switch to write-blocking, back
      // to background (not implemented), a missing job, a concluded job), 056 (#5 #6 discard-source, #13 #14
      // min-cluster-size 128 KiB, #29-#31 its refusals, #45 stream's and #50 commit's backing-mask-protocol)
      // and 139 (#0 #2 nbd-server-start's member order, #3 handshake-max-seconds, #6 allow-inactive)
      ...[5, 6, 7, 17].flatMap((step) => [{ transcript: 'iotests/151-e-copy-mode-background.json', step }, { transcript: 'iotests/151-e-copy-mode-write-blocking.json', step }]),
      // wt-iotf: the abort-33 boundary inactivates and activates its node (blockdev-set-active: 7.2 has no such command)
      { transcript: 'abort-33-change-backing-file-reactivated-survives.json', step: 2 },
      ...[5, 6, 13, 14, 29, 30, 31, 45, 50].map((step) => ({ transcript: 'iotests/056-e-backup-options-10.json', step })),
      ...[0, 2, 3, 6].map((step) => ({ transcript: 'iotests/139-e-export-options-10.json', step })),
      // fuzz 4238152659 / 1438784146 (wt-fz14): blockdev-set-active before a refused export
      { transcript: 'fuzz-refused-export-keeps-activation.json', step: 1 },
      // stop 35 (wt-combo7): the sixth held-out set, block-job-change of a commit and of a stream (10.0: 'Job type does not support change')
      { transcript: 'combo-c6-job-commit-intermediate-every-verb.json', step: 19 }, { transcript: 'combo-c6-job-stream-base-bottom-verbs.json', step: 34 },
      // stop 36 (wt-combo8): qcow2's discard-no-unref (since 8.1): unexpected on 7.2, qcow2_update_options_prepare's version check on 10.0
      { transcript: 'combo-c7-add-qcow2-open-options.json', step: 8 },
      // stop 37 (wt-luks): a secret's `loaded` (deprecated, read-only): 7.2's object_property_set "Property 'secret.loaded' is not
      // writable", gone from 10.0's SecretCommonProperties ("Parameter 'loaded' is unexpected")
      { transcript: 'luks-secret-objects.json', step: 17 },
      // fuzz 406768254 (lead, stop 33): blockdev-set-active inactivates the source (and back), so drive-backup's target opens inactive
      ...[2, 4, 5].map((step) => ({ transcript: 'fuzz-drive-backup-target-inherits-inactive.json', step })),
      // fuzz 4044750412 (wt-fz15): blockdev-set-active before a failed snapshot transaction that leaves its overlay inactive, and after
      ...[2, 4].map((step) => ({ transcript: 'fuzz-failed-snapshot-leaves-overlay-inactive.json', step })),
      // fuzz 3406071331 and VM fuzz 2026121037 (wt-inact35): a failed inactivation keeps what it did (commands/blockdev-set-active.ts)
      ...[4, 6, 9].map((step) => ({ transcript: 'fuzz-inactivate-all-keeps-partial.json', step })),
      { transcript: 'vm/fuzz-vm-inactivate-all-keeps-partial.json', step: 4 },
      // a failed activation keeps the nodes it activated (graph/inactive.ts bdrvActivate)
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((step) => ({ transcript: 'fuzz-activate-all-keeps-partial.json', step })),
      // a quorum's bdrv_activate, by blockdev-set-active and by block-export-add, keeps the children it activated
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((step) => ({ transcript: 'fuzz-activate-quorum-keeps-partial.json', step })),
      // a scsi-hd over an inactive node (blk_set_perm only stores disabled perms), its blk_root_activate refused by a writable export
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((step) => ({ transcript: 'vm/vm-inactive-device-export-activate.json', step })),
      // qmp_cont's bdrv_activate_all (migration_block_activate) brings back what blockdev-set-active inactivated
      ...[1, 3, 7, 8, 9, 10, 11, 12, 13, 14].map((step) => ({ transcript: 'vm/vm-cont-activates-all.json', step })),
      // the boundary of fuzz 3705470636 (abort-34, wt-fz15): blockdev-set-active over two file nodes of one image
      { transcript: 'abort-34-set-inactive-file-and-backing-one-node-two-nodes-survives.json', step: 3 },
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-b2-add-inactive-open-stored-names.json', step: 4 }, { transcript: 'combo-c8-b2-export-allow-inactive-bitmaps.json', step: 4 }, { transcript: 'combo-c8-set-active-bitmaps-export-job.json', step: 7 }, { transcript: 'combo-c8-set-active-bitmaps.json', step: 4 },
      // stop 41 (wt-vm23): the vm-o reply set's first 7.2/10.0 differences
      { transcript: 'vm/vm-o-blockstats-trees.json', step: 9 }, { transcript: 'vm/vm-o-change-medium-modes.json', step: 5 }, { transcript: 'vm/vm-o-error-policy-io-status.json', step: 12 }, { transcript: 'vm/vm-o-hotplug-cycle-replies.json', step: 9 }, { transcript: 'vm/vm-o-ide-cold-fields.json', step: 0 }, { transcript: 'vm/vm-o-incoming-defer-replies.json', step: 0 }, { transcript: 'vm/vm-o-insert-remove-chain.json', step: 6 }, { transcript: 'vm/vm-o-iothread-devices-replies.json', step: 4 }, { transcript: 'vm/vm-o-latency-histogram-stats.json', step: 3 }, { transcript: 'vm/vm-o-legacy-drive-devices.json', step: 4 }, { transcript: 'vm/vm-o-migration-inactive-replies.json', step: 9 }, { transcript: 'vm/vm-o-nvme-fields.json', step: 4 }, { transcript: 'vm/vm-o-pc-floppy-fields.json', step: 0 }, { transcript: 'vm/vm-o-scsi-hd-cd-fields.json', step: 7 }, { transcript: 'vm/vm-o-stop-reset-replies.json', step: 8 }, { transcript: 'vm/vm-o-throttle-fields.json', step: 6 }, { transcript: 'vm/vm-o-throttle-groups-objects.json', step: 10 }, { transcript: 'vm/vm-o-tray-eject-force.json', step: 5 }, { transcript: 'vm/vm-o-usb-storage-fields.json', step: 5 }, { transcript: 'vm/vm-o-virtio-blk-fields.json', step: 4 },
      { transcript: 'vm/vm-o-b2-account-props.json', step: 6 }, { transcript: 'vm/vm-o-b2-bitmaps-threshold-devices.json', step: 9 }, { transcript: 'vm/vm-o-b2-detect-zeroes-reopen-devices.json', step: 6 }, { transcript: 'vm/vm-o-b2-drive-media-by-name.json', step: 3 }, { transcript: 'vm/vm-o-b2-floppy-change-medium.json', step: 1 }, { transcript: 'vm/vm-o-b2-legacy-throttle-group.json', step: 5 }, { transcript: 'vm/vm-o-b2-named-nodes-devices.json', step: 8 },
      // stop 42 (wt-vm24): the cold -drive set's first 7.2/10.0 differences (query-block's and query-named-block-nodes' 'active')
      ...([['cache-aio-modes', 0], ['cdrom-tray-q35', 0], ['copy-on-read-detect-zeroes', 0], ['device-on-cold-drive', 4], ['drive-add-after-cold', 4], ['error-actions', 0], ['floppy-pc', 0], ['format-probe-raw-qcow2', 0], ['ide-pc-bus-unit', 0], ['ide-q35-ports', 0], ['json-filename', 0], ['mixed-blockdev-drive', 0], ['none-then-devices', 0], ['readonly-drives', 0], ['reopen-drive-nodes', 1], ['snapshot-sync-by-device', 3], ['throttle-drives', 0], ['virtio-pc-ids', 0], ['virtio-q35-probe', 0], ['virtio-unplug-refused', 3], ['b2-drive-add-snapshot', 3], ['b2-pc-ide-runtime-units', 5], ['b2-q35-ide-runtime-units', 5], ['b2-snapshot-on-virtio', 0], ['b2-snapshot-readonly', 0]] as const).map(([t, step]) => ({ transcript: `vm/vm-p-${t}.json`, step })),
      // stop 41 (replies): query-named-block-nodes' 'active' member (10.0)
      { transcript: 'fuzz-blklogwrites-strong-options-in-filename.json', step: 2 },
      // stop 41 (replies): query-named-block-nodes' 'active' member (10.0) after the failed snapshot transaction
      { transcript: 'fuzz-failed-snapshot-reheads-moved-children.json', step: 4 },
      // stop 41 (replies): query-named-block-nodes of a streamOptimized vmdk ('active', 10.0)
      { transcript: 'fuzz-vmdk-create-stream-optimized-type.json', step: 4 },
      // stop 41 (wt-qr2): each qr2 transcript's first step where the recordings differ (BlockDeviceInfo.active, BlockDeviceStats' zone append counters), and the two stop-40 qr transcripts landed now
      { transcript: 'qr2-backup-full-raw-compress.json', step: 4 }, { transcript: 'qr2-backup-full-raw-qcow2.json', step: 4 }, { transcript: 'qr2-backup-sparse-qcow2-raw-bitmap.json', step: 5 }, { transcript: 'qr2-backup-sparse-qcow2-top.json', step: 5 }, { transcript: 'qr2-backup-sparse-raw-qcow2-compress.json', step: 4 }, { transcript: 'qr2-backup-sparse-raw-qcow2.json', step: 4 }, { transcript: 'qr2-backup-zero-data-detect-zeroes.json', step: 4 }, { transcript: 'qr2-bitmap-store-granularities.json', step: 6 }, { transcript: 'qr2-bitmap-store-remove.json', step: 6 }, { transcript: 'qr2-blockstats-backup.json', step: 4 }, { transcript: 'qr2-commit-mid-into-raw.json', step: 6 }, { transcript: 'qr2-create-file-prealloc-modes.json', step: 12 }, { transcript: 'qr2-create-qcow2-prealloc-falloc.json', step: 8 }, { transcript: 'qr2-create-qcow2-prealloc-full.json', step: 8 }, { transcript: 'qr2-create-qcow2-prealloc-metadata-4k.json', step: 8 }, { transcript: 'qr2-create-qcow2-prealloc-metadata.json', step: 8 }, { transcript: 'qr2-create-qcow2-prealloc-off-2m-cluster.json', step: 8 }, { transcript: 'qr2-nbd-backup-into-export.json', step: 7 }, { transcript: 'qr2-resize-qcow2-with-data.json', step: 2 }, { transcript: 'qr2-resize-raw-and-file.json', step: 4 }, { transcript: 'qr2-stream-qcow2-backing.json', step: 4 }, { transcript: 'qr2-stream-sparse-raw-backing.json', step: 3 }, { transcript: 'qr-qcow2-persistent-bitmaps-reopened.json', step: 5 }, { transcript: 'qr-resize-grown.json', step: 4 },
      // stop 42 (wt-qr3): each qr3 transcript's first step where the recordings differ (BlockDeviceInfo.active)
      { transcript: 'qr3-bitmap-add-remove-cycles.json', step: 4 }, { transcript: 'qr3-bitmap-clear-then-store.json', step: 6 }, { transcript: 'qr3-bitmap-dirty-2m-cluster-stored.json', step: 6 }, { transcript: 'qr3-bitmap-dirty-4k-cluster-stored.json', step: 6 }, { transcript: 'qr3-bitmap-dirty-by-backup-stored.json', step: 5 }, { transcript: 'qr3-bitmap-merge-into-persistent.json', step: 10 }, { transcript: 'qr3-bitmap-reopen-ro-rw-cycles.json', step: 3 }, { transcript: 'qr3-bitmap-reopen-two-granularities.json', step: 4 }, { transcript: 'qr3-bitmap-store-after-snapshot.json', step: 4 }, { transcript: 'qr3-cluster-1k-backup-growth.json', step: 4 }, { transcript: 'qr3-cluster-2m-backup.json', step: 4 }, { transcript: 'qr3-cluster-512-refblock-growth.json', step: 1 }, { transcript: 'qr3-cluster-512-refcount-64-growth.json', step: 1 }, { transcript: 'qr3-cluster-512-snapshot-growth.json', step: 2 }, { transcript: 'qr3-compress-4k-clusters.json', step: 4 }, { transcript: 'qr3-create-parallels-qed.json', step: 4 }, { transcript: 'qr3-create-vhdx-sizes.json', step: 3 }, { transcript: 'qr3-create-vmdk-subformats.json', step: 3 }, { transcript: 'qr3-create-vpc-subformats.json', step: 3 }, { transcript: 'qr3-discard-backup-zero-detect-unmap.json', step: 4 }, { transcript: 'qr3-resize-shrink-then-backup.json', step: 4 }, { transcript: 'qr3-resize-shrink-with-data.json', step: 2 }, { transcript: 'qr3-snap-4k-clusters-l2-regions.json', step: 2 }, { transcript: 'qr3-snap-compressed-backup.json', step: 5 }, { transcript: 'qr3-snap-data-create-delete.json', step: 2 }, { transcript: 'qr3-snap-delete-all-then-create.json', step: 5 }, { transcript: 'qr3-snap-empty-image.json', step: 2 }, { transcript: 'qr3-snap-long-names-512-clusters.json', step: 7 }, { transcript: 'qr3-snap-refcount-bits-1.json', step: 2 }, { transcript: 'qr3-snap-refcount-bits-2.json', step: 3 }, { transcript: 'qr3-snap-refcount-bits-64.json', step: 4 }, { transcript: 'qr3-snap-resize-grow.json', step: 3 }, { transcript: 'qr3-snap-then-backup-cow.json', step: 5 }, { transcript: 'qr3-snap-three-delete-middle-reuse.json', step: 4 }, { transcript: 'qr3-snapshot-after-bitmap-store.json', step: 5 },
      // stop 42 (wt-qr3): batch 2's first differing steps
      { transcript: 'qr3-b2-bitmap-dirty-then-shrink-store.json', step: 7 }, { transcript: 'qr3-b2-bitmap-remove-reuse-then-snapshot.json', step: 8 }, { transcript: 'qr3-b2-bitmap-two-chunks-stores.json', step: 6 }, { transcript: 'qr3-b2-compress-then-zero-unmap.json', step: 5 }, { transcript: 'qr3-b2-detect-zeroes-pass-request-off.json', step: 8 }, { transcript: 'qr3-b2-file-node-discard-ignore.json', step: 8 }, { transcript: 'qr3-b2-nbd-backup-into-snapshotted-export.json', step: 8 }, { transcript: 'qr3-b2-other-formats-data-and-ro.json', step: 3 }, { transcript: 'qr3-b2-pass-discard-options.json', step: 13 }, { transcript: 'qr3-b2-refblock-growth-with-snapshot-512.json', step: 4 }, { transcript: 'qr3-b2-resize-grow-l1-then-backup.json', step: 3 }, { transcript: 'qr3-b2-shrink-4k-across-regions.json', step: 2 }, { transcript: 'qr3-b2-snapshot-delete-then-bitmap-store.json', step: 4 }, { transcript: 'qr3-b2-snapshot-table-grows.json', step: 13 },
      // stop 41 (lead): vm23's left-out stream/commit scenario, landed with the header write's wr_highest_offset (query-block's 'active', 10.0)
      { transcript: 'vm/vm-o-job-commit-stream-devices.json', step: 4 },
      // stop 41 (lead): creates that only write, and the file node's wr_highest_offset (BlockDeviceStats' zone append counters, 10.0)
      { transcript: 'create-only-writes-wr-highest.json', step: 56 },
      // stop 41 (lead): a refused nvme's BlockBackend listed under the unfinalized device's id (query-block's 'active' and the file's format-specific, 10.0)
      { transcript: 'vm/vm-nvme-refused-leaks-listed-bb.json', step: 2 },
      // stop 42 (wt-combo14): the thirteenth held-out set, transactions: the first step each pair differs
      { transcript: 'abort-42-txn-merge-empty-list-then-fails-survives.json', step: 5 }, { transcript: 'combo-c13-abort-rolls-back-bitmaps.json', step: 3 }, { transcript: 'combo-c13-backup-bitmap-refusals.json', step: 10 }, { transcript: 'combo-c13-backup-fails-nth-action.json', step: 11 }, { transcript: 'combo-c13-backup-then-abort-events.json', step: 8 }, { transcript: 'combo-c13-backup-with-new-bitmap.json', step: 7 }, { transcript: 'combo-c13-bitmap-add-duplicate-in-one.json', step: 3 }, { transcript: 'combo-c13-bitmap-add-errors-roll-back.json', step: 7 }, { transcript: 'combo-c13-bitmap-clear-with-contents.json', step: 6 }, { transcript: 'combo-c13-bitmap-enable-disable-toggle.json', step: 4 }, { transcript: 'combo-c13-bitmap-merge-forms.json', step: 6 }, { transcript: 'combo-c13-bitmap-merge-granularity-and-new.json', step: 6 }, { transcript: 'combo-c13-bitmap-on-exported-node.json', step: 12 }, { transcript: 'combo-c13-bitmap-persistent-qcow2-abort.json', step: 2 }, { transcript: 'combo-c13-bitmap-remove-then-readd.json', step: 3 }, { transcript: 'combo-c13-bitmaps-iothread-nodes.json', step: 5 }, { transcript: 'combo-c13-bitmaps-on-filters.json', step: 7 }, { transcript: 'combo-c13-drive-backup-sync-none-and-top.json', step: 5 }, { transcript: 'combo-c13-everything-in-one.json', step: 9 }, { transcript: 'combo-c13-grouped-drive-backup-created-files.json', step: 4 }, { transcript: 'combo-c13-grouped-fail-at-prepare.json', step: 13 }, { transcript: 'combo-c13-internal-snapshot-abort.json', step: 2 }, { transcript: 'combo-c13-internal-snapshot-exported-and-iothread.json', step: 7 }, { transcript: 'combo-c13-internal-snapshot-refusals.json', step: 14 }, { transcript: 'combo-c13-snapshot-exported-node.json', step: 6 }, { transcript: 'combo-c13-snapshot-sync-then-internal-and-bitmap.json', step: 2 }, { transcript: 'combo-c13-snapshot-then-backup-overlay.json', step: 7 }, { transcript: 'combo-c13-snapshot-then-bitmap-on-overlay.json', step: 3 },
      // stop 42 (lead): the vmdk reopened onto a qcow2 file's query (BlockDeviceInfo.active)
      { transcript: 'fuzz-vmdk-reopen-file-keeps-extents.json', step: 3 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — the query replies' BlockDeviceInfo.active, and 10.0's allow-inactive / handshake-max-seconds
      ...([['b2-allow-inactive-export', 2], ['b2-commit-frozen-exported-base', 11], ['b2-export-ro-in-frozen-stream-chain', 12], ['b2-five-node-chain-exports', 11], ['b2-fuse-growable-resize', 5], ['b2-fuse-iothread', 3], ['b2-hard-del-client-writable-shutting-down', 8], ['b2-iothread-export-nonfixed-silent', 5], ['b2-iothread-exported-reopen-backing', 6], ['b2-iothread-pinned-chain-stream', 6], ['b2-legacy-nbd-server-add-bitmap', 6], ['b2-lock-ro-export-other-daemon', 11], ['b2-nbd-server-start-options', 1], ['b2-nbd-server-stop-with-client', 8], ['b2-resize-exported-with-client', 5], ['b2-set-iothread-exported-refusals', 11], ['b2-snapshot-internal-exported', 5], ['b2-snapshot-sync-exported-iothread', 6], ['b2-two-exports-perm-mix', 6], ['b2-vhost-writable-ro-node-iothread', 12], ['b3-vduse-blk-allow-inactive', 1], ['b3-vduse-blk-iothread', 3], ['b3-vduse-blk-refusal-order', 13], ['del-resize-exported', 10], ['freeze-exported-in-stream-chain', 11], ['iothread-export-set-iothread', 5], ['nbd-bitmap-in-backing', 7], ['nbd-bitmaps-busy', 6], ['nbd-writable-ro-node-reopen', 11], ['reopen-backing-under-exported-overlay', 5], ['reopen-file-node-below-export', 9], ['reopen-list-fails-partway-export', 5], ['reopen-raw-file-swap-under-export', 6], ['snapshot-exported-node', 6], ['stream-base-exported', 8], ['stream-intermediate-exported', 11]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
      // stop 43 (wt-fz23): the fuzz findings' regression transcripts, the first step each pair differs
      { transcript: 'fuzz-backup-sync-top-progress-allocated.json', step: 1 }, { transcript: 'vm/fuzz-vm-cancelled-ready-mirror-keeps-progress.json', step: 6 },
      // stop 44 (wt-combo16): the fifteenth held-out set's first differing step — the query replies' BlockDeviceInfo.active (and the file nodes' format-specific after it), query-blockstats' zone_append counters
      ...([['amend-exported-node-reopen', 20], ['b2-backup-compress-target-filter-export', 9], ['b2-chain4-reopen-list-all-ro-export-bad-option', 7], ['b2-create-onto-file-below-export', 15], ['b2-reopen-backing-onto-filters-then-stream', 7], ['b2-reopen-file-swap-blkdebug-exported', 5], ['b2-snapshot-of-filter-and-below-exported', 8], ['b2-stream-blkdebug-mid-error-stop-resume', 13], ['b2-stream-through-throttle-layer', 9], ['b2-throttle-two-depths-group-swap-iothread', 10], ['b2-vhost-iothread-snapshot-then-active-commit', 4], ['b3-amend-iothread-and-under-job', 17], ['b3-blockstats-exported-chain-jobs', 12], ['b3-commit-into-ro-base-exported', 6], ['b3-reopen-list-move-backing-between-overlays', 6], ['b3-snapshot-overlay-other-iothread-fixed', 10], ['backing-null-mid-chain-stream-refusals', 9], ['chain5-export-iothread-stream', 9], ['chain5-throttle-mid-reopen-list', 7], ['commit-below-cor-export', 8], ['commit-states-frozen-reopen-each', 20], ['create-overlay-snapshot-mirror-top', 13], ['fuse-export-reopen-list-backing-null', 4], ['preallocate-compress-depths-reopen-export', 7], ['quorum-change-under-exported-overlay', 12], ['snapshot-overlay-exported-backing-swap', 10], ['stream-frozen-chain5-reopen-lists', 6], ['two-daemons-client-backing-stream', 15], ['vhost-fixed-iothread-commit-frozen', 7]] as const).map(([t, step]) => ({ transcript: `combo-c15-${t}.json`, step })),
      // stop 44 (wt-fz24): the internal snapshot undone by its transaction, counted in query-blockstats (BlockDeviceStats' zone append counters)
      { transcript: 'fuzz-txn-internal-snapshot-abort-counts-io.json', step: 2 }, { transcript: 'vm/fuzz-vm-txn-internal-snapshot-abort-counts-io.json', step: 4 },
      // stop 44 (wt-fz24): a vmdk's parent hint and its backing format (query-named-block-nodes' BlockDeviceInfo.active)
      { transcript: 'fuzz-vmdk-parent-hint-backing-format.json', step: 24 },
      // stop 44 (wt-fz24): qcow2 created over null nodes (query-named-block-nodes' BlockDeviceInfo.active)
      { transcript: 'fuzz-create-qcow2-over-null-fails-open.json', step: 37 },
      // stop 44 (wt-fz24): a stream whose backing ends early (query-named-block-nodes' BlockDeviceInfo.active)
      { transcript: 'fuzz-stream-backing-shorter-ends-at-once.json', step: 5 },
    ],
    modelled: true,
  },
  'block-resize-busy-text': {
    what: 'block_resize of a node with an op blocker (a job, or a backing parent): the error text',
    '7.2': {
      fn: 'qmp_block_resize: bdrv_op_is_blocked(bs, BLOCK_OP_TYPE_RESIZE, NULL) then error_setg(QERR_DEVICE_IN_USE, device) ("(null)" when only node-name was given)',
      value: (({ device }) => `Device '${device ?? '(null)'}' is in use`) as ResizeBusy,
    },
    '10.0': {
      fn: 'qmp_block_resize: bdrv_op_is_blocked(bs, BLOCK_OP_TYPE_RESIZE, errp): "Node \'%s\' is busy: " + the first blocker\'s reason (bdrv_get_device_or_node_name)',
      value: (({ node, blocker }) => `Node '${node}' is busy: ${blocker}`) as ResizeBusy,
    },
    proof: [{ transcript: 'fuzz-resize-in-use.json', step: 2 }, { transcript: 'combo-c6-job-frozen-links-every-attack.json', step: 23 }, { transcript: 'job-errors-72.json', step: 12 }, { transcript: 'job-errors-72.json', step: 13 }, { transcript: 'job-errors-72.json', step: 15 }, { transcript: 'vm/vm-e-resize-filters-jobs.json', step: 12 }, { transcript: 'vm/vm-g-usb-jobs-media.json', step: 19 }],
    modelled: true,
  },
  'active-commit-abort-base-ro': {
    what: 'an active commit (commit_active_start over a read-only base) that is cancelled: is the base made read-only again?',
    '7.2': {
      fn: 'commit_active_start flips the base read-write; mirror_exit_common never flips it back (only error_restore_flags when mirror_start_job fails)',
      value: false,
    },
    '10.0': {
      fn: 'mirror_exit_common: if (abort && s->base_ro && !bdrv_is_read_only(target_bs)) bdrv_reopen_set_read_only(target_bs, true, NULL), after mirror_top is dropped (MirrorBlockJob.base_ro set by mirror_start_job from commit_active_start)',
      value: true,
    },
    proof: [{ transcript: 'job-active-commit-ro-base.json', step: 4 }, { transcript: 'fuzz-active-commit-short-base.json', step: 3 },
      // stop 37 (wt-vm18): a cancelled active commit under a throttled scsi-hd (vm-j-snapshot-throttled-devices)
      ...[24, 25, 26, 27, 28, 29].map((step) => ({ transcript: 'vm/vm-j-snapshot-throttled-devices.json', step }))],
    modelled: true,
  },
  'mirror-dirty-bitmap': {
    what: "a mirror's (or active commit's) own anonymous dirty bitmap: which node holds it, and whether it is disabled",
    '7.2': {
      fn: 'mirror_start_job: bdrv_create_dirty_bitmap(bs, granularity, NULL) on the source; disabled only for copy-mode write-blocking (bdrv_disable_dirty_bitmap)',
      value: (({ writeBlocking }) => ({ on: 'source', disabled: writeBlocking })) as MirrorBitmap,
    },
    '10.0': {
      fn: 'mirror_start_job: bdrv_create_dirty_bitmap(s->mirror_top_bs, granularity, NULL), then bdrv_disable_dirty_bitmap always (mirror_top_do_pwritev sets the bits itself, so the mode can change while the job runs)',
      value: (() => ({ on: 'filter', disabled: true })) as MirrorBitmap,
    },
    proof: [
      // stop 44 (wt-vm26): the sixteenth VM set vm-r (mirrors and active commits under devices and the flash)
      { transcript: 'vm/vm-r-cd-change-medium-under-mirror.json', step: 1 }, { transcript: 'vm/vm-r-device-add-on-job-nodes.json', step: 2 }, { transcript: 'vm/vm-r-device-del-under-active-commit.json', step: 0 }, { transcript: 'vm/vm-r-hmp-jobs-drive-del-commit.json', step: 3 }, { transcript: 'vm/vm-r-pflash-migrate-mirror-pc.json', step: 1 }, { transcript: 'vm/vm-r-pflash-mirror-unplug-throttle-pc.json', step: 0 }, { transcript: 'vm/vm-r-stop-migrate-throttled-devices.json', step: 3 }, { transcript: 'vm/vm-r-throttle-under-mirror-pivot.json', step: 1 }, { transcript: 'vm/vm-r-hmp-job-verbs-media.json', step: 0 }, { transcript: 'vm/vm-r-hotplug-device-del-under-ready-mirror.json', step: 2 }, { transcript: 'vm/vm-r-pflash-mirror-firmware-pivot-pc.json', step: 0 }, { transcript: 'vm/vm-r-nvme-namespaces-mirror-resize.json', step: 1 }, { transcript: 'vm/vm-r-nvme-namespaces-snapshot-commit.json', step: 3 }, { transcript: 'vm/vm-r-removable-scsi-hd-media-under-jobs.json', step: 1 }, { transcript: 'vm/vm-r-virtio-blk-iothread-on-flash-node-pc.json', step: 1 }, { transcript: 'vm/vm-r-stop-hmp-mirror-migrate-cancel.json', step: 1 }, { transcript: 'vm/vm-r-usb-storage-pflash-q35-jobs.json', step: 1 },
      // stop 40 (wt-vm22): mirrors and an active commit of legacy drives (the twelfth VM set; stop 39's drive_mirror on a drive)
      { transcript: 'vm/vm-n-commit-legacy.json', step: 11 }, { transcript: 'vm/vm-n-drive-del-busy.json', step: 3 },
      { transcript: 'vm/vm-l-hmp-drive-mirror-backup.json', step: 12 },
      // stop 40 (wt-qrep): the qr jobs' starts
      { transcript: 'qr-job-mirror-ready.json', step: 2 }, { transcript: 'qr-job-commit-active-ready.json', step: 1 }, 
      // stop 39 (wt-vm21, the eleventh VM set)
      { transcript: 'vm/vm-m-migrate-commit-jobs.json', step: 0 }, { transcript: 'vm/vm-m-migrate-mirror-ready.json', step: 0 },
      // stop 38 (wt-vm19): the ninth VM held-out set's drive-mirrors, blockdev-mirrors and active commits under devices (each transcript's first step that differs)
      ...([['change-backing-file-jobs', 26], ['default-job-ids', 22], ['drive-jobs-stop-cont', 5], ['drive-mirror-cd-media', 2], ['drive-mirror-filters-devices', 8], ['drive-mirror-iothread', 3], ['drive-mirror-modes-chain', 7], ['drive-mirror-qdev-ids', 4], ['drive-target-names', 11], ['job-pause-resume-devices', 6], ['mirror-active-write-blocking', 5], ['pc-drive-jobs', 2], ['stream-commit-filenames', 19], ['hmp-block-jobs', 13]] as const).map(([s, step]) => ({ transcript: `vm/vm-k-${s}.json`, step })),
      // stop 37 (wt-vm18): the eighth VM held-out set's mirrors and active commits (a CD's medium, a device's disk, a ready mirror over a migration)
      ...Array.from({ length: 19 }, (_, i) => 8 + i).map((step) => ({ transcript: 'vm/vm-j-eject-under-jobs.json', step })), ...[12, 13, 14].map((step) => ({ transcript: 'vm/vm-j-jobs-stop-cont-speed.json', step })),
      ...[12, 13, 14, 15].map((step) => ({ transcript: 'vm/vm-j-migrate-job-kinds.json', step })), ...[16, 17, 22, 23].map((step) => ({ transcript: 'vm/vm-j-snapshot-throttled-devices.json', step })),
      // stop 36 (wt-combo8): the seventh held-out set, mirrors and active commits onto vdi, vhdx, qed, vmdk and blkdebug/blklogwrites/throttle/quorum stacks
      ...['aio-export-iothread-jobs-formats.json#5', 'job-commit-formats.json#2', 'job-mirror-each-target.json#10', 'job-mirror-under-blkdebug-blklogwrites.json#5',
        'lock-perm-job-targets-other-daemon.json#5', 'replace-mirror-replaces-drivers.json#6'].map((x) => ({ transcript: `combo-c7-${x.split('#')[0]}`, step: Number(x.split('#')[1]) })),
      // a mirror onto a monolithicFlat vmdk with its extent child (wt-combo8)
      { transcript: 'vmdk-extents-jobs-exports.json', step: 10 },
      // stop 37 (wt-luks): a mirror out of a luks node, and one out of the overlay of a LUKS-encrypted qcow2
      { transcript: 'luks-jobs.json', step: 5 }, { transcript: 'luks-qcow2-encrypted.json', step: 19 },
      // libvirt 9.0's own QMP traffic (wt-virt): its block-commit / blockdev-mirror jobs
      ...[9, 10, 11, 12, 13, 22, 23, 24, 25, 26].map((step) => ({ transcript: 'vm/vm-lv-commit.json', step })),
      ...[9, 10, 11, 12, 13, 14, 29, 30, 31, 45, 46, 47, 48].map((step) => ({ transcript: 'vm/vm-lv-copy.json', step })),
      ...[15, 16, 17, 18, 19, 37, 38, 39, 40, 41, 42, 58, 59, 60, 61].map((step) => ({ transcript: 'vm/vm-lv-edges.json', step })),
      ...[2, 3, 4, 5, 6, 7, 23, 24, 25, 26, 27, 28, 67, 68, 69, 70, 71, 72].map((step) => ({ transcript: 'vm/vm-lv-iothread.json', step })),
      ...[11, 12, 13, 14, 15].map((step) => ({ transcript: 'vm/vm-lv-runstate.json', step })),
      ...[32, 33, 34, 35, 36, 37].map((step) => ({ transcript: 'vm/vm-lv-refusals.json', step })),
      // libvirt's own traffic, round 2 (wt-virt2): the first mirror or active commit of each session
      ...([['cache', 40], ['copy2', 4], ['cor', 2], ['discard', 9], ['errpol', 12], ['io', 31], ['iothreads', 2], ['jobs', 9], ['pc', 22], ['rosh', 24], ['slice', 13]] as const)
        .map(([s, step]) => ({ transcript: `vm/vm-lv2-${s}.json`, step })),
      // libvirt driving blockgraph's day on QEMU (wt-virt3): the active commit, the copy, the scsi active commit
      ...[49, 50, 51, 52, 53, 71, 72, 73, 74, 75, 76, 85, 86, 87, 88].map((step) => ({ transcript: 'vm/vm-lv3-q35.json', step })),
      // the mirror of fuzz --qemu 10.0 4197392066's boundary (wt-fz11)
      ...[5, 6].map((step) => ({ transcript: 'abort-31-mirror-into-raw-over-shrunk-node-survives.json', step })),
      // the active commit of fuzz --qemu 10.0 3430820474's boundary (wt-fz13)
      ...[3, 4].map((step) => ({ transcript: 'abort-33-commit-into-raw-at-0-over-snapshot-overlay-survives.json', step })),
      // the VM held-out set (wt-vm11)
      { transcript: 'vm/vm-c-active-commit-virtio-blk.json', step: 4 }, { transcript: 'vm/vm-c-commit-device-del-during.json', step: 4 }, { transcript: 'vm/vm-c-iothread-mirror-device-del.json', step: 3 }, { transcript: 'vm/vm-c-mirror-device-del.json', step: 4 },
      // the third VM held-out set (wt-vm13)
      { transcript: 'vm/vm-e-ide-cold-media-jobs.json', step: 2 }, { transcript: 'vm/vm-e-stop-cont-job-states.json', step: 10 }, { transcript: 'vm/vm-e-active-commit-two-devices.json', step: 4 }, { transcript: 'vm/vm-e-pc-piix-ide-media.json', step: 8 }, { transcript: 'vm/vm-e-pc-pending-unplug-jobs.json', step: 3 },
      // the fourth VM held-out set (wt-vm14): mirrors and commits under nvme, scsi-hd, a throttle filter
      { transcript: 'vm/vm-f-hotplug-kinds-holders.json', step: 11 }, { transcript: 'vm/vm-f-mirror-replaces.json', step: 16 }, { transcript: 'vm/vm-f-nvme-hotplug.json', step: 12 },
      { transcript: 'vm/vm-f-nvme-subsys-ns.json', step: 8 }, { transcript: 'vm/vm-f-stop-snapshot-sync-all.json', step: 5 }, { transcript: 'vm/vm-f-throttle-device-changes.json', step: 28 }, { transcript: 'vm/vm-f-pc-floppy-cold.json', step: 13 },
      // the fifth VM held-out set (wt-vm15): a mirror under a hotplugged iothread virtio-scsi's disk, an active commit and a mirror under iothread virtio-blks
      { transcript: 'vm/vm-g-scsi-controller-hotplug-iothread.json', step: 11 }, { transcript: 'vm/vm-g-virtio-iothread-jobs.json', step: 14 }, { transcript: 'vm/vm-g-vq-mapping-moves.json', step: 10 },
      { transcript: 'vm/vm-g-usb-jobs-media.json', step: 6 },
      
      // the active commit under a scsi-hd that a later inactivate-all refuses at (VM fuzz 2026121037, wt-inact35)
      ...[2, 3].map((step) => ({ transcript: 'vm/fuzz-vm-inactivate-all-keeps-partial.json', step })),
      // a VM `stop`'s drain and the active commit's bitmap (fuzz --against vm 534016424, lead)
      { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 8 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 9 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 10 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 11 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 12 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 13 }, { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 14 },
      
      // the held-out exports/iothreads/filters set (wt-combo2)
      { transcript: 'combo-c2-filter-commit-filter-node-name.json', step: 11 }, { transcript: 'combo-c2-filter-commit-filter-node-name.json', step: 12 }, { transcript: 'combo-c2-filter-commit-filter-node-name.json', step: 13 }, { transcript: 'combo-c2-filter-compress.json', step: 8 }, { transcript: 'combo-c2-filter-compress.json', step: 9 }, { transcript: 'combo-c2-filter-compress.json', step: 10 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 9 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 10 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 11 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 12 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 13 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 14 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 15 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 16 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 17 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 18 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 19 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 20 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 21 }, { transcript: 'combo-c2-iot-commit-pinned.json', step: 12 }, { transcript: 'combo-c2-iot-commit-pinned.json', step: 13 }, { transcript: 'combo-c2-iot-mirror-pinned.json', step: 7 }, { transcript: 'combo-c2-iot-mirror-pinned.json', step: 8 }, { transcript: 'combo-c2-iot-mirror-pinned.json', step: 9 }, { transcript: 'combo-c2-iot-mirror-target-pinned.json', step: 11 }, { transcript: 'combo-c2-iot-mirror-target-pinned.json', step: 12 },
      { transcript: 'vm/abort-23-vm-device-add-held-drain-survives.json', step: 1 }, { transcript: 'vm/abort-24-vm-commit-cancel-filter-removal-share-rw-survives.json', step: 2 }, { transcript: 'vm/abort-24-vm-commit-finalize-filter-removal-share-rw-survives.json', step: 2 }, { transcript: 'vm/vm-blockcommit.json', step: 9 }, { transcript: 'vm/vm-blockpull-blockcopy.json', step: 9 }, { transcript: 'vm/vm-cold-devices-jobs.json', step: 0 }, { transcript: 'vm/vm-combo-mirror-disk-and-export.json', step: 5 }, { transcript: 'vm/vm-device-add-refused-drain-wake-complete.json', step: 2 }, { transcript: 'vm/vm-iothread-jobs.json', step: 10 }, { transcript: 'fuzz-mirror-from-snapshot-access.json', step: 8 }, { transcript: 'fuzz-commit-clobbers-header.json', step: 4 }, { transcript: 'aio-mirror-target.json', step: 4 }, { transcript: 'add-blkverify.json', step: 6 }, { transcript: 'bitmap-jobs.json', step: 19 }, { transcript: 'freeze-active-commit-links.json', step: 3 }, { transcript: 'fuzz-job-state-ready-text.json', step: 2 }, { transcript: 'job-active-commit-ro-base.json', step: 2 }, { transcript: 'job-commit-active.json', step: 5 }, { transcript: 'job-drive-mirror-nbd-add.json', step: 12 }, { transcript: 'job-drive-mirror-top.json', step: 2 }, { transcript: 'job-mirror-complete.json', step: 4 }, { transcript: 'job-mirror-none-ready.json', step: 4 }, { transcript: 'mirror-replaces-quorum-child.json', step: 10 }, { transcript: 'mirror-sync-bitmap-modes.json', step: 6 }, { transcript: 'nbd-client-migration.json', step: 13 }, { transcript: 'reopen-inherited-ro-then-job.json', step: 8 }, { transcript: 'replace-mirror-export-moves.json', step: 4 }, { transcript: 'combo-active-commit-under-throttle-export.json', step: 9 }, { transcript: 'combo-chain5-parallel-jobs.json', step: 6 }, { transcript: 'combo-export-iothread-mirror-commit.json', step: 11 }, { transcript: 'combo-mirror-top-over-streaming-chain.json', step: 8 }, { transcript: 'fuzz-drive-mirror-json-backing.json', step: 4 }, { transcript: 'fuzz-mirror-rate-limit-snapshot-access.json', step: 3 }, { transcript: 'aio-job-filter-append-pulls-movable-source.json', step: 4 }, { transcript: 'fuzz-mirror-write-error-wakes-failed.json', step: 4 }, { transcript: 'job-commit-reopen-drain-wake.json', step: 3 }, { transcript: 'mirror-open-backing-chain.json', step: 3 }, { transcript: 'mirror-open-backing-neighbours.json', step: 3 }, { transcript: 'abort-14-commit-filter-same-length-survives.json', step: 4 }, { transcript: 'fuzz-img-create-checks-mirror-snapshot.json', step: 12 }, { transcript: 'jobs-into-qcow2-over-raw-size-enospc.json', step: 9 }, { transcript: 'fuzz-mirror-rate-limit-snapshot-access-wakes.json', step: 3 }, { transcript: 'job-mirror-snapshot-access-read-stop.json', step: 3 }, { transcript: 'job-mirror-kick-ratelimit.json', step: 2 }, { transcript: 'fuzz-cancel-ready-active-commit.json', step: 3 }, { transcript: 'fuzz-job-state-ready.json', step: 2 }, { transcript: 'fuzz-job-state-standby-text.json', step: 1 }, { transcript: 'fuzz-mirror-ready-empty-source.json', step: 2 }, { transcript: 'fuzz-mirror-ready-probe-drain.json', step: 2 }, { transcript: 'fuzz-mirror-ready-transaction-drain.json', step: 2 }, { transcript: 'fuzz-mirror-held-drain-cancel.json', step: 1 }, { transcript: 'fuzz-mirror-held-drain-start.json', step: 1 }, { transcript: 'fuzz-job-complete-standby.json', step: 2 }, { transcript: 'fuzz-mirror-held-drain-standby-complete.json', step: 1 }, { transcript: 'fuzz-backup-held-drain-read-error.json', step: 2 }, { transcript: 'fuzz-stream-held-drain-nothing.json', step: 2 }, { transcript: 'fuzz-reopen-leaked-drain-pauses-jobs.json', step: 2 }, { transcript: 'fuzz-mirror-into-qcow2-over-overlay-grows.json', step: 5 }, { transcript: 'fuzz-mirror-zero-pieces-allocate-nothing.json', step: 4 }, { transcript: 'fuzz-mirror-after-internal-snapshot-copies-on-write.json', step: 4 }, { transcript: 'fuzz-mirror-allocation-grows-file-node.json', step: 4 }, { transcript: 'job-held-drain-user-resumed-ready.json', step: 1 }, { transcript: 'job-held-drain-user-resumed-running.json', step: 1 }, { transcript: 'job-nbd-url-targets.json', step: 8 }, { transcript: 'mirror-full-onto-backing-size.json', step: 6 }, { transcript: 'fuzz-export-fail-drain-wakes-job.json', step: 3 }, { transcript: 'mirror-zero-writes-release-clusters.json', step: 5 }, { transcript: 'fmt-qed-allocation.json', step: 15 }, { transcript: 'fmt-qed-held-out.json', step: 18 }, { transcript: 'qcow2-snapshot-delete-frees-copied-clusters.json', step: 11 }, { transcript: 'combo-c1-commit-active-cancel-ready.json', step: 10 }, { transcript: 'combo-c1-commit-active-complete.json', step: 10 }, { transcript: 'combo-c1-commit-active-manual.json', step: 10 }, { transcript: 'combo-c1-commit-filter-base-and-top.json', step: 15 }, { transcript: 'combo-c1-del-and-reopen-after-jobs.json', step: 28 }, { transcript: 'combo-c1-job-verbs-wrong-state.json', step: 20 }, { transcript: 'combo-c1-mirror-errors.json', step: 16 }, { transcript: 'combo-c1-mirror-full-pivot.json', step: 8 }, { transcript: 'combo-c1-mirror-manual-pending.json', step: 8 }, { transcript: 'combo-c1-mirror-ready-pause.json', step: 8 }, { transcript: 'combo-c1-mirror-sync-top-target-chain.json', step: 10 }, { transcript: 'combo-c1-mirror-top-cancel.json', step: 8 }, { transcript: 'combo-c1-mirror-with-replaces-chain.json', step: 14 }, { transcript: 'combo-c1-reopen-during-mirror-target.json', step: 8 }, { transcript: 'combo-c1-reopen-ro-during-jobs.json', step: 26 }, { transcript: 'combo-c1-stream-then-commit.json', step: 14 },
      ...[4, 5, 6, 7, 8].map((step) => ({ transcript: 'abort-12-add-cbw-mirror-target-back-in-main-survives.json', step })),
      // the second blind VM set (wt-vm12)
      { transcript: 'vm/vm-d-device-add-busy-drive.json', step: 6 }, { transcript: 'vm/vm-d-device-del-jobs-under.json', step: 8 }, { transcript: 'vm/vm-d-iothread-mirror-unplug-order.json', step: 3 }, { transcript: 'vm/vm-d-stop-cont-completion.json', step: 8 },
      // the third held-out set (wt-combo3)
      { transcript: 'combo-c3-drv-blkverify-jobs.json', step: 7 }, { transcript: 'combo-c3-drv-null-aio-targets.json', step: 10 }, { transcript: 'combo-c3-drv-preallocate-stack.json', step: 15 }, { transcript: 'combo-c3-freeze-commit-filter-links.json', step: 6 }, { transcript: 'combo-c3-iot-job-parents-move.json', step: 7 }, { transcript: 'combo-c3-iot-two-proc-move-locked.json', step: 14 }, { transcript: 'combo-c3-job-mirror-replaces-quorum-child.json', step: 14 }, { transcript: 'combo-c3-long-chain5-snapshots-jobs.json', step: 18 }, { transcript: 'combo-c3-long-chain5-stream-commit.json', step: 19 }, { transcript: 'combo-c3-long-filters-jobs-reopen.json', step: 11 }, { transcript: 'combo-c3-long-two-proc-handover.json', step: 15 }, { transcript: 'combo-c3-perm-ro-children.json', step: 11 }, { transcript: 'combo-c3-perm-share-rw-exports.json', step: 8 }, { transcript: 'combo-c3-proc-lock-commit-base.json', step: 15 }, { transcript: 'combo-c3-proc-lock-mirror-target.json', step: 12 }, { transcript: 'combo-c3-replace-mirror-under-filter-stack.json', step: 7 }, { transcript: 'combo-c3-replace-txn-snapshot-sync-drive-mirror.json', step: 8 },
      // the fourth held-out set's mirror and active-commit starts (wt-combo4)
      { transcript: 'combo-c4-job-mirror-replaces-filter.json', step: 14 }, { transcript: 'combo-c4-job-two-jobs-share-base.json', step: 28 }, { transcript: 'combo-c4-long-chain5-export-iothread-jobs.json', step: 35 }, { transcript: 'combo-c4-reopen-during-job-states.json', step: 39 },
      // the fifth held-out set's mirror and active-commit starts (wt-combo5)
      { transcript: 'combo-c5-aio-variants.json', step: 15 }, { transcript: 'combo-c5-bm-backing-committed-away.json', step: 19 }, { transcript: 'combo-c5-bm-snapshot-active-commit.json', step: 9 }, { transcript: 'combo-c5-create-over-busy-nodes.json', step: 19 }, { transcript: 'combo-c5-filters-quorum-null-in-chain.json', step: 11 }, { transcript: 'combo-c5-filters-top-of-chain5.json', step: 7 }, { transcript: 'combo-c5-fmt-job-targets.json', step: 8 }, { transcript: 'combo-c5-fmt-qcow1-vmdk-reopen.json', step: 6 }, { transcript: 'combo-c5-freeze-variants.json', step: 18 }, { transcript: 'combo-c5-nbd-client-hold.json', step: 14 }, { transcript: 'combo-c5-nbd-client-jobs.json', step: 11 }, { transcript: 'combo-c5-replaces-through-filters.json', step: 11 }, { transcript: 'combo-c5-set-speed-pause-every-state.json', step: 17 }, { transcript: 'combo-c5-write-threshold-through-changes.json', step: 12 },
      // fuzz 825187555's drive-mirror (wt-fz14)
      { transcript: 'fuzz-mirror-target-reopen-without-force-share.json', step: 2 },
      // stop 35 (wt-combo7): the sixth held-out set, mirror and active-commit starts
      ...['export-iothread-move-reopen-snapshot-replace.json#23', 'job-commit-active-every-verb.json#6', 'job-mirror-replaces-filter-chain6.json#17',
        'job-mirror-sync-modes-change.json#14', 'perm-raw-sharers-reopen.json#13', 'proc-lock-jobs-targets.json#6', 'proc-lock-shared-backing-commit.json#23',
        'replace-middle-of-chain.json#12'].map((x) => ({ transcript: `combo-c6-${x.split('#')[0]}`, step: Number(x.split('#')[1]) })),
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-b2-mirror-sync-top-target-bitmaps.json', step: 6 }, { transcript: 'combo-c8-b3-drive-mirror-existing-stored-bitmaps.json', step: 5 }, { transcript: 'combo-c8-b3-job-change-mirror-bitmaps.json', step: 4 }, { transcript: 'combo-c8-commit-active-bitmaps.json', step: 11 }, { transcript: 'combo-c8-drive-mirror-bitmaps-new-target.json', step: 2 }, { transcript: 'combo-c8-mirror-bitmaps-stay-on-source.json', step: 6 }, { transcript: 'combo-c8-mirror-cancel-ready-bitmaps-target-exported.json', step: 7 },
      // stop 38 (wt-combo10): the ninth held-out set: mirrors (replaces below filters, sync top, into a quorum) and active commits, the first step their dirty bitmap shows
      ...([['active-commit-filter-reopen-list', 3], ['b2-mirror-sync-top-through-filter-backing', 6], ['b3-jobs-on-filter-devices', 10], ['b3-reopen-backing-frozen-by-mirror-top', 4], ['commit-after-snapshot-onto-filter', 7], ['del-order-after-mirror-replaces', 5], ['mirror-filter-node-name-reopen-target', 3], ['mirror-replaces-below-blkdebug', 6], ['mirror-replaces-below-cor', 6], ['mirror-replaces-below-preallocate-file', 6], ['mirror-replaces-below-throttle', 6], ['mirror-replaces-filter-reopened-while-ready', 6], ['mirror-replaces-quorum-child', 4], ['snapshot-onto-filter-then-drop-filter', 6], ['snapshot-over-mirror-source', 4]] as const).map(([t, step]) => ({ transcript: `combo-c9-${t}.json`, step })),
      // stop 39 (wt-combo11): the tenth held-out set, job lifecycles and errors: its mirrors, drive-mirrors and active commits, the first step their dirty bitmap shows
      ...([['b2-active-commit-base-write-ignore-ready', 2], ['b2-active-commit-base-write-report', 2], ['b2-create-on-node-under-job', 2], ['b2-mirror-sync-none-and-top-verbs', 4], ['b2-mirror-target-stop-complete-while-paused', 2], ['b2-mirror-write-blocking-soft-cancel', 3], ['b2-set-speed-errors-and-non-block-jobs', 3], ['commit-active-force-cancel-filter', 3], ['commit-active-ready-complete-manual', 3], ['commit-active-soft-cancel', 3], ['commit-top-read-enospc', 2], ['drive-mirror-ready-pause-force-cancel', 1], ['mirror-concluded-verbs', 2], ['mirror-error-then-retry-same-id', 3], ['mirror-job-id-clash', 3], ['mirror-pending-cancel', 2], ['mirror-ready-force-cancel', 2], ['mirror-ready-job-cancel', 2], ['mirror-ready-soft-cancel', 2], ['mirror-source-read-report', 2], ['mirror-source-read-stop-cancel', 2], ['mirror-source-read-stop-resume', 2], ['mirror-standby-complete-refused', 2], ['mirror-target-write-enospc-eio', 2], ['mirror-target-write-enospc-stop', 2], ['mirror-target-write-ignore', 2], ['mirror-verbs-while-running', 2]] as const).map(([t, step]) => ({ transcript: `combo-c10-${t}.json`, step })),
      // stop 40 (wt-combo12): the eleventh held-out set, image formats: mirrors, drive-mirrors and an active commit into targets of each format, the first step their dirty bitmap shows
      ...([['b2-amend-qcow2-while-used', 12], ['b2-drive-mirror-existing-formats', 13], ['b2-mirror-into-vpc-vmdk-parallels', 13], ['b2-vpc-vhdx-resize-and-block-sizes', 18], ['commit-into-qed-base', 9], ['drive-mirror-new-formats', 1], ['mirror-into-created-targets', 22], ['vpc-force-size-mirror', 10], ['b3-create-over-job-nodes', 5], ['b3-snapshot-internal-busy-and-ro', 8], ['b4-create-job-ids', 6]] as const).map(([t, step]) => ({ transcript: `combo-c11-${t}.json`, step })),
      // stop 41 (wt-combo13): the twelfth held-out set's mirrors and active commit under reopens, the first step their dirty bitmap shows
      ...([['b2-mirror-named-filter-reopen', 4], ['b2-mirror-source-backing', 4], ['ro-under-mirror', 3], ['ro-under-commit-and-backup', 2]] as const).map(([t, step]) => ({ transcript: `combo-c12-${t}.json`, step })),
      // stop 40 (lead, kept after the lists' first two: the upgrade drill takes those): the mirror into a qcow2 node with persistent bitmaps
      { transcript: 'bitmap-count-persistent.json', step: 10 },
      // stop 41 (wt-vm23): the vm-o reply set's first 7.2/10.0 differences
      { transcript: 'vm/vm-o-hmp-info-kinds.json', step: 13 }, { transcript: 'vm/vm-o-job-legacy-drive-ids.json', step: 4 }, { transcript: 'vm/vm-o-job-mirror-device-states.json', step: 3 },
      // stop 42 (wt-vm24): the cold -drive set's jobs on drives, the first step their dirty bitmap shows
      ...([['commit-by-device', 0], ['jobs-by-device-name', 2], ['b2-snapshot-on-commit', 0]] as const).map(([t, step]) => ({ transcript: `vm/vm-p-${t}.json`, step })),
      // stop 41 (wt-ioth12): the boundary of the mirror-replace hang, a mirror of a quorum in an iothread
      { transcript: 'abort-41-mirror-replaces-owned-child-iothread-survives.json', step: 9 },
      // stop 41 (replies): the mirrors of the paused-at-exit, no-flush-target and x-debug job-order transcripts
      { transcript: 'fuzz-mirror-exit-drain-shows-paused.json', step: 2 },
      { transcript: 'fuzz-drive-backup-target-inherits-no-flush.json', step: 2 },
      { transcript: 'fuzz-xdebug-graph-jobs-newest-first.json', step: 2 },
      // stop 41 (replies, vm): the active commit under a virtio-blk disk whose query-block skips the job's filter
      { transcript: 'vm/fuzz-vm-query-block-skips-job-filter.json', step: 3 },
      // stop 41 (wt-qr2): the qr2 mirrors' and active commits' starts
      { transcript: 'qr2-backup-incremental-after-mirror.json', step: 4 }, { transcript: 'qr2-bitmap-store-after-mirror.json', step: 3 }, { transcript: 'qr2-commit-active-into-qcow2.json', step: 1 }, { transcript: 'qr2-commit-active-sparse-into-raw.json', step: 3 }, { transcript: 'qr2-mirror-full-raw-qcow2.json', step: 2 }, { transcript: 'qr2-mirror-qcow2-over-sparse-raw-backing.json', step: 2 }, { transcript: 'qr2-mirror-sparse-qcow2-qcow2.json', step: 3 }, { transcript: 'qr2-mirror-sparse-raw-qcow2-cluster-4k.json', step: 2 }, { transcript: 'qr2-mirror-sparse-raw-qcow2.json', step: 2 }, { transcript: 'qr2-mirror-sparse-raw-raw-bitmaps.json', step: 5 }, { transcript: 'qr2-mirror-zero-data-detect-zeroes.json', step: 2 }, { transcript: 'qr2-nbd-mirror-into-export.json', step: 6 },
      // stop 42 (wt-qr3): the qr3 mirrors' starts
      { transcript: 'qr3-discard-mirror-unmap-then-backup.json', step: 3 }, { transcript: 'qr3-nbd-mirror-zeroes-unmap.json', step: 5 }, { transcript: 'qr3-refcount-bits-8-mirror.json', step: 2 }, { transcript: 'qr3-snap-then-mirror-cow.json', step: 3 },
      // stop 42 (wt-qr3): batch 2's mirrors' starts
      { transcript: 'qr3-b2-mirror-zero-unmap-snapshot-kept.json', step: 3 },
      // stop 41 (lead): vm23's left-out iothread jobs scenario, landed once query-block's crash guard follows bdrv_query_info's reach (the mirror's bitmap)
      { transcript: 'vm/vm-o-b2-iothread-jobs-replies.json', step: 5 },
      // stop 42 (wt-combo14): the thirteenth held-out set, transactions: the first step each pair differs
      { transcript: 'combo-c13-mirror-running-and-txn.json', step: 4 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — mirrors and active commits of exported nodes
      ...([['active-commit-writable-export', 4], ['b2-bitmap-export-under-mirror', 5], ['b2-export-del-then-mirror-complete', 4], ['b2-mirror-exported-source-client', 5], ['b2-mirror-ready-export-source-added', 3], ['b3-vduse-blk-failed-under-mirror', 2], ['commit-intermediate-exported', 5], ['export-del-during-mirror', 4], ['iothread-export-mirror-complete', 5], ['iothread-fixed-exports-job-across', 12], ['mirror-exported-source-complete', 4], ['mirror-replaces-below-exported-filter', 6]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
      // stop 44 (wt-combo16): the fifteenth held-out set's first differing step — mirrors and commits through filters, quorums, iothreads and exports
      ...([['active-commit-ready-reopen-backing-null', 4], ['b2-chain5-drive-mirror-top-new-image', 5], ['b2-commit-filter-in-chain-top-base', 10], ['b2-mirror-quorum-replaces-child-exported', 7], ['b2-mirror-top-chain-export-fixed-iothread', 6], ['b3-graph-query-chain5-filters-mirror', 9], ['b3-mirror-standby-reopen-complete', 4], ['b3-two-exports-two-iothreads-one-node', 10], ['mirror-blkdebug-stop-paused-reopen', 3], ['mirror-ready-cor-filter-reopen-target', 4], ['mirror-replaces-below-throttle-iothread', 7]] as const).map(([t, step]) => ({ transcript: `combo-c15-${t}.json`, step })),
    ],
    modelled: true,
  },
  'transaction-completion-mode-text': {
    what: "an action that cannot take completion-mode 'grouped' in a transaction: the error text",
    '7.2': { fn: 'blockdev.c action_check_completion_mode: "… does not support Transaction property completion-mode = %s"', value: 'Transaction' },
    '10.0': { fn: 'blockdev.c action_check_completion_mode: "… does not support transaction property completion-mode = %s"', value: 'transaction' },
    proof: [{ transcript: 'replace-transaction-snapshots.json', step: 10 }, { transcript: 'txn-bitmaps.json', step: 10 },
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-txn-grouped-bitmaps-backups.json', step: 5 },
      // stop 39 (wt-combo11): a grouped transaction with a blockdev-backup and a blockdev-snapshot-sync
      { transcript: 'combo-c10-txn-grouped-unsupported-action.json', step: 5 },
      // stop 42 (wt-combo14): the thirteenth held-out set, transactions: the first step each pair differs
      { transcript: 'combo-c13-grouped-refusal-order.json', step: 2 },
    ],
    modelled: true,
  },
  'transaction-completion-mode-check': {
    what: "a transaction with completion-mode 'grouped': when (and for which actions) the mode is refused",
    '7.2': { fn: 'blockdev.c: each action\'s .prepare calls action_check_completion_mode in list order (abort_prepare does not: "Transaction aborted using Abort action"), so an earlier action\'s own error comes first', value: 'per-action' as 'per-action' | 'upfront' },
    '10.0': { fn: 'blockdev.c qmp_transaction: before any action runs, every action that is not blockdev-backup or drive-backup is refused ("Action \'%s\' does not support transaction property completion-mode = %s"), abort included', value: 'upfront' as 'per-action' | 'upfront' },
    // found by fuzz --against qsd --qemu 10.0 --seed 41 (cases 69, 170)
    proof: [{ transcript: 'fuzz-txn-grouped-check-order.json', step: 1 }, { transcript: 'fuzz-txn-grouped-check-order.json', step: 3 },
      // stop 42 (wt-combo14): the thirteenth held-out set, transactions: the first step each pair differs
      { transcript: 'combo-c13-abort-alone-and-empty.json', step: 6 }, { transcript: 'combo-c13-grouped-refusal-each-action.json', step: 5 },
    ],
    modelled: true,
  },
  'reopen-refresh-list-order': {
    what: 'blockdev-reopen: the order bdrv_reopen_multiple refreshes permissions in (which failing check is reported when several would fail)',
    '7.2': { fn: 'bdrv_reopen_multiple: refresh_list = bdrv_topological_dfs(refresh_list, found, ...) for each queue entry (its node, old_backing_bs, old_file_bs) in queue order: the first entry claims its whole subtree, later roots come first', value: 'dfs-in-queue-order' as 'dfs-in-queue-order' | 'prepended' },
    '10.0': { fn: 'bdrv_reopen_multiple: g_slist_prepend of each entry (its node, old_backing_bs, old_file_bs) in queue order, then bdrv_list_refresh_perms runs bdrv_topological_dfs over that reversed list ("block: refactor bdrv_list_refresh_perms to allow any list of nodes"): the last queued node claims its subtree first, so a queued inline subtree is checked in queue order', value: 'prepended' as 'dfs-in-queue-order' | 'prepended' },
    // two-trees: the same two failing entries listed in both orders; 7.2 reports the later-listed tree, 10.0 the first
    proof: [
      { transcript: 'reopen-list-refresh-order.json', step: 5 }, { transcript: 'reopen-list-refresh-order-two-trees.json', step: 4 }, { transcript: 'reopen-list-refresh-order-two-trees.json', step: 5 },
      // the third held-out set (wt-combo3)
      { transcript: 'combo-c3-reopen-multi-node-mixed.json', step: 7 },
    ],
    modelled: true,
  },
  'probe-blk-drain-wakes-jobs': {
    what: "a blockdev-add of a format node over a job's node wakes a sleeping speed-limited job (twice)",
    '7.2': { fn: 'bdrv_open_inherit: blk_unref(probing BlockBackend) -> blk_drain, blk_remove_bs -> blk_drain: child_job_drained_end -> job_resume kicks the job', value: true },
    '10.0': { fn: 'the same drains and job_resume, but the job sleeps in block_job_ratelimit_sleep, which sleeps again while the limit still asks for a delay (rule wake-ends-rate-limit-sleep): no wake-up', value: false },
    // fuzz-job-state-ready #4: the probe drains of a blockdev-add that then fails
    proof: [{ transcript: 'fuzz-mirror-ready-probe-drain.json', step: 5 }, { transcript: 'fuzz-job-state-ready.json', step: 4 }],
    modelled: true,
  },
  'aio-move-drain-wakes-jobs': {
    what: "an AioContext move (x-blockdev-set-iothread, ...) of a job's component wakes a sleeping speed-limited job",
    '7.2': { fn: 'bdrv_change_aio_context: bdrv_drained_begin on every recorded node; bdrv_set_aio_context_clean: bdrv_drained_end -> child_job_drained_end -> job_resume kicks the job', value: true },
    '10.0': { fn: 'not analysed: the 10.0 recording shows no wake-up there (fuzz-iothread-move-wakes-mirror: the job never becomes ready)', value: false },
    proof: [{ transcript: 'fuzz-found/7.2-only-fuzz-iothread-move-wakes-mirror.json', step: 8 }],
    modelled: false,
  },
  'transaction-drain-all-wakes-jobs': {
    what: 'a transaction (blockdev-snapshot, -sync, blockdev-backup) wakes every sleeping speed-limited job, even when an action fails',
    '7.2': { fn: 'qmp_transaction: bdrv_drain_all() before the actions', value: true },
    '10.0': { fn: 'the same bdrv_drain_all and job_resume, but the job sleeps in block_job_ratelimit_sleep, which sleeps again while the limit still asks for a delay (rule wake-ends-rate-limit-sleep): no wake-up', value: false },
    // (also fuzz-job-state-standby-text #2-#4: a failed blockdev-snapshot's drain makes the commit
    // ready on 7.2; its proof step is its first difference, the bitmap of mirror-dirty-bitmap)
    proof: [{ transcript: 'fuzz-mirror-ready-transaction-drain.json', step: 4 }],
    modelled: true,
  },
  'block-status-first-layer-eof': {
    what: 'mirror_dirty_init over a source whose filter passes its block status to a child shorter than the source: the first layer bdrv_co_common_block_status_above asks, at or beyond its end, is unallocated with pnum 0 (count 0: 7.2 aborts). The block status itself is io.c\'s on both versions (graph/jobs/allocation.ts: a stream ends there, fuzz-stream-backing-shorter-ends-at-once)',
    '7.2': { fn: 'bdrv_co_common_block_status_above: returns at *pnum == 0 for bs itself; only lower layers synthesise allocated zeroes', value: true },
    // (wt-kick10: the 10.0 recording of fuzz-job-state-finalize differs by the job-resume that
    // block_job_ratelimit_sleep swallows, rule wake-ends-rate-limit-sleep, and agrees with either
    // value here; 10.0's io.c still returns the first layer's pnum 0, but the value also gates
    // mirror_dirty_init's refusal (graph/jobs/mirror-dirty.ts), which 10.0's filter lengths avoid:
    // true here breaks qemu-10.0/aborts/abort-14-commit-filter-over-shorter-image)
    '10.0': { fn: 'bdrv_co_common_block_status_above unchanged (a stream reaching that EOF ends at once, as on 7.2: stop 44), but the recorded mirror survives: 10.0\'s blkdebug reports the child\'s length after the append', value: false },
    proof: [{ transcript: 'fuzz-found/7.2-only-fuzz-job-state-finalize.json', step: 7 }],
    modelled: false,
  },
  'reopen-drop-self-file-backing-aborts': {
    what: "oracle crash 3: a reopen moves a parent's backing away from a node whose backing is its own file node",
    '7.2': { fn: 'bdrv_reopen_multiple → bdrv_set_backing_noperm → … bdrv_parent_drained_end_single_no_poll: Assertion c->parent_quiesce_counter > 0 fails (the model refuses, saying so)', value: true },
    '10.0': { fn: 'bdrv_reopen_multiple with the graph-lock drain rework (bdrv_drained_begin before bdrv_graph_wrlock): the reopen is carried out', value: false },
    proof: [{ transcript: 'aborts/abort-3-drop-self-file-backing.json', step: 4 }],
    modelled: true,
  },
  'cor-getlength-variable-length': {
    what: 'a bdrv_getlength of a copy-on-read filter left without its file child (a concluded, undismissed stream\'s filter): block-dirty-bitmap-add or an NBD block-export-add of it (graph/cor-length.ts)',
    '7.2': { fn: 'bdrv_create_dirty_bitmap (or nbd_export_create\'s blk_getlength) -> bdrv_getlength -> bdrv_nb_sectors: the driver\'s has_variable_length (set for copy-on-read) calls refresh_total_sectors -> cor_getlength, which dereferences bs->file = NULL: SIGSEGV (probed live on 7.2.22, wt-ioth); the model refuses, saying so', value: true },
    '10.0': { fn: 'bdrv_co_nb_sectors asks bs->bl.has_variable_length, which bdrv_refresh_limits takes from the children: none left, so the cached total_sectors answers and the bitmap is created', value: false },
    proof: [{ transcript: 'aborts/abort-36-bitmap-on-detached-stream-filter.json', step: 3 }],
    modelled: true,
  },
  'aio-context-lock-aborts': {
    what: 'oracle crash 5 and issue 12 item 8: a child attached (blockdev-add by reference, blockdev-reopen) or closed across an iothread without its AioContext lock',
    '7.2': { fn: 'bdrv_attach_child_common → bdrv_try_change_aio_context → bdrv_set_aio_context_commit releases a lock it never took: qemu_mutex_unlock_impl aborts (the model refuses, saying so)', value: true },
    '10.0': { fn: 'the AioContext lock is gone (removed in 9.0: aio_context_acquire/release); bdrv_try_change_aio_context moves the node under the graph lock: the command is carried out', value: false },
    proof: [{ transcript: 'aborts/abort-5-add-backing-ref-in-iothread.json', step: 4 }, { transcript: 'aborts/abort-8-reopen-backing-from-iothread.json', step: 5 }, { transcript: 'aborts/abort-9-create-qcow2-on-file-in-iothread.json', step: 3 },
      { transcript: 'aborts/abort-12-add-cbw-on-mirror-target-in-iothread.json', step: 7 },
      // blockdev-insert-medium of a node that has to leave its iothread (wt-vm12)
      { transcript: 'aborts/abort-32-vm-insert-medium-node-in-other-iothread.json', step: 4 },
      // a virtio-blk on a node in an iothread: the model refused it on 10.0 too (wt-vm12)
      { transcript: 'aborts/abort-32-vm-virtio-blk-on-node-in-iothread.json', step: 2 },
      // x-blockdev-change removing a quorum child a refused iothread export left in io0 (fuzz 1301381308, wt-fz15)
      { transcript: 'aborts/abort-34-quorum-del-child-after-refused-iothread-export.json', step: 3 },
      // a reopen drops a preallocated filter's write in an iothread: preallocate_check_perm's truncate (fuzz --against vm 1394297969, wt-fz16)
      { transcript: 'aborts/abort-35-vm-snapshot-preallocated-filter-in-iothread.json', step: 3 },
      { transcript: 'aborts/abort-35-vm-txn-snapshot-preallocated-filter-in-iothread.json', step: 2 },
      // a reopen that attached a main-loop node into an iothread fails: tran_abort moves it back
      // (bdrv_attach_child_common_abort; graph/reopen/attach-abort.ts; wt-combo13)
      { transcript: 'aborts/abort-41-reopen-attach-into-iothread-then-fails.json', step: 5 }],
    modelled: true,
  },
  'reopen-undrained-entry-aborts': {
    what: 'fuzz seed 1321449412: a blockdev-reopen entry queued under another listed node, detached by an earlier entry\'s prepare before its own',
    '7.2': { fn: 'qmp_blockdev_reopen drains each listed subtree (bdrv_subtree_drained_begin); the detach ends the child\'s share (bdrv_replace_child_noperm); bdrv_reopen_multiple: Assertion \'bs_entry->state.bs->quiesce_counter > 0\' fails (the model refuses, saying so)', value: true },
    '10.0': { fn: 'subtree drains are gone since 8.0 ("block: Remove subtree drains"): bdrv_reopen_queue_child drains each queued node itself (bdrv_drained_begin), so a detach leaves it drained and the reopen goes on (recorded: the permission refresh refuses it)', value: false },
    proof: [{ transcript: 'aborts/abort-9-reopen-queued-child-undrained.json', step: 1 }],
    modelled: true,
  },
  'reopen-attach-diamond-aborts': {
    what: 'fuzz seed 241757295: a blockdev-reopen attaches as file or backing a node whose subtree reaches some node over two links (copy-before-write with file and target on one node)',
    '7.2': { fn: 'qmp_blockdev_reopen subtree-drains the listed node; bdrv_set_file_or_backing_noperm attaches the child (bdrv_apply_subtree_drain, per link) and the detach or drained end undoes it per link: bdrv_parent_drained_end_single_no_poll: Assertion `c->parent_quiesce_counter > 0\' fails (the model refuses, saying so)', value: true },
    '10.0': { fn: 'subtree drains are gone since 8.0 ("block: Remove subtree drains"): the attach goes on (the permission refresh decides)', value: false },
    // 7.2 dies at step 3 (no 7.2 recording); the surviving neighbour is abort-11-reopen-attach-no-diamond-survives
    proof: [{ transcript: 'aborts/abort-11-reopen-attach-cbw-diamond.json', step: 3 }],
    modelled: true,
  },
  'reopen-throttle-across-contexts-dies': {
    what: 'iotests 245 run_test_iothreads with throttle filters, combinations other than both in one iothread: a blockdev-reopen attaches a file/backing child across two AioContexts while a throttle node moves or sits under the new child',
    '7.2': { fn: 'bdrv_set_file_or_backing_noperm → bdrv_attach_child_common → bdrv_try_change_aio_context / bdrv_apply_subtree_drain: throttle_co_drain_begin/end run as coroutines in the node\'s AioContext (bdrv_drain_invoke), so BDRV_POLL_WHILE waits and AIO_WAIT_WHILE releases an iothread lock the reopen does not hold: qemu_mutex_unlock_impl: Operation not permitted, or a hang (the model refuses, saying so)', value: true },
    '10.0': { fn: 'no AioContext lock (removed in 9.0): the attach moves the nodes and the reopen is carried out', value: false },
    // 7.2 dies at step 7 (no 7.2 recording); the surviving neighbours are iotests/245-iothreads-switch-overlay (no throttle)
    // and iotests/245-iothreads-with-throttling (one context)
    proof: [{ transcript: 'aborts/abort-245-reopen-throttle-backing-pinned-in-iothread.json', step: 7 }],
    modelled: true,
  },
  'nbd-client-close-in-iothread-aborts': {
    what: 'an NBD client node closes (blockdev-del, a mirror onto an nbd target ending) while the export it is connected to runs in an iothread, in another daemon or the same one (wt-iotc, iotests 281 port)',
    '7.2': { fn: 'nbd_trip (nbd/server.c) runs in the export\'s AioContext and on the disconnect calls client_close -> close_fn = nbd_blockdev_client_closed there; the Debian 7.2.22 build carries the CVE-2024-7409 backport whose assert(qemu_in_main_thread() && nbd_server) fails (blockdev-nbd.c:62, probed live): the serving daemon dies a moment after the client\'s command was answered ok', value: true },
    '10.0': { fn: 'nbd_trip: aio_co_reschedule_self(qemu_get_aio_context()) before client_close, so nbd_blockdev_client_closed runs in the main thread: the server lives on', value: false },
    // Not modelled: the client's daemon answers the command ok and the *server* dies later, which
    // the model cannot show (it has no dead process; refusing the client's command would be wrong
    // for the reply QEMU gives). The fuzzer avoids it (oracle/fuzz/aborts.ts). 10.0's side:
    // qemu-10.0/aborts/abort-31-nbd-client-del-iothread-export (step 5, then the server answers);
    // the boundary both survive: abort-31-nbd-client-del-main-export-survives.
    proof: [{ transcript: 'aborts/abort-31-nbd-client-del-iothread-export.json', step: 5 }],
    modelled: false,
  },
  'insert-node-context-asserts': {
    what: 'blockdev-backup / block-stream of a node in an iothread that nothing pins there (x-blockdev-set-iothread): the job\'s filter, opened in the main loop, takes the node as its file child',
    '7.2': { fn: 'bdrv_insert_node -> bdrv_new_open_driver_opts (bdrv_new: main context) -> cbw_open / cor_open -> bdrv_open_file_child -> bdrv_attach_child_common moves the node\'s component into the main loop (bdrv_try_change_aio_context, child side first): the job starts there', value: false },
    '10.0': { fn: 'bdrv_insert_node (block.c:5625, recorded on 10.0.2): the same attach moves the node, then Assertion `bdrv_get_aio_context(bs) == ctx\' failed: the daemon aborts. The model refuses it, saying so', value: true },
    // an abort cannot be recorded on 10.0; the 7.2 side is oracle/transcripts/aio-backup-cbw-pulls-movable-source.json
    // and aio-stream-cor-pulls-movable-source.json (scripts/abort-probe.ts --file ... --qemu 10.0 dies at step 4)
    proof: [],
    modelled: true,
  },
  'mirror-replace-close-iothread-hangs': {
    what: "a mirror completed with `replaces` naming a node in the job's iothread that nothing else refers to once replaced (a quorum child opened inline), so the job's bdrv_unref frees it (iotests 041 TestRepairQuorum with the quorum pinned in an iothread by a fixed-iothread export)",
    '7.2': { fn: "mirror_exit_common: aio_context_acquire(replace_aio_context) on top of job_exit's (or job_txn_apply's) hold of the same iothread; bdrv_unref(s->to_replace) -> bdrv_close -> bdrv_flush -> BDRV_POLL_WHILE releases it once: the iothread's bottom half waits for the lock for good (gdb, 7.2.22: aio_poll <- bdrv_flush <- bdrv_unref <- aio_bh_poll; the iothread in qemu_mutex_lock). The model refuses the command that completes the job, saying so (graph/jobs/mirror-replace-close-hang.ts)", value: true },
    '10.0': { fn: 'no AioContext lock (removed in 9.0): mirror_exit_common replaces the child and frees it; the job completes (recorded)', value: false },
    // a hang cannot be recorded on 7.2 (the next command gets no reply); 10.0's side is
    // qemu-10.0/aborts/abort-41-mirror-replaces-quorum-child-iothread (and qemu-10.0/iotests/041-m-mirror-replaces-quorum-iothread);
    // the boundary both survive: abort-41-mirror-replaces-owned-child-iothread-survives (the children monitor-owned)
    proof: [{ transcript: 'aborts/abort-41-mirror-replaces-quorum-child-iothread.json', step: 8 }],
    modelled: true,
  },
  'drop-filter-frees-child-asserts': {
    what: "a job's filter dropped (backup_clean -> bdrv_cbw_drop, stream's bdrv_cor_filter_drop) when its link is the last reference on its child (a blockdev-snapshot-sync overlay appended under a backup's filter, alone or in the backup's own transaction)",
    '7.2': { fn: 'bdrv_drop_filter -> bdrv_replace_node_common refs and drains the filter (`from`): the child is freed with the link, nothing reads it: the job ends', value: false },
    '10.0': { fn: 'bdrv_drop_filter (block.c:5447, 10.0.2) drains child_bs without a reference; the link\'s removal frees it and bdrv_drained_end(child_bs) asserts: bdrv_do_drained_end: Assertion `bs->quiesce_counter > 0\' failed (gdb). The model refuses it, saying so', value: true },
    // an abort cannot be recorded on 10.0; the 7.2 side is fuzz-found/7.2-only-abort-19-backup-snapshot-sync-finalize.json,
    // the boundary (a monitor-owned overlay) abort-19-backup-snapshot-overlay-finalize-survives on both; the same
    // overlay made by a transaction whose backup action came first: fuzz-found/7.2-only-abort-21-txn-backup-then-snapshot-sync.json,
    // its boundaries abort-21-*-survives on both (wt-ab10)
    proof: [],
    modelled: true,
  },
  'append-over-compress-hangs': {
    what: 'blockdev-snapshot / blockdev-snapshot-sync (alone or in a transaction) whose node is a compress filter: bdrv_append ends with bdrv_refresh_limits(bs_top), and compress_refresh_limits calls bdrv_get_info on its file',
    '7.2': { fn: 'bdrv_append (block.c): bdrv_refresh_limits(bs_top, NULL, NULL) after tran_finalize, no graph lock: the snapshot is carried out', value: false },
    '10.0': {
      fn: 'bdrv_append holds bdrv_graph_wrlock_drained() across bdrv_refresh_limits(bs_top); compress_refresh_limits (block/filter-compress.c) → bdrv_get_info, a co_wrapper_bdrv_rdlock, polls for a coroutine that waits for the reader lock: qemu-storage-daemon 10.0.2 hangs (gdb: aio_poll ← bdrv_get_info ← bdrv_refresh_limits ← bdrv_append ← qmp_transaction ← qmp_blockdev_snapshot). The model refuses it, saying so',
      value: true,
    },
    // a hang cannot be recorded on 10.0; the 7.2 side is oracle/transcripts/fuzz-snapshot-over-compress.json
    // (found by fuzz --against qsd --qemu 10.0 --seed 41, cases 85 and 112, which wedged the run)
    proof: [],
    modelled: true,
  },
  'export-fail-iothread-backup-hangs': {
    what: "block-export-add failing after blk_insert_bs (nbd_export_create: a bitmap not found, a duplicate or too long name) on a node in an iothread under a copying, rate-limited backup job (fuzz --qemu 10.0 case 2265673556)",
    '7.2': { fn: "blk_exp_add's fail path (blk_set_dev_ops, blk_unref → blk_remove_bs) returns: the command fails with nbd_export_create's error", value: false },
    '10.0': { fn: "blk_exp_add's fail path: blk_unref → blk_remove_bs → blk_drain / bdrv_drained_begin of the node never returns while the backup copies in the node's iothread (qemu-storage-daemon 10.0.2 sends no reply; the main loop, no job, or a successful export answer: abort-22-*-survives). The model refuses it, saying so (graph/export-fail-backup-hang.ts)", value: true },
    // a hang cannot be recorded on 10.0; the 7.2 side is fuzz-found/7.2-only-abort-22-export-fails-iothread-backup.json
    proof: [],
    modelled: true,
  },
  'resize-leaks-iothread-lock': {
    what: 'block_resize of a node in an iothread that nothing keeps there: releasing its temporary BlockBackend moves the node back to the main loop',
    '7.2': { fn: 'qmp_block_resize (a coroutine command): bdrv_co_lock(bs) takes the iothread\'s AioContext lock, blk_unref → blk_remove_bs → bdrv_root_unref_child → bdrv_try_change_aio_context moves bs to the main loop, then bdrv_co_unlock(bs) looks the context up again (main) and releases nothing: the main thread keeps the iothread\'s lock, and the next AIO_WAIT_WHILE on a node in that iothread deadlocks (gdb: bdrv_flush ← external_snapshot_prepare / bdrv_reopen_multiple / bdrv_close; the iothread waits for the lock in co_schedule_bh_cb). The model refuses the resize, saying so', value: true },
    '10.0': { fn: 'qmp_block_resize without the AioContext lock (removed in 9.0): bdrv_drained_begin, blk_co_truncate, blk_co_unref; the node moves back and nothing is held', value: false },
    // 7.2 hangs later (no 7.2 recording); the surviving neighbour is abort-12-resize-pinned-in-iothread-survives
    // a failed truncate too (the move shows on 10.0: the stream of step 5 would otherwise abort, rule 'insert-node-context-asserts')
    proof: [{ transcript: 'aborts/abort-12-resize-leaves-iothread.json', step: 3 }, { transcript: 'aborts/abort-12-failed-resize-leaves-iothread.json', step: 4 }],
    modelled: true,
  },
  'cbw-file-perm': {
    what: "the copy-before-write filter's `file` edge once the filter has parents: when it adds consistent-read (blockdev-add copy-before-write, and blockdev-backup's filter)",
    '7.2': { fn: 'cbw_child_perm (block/copy-before-write.c): bdrv_default_perms, then consistent-read only if the parents\' perm has write: -/RU for a read-only user', value: 'when-writing' as 'when-writing' | 'always' },
    '10.0': { fn: 'cbw_child_perm (block/copy-before-write.c): bdrv_default_perms, then consistent-read whenever bs->parents is not empty: R/RU', value: 'always' as 'when-writing' | 'always' },
    proof: [
      // stop 34 (wt-fzg2): two backups of a grouped transaction between null nodes
      { transcript: 'fuzz-job-verbs-while-waiting.json', step: 4 },
      // fuzz 4103191356's boundary (lead)
      { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 2 }, { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 3 }, { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 4 },
      // its reopen form's boundary (fuzz 1881299179, wt-fz12)
      ...[2, 3, 4].map((step) => ({ transcript: 'abort-32-reopen-drops-last-filter-parent-survives.json', step })),
      
      // the held-out exports/iothreads/filters set (wt-combo2)
      { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 9 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 10 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 17 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 18 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 19 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 20 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 12 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 13 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 14 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 15 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 16 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 17 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 18 },
      { transcript: 'iotests/tests-image-fleecing.json', step: 3 }, { transcript: 'backup-sync-none-cancel.json', step: 3 },
      // 10.0's R on the source makes it 'already in use' as a snapshot overlay (step 8)
      { transcript: 'abort-13-snapshot-overlay-in-iothread-no-job-survives.json', step: 6 },
      // the drive-backup of read-only f6 (fuzz 1693346616's boundary, wt-hang2): -/RU on 7.2, R/RU on 10.0
      { transcript: 'abort-12-txn-snapshot-abort-over-paused-backup-survives.json', step: 1 },
      // wt-fz3: the backups of abort-19-…-survives and fuzz-reopen-queued-twice-leaves-drained
      { transcript: 'abort-19-backup-snapshot-overlay-finalize-survives.json', step: 3 }, { transcript: 'fuzz-reopen-queued-twice-leaves-drained.json', step: 5 },
      // a sync-top drive-backup of a writable qcow2 over a blkdebug backing (fuzz 1971702281)
      { transcript: 'fuzz-backup-top-blkdebug-backing.json', step: 3 }, { transcript: 'fuzz-backup-top-blkdebug-backing.json', step: 4 },
      // the backups of the abort-21 boundaries (a backup and a snapshot in one transaction, wt-ab10): -/RU on 7.2, R/RU on 10.0
      { transcript: 'abort-21-txn-snapshot-sync-then-backup-survives.json', step: 2 },
      { transcript: 'abort-21-txn-backup-then-snapshot-added-survives.json', step: 3 },
      { transcript: 'abort-21-txn-backup-then-snapshot-sync-later-action-fails-survives.json', step: 4 },
      { transcript: 'abort-21-snapshot-sync-under-filter-then-added-overlay-survives.json', step: 3 },
      // the speed-1 drive-backups of writable n1, n3 (fuzz 2763515706, wt-fz10)
      ...[1, 6].map((step) => ({ transcript: 'fuzz-backup-rate-limited-nothing-left-finishes.json', step })),
      // the third held-out set (wt-combo3)
      { transcript: 'combo-c3-job-backup-cbw-filter-below.json', step: 6 }, { transcript: 'combo-c3-perm-resize-sharers.json', step: 11 }, { transcript: 'combo-c3-proc-lock-backup-target.json', step: 4 }, { transcript: 'combo-c3-txn-backup-mixed.json', step: 10 }, { transcript: 'combo-c3-txn-snapshot-over-filter.json', step: 12 },
      // stop 38 (wt-combo10): the ninth held-out set: the same backups, whose filter's file edge differs in the same step
      ...([['b2-backup-filter-quorum-child-change', 4], ['backup-filter-node-reopen', 3], ['quorum-change-during-backup', 6]] as const).map(([t, step]) => ({ transcript: `combo-c9-${t}.json`, step })),
      // stop 39 (wt-combo11): the tenth held-out set's backups, drive-backups and grouped transactions of backups (the filter's file edge and its copy bitmap differ in the same step)
      ...([['b2-amend-while-job-holds-node', 2], ['b2-backup-bitmap-busy-while-running', 4], ['b2-drive-backup-new-target-cancel', 1], ['b2-jobs-on-same-node-busy', 5], ['b2-txn-grouped-finalize-while-other-running', 5], ['b2-txn-grouped-pending-cancel-other', 5], ['backup-and-mirror-same-source-cancel-order', 3], ['backup-held-verbs', 2], ['backup-pending-cancel', 2], ['backup-pending-finalize-filter', 2], ['backup-source-read-stop-cancel', 2], ['backup-sync-none-cancel-verbs', 2], ['backup-target-enospc-stop-cancel', 2], ['txn-drive-backup-and-blockdev-backup-grouped-pending-cancel', 5], ['txn-grouped-cancel-one', 5], ['txn-grouped-manual-finalize', 5], ['txn-job-id-clash', 8]] as const).map(([t, step]) => ({ transcript: `combo-c10-${t}.json`, step })),
      // stop 40 (wt-fz20): the sync-none backups that measure a qcow2 node a create through it grew (the filter's file edge and its copy bitmap differ in the same step)
      { transcript: 'fuzz-create-through-qcow2-node-grows-it.json', step: 5 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — a backup whose target an export reads: its filter's file edge
      ...([['backup-exported-target', 4]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
      // stop 44 (wt-combo16): the fifteenth held-out set's first differing step — backups whose filter's file edge a chain layer or quorum child below reads
      ...([['b2-backup-quorum-child-detached-running', 5], ['b2-chain5-stream-and-jobs-below', 12], ['b3-backup-pending-snapshot-overlay-finalize', 3], ['txn-snapshot-backup-throttled-chain', 6]] as const).map(([t, step]) => ({ transcript: `combo-c15-${t}.json`, step })),
      // stop 44 (wt-fz24): drive-backup mode existing into a qcow2 with data (fuzz 2644260359's regression)
      { transcript: 'fuzz-backup-existing-target-zeroes-discard.json', step: 2 },
      // stop 44 (wt-fz24): the grouped backups whose abort undoes a user pause (fuzz 3179077257)
      { transcript: 'fuzz-txn-abort-undoes-user-pause.json', step: 4 },
    ],
    modelled: true,
  },
  'block-copy-bitmap-node': {
    what: "the block-copy state's copy bitmap of a copy-before-write filter: which node holds it",
    '7.2': { fn: 'cbw_open -> block_copy_state_new(s->target, s->source(->bs)): bdrv_create_dirty_bitmap(source->bs, …)', value: 'source' as 'source' | 'filter' },
    '10.0': { fn: 'cbw_open -> block_copy_state_new(s->source, s->target, bs, …): bdrv_create_dirty_bitmap(copy_bitmap_bs = the filter, …)', value: 'filter' as 'source' | 'filter' },
    proof: [
      // stop 44 (wt-vm26): the sixteenth VM set vm-r (backups of the flash's drive, a CD medium, a quorum and a floppy's medium)
      { transcript: 'vm/vm-r-pflash-drive-stream-backup-q35.json', step: 3 }, { transcript: 'vm/vm-r-scsi-cd-backup-change-medium.json', step: 1 }, { transcript: 'vm/vm-r-hotplug-quorum-x-blockdev-change.json', step: 3 }, { transcript: 'vm/vm-r-pc-floppy-media-under-stream.json', step: 3 },
      // stop 42 (wt-fz22): a drive-backup of a legacy drive's node
      { transcript: 'vm/fuzz-vm-mirror-moves-lone-drive-into-iothread.json', step: 3 },
      // stop 40 (wt-vm22): drive-backups of legacy drives, named after them
      { transcript: 'vm/vm-n-drive-add-node-name.json', step: 7 }, { transcript: 'vm/vm-n-jobs-by-device.json', step: 3 },
      // stop 40 (wt-qrep): the qr jobs' starts
      { transcript: 'qr-job-backup-pending-concluded.json', step: 2 }, { transcript: 'qr-job-paused-speed.json', step: 2 }, 
      // stop 39 (wt-vm21): stop 36's open vm-i-migrate-with-jobs, landed once a failed migration takes the images back
      { transcript: 'vm/vm-i-migrate-with-jobs.json', step: 2 },
      // stop 39 (wt-vm20): the tenth VM held-out set's sync=none backups under HMP (each transcript's first step that differs)
      ...([['hmp-drive-add-node', 9], ['hmp-job-verbs-errors', 10], ['info-block-iothreads', 7], ['info-block-jobs', 6]] as const).map(([n, step]) => ({ transcript: `vm/vm-l-${n}.json`, step })),
      // stop 38 (wt-vm19): the ninth VM held-out set's drive-backups and blockdev-backups under devices (each transcript's first step that differs)
      ...([['backup-bitmaps-devices', 14], ['drive-backup-device-nodes', 13], ['drive-backup-transaction', 9], ['job-targets-attached', 12], ['snapshot-sync-device-nodes', 20], ['usb-storage-drive-jobs', 8]] as const).map(([s, step]) => ({ transcript: `vm/vm-k-${s}.json`, step })),
      // stop 37 (wt-vm18): backups of CD media (vm-j-eject-under-jobs)
      ...[7, 27, 28, 29].map((step) => ({ transcript: 'vm/vm-j-eject-under-jobs.json', step })),
      // vm-i: a backup under a virtio-blk (its block-copy bitmap on d0 on 7.2 only, which then refuses snapshot-load: bdrv_snapshot_goto "Device has active dirty bitmaps")
      { transcript: 'vm/vm-i-snapshot-under-jobs.json', step: 2 }, { transcript: 'vm/vm-i-internal-sync-devices.json', step: 24 },
      // stop 36 (wt-combo8): the seventh held-out set, cbw adds over qcow2 (one refused for a target size) and backups onto vdi, qcow2, qed
      ...['add-cbw-snapshot-access.json#4', 'job-backup-targets.json#6', 'reopen-filters-each.json#14'].map((x) => ({ transcript: `combo-c7-${x.split('#')[0]}`, step: Number(x.split('#')[1]) })),
      // the boundary of the stream-prepare diamond abort (lead, stop 32)
      ...[4, 5, 6].map((step) => ({ transcript: 'abort-32-finalize-stream-backup-below-base-no-diamond-survives.json', step })),{ transcript: 'vm/fuzz-vm-device-add-drive-set-in-property-order.json', step: 1 },
      // libvirt 9.0's own QMP traffic (wt-virt): backup-begin's push (blockdev-backup) and pull (sync none) jobs
      ...[24, 25, 26].map((step) => ({ transcript: 'vm/vm-lv-backup.json', step })),
      // the VM held-out set (wt-vm11)
      { transcript: 'vm/vm-c-backup-under-device.json', step: 6 }, { transcript: 'vm/vm-c-cd-medium-under-job.json', step: 4 }, { transcript: 'vm/abort-31-vm-device-del-last-filter-parent-survives.json', step: 4 },
      // the third VM held-out set (wt-vm13)
      { transcript: 'vm/vm-e-device-export-job-at-once.json', step: 7 }, { transcript: 'vm/vm-e-mixed-holders-teardown.json', step: 6 },
      // the fourth VM held-out set (wt-vm14): a backup of a cold nvme's node
      { transcript: 'vm/vm-f-every-kind-holders.json', step: 9 },
      
      // fuzz 4103191356's boundary (lead)
      { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 2 }, { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 3 }, { transcript: 'abort-30-backup-source-freed-by-filter-drop-survives.json', step: 4 },
      
      // the held-out exports/iothreads/filters set (wt-combo2)
      { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 4 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 7 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 8 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 9 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 10 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 11 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 12 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 13 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 14 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 15 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 16 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 17 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 18 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 19 }, { transcript: 'combo-c2-filter-cbw-by-hand.json', step: 20 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 4 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 5 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 6 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 7 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 8 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 9 }, { transcript: 'combo-c2-filter-cbw-small-target.json', step: 10 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 12 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 13 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 14 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 15 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 16 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 17 }, { transcript: 'combo-c2-filter-mirror-backup-filter-nodes.json', step: 18 }, { transcript: 'combo-c2-iot-backup-pinned.json', step: 7 }, { transcript: 'combo-c2-iot-backup-pinned.json', step: 8 }, { transcript: 'combo-c2-iot-backup-pinned.json', step: 9 },
      { transcript: 'abort-13-reopen-keep-cbw-diamond-survives.json', step: 2 }, { transcript: 'backup-zero-writes-allocate-l2.json', step: 4 }, { transcript: 'backup-push-full.json', step: 22 }, { transcript: 'drive-backup-paths.json', step: 3 }, { transcript: 'aio-backup-cbw-follows-pinned-source.json', step: 9 }, { transcript: 'fleecing-pull-backup-libvirt.json', step: 6 }, { transcript: 'backup-push-incremental.json', step: 4 }, { transcript: 'fleecing-cbw-snapshot-access.json', step: 6 }, { transcript: 'fuzz-cbw-probe-before-driver-open.json', step: 1 }, { transcript: 'fuzz-raw-length-follows-reopened-file.json', step: 5 }, { transcript: 'fuzz-internal-snapshot-through-overlay-grows.json', step: 11 }, { transcript: 'fuzz-internal-snapshot-through-overlay-windows.json', step: 11 }, { transcript: 'fuzz-internal-snapshot-through-overlay-with-data.json', step: 4 }, { transcript: 'fuzz-mirror-into-qcow2-over-overlay-grows.json', step: 10 }, { transcript: 'fuzz-qcow2-resize-through-overlay.json', step: 6 }, { transcript: 'fuzz-mirror-zero-pieces-allocate-nothing.json', step: 11 },
      { transcript: 'fuzz-backup-align-not-inherited.json', step: 4 }, { transcript: 'fuzz-backup-size-after-create.json', step: 3 }, { transcript: 'fuzz-backup-size-sector-rounded.json', step: 5 },
      { transcript: 'fuzz-backup-snapshot-access-io.json', step: 6 }, { transcript: 'fuzz-snapshot-sync-json-backing-cbw.json', step: 3 },
      { transcript: 'internal-snapshot-filters.json', step: 6 },
      { transcript: 'fuzz-backup-top-cbw-backing.json', step: 2 }, { transcript: 'fuzz-backup-protocol-copies-qcow2.json', step: 1 },
      { transcript: 'fuzz-backup-top-backing-kinds.json', step: 6 },
      { transcript: 'fuzz-jobs-copy-qcow2-bytes.json', step: 1 },
      { transcript: 'abort-20-backup-end-after-snapshot-survives.json', step: 2 },
      { transcript: 'abort-24-cancel-moved-backup-other-job-paused-survives.json', step: 3 },
      { transcript: 'abort-24-snapshot-internal-after-backup-file-finalized-survives.json', step: 1 },
      { transcript: 'fuzz-qcow2-over-snapshot-access.json', step: 5 },
      { transcript: 'drive-backup-target-open.json', step: 2 }, { transcript: 'fuzz-backup-throttled-target-grows.json', step: 1 },
      ...[1, 2, 8, 9].map((step) => ({ transcript: 'backup-target-file-length.json', step })),
      ...[2, 3, 4].map((step) => ({ transcript: 'abort-12-txn-snapshot-abort-over-backup-sync-none-survives.json', step })),
      ...[13, 14, 15, 16].map((step) => ({ transcript: 'jobs-raw-window-enospc-stop.json', step })),
      // the drive-backup under the export of fuzz 2265673556's survivors (wt-fz7)
      { transcript: 'abort-22-export-fails-backup-main-loop-survives.json', step: 3 }, { transcript: 'abort-22-export-iothread-backup-succeeds-survives.json', step: 3 },
      { transcript: 'backup-compress-packs-clusters.json', step: 3 },
      // stop 42 (wt-qr3): combo-c12's left-out busy-bitmap scenario, landed with the store's file growth (its backup's start)
      { transcript: 'combo-c12-b3-qcow2-ro-with-busy-bitmap.json', step: 3 },
      // the compressed backups of fuzz 699259043's detect-zeroes pair (wt-fz11)
      ...[3, 4, 8, 9, 13, 14, 15].map((step) => ({ transcript: 'fuzz-drive-backup-target-detects-zeroes.json', step })),
      ...[5, 11].map((step) => ({ transcript: 'qcow2-free-cluster-index-skips-holes.json', step })),
      ...[4, 13].map((step) => ({ transcript: 'qcow2-compressed-clusters-shared-by-snapshot.json', step })),
      { transcript: 'fuzz-compress-over-filters.json', step: 15 }, { transcript: 'fuzz-json-filename-copied.json', step: 3 }, { transcript: 'fuzz-qcow2-header-probe.json', step: 15 }, { transcript: 'fuzz-resize-through-cbw.json', step: 2 },
      ...[2, 3, 4, 5, 6].map((step) => ({ transcript: 'abort-9-finalize-stream-cbw-below-survives.json', step })),
      // the copy bitmaps of c0, c2, c3 (file and target the same node: the target's too)
      ...[1, 7, 8, 9, 10, 11, 12].map((step) => ({ transcript: 'fuzz-direct-io-alignment.json', step })),
      // the same on an ext4 host (alignment 512): c1 is accepted there too, its copy bitmap from step 4 on
      ...[1, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((step) => ({ transcript: 'fuzz-direct-io-alignment-ext4.json', step })),
      // the copy bitmap lies on n0 (7.2) or on cbw1 (10.0) at every step once cbw1 exists
      ...[2, 3, 4, 5].map((step) => ({ transcript: 'abort-11-reopen-attach-no-diamond-survives.json', step })),
      // 7.2 aborts where the filter under the cbw closes with the bitmap still on it (graph/ops.ts refuseCloseWithAnonBitmap)
      { transcript: 'aborts/abort-9-finalize-stream-filter-under-cbw.json', step: 4 },
      // a backup of a qcow2 node's file, then a stream with nothing to copy (wt-ab13)
      { transcript: 'abort-13-backup-file-stream-no-copy-survives.json', step: 2 },
      // a backup into a qcow2 over a raw window (fails after the reply), then a sync-none one (wt-nospc)
      ...[3, 12, 13].map((step) => ({ transcript: 'jobs-into-qcow2-over-raw-size-enospc.json', step })),
      // the drive-backup's copy bitmap on f6 (7.2) or on its filter (10.0) (fuzz 1693346616's boundaries, wt-hang2)
      { transcript: 'abort-12-txn-snapshot-abort-over-paused-backup-survives.json', step: 1 },
      { transcript: 'abort-12-txn-snapshot-abort-over-backup-nothing-to-copy-survives.json', step: 3 },
      // the same, of the boundaries of fuzz 3394175745 (wt-fz5): cbw3's and d5's copy bitmaps
      { transcript: 'abort-12-txn-snapshot-abort-over-backup-one-task-survives.json', step: 1 },
      { transcript: 'abort-12-txn-snapshot-abort-over-backup-one-task-qcow2-survives.json', step: 1 },
      { transcript: 'abort-12-txn-snapshot-append-fails-over-copying-backup-survives.json', step: 2 },
      // a speed-1 backup kicked by resume and set-speed (the same on both versions but for this bitmap)
      { transcript: 'job-backup-kick-ratelimit.json', step: 2 },
      // a backup of a qcow2 whose file edge moved onto a snapshot overlay, while it copies (wt-jobs, fuzz 2597031903)
      // (step 4: b1, rate-limited, still copies after the reply; its read fails at the wait step, wt-race)
      ...[4, 11].map((step) => ({ transcript: 'fuzz-backup-qcow2-file-under-snapshot-overlay.json', step })),
      // the same b1 with on-source-error stop, paused by its read error (wt-race)
      ...[4, 5, 6].map((step) => ({ transcript: 'fuzz-backup-stale-l2-later-task-stop.json', step })),
      // cbw1 over f1 after a failed transaction's snapshot (fuzz 672040825's boundary, wt-abrt)
      { transcript: 'abort-16-txn-snapshot-abort-old-node-moved-back-survives.json', step: 9 },
      // the drive-backups of read-only n2 (fuzz 4264209348's boundary, wt-abrt)
      { transcript: 'abort-17-stream-read-only-under-backup-survives.json', step: 1 },
      // the backups of the abort-21 boundaries (a backup and a snapshot in one transaction, wt-ab10)
      ...[2, 3].map((step) => ({ transcript: 'abort-21-txn-snapshot-sync-then-backup-survives.json', step })),
      ...[3, 4].map((step) => ({ transcript: 'abort-21-txn-backup-then-snapshot-added-survives.json', step })),
      ...[4, 5].map((step) => ({ transcript: 'abort-21-txn-backup-then-snapshot-sync-later-action-fails-survives.json', step })),
      { transcript: 'abort-21-snapshot-sync-under-filter-then-added-overlay-survives.json', step: 3 },
      // the drive-backup of a resized raw slice (fuzz 3697693572, wt-fz6)
      { transcript: 'fuzz-raw-slice-resize-sector-length.json', step: 4 },
      // speed-1 drive-backups with nothing to copy and with copies left (fuzz 2763515706, wt-fz10)
      ...[1, 2, 6, 7, 8, 9, 10, 11].map((step) => ({ transcript: 'fuzz-backup-rate-limited-nothing-left-finishes.json', step })),
      // the blockdev-backups of the held-out chain/reopen/job set (wt-combo1)
      { transcript: 'combo-c1-backup-chain-pause-cancel.json', step: 8 }, { transcript: 'combo-c1-backup-fleecing-manual.json', step: 8 }, { transcript: 'combo-c1-backup-manual-pending.json', step: 8 }, { transcript: 'combo-c1-backup-two-targets.json', step: 8 },
      // the vm target's pairs (oracle/transcripts/vm, qemu-10.0/vm)
      { transcript: 'vm/fuzz-vm-eject-busy-keeps-tray-open.json', step: 3 },
      // the third held-out set (wt-combo3)
      { transcript: 'combo-c3-job-backup-cbw-filter-below.json', step: 6 }, { transcript: 'combo-c3-perm-resize-sharers.json', step: 11 }, { transcript: 'combo-c3-proc-lock-backup-target.json', step: 4 }, { transcript: 'combo-c3-txn-backup-mixed.json', step: 10 }, { transcript: 'combo-c3-txn-snapshot-over-filter.json', step: 12 },
      // fuzz 1322587509 (lead): raw over blkdebug over an empty qcow2, the backup's filter waits at pending
      { transcript: 'fuzz-backup-top-raw-over-blkdebug-nothing-allocated.json', step: 3 }, { transcript: 'fuzz-backup-top-raw-over-blkdebug-nothing-allocated.json', step: 4 },
      // the fourth held-out set's backup starts (wt-combo4): the copy bitmap, and cbw-file-perm's R on the source
      { transcript: 'combo-c4-export-del-while-busy.json', step: 5 }, { transcript: 'combo-c4-export-over-job-nodes.json', step: 7 }, { transcript: 'combo-c4-job-ids-and-node-names.json', step: 6 }, { transcript: 'combo-c4-job-mirror-of-backup-nodes.json', step: 8 }, { transcript: 'combo-c4-job-verbs-wrong-type.json', step: 9 }, { transcript: 'combo-c4-names-shared-between-namespaces.json', step: 12 }, { transcript: 'combo-c4-reopen-during-backup-states.json', step: 6 }, { transcript: 'combo-c4-txn-backups-bitmap-busy.json', step: 11 }, { transcript: 'combo-c4-txn-fail-each-position.json', step: 17 }, { transcript: 'combo-c4-txn-five-actions-chain5.json', step: 21 }, { transcript: 'combo-c4-txn-grouped-completion.json', step: 8 }, { transcript: 'combo-c4-txn-qapi-and-abort.json', step: 16 }, { transcript: 'combo-c4-txn-snapshot-sync-chain5-backup-mid.json', step: 12 },
      // the fifth held-out set's backup starts (wt-combo5): the copy bitmap, and cbw-file-perm's R on the source
      { transcript: 'combo-c5-bm-busy-during-jobs.json', step: 5 }, { transcript: 'combo-c5-bm-merge-across-nodes.json', step: 15 },
      // stop 35 (wt-combo7): the sixth held-out set, copy-before-write nodes added, backups alone and in transactions
      ...['chain6-cbw-levels.json#16', 'job-backup-every-state.json#10', 'txn-during-jobs.json#18', 'txn-five-mixed-fail-each-position.json#22',
        'txn-snapshot-sync-drive-backup-chain.json#9'].map((x) => ({ transcript: `combo-c6-${x.split('#')[0]}`, step: Number(x.split('#')[1]) })),
      // stop 33 (wt-fzg): copy-before-write filters over targets of the other formats (the copy bitmap's granularity is the target's bdrv_get_info cluster size)
      ...[9, 11, 13, 15, 17, 19, 21].map((step) => ({ transcript: 'fuzz-block-copy-cluster-other-formats.json', step })),
      // stop 33 (wt-fzg): backups from file nodes under the other formats, and drive-backups creating them (from step 3 on)
      { transcript: 'fuzz-other-formats-file-length-and-img-create.json', step: 3 },
      { transcript: 'fuzz-other-formats-empty-file-qcow-magic-compress.json', step: 16 },
      // the boundary of fuzz 2430494153 (abort-33): the copy bitmap on x1 (7.2) or on cbw3 (10.0)
      { transcript: 'abort-33-reopen-drops-block-copy-bitmap-node-monitor-owned-survives.json', step: 2 },
      { transcript: 'abort-33-backup-into-quorum-overlay-sync-none-survives.json', step: 3 },
      // fuzz 3704952946 (wt-fz15): the threshold-1 quorum's backup, its copy bitmap on x1 (7.2) or the filter (10.0)
      { transcript: 'fuzz-backup-quorum-read-vote-fails.json', step: 5 },
      // fuzz 974893939 (wt-fz15): a cbw over the overlay of a vhdx node's file, its 8 MiB bitmap on n4 (7.2) or the filter (10.0)
      { transcript: 'fuzz-cbw-target-vhdx-block-size-from-open.json', step: 2 },
      // lead (stop 35): a cbw over the top whose target is a vdi blockdev-create made, 1 MiB clusters
      { transcript: 'fuzz-cbw-target-created-vdi-block-size.json', step: 9 },
      // the boundary of fuzz 250573919 (abort-34): the drive-backup's copy bitmap on n2 (7.2) or the filter (10.0)
      { transcript: 'abort-34-blockdev-del-over-moved-running-backup-paused-survives.json', step: 3 },
      // stop 34 (wt-fzg2): two backups of a grouped transaction between null nodes
      { transcript: 'fuzz-job-verbs-while-waiting.json', step: 4 },
      // stop 35 (wt-inact35): the cbw whose target link refuses a later inactivation, its copy bitmap on f2 (7.2) or the filter (10.0)
      { transcript: 'fuzz-inactivate-all-keeps-partial.json', step: 3 },
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-b2-backup-bitmap-then-snapshot-over-source.json', step: 5 }, { transcript: 'combo-c8-b2-quorum-children-bitmaps.json', step: 12 }, { transcript: 'combo-c8-b3-backup-sync-top-bitmap.json', step: 6 }, { transcript: 'combo-c8-b3-data-file-bitmaps.json', step: 8 }, { transcript: 'combo-c8-b3-export-writable-top-enabled-backing-bitmap.json', step: 12 }, { transcript: 'combo-c8-backup-bitmap-argument-errors.json', step: 22 }, { transcript: 'combo-c8-backup-bitmap-busy-second-job.json', step: 5 }, { transcript: 'combo-c8-backup-bitmap-cancel-modes.json', step: 6 }, { transcript: 'combo-c8-backup-bitmap-filter-node-name.json', step: 4 }, { transcript: 'combo-c8-backup-bitmap-granularity-perf.json', step: 8 }, { transcript: 'combo-c8-backup-bitmap-mode-always.json', step: 4 }, { transcript: 'combo-c8-backup-bitmap-mode-never.json', step: 4 }, { transcript: 'combo-c8-backup-bitmap-mode-on-success.json', step: 4 }, { transcript: 'combo-c8-backup-bitmap-readonly-inconsistent.json', step: 11 }, { transcript: 'combo-c8-backup-target-bitmaps-dirtied.json', step: 5 }, { transcript: 'combo-c8-cbw-bitmap-option.json', step: 6 }, { transcript: 'combo-c8-drive-backup-bitmap.json', step: 5 }, { transcript: 'combo-c8-export-bitmaps-iothread.json', step: 14 }, { transcript: 'combo-c8-resize-bitmaps.json', step: 10 }, { transcript: 'combo-c8-txn-add-then-backup-incremental.json', step: 3 }, { transcript: 'combo-c8-txn-full-backup-clear-then-incremental.json', step: 4 },
      // stop 38 (wt-combo10): the ninth held-out set: backups with filter-node-name, over and inside a quorum
      ...([['b2-backup-filter-quorum-child-change', 4], ['backup-filter-node-reopen', 3], ['quorum-change-during-backup', 6]] as const).map(([t, step]) => ({ transcript: `combo-c9-${t}.json`, step })),
      // stop 39 (wt-combo11): the tenth held-out set's backups, drive-backups and grouped transactions of backups (the filter's file edge and its copy bitmap differ in the same step)
      ...([['b2-amend-while-job-holds-node', 2], ['b2-backup-bitmap-busy-while-running', 4], ['b2-drive-backup-new-target-cancel', 1], ['b2-jobs-on-same-node-busy', 5], ['b2-txn-grouped-finalize-while-other-running', 5], ['b2-txn-grouped-pending-cancel-other', 5], ['backup-and-mirror-same-source-cancel-order', 3], ['backup-held-verbs', 2], ['backup-pending-cancel', 2], ['backup-pending-finalize-filter', 2], ['backup-source-read-stop-cancel', 2], ['backup-sync-none-cancel-verbs', 2], ['backup-target-enospc-stop-cancel', 2], ['txn-drive-backup-and-blockdev-backup-grouped-pending-cancel', 5], ['txn-grouped-cancel-one', 5], ['txn-grouped-manual-finalize', 5], ['txn-job-id-clash', 8]] as const).map(([t, step]) => ({ transcript: `combo-c10-${t}.json`, step })),
      // stop 40 (wt-fz20): the sync-none backups that measure a qcow2 node a create through it grew (the filter's file edge and its copy bitmap differ in the same step)
      { transcript: 'fuzz-create-through-qcow2-node-grows-it.json', step: 5 },
      // stop 40 (wt-combo12): the eleventh held-out set's sync=none backup into a created vhdx (its copy bitmap)
      { transcript: 'combo-c11-b2-backup-sync-modes-formats.json', step: 11 },
      // stop 41 (wt-combo13): the twelfth held-out set's sync=none backup with a named filter, and a copy-before-write added over a qcow2 (the filter's file edge and its copy bitmap)
      { transcript: 'combo-c12-b2-backup-cbw-reopen.json', step: 3 }, { transcript: 'combo-c12-copy-before-write-reopen.json', step: 2 },
      // stop 40 (lead, kept after the lists' first two: the upgrade drill takes those): the drive-backup into a raw target opened with format raw
      { transcript: 'probe-drive-backup-qcow2-header-format-raw.json', step: 1 },
      // stop 41 (wt-vm23): the vm-o reply set's first 7.2/10.0 differences
      { transcript: 'vm/vm-o-job-backup-paused-concluded.json', step: 4 },
      // stop 41 (replies): the sync none backups whose block-copy bitmap counts whole
      { transcript: 'fuzz-block-copy-bitmap-starts-whole.json', step: 2 },
      { transcript: 'fuzz-leaked-drain-job-status-paused.json', step: 2 },
      // stop 41 (replies): the drive-backup sync none of the transaction whose snapshot moves an export
      { transcript: 'fuzz-export-node-name-follows-snapshot.json', step: 5 },
      // stop 41 (wt-qr2): stop 40's qr-bitmaps-busy-backup, landed with the copy bitmap's contents
      { transcript: 'qr-bitmaps-busy-backup.json', step: 3 },
      // stop 42 (wt-combo14): the thirteenth held-out set, transactions: the first step each pair differs
      { transcript: 'combo-c13-backup-busy-target-and-verbs.json', step: 3 }, { transcript: 'combo-c13-backup-duplicate-job-ids.json', step: 6 }, { transcript: 'combo-c13-backup-exported-nodes.json', step: 7 }, { transcript: 'combo-c13-backup-filters.json', step: 8 }, { transcript: 'combo-c13-backup-over-cbw-node.json', step: 3 }, { transcript: 'combo-c13-bitmap-busy-by-backup.json', step: 4 }, { transcript: 'combo-c13-drive-backup-refusals.json', step: 6 }, { transcript: 'combo-c13-grouped-manual-finalize-order.json', step: 4 }, { transcript: 'combo-c13-grouped-pending-cancel.json', step: 4 }, { transcript: 'combo-c13-grouped-three-one-finishes.json', step: 5 }, { transcript: 'combo-c13-individual-manual-finalize.json', step: 4 }, { transcript: 'combo-c13-snapshot-of-backup-source-and-target.json', step: 4 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — backups of and into exported nodes
      ...([['b2-backup-exported-source-del-safe', 5], ['backup-exported-target', 4]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
      // stop 44 (wt-combo16): the fifteenth held-out set's first differing step — backups and a copy-before-write filter over chains, quorum children and exported nodes
      ...([['b2-backup-quorum-child-detached-running', 5], ['b2-cbw-snapshot-access-exported-reopen', 2], ['b2-chain5-stream-and-jobs-below', 12], ['b3-backup-pending-snapshot-overlay-finalize', 3], ['backup-exported-source-snapshot-overlay', 4], ['txn-snapshot-backup-throttled-chain', 6]] as const).map(([t, step]) => ({ transcript: `combo-c15-${t}.json`, step })),
    ],
    modelled: true,
  },
  'transaction-commit-order': {
    what: "a transaction's actions: the order their .commit (and .clean) handlers run in (a blockdev-snapshot's commit reopens its old node read-only, bdrv_reopen_set_read_only, which fails while another action's old node above it is still read-write; a backup's commit starts its job)",
    '7.2': { fn: 'qmp_transaction: QTAILQ_FOREACH(state, &snap_bdrv_states, entry) state->ops->commit(state), then ->clean, in action order', value: 'actions' as 'actions' | 'reverse' },
    '10.0': { fn: 'qmp_transaction -> tran_commit (util/transactions.c): tran_add does QSLIST_INSERT_HEAD, so QSLIST_FOREACH runs the last action\'s .commit (and .clean) first', value: 'reverse' as 'actions' | 'reverse' },
    // fuzz 2886107310 (10.0): [snapshot-sync n0, blockdev-snapshot f1 under n0]: 7.2 reopens n0
    // then f1 read-only (f1 keeps an explicit read-only=on, a later stream of n0 cannot make it
    // writable); 10.0 tries f1 first, which fails under read-write n0, then n0 (f1 read-only
    // only by inheritance). Its backups: rule grouped-txn-job-start-order.
    proof: [{ transcript: 'fuzz-txn-snapshot-commit-order-stream.json', step: 2 }],
    modelled: true,
  },
  'grouped-txn-job-start-order': {
    what: 'a transaction that starts several jobs: the order of their JOB_STATUS_CHANGE running events',
    '7.2': { fn: 'qmp_transaction -> job_start of each action in action order (blockdev_backup_commit)', value: 'actions' },
    '10.0': { fn: 'tran_commit runs the last action\'s blockdev_backup_commit (job_start) first: rule transaction-commit-order, which the model carries out', value: 'reverse' },
    // events are not scored by conformance, so this pair cannot prove a modelled rule (the spec
    // asks a proof step to disagree under 7.2 rules); the mechanism is transaction-commit-order's
    // libvirt's incremental push backup-begin of two disks (wt-virt2): one transaction, two blockdev-backup
    proof: [{ transcript: 'backup-transaction.json', step: 6 }, { transcript: 'vm/vm-lv2-backup2.json', step: 17 }, { transcript: 'fuzz-job-verbs-while-waiting.json', step: 4 },
      // stop 39 (wt-combo11): the tenth held-out set's transactions of two backups (their running events in action order on 7.2, last action first on 10.0)
      ...([['b2-txn-grouped-finalize-while-other-running', 5], ['b2-txn-grouped-pending-cancel-other', 5], ['txn-drive-backup-and-blockdev-backup-grouped-pending-cancel', 5], ['txn-grouped-cancel-one', 5], ['txn-grouped-manual-finalize', 5], ['txn-individual-runtime-fail', 5]] as const).map(([t, step]) => ({ transcript: `combo-c10-${t}.json`, step })),
    ],
    modelled: false,
  },
  'check-block-size-text': {
    what: "a vhost-user-blk export's logical-block-size out of range or not a power of 2 (util/block-helpers.c check_block_size): the error text",
    '7.2': { fn: 'check_block_size: QERR_PROPERTY_VALUE_OUT_OF_RANGE "Property %s.%s doesn\'t take value %ld (minimum: 512, maximum: 2097152)", then "Property %s.%s doesn\'t take value \'%ld\', it\'s not a power of 2"', value: 'property' },
    '10.0': { fn: 'check_block_size (recorded): one text for both, "parameter %s must be a power of 2 between %ld and %ld"', value: 'parameter' },
    // and a device's logical_block_size (set_blocksize: the same check; the fourth VM held-out set, wt-vm14)
    proof: [
      // stop 44 (wt-vm26): a cold scsi-hd with logical_block_size=1000 (a start refusal on both, in each version's words)
      { transcript: 'vm/vm-r-scsi-hd-block-size-not-power-of-two.json', step: 0 },
      { transcript: 'combo-c2-export-vhost-user-blk.json', step: 4 }, { transcript: 'vm/vm-f-nvme-props.json', step: 8 }, { transcript: 'vm/vm-f-props-block-sizes.json', step: 2 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — vhost-user-blk's and vduse-blk's logical-block-size
      ...([['b3-vduse-blk-options', 6], ['vhost-user-blk-options', 2]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
    ],
    modelled: true,
  },
  'preallocate-drop-resize-bh': {
    what: 'a preallocate filter whose parents gave up write or resize: how long it keeps write and resize (unshared) on its file',
    '7.2': { fn: 'block/preallocate.c preallocate_child_perm: only while its own perm can_write_resize', value: false },
    '10.0': { fn: 'block/preallocate.c preallocate_child_perm: also while s->data_end != -EINVAL, which preallocate_set_perm sets when the filter can write and resize and only preallocate_drop_resize (a bottom half scheduled by preallocate_set_perm, run after the command; or preallocate_reopen_prepare to read-only) resets: a parent swapping the filter out for its file in one reopen meets the filter\'s old claim; a failed truncate through the filter (preallocate_co_truncate: s->data_end = ret) leaves any errno but -EINVAL there, which preallocate_drop_resize (data_end < 0) never resets', value: true },
    // held-out set 3 (wt-combo3): a qcow2 reopened from file=pre to pre's own file (also step 14 of
    // combo-c3-long-filters-jobs-reopen, a mirror target, after an earlier difference)
    // stop 36 (wt-fz17): preallocate_co_truncate's fail path sets s->data_end to the errno, and any
    // errno but -EINVAL keeps the claim for good (graph/truncate.ts keepPreallocTruncateFailures):
    // a failed block_resize through the filter, one over a read-only file (the release's refresh
    // rolled back), a create's truncates (fuzz --qemu 10.0 2641913471, 2575497845, 2876630500)
    proof: [{ transcript: 'combo-c3-perm-preallocate-swap-file.json', step: 3 },
      { transcript: 'fuzz-preallocate-failed-truncate-keeps-claim.json', step: 1 },
      { transcript: 'fuzz-preallocate-failed-truncate-read-only-file.json', step: 2 },
      { transcript: 'fuzz-create-truncate-through-preallocate.json', step: 1 },
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-filters-bitmaps-insert-remove.json', step: 18 },
    ],
    modelled: true,
  },
  'qemuopts-size-negative-text': {
    what: "a negative raw offset/size (raw_read_options' QemuOpts, a QEMU_OPT_SIZE option): the error text",
    '7.2': { fn: 'util/qemu-option.c parse_option_size: "Parameter \'%s\' expects a non-negative number below 2^64"', value: 'expects' },
    '10.0': { fn: 'util/qemu-option.c parse_option_size (recorded): "Value \'%s\' is out of range for parameter \'%s\'"', value: 'out-of-range' },
    // graph/driver-options/raw.ts raw_read_options (found again by fuzz --qemu 10.0 seed 41: size and offset, blockdev-add and reopen)
    // also blkdebug_open's and qcow2_update_options_prepare's absorb (wt-iot7: abort-24's boundary, blkdebug align)
    proof: [
      // the held-out exports/iothreads/filters set (wt-combo2)
      { transcript: 'combo-c2-filter-preallocate.json', step: 2 },
      { transcript: 'raw-slice-qcow2-inside.json', step: 10 }, { transcript: 'abort-24-null-negative-size-survives.json', step: 4 },
      // stop 41 (wt-combo13): qcow2_update_options_prepare's absorb of a negative l2-cache-size at reopen
      { transcript: 'combo-c12-qcow2-cache-sizes.json', step: 12 }],
    modelled: true,
  },
  'zero-write-unmap-needs-discard': {
    what: "a write of zeroes with BDRV_REQ_MAY_UNMAP issued through a BlockBackend (a mirror's zero pieces, mirror_co_zero -> blk_co_pwrite_zeroes): does a qcow2 node opened without discard=unmap release the clusters?",
    '7.2': { fn: 'bdrv_co_pwrite_zeroes drops BDRV_REQ_MAY_UNMAP without BDRV_O_UNMAP, but blk_co_pwrite_zeroes goes through blk_co_pwritev_part -> bdrv_co_pwritev_part, which does not: zero_in_l2_slice releases the clusters whatever the discard option', value: false },
    '10.0': { fn: "recorded: the flag is dropped on that path too when the node lacks BDRV_O_UNMAP (a qcow2 target with the default discard=ignore keeps its clusters, zero flag only; one opened with discard=unmap releases them)", value: true },
    // stop 42 (wt-qr3): the same drop at an NBD client node opened without discard=unmap, so the
    // export's qcow2 keeps its clusters (NBD_CMD_FLAG_NO_HOLE); 7.2 passes the flag to the server
    proof: [{ transcript: 'mirror-zero-writes-release-clusters.json', step: 19 }, { transcript: 'qr3-nbd-mirror-zeroes-unmap.json', step: 10 }],
    modelled: true,
  },
  'parallels-header-size-units': {
    what: "how many bytes parallels_open's in-use mark writes (parallels_update_header: MAX(opt_mem_align, 64) bytes cut to s->header_size) on a writable open, the end of which is the file node's wr_highest_offset",
    '7.2': { fn: 'parallels_open compares data_end, in sectors, with header_size, in bytes (s->data_end < s->header_size): a header and BAT of 64 + 4 * bat_entries bytes rounded to 4096 is more than the 2048 sectors of data_off, so header_size is cut back to the unrounded 64 + 4 * bat_entries, and that much is written', value: true },
    '10.0': { fn: 'parallels_open compares sectors with sectors (s->data_end < s->header_size >> BDRV_SECTOR_BITS): header_size stays rounded to opt_mem_align, and the write is 4096 bytes', value: false },
    proof: [{ transcript: 'qr3-create-parallels-qed.json', step: 5 }],
    modelled: true,
  },
  'variable-length-drivers': {
    what: 'which nodes bdrv_getlength asks again (refresh_total_sectors) instead of using the length they had at open or last truncate: a raw or copy-on-read node over a file resized below it',
    '7.2': { fn: 'bdrv_nb_sectors: drv->has_variable_length, set by raw-format, copy-on-read, compress and preallocate (and host_device/host_cdrom, not modelled), whose getlength asks bs->file', value: ['raw', 'copy-on-read', 'compress', 'preallocate'] as readonly string[] },
    '10.0': { fn: 'bdrv_co_nb_sectors (recorded): a raw or copy-on-read node over a regular file keeps its open-time length after block_resize of the file (query-named-block-nodes virtual-size), so none of the modelled drivers refreshes', value: [] as readonly string[] },
    proof: [{ transcript: 'fuzz-commit-perm-after-resize.json', step: 7 }, { transcript: 'fuzz-created-image-size-getlength.json', step: 12 },
      // raw_apply_options over a raw node whose file was resized (fuzz 2894008457); a bitmap made on such a raw node (fuzz 1534176801's neighbour)
      { transcript: 'fuzz-raw-slice-over-variable-length-raw.json', step: 3 }, { transcript: 'fuzz-bitmap-size-sectors.json', step: 12 },
      // filters opened over such a raw node take its length (refresh_total_sectors at open)
      { transcript: 'fuzz-filter-length-at-open.json', step: 11 },
      // backup_job_create's size check of a raw source over a resized file (then cbw's length from it)
      { transcript: 'fuzz-cbw-length-from-raw-child.json', step: 5 },
      // an NBD export of such a raw node (nbd_export_create's exp->size)
      { transcript: 'fuzz-nbd-export-length.json', step: 8 },
      // bdrv_node_refresh_perm's alignment check of a compress node over a qcow2 overlay that a
      // qcow2 parent's metadata writes grew (graph/guest-image.ts; fuzz 1787362467)
      { transcript: 'fuzz-compress-over-grown-overlay-alignment.json', step: 7 }],
    modelled: true,
  },
  'reopen-refreshes-length': {
    what: "whether a reopened node asks its driver for its length again when the reopen commits: a file node over a host file someone else truncated (blockdev-create of the file driver) takes the file's new length",
    '7.2': { fn: 'bdrv_reopen_commit ends with bdrv_refresh_limits only (raw-format relies on .has_variable_length instead)', value: false },
    '10.0': { fn: 'bdrv_reopen_commit ends with bdrv_refresh_total_sectors(bs, bs->total_sectors) ("block: refresh bs->total_sectors on reopen", when raw lost has_variable_length): file-posix raw_getlength, raw_getlength, the filters\' getlength of their child', value: true },
    proof: [...[5, 6].map((step) => ({ transcript: 'fuzz-reopen-refreshes-file-length.json', step })),
      // external_snapshot_commit's bdrv_reopen_set_read_only of a blkdebug whose image the same
      // transaction moved onto a shorter overlay (fuzz 2605869139)
      { transcript: 'fuzz-snapshot-commit-reopen-refreshes-filter-length.json', step: 4 }],
    modelled: true,
  },
  'nbd-server-stop-export-order': {
    what: 'the order of the BLOCK_EXPORT_DELETED events nbd-server-stop sends for several NBD exports without clients (qmp_nbd_server_stop -> blk_exp_close_all_type walks block_exports, to which blk_exp_add inserts at the head, and each last blk_exp_unref schedules blk_exp_delete_bh on the main AioContext, which sends the event)',
    '7.2': { fn: 'blk_exp_close_all_type walks block_exports newest first (QLIST_INSERT_HEAD in blk_exp_add) and each export\'s last blk_exp_unref schedules blk_exp_delete_bh; 7.2\'s aio_bh_poll runs those one-shot bottom halves last scheduled first, so the events come oldest export first: r before w, dev before fl-access, dev/tmp/tmp2 in that order, and stop 38\'s aw, ar, rw, rr (added in that order; not their ids\' order) in every recording; an export with an NBD client loses its last reference in the client\'s coroutine, which aio_poll dispatches before aio_bh_poll, so its BH is scheduled last and runs first (fl-access, with a client, before the older sda)', value: 'oldest-first' as 'oldest-first' | 'newest-first' },
    '10.0': { fn: 'blk_exp_close_all_type (AIO_WAIT_WHILE_UNLOCKED) + blk_exp_delete_bh as recorded: newest export first, the block_exports list order (QLIST_INSERT_HEAD in blk_exp_add), in all 5 recordings', value: 'newest-first' as 'oldest-first' | 'newest-first' },
    // (10.0, stop 38: an export an NBD client is still connected to comes before the client-less
    // ones: blk_exp_delete_bh's delete and blk_unref poll the main loop, where the client's close
    // drops the export's last reference; iotests/147-j-builtin-nbd-two-exports #13, exp1 with a
    // client before exp2, the same order on 7.2)
    // events only (`shows`: the proof check decides by the events). Recorded pairs: iotests/tests-nbd-multiconn-b #7 and tests-nbd-multiconn-limited
    // #11 (7.2 r, w; 10.0 w, r), tests-g-image-fleecing-backup-none #14 (7.2 dev, tmp, tmp2;
    // 10.0 tmp2, tmp, dev), tests-g-image-fleecing-cbw-bitmap #18 (7.2 dev, fl-access; 10.0
    // fl-access, dev), tests-image-fleecing-b-cbw-bitmap #15 (fl-access, sda on both), steps
    // numbered from 1, all under oracle/transcripts/iotests and qemu-10.0/iotests
    proof: [
      // stop 39 (wt-vm21, the eleventh VM set)
      { transcript: 'vm/vm-m-migrate-exports.json', step: 21 },
      // stop 37 (wt-combo9): the eighth held-out set, on dirty bitmaps
      { transcript: 'combo-c8-export-bitmap-writable-enabled.json', step: 14 },
      // stop 38 (wt-vm19): four client-less exports stopped in the order they were added (7.2), newest first (10.0)
      { transcript: 'vm/vm-k-nbd-writable-share-rw.json', step: 23 }, { transcript: 'vm/vm-k-hmp-arg-forms.json', step: 35 },
      // stop 39 (wt-vm20): HMP nbd_server_stop of two exports of one node (c, then ce)
      { transcript: 'vm/vm-l-hmp-nbd.json', step: 21 },
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — nbd-server-stop of an NBD export, a legacy one and a vhost-user-blk one (events)
      ...([['nbd-server-stop-mixed-exports', 7]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
    ],
    modelled: true,
    shows: 'events' as const,
  },
  'wake-ends-rate-limit-sleep': {
    what: "a wake-up of a speed-limited stream, commit or mirror sleeping for its rate limit (the end of a drained section: child_job_drained_end -> job_resume; block-job-resume / job-resume: job_resume_locked; block-job-set-speed's kick: block_job_set_speed_locked -> job_enter_cond_locked when the speed goes up or to 0) ends the sleep and the job runs its next iteration",
    '7.2': { fn: 'mirror_run/stream_run/commit_run: job_sleep_ns(delay_ns) returns when job_enter_cond/job_resume enters the job (block_job_set_speed_locked, job_resume_locked, child_job_drained_end), and the loop goes on', value: true },
    '10.0': { fn: 'block_job_ratelimit_sleep: do { delay_ns = ratelimit_calculate_delay(&job->limit, 0); job_sleep_ns(job, delay_ns); } while (delay_ns && !job_is_cancelled(job)): after an early return the delay is asked again, so the job runs on only when the limit no longer asks for one (speed 0, or a new quota above what the slice dispatched); else it sleeps again (graph/jobs/rate.ts wakeJob)', value: false },
    // one mechanism with probe-blk-drain-wakes-jobs, aio-move-drain-wakes-jobs and
    // transaction-drain-all-wakes-jobs (7.2-only recordings); fuzz --qemu 10.0 seed 77 case 1571681198;
    // iotests/030-stream-pause #5: the resume of a speed-1 stream (7.2: it copies its last chunk
    // and is pending; 10.0: still running, so set-speed -1 gets the speed check)
    proof: [
      // stop 37 (wt-vm18): block-job-set-speed wakes a rate-limited stream and commit under devices (7.2 finishes them at once)
      ...Array.from({ length: 23 }, (_, i) => ({ transcript: 'vm/vm-j-jobs-stop-cont-speed.json', step: 15 + i })),
      // a VM `stop` in prelaunch drains all (do_vm_stop): 7.2's commit wakes and goes ready (lead)
      { transcript: 'vm/fuzz-vm-stop-drains-wakes-commit.json', step: 14 },
      { transcript: 'fuzz-mirror-write-error-wakes-failed.json', step: 6 }, { transcript: 'job-commit-reopen-drain-wake.json', step: 5 }, { transcript: 'fuzz-mirror-rate-limit-snapshot-access-wakes.json', step: 5 },
      { transcript: 'iotests/030-stream-pause.json', step: 5 },
      // blk_remove_bs's blk_drain (block-export-del of the device's export) wakes a speed-64K commit (7.2: it ends)
      { transcript: 'iotests/040-hot-unplug.json', step: 4 },
      // blk_exp_add's fail path (blk_unref / blk_remove_bs -> blk_drain) wakes a speed-1 active commit (7.2: ready)
      { transcript: 'fuzz-export-fail-drain-wakes-job.json', step: 4 },
      // kicks recorded on both versions: a stream's set-speed 2 (#8: 7.2 pending, 10.0 running),
      // a mirror's resume (#6: 7.2 ready), a commit's job-resume and set-speed 2 (#5: 7.2 pending)
      { transcript: 'job-stream-kick-ratelimit.json', step: 8 }, { transcript: 'job-mirror-kick-ratelimit.json', step: 6 },
      { transcript: 'job-commit-kick-ratelimit.json', step: 5 },
      // the drained sections of two streams' lifetimes below a speed-1 stream (stream_prepare,
      // blk_unref's two blk_drain): 7.2 copies a chunk per section and ends it at #17, 10.0 sleeps on
      { transcript: 'combo-c1-two-jobs-wake.json', step: 17 },
      // stop 35 (wt-combo7): the sixth held-out set, reopens whose drained sections wake speed-4096 jobs (7.2: they end)
      { transcript: 'combo-c6-freeze-commit-and-stream-adjacent.json', step: 13 }, { transcript: 'combo-c6-job-two-jobs-one-chain6.json', step: 22 },
      { transcript: 'combo-c6-reopen-list-frozen-member-each-position.json', step: 15 },
      // the vm target's pairs (oracle/transcripts/vm, qemu-10.0/vm)
      { transcript: 'vm/vm-device-add-refused-drain-wake-complete.json', step: 6 }],
    modelled: true,
  },
  'mirror-copy-error-waits-for-rate-limit': {
    what: "a speed-limited mirror whose first copy fails (a read through a snapshot-access node, on-source-error report): does the job sleep for its rate limit before it sees the error, also when the first run of dirty chunks takes more than one request?",
    '7.2': { fn: "mirror_iteration: the read coroutine is entered at once (mirror_perform), so s->ret is set by the first request; a second request of the same run sees it ('if (s->ret < 0) { ret = 0; goto fail; }') and returns no delay: only a run that one request covers (at most MAX_IO_BYTES, 1 MiB) returns the rate-limit delay, and mirror_run sleeps (job_sleep_ns) before it looks at s->ret", value: false },
    '10.0': { fn: 'mirror_run (recorded): BLOCK_JOB_ERROR is sent at once, but the loop sleeps for the rate limit (job_sleep_ns) before it looks at s->ret, however long the first run is', value: true },
    // the pair (16 MiB source) is not proof material: 7.2's failure races the graph query
    // (re-recordings differ); mirror-rate-limit-snapshot-access.json records the common case
    proof: [],
    modelled: true,
  },
  'moved-backup-clean-hangs': {
    what: 'job-cancel / job-finalize of a pending backup that x-blockdev-set-iothread carried into an iothread after it started, whose copy-before-write drop must pause another running job carried there with it',
    '7.2': { fn: 'job_finalize_single_locked takes the job\'s AioContext, backup_clean -> bdrv_cbw_drop -> bdrv_drop_filter -> bdrv_replace_node_common -> bdrv_drained_begin polls (AIO_WAIT_WHILE) with the iothread\'s lock still held once: gdb shows the iothread in aio_bh_poll (co_schedule_bh_cb) waiting for that lock to enter the other job for its pause. Jobs created in the iothread, or only one of them moved, or the other job user-paused: no hang (probed live). The model refuses the verb, saying so', value: true },
    '10.0': { fn: 'no AioContext lock (removed in 9.0): the drain enters the other job in its iothread and the filter is dropped', value: false },
    // 7.2 hangs (no 7.2 recording); the surviving neighbours are abort-24-*-survives
    proof: [{ transcript: 'aborts/abort-24-cancel-moved-backup-under-moved-job.json', step: 7 }, { transcript: 'aborts/abort-24-finalize-moved-backup-under-moved-job.json', step: 7 }],
    modelled: true,
  },
  'reopen-queue-drains-per-call': {
    what: 'a blockdev-reopen that queues one node twice (listed twice, or listed after a parent in the list that queued it as an implicit child): does the node stay drained afterwards?',
    '7.2': { fn: 'qmp_blockdev_reopen: bdrv_subtree_drained_begin of each listed node, bdrv_subtree_drained_end of each at the end (balanced); bdrv_reopen_queue_child does not drain', value: false },
    '10.0': { fn: 'bdrv_reopen_queue_child: bdrv_drained_begin(bs) on every call, before it looks the node up in the queue (one entry per node); bdrv_reopen_queue_free: one bdrv_drained_end per entry, so each further call leaves a drained section open for good: every block job with a node at or above it is paused (child_job_drained_begin -> job_pause; a job started there stops at job_co_entry\'s pause point, before its .run)', value: true },
    // fuzz --qemu 10.0 case 3862934177: the mirror onto the target above the twice-listed node
    // never reaches mirror_run's size check
    proof: [{ transcript: 'fuzz-reopen-twice-listed-node-stays-drained.json', step: 3 }, { transcript: 'fuzz-reopen-parent-and-child-stays-drained.json', step: 3 },
      // a ready mirror above the node: job-complete is taken, the job never completes (7.2: pending)
      { transcript: 'fuzz-reopen-leaked-drain-pauses-jobs.json', step: 5 },
      // an implicit child both file and backing of its parent, queued twice (wt-fz3, fuzz 1274101330 / 3766108729)
      { transcript: 'fuzz-reopen-queued-twice-leaves-drained.json', step: 6 },
      // the same through a block-stream whose read-write reopen fails: the queue is freed all the same (wt-fz13, fuzz 3518894937)
      { transcript: 'fuzz-failed-stream-reopen-leaves-drain.json', step: 3 },
      // iotests 161 style: [none0 {backing: int}, int] during a speed-limited stream; the job is
      // paused already when job-pause comes (no JOB_STATUS_CHANGE), 7.2 resumed it
      { transcript: 'iotests/161-stream-reopen-node-and-backing.json', step: 3 },
      // stop 41 (replies): the sync none backup over the twice-listed node shows paused in
      // query-block-jobs and query-jobs on 10.0, running on 7.2 (fuzz --qemu 10.0 482189327)
      { transcript: 'fuzz-leaked-drain-job-status-paused.json', step: 4 }],
    // fuzz --against vm --qemu 10.0 314375822: a disk's realize above such a node hangs 10.0
    // (qemu-aborts/abort-31-vm-device-add-reopen-leaked-drain, no reply; commands/vm/device-add.ts
    // refuses it; survivors, the same on both: vm/abort-31-vm-device-add-reopen-leaked-drain-survives),
    modelled: true,
  },
  // --- the vm target (qemu-system-x86_64 7.2.22 in oracle/transcripts/vm, 10.0.2 in
  // oracle/transcripts/qemu-10.0/vm): proofs name 'vm/FILE' under each version's set
  'dataplane-op-blocker': {
    what: 'the dataplane op blocker (a backing file, a node under a job): does a virtio-blk with iothread= or a disk hotplugged onto a virtio-scsi controller refuse it?',
    '7.2': { fn: 'BLOCK_OP_TYPE_DATAPLANE (bdrv_op_block_all on a backing file in bdrv_set_backing_hd, on job nodes in block_job_add_bdrv): virtio_blk_data_plane_create ("cannot start virtio-blk dataplane: ") and virtio_scsi_hotplug check blk_op_is_blocked(blk, BLOCK_OP_TYPE_DATAPLANE)', value: true },
    '10.0': { fn: 'BlockOpType has no BLOCK_OP_TYPE_DATAPLANE any more (include/block/block-common.h): virtio_blk_data_plane_create and virtio_scsi_hotplug check no op blocker', value: false },
    proof: [
      // the sixth VM held-out set (wt-vm16): scsi-hd on the top of a stream at pending, onto the main-loop controller
      { transcript: 'vm/vm-h-drive-jobs-frozen.json', step: 5 },
      // the third VM held-out set (wt-vm13): scsi-cd on a backing node, onto an iothread controller
      { transcript: 'vm/vm-e-scsi-iothread-luns.json', step: 8 },
      // the VM held-out set (wt-vm11)
      { transcript: 'vm/vm-c-iothread-scsi-plug-cycle.json', step: 14 }, { transcript: 'vm/vm-c-share-rw-mixed-kinds.json', step: 3 }, { transcript: 'vm/vm-c-virtio-blk-iothread-dataplane.json', step: 4 },
      { transcript: 'vm/fuzz-vm-virtio-dataplane-blocker.json', step: 3 }, { transcript: 'vm/vm-combo-iothread-scsi-stream-reopen.json', step: 9 }, { transcript: 'vm/vm-reopen-under-device.json', step: 6 }],
    modelled: true,
  },
  'virtio-scsi-hotplug-context': {
    what: "a disk hotplugged onto (and unplugged from) a virtio-scsi controller: is its BlockBackend moved to the controller's AioContext, and does a refused move fail device_add?",
    '7.2': { fn: 'virtio_scsi_hotplug: if (s->ctx && !s->dataplane_fenced) blk_set_aio_context(blk, s->ctx, errp), an error fails the plug; s->ctx is the iothread\'s or, without one, the main loop\'s (virtio_scsi_dataplane_setup), so a disk on a node in an iothread is moved to the main loop; virtio_scsi_hotunplug: back to the main loop, errors ignored', value: 'always-strict' as 'always-strict' | 'iothread-lenient' },
    '10.0': { fn: 'virtio_scsi_hotplug: only when s->vq_aio_context[VIRTIO_SCSI_VQ_NUM_FIXED] is not the main loop (a controller with an iothread): blk_set_aio_context(blk, ctx, NULL), a refusal ignored ("I/O will still work although block jobs and other users might be slower"); virtio_scsi_hotunplug moves back to the main loop only then', value: 'iothread-lenient' as 'always-strict' | 'iothread-lenient' },
    proof: [
      // stop 44 (wt-vm26): the sixteenth VM set vm-r: cold share-rw disks on one node across a main-loop and an iothread controller, both orders (a start refusal on 7.2)
      { transcript: 'vm/vm-r-scsi-iothread-then-main-controller.json', step: 0 }, { transcript: 'vm/vm-r-scsi-main-then-iothread-controller.json', step: 0 },
      { transcript: 'vm/vm-iothreads.json', step: 4 }, { transcript: 'vm/vm-h-drive-iothread-contexts.json', step: 13 }, { transcript: 'vm/fuzz-vm-scsi-disk-iothread-node-on-lsi.json', step: 6 }],
    modelled: true,
  },
  'pci-hotplug-function-0': {
    what: 'a second device hotplugged onto a pcie-root-port (whose one slot is taken): refused?',
    '7.2': { fn: 'do_pci_register_device: the "slot %d function 0 already occupied" check is an else-if of the explicit-devfn branch, so an auto-assigned devfn skips it: the device takes the port\'s next free slot', value: false },
    '10.0': { fn: 'do_pci_register_device: after the devfn is chosen, a hotplugged device whose pci_get_function_0 (with an upstream PCIe port: bus->devices[0]) is taken is refused: "PCI: slot 0 function 0 already occupied by %s, new func %s cannot be exposed to guest." (type names)', value: true },
    proof: [{ transcript: 'vm/fuzz-vm-root-port-unplugs-slot.json', step: 2 }, { transcript: 'vm/vm-reopen-under-device.json', step: 13 }, { transcript: 'vm/vm-e-native-plug-storm.json', step: 7 }, { transcript: 'vm/vm-e-acpi-del-readd-storm.json', step: 23 }],
    modelled: true,
  },
  'scsi-serial-length': {
    what: "a scsi-hd/scsi-cd serial's length",
    '7.2': { fn: 'scsi_realize: no check; device_id defaults to the serial\'s first 20 characters (g_strdup_printf("%.20s"))', value: null as { serial: number; deviceId: number } | null },
    '10.0': { fn: 'scsi_realize, after blkconf_apply_backend_options: longer than MAX_SERIAL_LEN (36) "The serial number can\'t be longer than 36 characters"; without device_id, longer than MAX_SERIAL_LEN_FOR_DEVID (20) "… when it is also used as the default for device_id"', value: { serial: 36, deviceId: 20 } as { serial: number; deviceId: number } | null },
    proof: [{ transcript: 'vm/vm-d-serial-geometry.json', step: 3 }, { transcript: 'vm/vm-h-scsi-identity-props.json', step: 4 }],
    modelled: true,
  },
  'nvme-ns-detached-needs-subsys': {
    what: "an nvme-ns with detached=on on a controller linked to no nvme-subsys",
    '7.2': { fn: 'nvme_ns_realize (hw/nvme/ns.c): if (!n->subsys) { ns->params.shared = false; if (ns->params.detached) "detached requires that the nvme device is linked to an nvme-subsys device" }, before nvme_ns_setup', value: true },
    '10.0': { fn: 'nvme_realize → nvme_init_subsys gives every controller a subsystem (an implicit nvme-subsys, nqn = serial); nvme_ns_realize asserts one and has no such check: the namespace is realized, detached', value: false },
    proof: [{ transcript: 'vm/vm-r-nvme-ns-detached-no-subsys.json', step: 0 }],
    modelled: true,
  },
  'virtio-blk-iothread-vq-mapping': {
    what: "virtio-blk's iothread-vq-mapping property (virtqueues spread over iothreads): known?",
    '7.2': { fn: 'virtio_blk_properties has no such property: "Property \'virtio-blk-device.iothread-vq-mapping\' not found" (and a list value never reaches it: qemu_opts_from_qdict_entry drops a QList)', value: false },
    '10.0': { fn: 'DEFINE_PROP_IOTHREAD_VQ_MAPPING_LIST (since 9.0): set_iothread_vq_mapping_list visits an IOThreadVirtQueueMappingList; virtio_blk_device_realize → virtio_blk_vq_aio_context_init refuses it beside iothread and runs iothread_vq_mapping_validate (hw/virtio/iothread-vq-mapping.c)', value: true },
    // vm/vm-q-iothread-vq-mapping #0: on 7.2 a start refusal at the -device (stop 43)
    proof: [{ transcript: 'vm/vm-e-virtio-blk-vq-mapping.json', step: 3 }, { transcript: 'vm/vm-q-iothread-vq-mapping.json', step: 0 }],
    modelled: true,
  },
  'virtio-blk-scsi-property': {
    what: "virtio-blk's legacy `scsi` property (VIRTIO_BLK_F_SCSI passthrough): known?",
    '7.2': { fn: 'virtio_blk_properties: DEFINE_PROP_BIT64("scsi", …, VIRTIO_BLK_F_SCSI, false) (#ifdef __linux__); virtio_blk_get_features refuses it on a modern (VIRTIO_F_VERSION_1) device, after realize, from virtio_bus_device_plugged: "Please set scsi=off for virtio-blk devices in order to use virtio 1.0"', value: true },
    '10.0': { fn: 'virtio_blk_properties has no `scsi` (the SG_IO passthrough is gone; virtio_blk_get_features only still offers VIRTIO_BLK_F_SCSI to a legacy device): "Property \'virtio-blk-pci.scsi\' not found"', value: false },
    proof: [{ transcript: 'vm/vm-h-virtio-blk-feature-props.json', step: 11 }, { transcript: 'vm/vm-h-pc-virtio-blk-props.json', step: 6 }],
    modelled: true,
  },
  'device-add-args': {
    what: "device_add's arguments: strings made from QemuOpts (booleans parsed from on/off, an id checked for form), or the QDict's JSON types",
    '7.2': { fn: 'qmp_device_add: qemu_opts_from_qdict (qemu_opts_create: id_wellformed on a string id, "Parameter \'id\' expects an identifier"; qemu_opts_from_qdict_entry: a number as qnum_to_string, a bool as on/off, dict/list/null dropped) → qdev_device_add → qemu_opts_to_qdict → qdev_device_add_from_qdict(from_json false): the keyval visitor parses a bool property with qapi_bool_parse ("Parameter \'share-rw\' expects \'on\' or \'off\'")', value: 'qemu-opts' as 'qemu-opts' | 'json' },
    '10.0': { fn: 'qmp_device_add: qdev_device_add_from_qdict(qdict, from_json true): no QemuOpts, no id_wellformed; the QObject input visitor wants each property\'s JSON type (qobject_input_type_bool / _str: "Invalid parameter type for \'share-rw\', expected: boolean"); driver, bus, id read with qdict_get_try_str (another type: absent)', value: 'json' as 'qemu-opts' | 'json' },
    proof: [{ transcript: 'vm/vm-c-device-add-prop-types.json', step: 1 }, { transcript: 'vm/vm-c-device-add-prop-types.json', step: 2 }, { transcript: 'vm/vm-c-device-add-prop-types.json', step: 7 }, { transcript: 'vm/vm-c-device-add-prop-types.json', step: 11 }, { transcript: 'vm/vm-c-device-add-prop-types.json', step: 13 }, { transcript: 'vm/vm-c-device-add-prop-types.json', step: 15 }, { transcript: 'vm/vm-c-device-add-errors.json', step: 18 }, { transcript: 'vm/vm-c-device-add-prop-order.json', step: 4 }, { transcript: 'vm/vm-d-iothread-props.json', step: 5 }, { transcript: 'vm/vm-d-bool-prop-types.json', step: 1 }, { transcript: 'vm/vm-d-enum-prop-types.json', step: 2 }, { transcript: 'vm/vm-d-int-prop-types.json', step: 1 }, { transcript: 'vm/vm-f-props-error-policy.json', step: 5 }, { transcript: 'vm/vm-h-device-ids-readd.json', step: 9 }],
    modelled: true,
  },
  'usb-storage-own-perms': {
    what: "whether a usb-storage applies its drive's perms on its own BlockBackend before handing the node to its legacy scsi-disk (which a permission conflict then names)",
    '7.2': { fn: "usb_msd_storage_realize: blkconf_blocksizes and blkconf_apply_backend_options(!blk_supports_write_perm, true) on the usb-storage's BlockBackend ('block device us1'), then blk_detach_dev and scsi_bus_legacy_add_drive", value: true },
    '10.0': { fn: "usb_msd_storage_realize: straight to blk_detach_dev and scsi_bus_legacy_add_drive(…, &s->conf, …): only the scsi-disk's scsi_realize applies them ('block device /machine/peripheral/us1/us1.0/legacy[0]')", value: false },
    proof: [{ transcript: 'vm/vm-g-xhci-usb-storage.json', step: 6 }, { transcript: 'vm/vm-h-idless-controllers.json', step: 18 }],
    modelled: true,
  },
  'usb-storage-legacy-conf': {
    what: "what a usb-storage's legacy scsi-disk takes of the usb-storage's BlockConf besides the drive: the write cache query-block's inserted.cache.writeback and info block's cache mode show (blk_enable_write_cache after the disk's blkconf_apply_backend_options)",
    '7.2': { fn: "scsi_bus_legacy_add_drive(bus, blk, 0, removable, bootindex, share_rw, rerror, werror, serial): only rerror and werror (qdev_prop_set_enum); the disk's write-cache stays auto, the new BlockBackend's (on)", value: 'errors' as 'errors' | 'conf' },
    '10.0': { fn: "scsi_bus_legacy_add_drive(bus, blk, 0, removable, &s->conf, serial): `s->conf = *conf`, the whole BlockConf, so the usb-storage's write-cache (and account-invalid/-failed) reach the disk", value: 'conf' as 'errors' | 'conf' },
    proof: [{ transcript: 'vm/vm-o-write-cache-kinds.json', step: 11 }],
    modelled: true,
  },
  'machine-unattached-devices': {
    what: "the next /machine/unattached/device[N] of a machine started as the recorder starts it: the name (and DEVICE_DELETED path) of the first id-less device QEMU makes itself afterwards, the usb-hub usb_claim_port chains onto a USB bus with one free port left",
    '7.2': { fn: 'device_set_realized: a device realized without a parent goes to /machine/unattached as device[unattached_count++]; q35 (pc_q35_init) leaves 25 of them, i440fx (pc_init1) 27 (qom-list /machine/unattached on 7.2.22 with -nodefaults); usb_claim_port → usb_try_new("usb-hub") → usb_realize_and_unref', value: { q35: 25, pc: 27 } as { q35: number; pc: number } },
    '10.0': { fn: 'the same mechanism over a machine that makes fewer devices at start: q35 and i440fx leave 22 (qom-list /machine/unattached on 10.0.2 with -nodefaults)', value: { q35: 22, pc: 22 } as { q35: number; pc: number } },
    proof: [{ transcript: 'vm/vm-g-xhci-plug-cycle.json', step: 13 }, { transcript: 'vm/vm-g-xhci-usb-storage.json', step: 17 }, { transcript: 'vm/vm-g-usb-hub-ports.json', step: 18 }],
    modelled: true,
    shows: 'events' as const,
  },
  'board-drive-devices': {
    what: "where the board's own -drive devices (IDE disks and CD-ROMs, floppies) are made among the machine's other devices, so the /machine/unattached/device[N] each is called by (query-block's qdev, info block's Attached to, DEVICE_TRAY_MOVED's id)",
    '7.2': { fn: "device_set_realized's unattached_count: pc_init1 makes the superio (pc_superio_init: the isa-fdc and fdctrl_init_drives' floppies) before pci_ide_create_devs' ide-hd/ide-cd; q35 (pc_q35_init) pc_basic_device_init before ahci_ide_create_devs. The first floppy is device[12] on q35 (after the isa-fdc q35 makes only for a floppy drive), [13] on pc; the first IDE device [16] on q35, [18] on pc, each after the floppies (qemu-system-x86_64 7.2.22 -nodefaults)", value: { q35: { first: 'floppy', floppy: 12, ide: 16 }, pc: { first: 'floppy', floppy: 13, ide: 18 } } as BoardDriveDevices },
    '10.0': { fn: "pc_init1 of 10.0 makes the piix3 IDE function and its devices (pci_ide_create_devs) before pc_basic_device_init's superio: IDE from device[4], floppies after them from [10]; q35 alike 7.2 but from [9] (floppies) and [13] (IDE), a machine that makes fewer devices before them (10.0.2 -nodefaults)", value: { q35: { first: 'floppy', floppy: 9, ide: 13 }, pc: { first: 'ide', floppy: 10, ide: 4 } } as BoardDriveDevices },
    // each transcript's first step where the recordings differ: the qdev paths (and the 'active' member beside them), an
    // ide-cd's DEVICE_TRAY_MOVED id
    proof: [{ transcript: 'vm/vm-p-pc-mixed-all.json', step: 0 }, { transcript: 'vm/vm-p-floppy-q35.json', step: 0 },
      { transcript: 'vm/vm-p-drive-del-cold.json', step: 1 }, { transcript: 'vm/vm-p-ide-cd-device-kinds-pc.json', step: 2 },
      { transcript: 'vm/vm-p-b2-floppy-drive-del.json', step: 0 }],
    modelled: true,
    shows: 'events' as const,
  },
  'bdrv-next-monitor-phase': {
    what: "where bdrv_first/bdrv_next's second phase (monitor-owned nodes without a BlockBackend) starts: what bdrv_inactivate_all (a completed migration), bdrv_activate_all (cont) and the snapshot group operations without a device list (HMP savevm/loadvm/delvm) walk",
    '7.2': { fn: 'bdrv_next (block/block-backend.c of 7.2): the backend phase keeps it->bs NULL (old_bs from old_blk), so bdrv_next_monitor_owned(NULL) starts at the head of monitor_bdrv_states: every monitor-owned node without a BlockBackend', value: 'head' as 'head' | 'after-last-root' },
    '10.0': { fn: 'bdrv_next (block/block-backend.c of 10.0): the backend phase leaves it->bs at the last root it returned, and the monitor phase goes on from QTAILQ_NEXT of that root (none when the root is not monitor-owned: graph/inactive.ts bdrvNextOrder)', value: 'after-last-root' as 'head' | 'after-last-root' },
    // a monitor-owned qcow2 added before the disk's node: inactivated by 7.2's migration, left active (and writable) by 10.0's
    proof: [
      // stop 44 (wt-vm26): a migration beside a floppy, with a monitor-owned qcow2 no device holds
      { transcript: 'vm/vm-r-floppy-change-medium-modes-migrate-pc.json', step: 4 },
      // stop 39 (wt-vm21, the eleventh VM set)
      { transcript: 'vm/vm-m-migrate-stream-backup-running.json', step: 2 },{ transcript: 'vm/vm-i-migrate-monitor-order.json', step: 0 }],
    modelled: true,
  },
  'inactive-attach-checks': {
    what: "attaching a parent to an inactive node (after a completed migration): refused, and a guest device's BlockBackend inserted without permissions",
    '7.2': { fn: "bdrv_attach_child_common / blk_insert_bs of 7.2 have no BDRV_O_INACTIVE check: the edge is made and bdrv_node_refresh_perm refuses a writer ('Block node is read-only': bdrv_is_writable_after_reopen); a raw node or a backup's filter over an inactive node are taken (their child asks no write without parents)", value: false },
    '10.0': { fn: "bdrv_attach_child_noperm: \"Inactive '%s' can't be a %s child of active '%s'\"; blk_insert_bs: a BlockBackend that may go inactive (blk_can_inactivate) is inserted with disable_perm (0, all shared), so a guest device goes onto an inactive node; \"Permission '%s' unavailable on inactive node\" (graph/inactive.ts inactiveAttach)", value: true },
    proof: [
      // stop 44 (wt-vm26): the sixteenth VM set vm-r: legacy drives' and a new medium's BlockBackends under -incoming defer
      { transcript: 'vm/vm-r-incoming-device-and-jobs.json', step: 0 }, { transcript: 'vm/vm-r-incoming-snapshot-sync-hmp.json', step: 0 }, { transcript: 'vm/vm-r-incoming-ide-cd-change-drive-del.json', step: 0 }, { transcript: 'vm/vm-r-incoming-pflash-drive-cont-q35.json', step: 0 },
      // stop 39 (wt-vm21, the eleventh VM set)
      { transcript: 'vm/vm-m-incoming-jobs.json', step: 1 }, { transcript: 'vm/vm-m-incoming-media-throttle.json', step: 1 }, { transcript: 'vm/vm-m-pc-migrate-floppy-ide.json', step: 6 }, { transcript: 'vm/vm-m-migrate-filters-throttle.json', step: 16 }, { transcript: 'vm/vm-m-migrate-iothread-devices.json', step: 11 }, { transcript: 'vm/vm-m-migrate-usb-storage.json', step: 7 }, { transcript: 'vm/vm-m-postmigrate-device-plug.json', step: 4 },{ transcript: 'vm/vm-i-incoming-defer.json', step: 9 }, { transcript: 'vm/vm-i-postmigrate-media-nodes.json', step: 6 }, { transcript: 'vm/vm-i-migrate-paused-inactive.json', step: 7 }, { transcript: 'vm/vm-i-iothread-snapshots-migrate.json', step: 8 }],
    modelled: true,
  },
  'migrate-uri-parse': {
    what: "migrate's URI: which schemes start an outgoing migration, and when and how an unknown one is refused",
    '7.2': { fn: "qmp_migrate: after migrate_prepare (so a postmigrate VM says \"Can't migrate the vm that was paused due to previous migration\" first), the strstart chain tcp: unix: vsock: rdma: exec: fd:, else QERR_INVALID_PARAMETER_VALUE \"Parameter 'uri' expects a valid migration protocol\"; no file:", value: '7.2' as '7.2' | '10.0' },
    '10.0': { fn: "qmp_migrate: migrate_uri_parse before migrate_prepare, \"unknown migration protocol: %s\"; file: (8.2, file_start_outgoing_migration) migrates to a file", value: '10.0' as '7.2' | '10.0' },
    proof: [{ transcript: 'vm/vm-i-migrate-uris-args.json', step: 0 }, { transcript: 'vm/vm-i-migrate-uris-args.json', step: 7 }],
    modelled: true,
  },
  'find-device-state-not-device': {
    what: "a qdev id (device_del, and the BlockBackend lookups of the media commands, block_set_io_throttle, block-latency-histogram-set: blk_by_qdev_id) that resolves to an object which is no device (the empty id: the /machine/peripheral container itself)",
    '7.2': { fn: 'softmmu/qdev-monitor.c find_device_state: object_dynamic_cast(obj, TYPE_DEVICE) fails: "%s is not a hotpluggable device"', value: 'is not a hotpluggable device' },
    '10.0': { fn: 'system/qdev-monitor.c find_device_state: "%s is not a device"', value: 'is not a device' },
    proof: [{ transcript: 'vm/vm-j-throttle-burst-names.json', step: 25 }],
    modelled: true,
  },
  'cont-inmigrate-activates': {
    what: "cont on a machine waiting for an incoming migration (-incoming defer): whether it takes the images back before only setting autostart",
    '7.2': { fn: 'qmp_cont: bdrv_activate_all for every run state (blk_root_activate in INMIGRATE applies the perms sharing all, the shared ones deferred to blk_vm_state_changed), then autostart = 1 instead of vm_start', value: true },
    '10.0': { fn: 'qmp_cont: in RUN_STATE_INMIGRATE autostart = 1 and return, before migration_block_activate', value: false },
    proof: [
      // stop 44 (wt-vm26): cont under -incoming defer after a read-only reopen and a re-plugged disk
      { transcript: 'vm/vm-r-incoming-reopen-raw-hotplug.json', step: 5 },
      { transcript: 'vm/vm-i-incoming-defer.json', step: 13 }],
    modelled: true,
  },
  'snapshot-overlay-inactivated': {
    what: "an external snapshot (blockdev-snapshot, -sync, in a transaction or not) whose old node is inactive (after a migration, blockdev-set-active) and whose overlay is active",
    '7.2': { fn: 'external_snapshot_prepare: no activity check; bdrv_append puts the active overlay over the inactive node, its file link keeping write and resize (bdrv_default_perms_for_storage: bdrv_is_writable)', value: false },
    '10.0': { fn: 'external_snapshot_action: bdrv_is_inactive(old_bs) && !bdrv_is_inactive(new_bs): bdrv_inactivate(new_bs) first ("for compatibility with existing callers"), then bdrv_append', value: true },
    proof: [{ transcript: 'vm/vm-m-postmigrate-snapshots.json', step: 3 }],
    modelled: true,
  },
  'migrate-failed-run-state': {
    what: "the run state a migration that failed in its completion (bdrv_inactivate_all refused: a writable export, a job's writing BlockBackend) leaves a VM in that was not running",
    '7.2': { fn: 'migration_iteration_finish: MIGRATION_STATUS_FAILED, !s->vm_was_running: runstate_check(RUN_STATE_FINISH_MIGRATE) -> runstate_set(RUN_STATE_POSTMIGRATE) (a second migrate: "Can\'t migrate the vm that was paused due to previous migration")', value: 'postmigrate' as 'postmigrate' | 'old-state' },
    '10.0': { fn: 'migration_iteration_finish: MIGRATION_STATUS_FAILED, !runstate_is_live(s->vm_old_state): runstate_set(s->vm_old_state) (prelaunch or paused again: a second migrate starts)', value: 'old-state' as 'postmigrate' | 'old-state' },
    // a paused rate-limited commit's base BlockBackend writes: the first migrate fails, the second is refused (7.2) or fails again (10.0)
    proof: [
      // stop 44 (wt-vm26): a migration a writable NBD export of the flash node stops, then migrate again
      { transcript: 'vm/vm-r-pflash-nbd-export-migrate-pc.json', step: 7 },
      { transcript: 'vm/vm-m-migrate-commit-jobs.json', step: 16 }],
    modelled: true,
  },
  'luks-amend-header-io-aborts': {
    what: "x-blockdev-amend of a luks node whose job reads or writes the LUKS header's key material (a key slot added, or erased, or tried with an old password): the amend job's coroutine calls the driver's header read/write callbacks",
    '7.2': { fn: 'block_crypto_read_func / block_crypto_write_func: bdrv_pread / bdrv_pwrite of bs->file from the job coroutine: the slots are written (commands/x-blockdev-amend.ts)', value: false },
    '10.0': { fn: "block_crypto_read_func / block_crypto_write_func begin with GRAPH_RDLOCK_GUARD_MAINLOOP(): bdrv_graph_rdlock_main_loop: Assertion `!qemu_in_coroutine()' failed (seen live on QSD 10.0.2 for every such amend; a qcow2's amend goes through qcow2_crypto_hdr_read_func and runs); refused", value: true },
    // a 10.0 death has no 10.0 transcript: 7.2's amends are in oracle/transcripts/luks2-* (the
    // first amend that reads the header)
    proof: [{ transcript: 'luks2-keyslots-add-erase.json', step: 6 }],
    modelled: true,
  },
  'file-format-specific': {
    what: "a file-posix node's ImageInfo (query-named-block-nodes, query-block's backing-image chain): its format-specific member",
    '7.2': { fn: 'bdrv_get_specific_info: file-posix has no .bdrv_get_specific_info, so ImageInfo has no format-specific', value: false },
    '10.0': { fn: "file-posix's raw_get_specific_info (file and host_device): ImageInfoSpecificFile {type: 'file', data: {}}, extent-size-hint only where FS_IOC_FSGETXATTR reports one (not on ext4 or tmpfs)", value: true },
    // stop 40 (wt-qrep): the qr set records query replies; (lead) the file nodes of the bitmap-count and filename transcripts
    proof: [
      // stop 44 (wt-vm26): query-named-block-nodes after the flash's vars node was reopened onto another file node
      { transcript: 'vm/vm-r-pflash-reopen-swap-file-pc.json', step: 5 },
      { transcript: 'qr-qcow2-defaults.json', step: 1 },
      { transcript: 'bitmap-count-backup-modes.json', step: 7 }, { transcript: 'bitmap-count-mirror-target.json', step: 7 }, { transcript: 'json-filename-inline-child-order.json', step: 1 },
      // stop 41 (wt-combo13): the twelfth held-out set's replies with file nodes (the same steps as qapi-schema's)
      ...([['b2-replies-backing-change', 4], ['b2-replies-cache-detect-zeroes', 3], ['b2-replies-list-rollback', 3], ['b2-replies-null-and-blkdebug', 4], ['b2-replies-qcow2-options', 2], ['b2-replies-raw-slice', 4], ['b3-data-file-child-ref', 7], ['b3-raw-offset-file-swap-sizes', 9]] as const).map(([t, step]) => ({ transcript: `combo-c12-${t}.json`, step })),
      // stop 43 (wt-combo15): the fourteenth held-out set's first differing step — the file nodes' format-specific in the query replies
      ...([['b2-commit-frozen-exported-base', 11], ['b2-export-ro-in-frozen-stream-chain', 12], ['b2-five-node-chain-exports', 11], ['b2-fuse-growable-resize', 5], ['b2-fuse-iothread', 3], ['b2-iothread-export-nonfixed-silent', 5], ['b2-iothread-exported-reopen-backing', 6], ['b2-iothread-pinned-chain-stream', 6], ['b2-legacy-nbd-server-add-bitmap', 6], ['b2-lock-ro-export-other-daemon', 11], ['b2-resize-exported-with-client', 5], ['b2-set-iothread-exported-refusals', 11], ['b2-snapshot-internal-exported', 5], ['b2-snapshot-sync-exported-iothread', 6], ['b2-two-exports-perm-mix', 6], ['b2-vhost-writable-ro-node-iothread', 12], ['b3-vduse-blk-iothread', 3], ['b3-vduse-blk-refusal-order', 13], ['del-resize-exported', 10], ['freeze-exported-in-stream-chain', 11], ['iothread-export-set-iothread', 5], ['nbd-bitmap-in-backing', 7], ['nbd-bitmaps-busy', 6], ['nbd-writable-ro-node-reopen', 11], ['reopen-backing-under-exported-overlay', 5], ['reopen-file-node-below-export', 9], ['reopen-list-fails-partway-export', 5], ['reopen-raw-file-swap-under-export', 6], ['snapshot-exported-node', 6], ['stream-base-exported', 8], ['stream-intermediate-exported', 11]] as const).map(([t, step]) => ({ transcript: `combo-c14-${t}.json`, step })),
    ],
    modelled: true,
  },
});

export type RuleName = keyof typeof RULES;

/** The behaviour of rule `name` on the process `p`'s QEMU version. */
export function rule<K extends RuleName>(p: Proc, name: K): (typeof RULES)[K]['7.2']['value'] {
  return ruleAt(versionOf(p), name);
}

export function ruleAt<K extends RuleName>(v: QemuVersion, name: K): (typeof RULES)[K]['7.2']['value'] {
  return RULES[name][v].value;
}
