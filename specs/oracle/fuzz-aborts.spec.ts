// The five QEMU 7.2 aborts the 50,015-command fuzz run found (issue 12): each scenario of
// oracle/scenarios/qemu-aborts/abort-9-* killed qemu-storage-daemon 7.2.22 at its last command
// (scripts/probe-aborts.ts; the boundaries, `-survives`, are recorded transcripts in the
// conformance set). The model refuses exactly that command with an error naming the abort and
// leaves the state as it was (no event: the daemon sent none), on 10.0 too where 10.0 also dies;
// the fuzzer's generator never sends it (oracle/fuzz/aborts.ts) but sends the boundaries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf, type Scenario, type Step } from '../../oracle/format.js';
import { PACKAGE_ROOT, TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { compareTranscripts } from '../../oracle/compare.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, Rng, World } from '../../oracle/fuzz/index.js';
import { VmGenerator, vmAbort } from '../../oracle/fuzz/grammar-vm.js';

const load = (name: string): Scenario => JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'scenarios', 'qemu-aborts', `${name}.json`), 'utf8')) as Scenario;
/** The scenario up to its last command (a trailing wait or query is the survivor's check). */
function upTo(s: Scenario, execute: string): Scenario {
  let i = s.steps.length - 1;
  while (i >= 0 && (isWaitStep(s.steps[i]!) || (s.steps[i] as { execute: string }).execute !== execute)) i--;
  return { ...s, steps: s.steps.slice(0, i + 1) };
}

// scenario, the command QEMU dies at, the refusal's text, does 10.0 die too
const ABORTS: [string, string, RegExp, boolean][] = [
  ['abort-9-finalize-stream-filter-under-cbw', 'job-finalize', /^Cannot close node 's12': the block-copy bitmap of copy-before-write filter 'cbw15' is still on it \(QEMU 7\.2 aborts here: bdrv_close: Assertion 'QLIST_EMPTY\(&bs->dirty_bitmaps\)' failed\)/, false],
  ['abort-9-txn-enable-unknown-node', 'transaction', /^Node 'nosuch' not found \(QEMU crashes here: block_dirty_bitmap_enable_abort calls bdrv_disable_dirty_bitmap\(NULL\)/, true],
  ['abort-9-reopen-queued-child-undrained', 'blockdev-reopen', /an earlier entry of the list detached it, so it is no longer drained \(QEMU 7\.2 aborts here: bdrv_reopen_multiple: Assertion 'bs_entry->state\.bs->quiesce_counter > 0' failed\)/, false],
  ['abort-9-add-qcow2-read-through-stream-filter', 'blockdev-add', /^Opening qcow2 node 'n9' reads through copy-on-read filter .*\(QEMU crashes here: cor_co_preadv_part/, true],
  // fuzz --qemu 10.0 2060426732: the same read through a raw slice the stream's filter went under
  // fuzz 1881299179: stop 30's 4103191356 through a reopen that drops the filter's last parent
  ['abort-32-reopen-drops-last-filter-parent', 'job-finalize', /^Cannot close node 'n3': the block-copy bitmap of copy-before-write filter 'd4\.main node' is still on it \(QEMU 7\.2 aborts here|^Dropping job filter 'd4\.main node' frees its child 'n3'/, true],
  ['abort-32-add-qcow2-through-raw-slice-over-stream-filter', 'blockdev-add', /^Opening qcow2 node 'n11' reads through copy-on-read filter .*\(QEMU crashes here: cor_co_preadv_part/, true],
  ['abort-9-create-qcow2-on-file-in-iothread', 'blockdev-create', /^Node 'f2' is in iothread 'io0': blockdev-create's BlockBackend on it is released .*\(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // wt-abort (issue 12): aborts on error paths; the qcow2 one is refused at the reopen that sets it up
  ['abort-10-reopen-qcow2-file-then-option-fails', 'blockdev-reopen', /^Cannot change the option 'force-share' \(QEMU leaves qcow2 node 'n1' with a dangling data file here: bdrv_reopen_prepare runs qcow2_reopen_abort/, true],
  // fuzz 2067847009: the same abort through an inline backing's leftover backing.* keys
  ['abort-10-reopen-qcow2-file-then-inline-backing-fails', 'blockdev-reopen', /^Cannot change the option 'backing\.driver' \(QEMU leaves qcow2 node 'n0' with a dangling data file here: bdrv_reopen_prepare runs qcow2_reopen_abort/, true],
  ['abort-10-txn-snapshot-abort-perm-conflict', 'transaction', /^Permission conflict on node 'f0': .*\(QEMU aborts here: external_snapshot_abort moves the parents of overlay 'n1' back to 'f0' with bdrv_replace_node\(\.\.\., &error_abort\)/, true],
  ['abort-10-txn-snapshot-abort-read-only', 'transaction', /^Block node is read-only \(QEMU aborts here: external_snapshot_abort moves the parents of overlay 'n3' back to 'n6'/, true],
  ['abort-10-backup-fails-target-left-in-iothread', 'blockdev-add', /^Node 'n4' is in iothread 'io1' and would be moved to the main loop without its lock held \(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  ['abort-10-add-cbw-target-in-iothread', 'blockdev-add', /^Node 'n2' is in iothread 'io0' and would be moved to the main loop without its lock held \(QEMU 7\.2 aborts here/, false],
  // fuzz seed 241757295: a reopen attaching a node that reaches n0 over two links (graph/reopen/diamond.ts)
  ['abort-11-reopen-attach-cbw-diamond', 'blockdev-reopen', /^Cannot attach 'cbw1' as backing of 'n2' in blockdev-reopen: node 'n0' is reached twice below it \(QEMU 7\.2 aborts here: bdrv_parent_drained_end_single_no_poll: Assertion 'c->parent_quiesce_counter > 0' failed\)/, false],
  // fuzz seed 1430764569: a stream allocating clusters in n1 grows its file past the bitmaps of the
  // backup's copy-before-write filter on f0 (graph/jobs/cbw-growth.ts); 10.0 dies the same way;
  // a mirror into a qcow2 node whose file is backed up likewise (its neighbour, probed live)
  ['abort-13-backup-file-stream-grows-file', 'block-stream', /^A write into qcow2 node 'n1' allocates clusters past the end its file had when the copy-before-write filter below it was opened \(QEMU aborts here: cbw_do_copy_before_write -> bdrv_set_dirty_bitmap: hbitmap_set: Assertion `last < hb->size' failed\)/, true],
  ['abort-13-backup-file-mirror-grows-target', 'blockdev-mirror', /^A write into qcow2 node 'n2' allocates clusters past the end its file had when the copy-before-write filter below it was opened \(QEMU aborts here: cbw_do_copy_before_write -> bdrv_set_dirty_bitmap: hbitmap_set: Assertion `last < hb->size' failed\)/, true],
  // fuzz seeds 4265141723, 3517480893, 2925014013: not an abort but a hang to come (QemuHangRefusal,
  // graph/rules.ts 'resize-leaks-iothread-lock'): refused at the resize that leaves io0 locked
  ['abort-12-resize-leaves-iothread', 'block_resize', /^Node 'n0' is in iothread 'io0' and nothing keeps it there: block_resize's BlockBackend release moves it back to the main loop and leaves iothread 'io0' locked \(QEMU 7\.2 hangs at the next wait in that iothread: qmp_block_resize → bdrv_co_unlock releases the main context instead\)/, false],
  // fuzz seed 1288287335: the mirror's target reached io0 through the job (child_job_change_aio_ctx)
  ['abort-12-add-cbw-on-mirror-target-in-iothread', 'blockdev-add', /^Node 'n6' is in iothread 'io0' and would be moved to the main loop without its lock held \(QEMU 7\.2 aborts here/, false],
  // fuzz seed 1422096404: bdrv_append polls the drain of the new backing link in the overlay's iothread (graph/snapshot-drain-abort.ts)
  ['abort-13-snapshot-overlay-in-iothread-under-backup', 'blockdev-snapshot', /^Overlay 'n12' is in iothread 'io0' under busy job 'd14': appending 'n20' drains it there without that iothread's lock \(QEMU 7\.2 aborts here: bdrv_replace_child_noperm -> bdrv_parent_drained_begin_single: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // fuzz seed 1224044685: the same drain miscount when a reopen detaches a node reaching another twice (graph/reopen/diamond.ts)
  ['abort-13-reopen-detach-cbw-diamond', 'blockdev-reopen', /^Cannot detach 'cbw1' \(backing of 'n2'\) in blockdev-reopen: node 'n0' is reached twice below it \(QEMU 7\.2 aborts here: bdrv_parent_drained_end_single_no_poll: Assertion 'c->parent_quiesce_counter > 0' failed\)/, false],
  // fuzz seed 2207863690: an active commit of blkdebug x7, whose image n4 (appended by a snapshot)
  // is shorter than x7's length at open: mirror_dirty_init's block status ends early (graph/jobs/mirror-dirty.ts)
  ['abort-14-commit-filter-over-shorter-image', 'block-commit', /^Node 'n4' ends at 16777216 bytes, before the 1073741824 bytes of mirror source 'x7' that passes its block status through to it \(QEMU 7\.2 aborts here: mirror_dirty_init: Assertion `count' failed\)/, false],
  // its neighbour, probed live: a mirror of x7 with sync top (sync full onto a null-co target asks no
  // block status and survives: fuzz-found/7.2-only-abort-14-mirror-full-filter-over-shorter-image-survives)
  ['abort-14-mirror-top-filter-over-shorter-image', 'blockdev-mirror', /^Node 'n4' ends at 16777216 bytes, before the 1073741824 bytes of mirror source 'x7' .*\(QEMU 7\.2 aborts here: mirror_dirty_init: Assertion `count' failed\)/, false],
  // fuzz seed 1693346616: a hang (QemuHangRefusal, graph/snapshot-abort-backup-hang.ts): the transaction fails after a
  // snapshot appended over a copying backup's source, and external_snapshot_abort's drain of the overlay never ends
  ['abort-12-txn-snapshot-abort-over-copying-backup', 'transaction', /^The transaction fails after appending overlay 'n10' over 'f6', the source of copying backup job 'd7': QEMU hangs in external_snapshot_abort \(bdrv_replace_node → bdrv_replace_node_common → bdrv_drained_begin of the overlay/, true],
  // next to fuzz seed 3394175745 (wt-fz5): a copy the model cannot tell is done in one task counts as
  // copying on: a file node (host extents not modelled; 7.2 and 10.0 hang), sync top (7.2 hangs;
  // 10.0 answers, which the model does not know yet)
  ['abort-12-txn-snapshot-abort-over-backup-raw-file', 'transaction', /^The transaction fails after appending overlay 'n10' over 'n2', the source of copying backup job 'd5': QEMU hangs in external_snapshot_abort/, true],
  ['abort-12-txn-snapshot-abort-over-backup-sync-top-one-cluster', 'transaction', /^The transaction fails after appending overlay 'n10' over 'n2', the source of copying backup job 'd5': QEMU hangs in external_snapshot_abort/, false],
  // fuzz seed 2030445139: a hang (QemuHangRefusal, commands/transaction.ts): a grouped transaction fails after
  // creating two jobs; job_finish_sync_locked waits for the one never started (boundary: abort-15-…-survives)
  ['abort-15-grouped-txn-two-backups-fails', 'transaction', /^The grouped transaction fails after creating 2 jobs \('d1', 'd3'\): QEMU hangs in job_completed_txn_abort_locked -> job_finish_sync_locked/, true],
  // fuzz seed 672040825: a failed transaction's blockdev-snapshot leaves the old node in the overlay's iothread
  // (external_snapshot_abort keeps bdrv_append's AioContext move); a copy-before-write over it is crash 5
  // fuzz seed 4264209348: a hang (QemuHangRefusal, graph/stream-reopen-backup-hang.ts): stream_start reopens read-only n2
  // read-write (a drained section ending under the copying backup d3), then bdrv_insert_node's drain never ends
  ['abort-17-stream-read-only-under-copying-backup', 'block-stream', /^Streaming read-only node 'n2' under copying backup job 'd3': QEMU hangs in stream_start \(bdrv_reopen_set_read_only ends its drain and resumes the backup, then bdrv_insert_node → bdrv_drained_begin/, true],
  ['abort-16-txn-snapshot-abort-old-node-left-in-iothread', 'blockdev-add', /^Node 'f5' is in iothread 'io0' and would be moved to the main loop without its lock held \(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // probed next to fuzz 2496934673: a read-only qcow2 node over a writable file rewrites its
  // snapshot table through an edge without the write permission (graph/length.ts writeRefusal;
  // boundary: abort-16-…-survives, where a read-only file fails the write with -EPERM first)
  ['abort-18-snapshot-delete-ro-qcow2-over-rw-file', 'blockdev-snapshot-delete-internal-sync', /^Read-only node 'm' would write its metadata to 'h', which is writable, through its 'file' child without the write permission \(QEMU aborts here: bdrv_co_write_req_prepare: Assertion `child->perm & BLK_PERM_WRITE' failed\)/, true],
  // iotests 245 run_test_iothreads with throttle filters across two contexts (wt-iot5; graph/aio.ts
  // refuseReopenThrottleAcrossContexts, rule reopen-throttle-across-contexts-dies): 7.2 dies or hangs, 10.0 survives
  // wt-iot7 (iotests 245 second port): null_file_open absorbs its options with &error_abort (boundary: abort-24-…-survives)
  ['abort-24-null-negative-size', 'blockdev-add', /^null driver size -1 for 'n1' \(QEMU 7\.2 aborts here: null_file_open's qemu_opts_absorb_qdict\(&error_abort\)/, true],
  // stop 36 (wt-combo8, the seventh held-out set): raw_open_common's fail path after pr_manager_lookup closes fd 0
  // stop 37 (wt-combo9, the eighth held-out set): a stream drops the backing node whose bitmap an export holds busy
  ['abort-37-stream-drops-base-with-exported-bitmap', 'job-finalize', /^Node 'b' would close with its bitmap 'x' in use \(busy\) by an export that does not hold the node \(QEMU aborts here: bdrv_close -> bdrv_release_named_dirty_bitmaps -> bdrv_release_dirty_bitmap_locked: Assertion `!bdrv_dirty_bitmap_busy\(bitmap\)' failed\); refused by blockgraph$/, true],
  ['abort-36-file-pr-manager-unknown', 'blockdev-add', /^File node 'f1' names pr-manager 'nopr', which is no pr-manager-helper object \(QEMU crashes here: raw_open_common's fail path/, true],
  ['abort-245-reopen-throttle-backing-pinned-in-iothread', 'blockdev-reopen', /^Cannot attach 'hd2' \(iothread 'iothread0'\) as the backing child of 'hd0' \(main loop\): the throttle node 'hd2-throttle' would be drained across AioContexts \(QEMU 7\.2 dies or hangs here/, false],
  ['abort-245-reopen-throttle-overlay-into-iothread', 'blockdev-reopen', /the throttle node 'hd0-throttle' would be drained across AioContexts \(QEMU 7\.2 dies or hangs here/, false],
  ['abort-245-reopen-throttle-file-into-iothread-hangs', 'blockdev-reopen', /^Cannot attach 't' \(main loop\) as the file child of 'hd0' \(iothread 'iothread0'\): the throttle node 't' would be drained/, false],
  // fuzz --against vm 1471005996 (wt-fzvm): a hang (QemuHangRefusal, commands/vm/device-add.ts): realize's
  // blkconf_geometry reads through a BlockBackend a completed commit's held drain quiesces (survivors:
  // vm/abort-23-vm-device-add-held-drain-survives)
  // fuzz seed 1361365498: a hang (QemuHangRefusal, graph/moved-backup-clean-hang.ts): both backups carried
  // into io0 after they started; dropping the pending one's filter drains the other (boundaries: abort-24-…-survives)
  ['abort-24-cancel-moved-backup-under-moved-job', 'job-cancel', /^Backup job 'd7' and job 'd9' were moved into iothread 'io0' after they started: .*\(QEMU 7\.2 hangs here: job_finalize_single_locked -> backup_clean -> bdrv_cbw_drop/, false],
  ['abort-24-finalize-moved-backup-under-moved-job', 'job-finalize', /^Backup job 'd7' and job 'd9' were moved into iothread 'io0' after they started: .*\(QEMU 7\.2 hangs here/, false],
  // fuzz seed 2744565156: the abort-13 family through an internal snapshot's metadata writes (graph/jobs/cbw-growth.ts
  // refuseCbwMetadataGrowth), the backup's device a copy-on-read filter over the qcow2 node's file
  ['abort-24-snapshot-internal-over-backup-file-grows', 'blockdev-snapshot-internal-sync', /^The metadata written for qcow2 node 'n5' grows its file past the end it had when the copy-before-write filter .* \(QEMU aborts here: cbw_do_copy_before_write -> bdrv_set_dirty_bitmap: hbitmap_set: Assertion `last < hb->size' failed\)/, true],
  ['abort-23-vm-device-add-held-drain', 'device_add', /^device_add of virtio-blk-pci 'vd1' on node 'n0', which job 'j0' holds drained until it is finalized: QEMU hangs here \(realize's blkconf_geometry/, false],
  // fuzz --against vm --qemu 10.0 1713296165 (stop 42, seed 2026120704; 7.2 hangs the same): a usb-storage's legacy
  // scsi-disk (usb_msd_storage_realize -> scsi_bus_legacy_add_drive) reads its geometry in scsi_realize
  ['abort-42-vm-usb-storage-held-drain', 'device_add', /^device_add of scsi-disk '[^']*legacy\[0\]' on node 'n9', which job 'j8' holds drained until it is finalized: QEMU hangs here \(realize's blkconf_geometry/, true],
  // fuzz --against vm 2789084143 (wt-fzvm2): mirror_exit_common's bdrv_replace_node(mirror_top_bs, ..., &error_abort) puts a
  // disk without share-rw next to a copy-before-write target that writes (graph/jobs/mirror.ts refuseFilterRemovalConflict;
  // survivors, share-rw=on: vm/abort-24-vm-commit-*-filter-removal-share-rw-survives)
  ['abort-24-vm-commit-finalize-filter-removal-conflict', 'job-finalize', /^Removing job filter 'j1\.main node' puts its parents on '.*': Permission conflict on node .*\(QEMU aborts here: mirror_exit_common's bdrv_replace_node/, false],
  ['abort-24-vm-commit-finalize-disk-under-filter', 'job-finalize', /^Removing job filter 'j1\.main node' puts its parents on '.*': Permission conflict on node .*\(QEMU aborts here: mirror_exit_common's bdrv_replace_node/, false],
  // the writer on the backing file of the active commit's base: c1 unshares write on c0 once the
  // job's end puts the writing disk vd0 on it (found recording the 10.0 VM set; 7.2 dies the same)
  ['abort-24-vm-commit-finalize-disk-on-target-backing', 'job-finalize', /^Removing job filter 'j0\.main node' puts its parents on 'c1': Permission conflict on node 'c0': permissions 'write' are both required by block device '\/machine\/peripheral\/vd1\/virtio-backend' .* and unshared by node 'c1' .*\(QEMU aborts here: mirror_exit_common's bdrv_replace_node/, true],
  // fuzz --against vm --qemu 10.0 4212211322: device_del of the disk that was the backup filter's
  // last parent; job-finalize's bdrv_cbw_drop frees the snapshot-sync source (7.2: bdrv_close with
  // the copy bitmap on it; 10.0: bdrv_do_drained_end). Survivors: vm/abort-31-vm-device-del-last-filter-parent-survives
  ['abort-31-vm-device-del-last-filter-parent', 'job-finalize', /^(Cannot close node 'n1': the block-copy bitmap of copy-before-write filter 'd8\.main node' is still on it \(QEMU 7\.2 aborts here|Dropping job filter 'd8\.main node' frees its child 'n1', which nothing else references \(QEMU 10\.0 aborts here)/, true],
  // tests/stream-unaligned-prefetch of QEMU 10.0 (wt-iotd): the stream's prefetch padded by the compress filter's
  // alignment dies in bdrv_pad_request on 7.2 (graph/jobs/rate.ts refuseUnalignedPrefetch; 10.0 survives:
  // qemu-10.0/aborts/; boundary, a 64k-cluster base: abort-32-stream-aligned-prefetch-compress-survives)
  ['abort-32-stream-unaligned-prefetch-compress', 'block-stream', /^block-stream's first copy reads 32768 bytes at offset 0 through node 'compress-top', whose request alignment is 65536 \(QEMU 7\.2 crashes here: stream_populate's prefetch has no I\/O vector, and bdrv_co_preadv_part -> bdrv_pad_request pads it: SIGSEGV\)/, false],
  // fuzz 1593594901: blockdev-snapshot's append moves the main-loop old node into the read-only overlay's iothread, then
  // fails; the rollback leaves the iothread without its lock (commands/external-snapshot.ts; survivors:
  // abort-31-snapshot-append-fails-overlay-in-iothread-survives, 7.2 and 10.0)
  ['abort-31-snapshot-append-fails-overlay-in-iothread', 'blockdev-snapshot', /^Appending 'f8' to overlay 'n5' moves it into iothread 'io1' and then fails \(Block node is read-only\): the rollback moves it back without that iothread's lock \(QEMU 7\.2 aborts here: bdrv_attach_child_common_abort/, false],
  // fuzz 3824531501: a pending stream finalized after a backup of its base onto a target backed by the base: a diamond below
  // the base (graph/jobs/stream-diamond.ts; 10.0 finalizes: qemu-10.0/aborts/; boundary, a target without backing:
  // abort-32-finalize-stream-backup-below-base-no-diamond-survives)
  ['abort-32-finalize-stream-diamond-below-base', 'job-finalize', /^Finishing stream job 'j8' re-attaches its base '[^']+', below which node 'n1' is reached by two paths \(QEMU 7\.2 aborts here: stream_prepare's subtree drain/, false],
  // fuzz 2430494153 (stop 33, wt-fzg): a reopen frees the inline node the cbw's block-copy bitmap stays on after blockdev-snapshot
  // moved the filter's link (10.0 carries it out: qemu-10.0/aborts/; boundary, the node monitor-owned:
  // abort-33-reopen-drops-block-copy-bitmap-node-monitor-owned-survives)
  ['abort-33-reopen-drops-block-copy-bitmap-node', 'blockdev-reopen', /^Cannot close node 'x1': the block-copy bitmap of copy-before-write filter 'cbw3' is still on it \(QEMU 7\.2 aborts here: bdrv_close: Assertion 'QLIST_EMPTY\(&bs->dirty_bitmaps\)' failed\)/, false],
  // fuzz 1301381308 (stop 34, wt-fz15): a writable export of a quorum child into io0 refused by blk_insert_bs leaves the
  // component in io0 (commands/exports.ts); removing a quorum child there moves it out without the lock (10.0 carries
  // it out: qemu-10.0/aborts/; boundary, the export refused after the insert: abort-34-…-inserted-survives)
  ['abort-34-quorum-del-child-after-refused-iothread-export', 'x-blockdev-change', /^Removing child 'q1' of 'x2' moves it out of iothread 'io0' without that iothread's lock \(QEMU 7\.2 aborts here: bdrv_detach_child -> bdrv_try_change_aio_context: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // fuzz 2348181939 (stop 36, wt-fz17): crash 5 through blklogwrites' `log` reference (the generator's references()
  // missed the key; 10.0 carries it out: qemu-10.0/aborts/; boundary, the log pinned by a fixed-iothread export:
  // abort-36-add-blklogwrites-log-ref-pinned-in-iothread-survives, QEMU's own error on 7.2 and 10.0)
  ['abort-36-add-blklogwrites-log-ref-in-iothread', 'blockdev-add', /^Node 'n3' is in iothread 'io1' and would be moved to the main loop without its lock held \(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // fuzz 3456471345 (stop 38, wt-fz18): a create's header write through an empty dynamic vpc node passes its block
  // table (vpc.c alloc_block; commands/blockdev-create.ts refuseCreateIntoEmptyVpc; boundary, a 16 MiB vpc:
  // abort-38-create-through-vpc-in-table-survives, 7.2 and 10.0)
  ['abort-38-create-through-empty-vpc', 'blockdev-create', /^blockdev-create's header write through vpc node 'n4' of size 0 would pass its block table \(QEMU 7\.2 and 10\.0 abort: vpc\.c alloc_block: Assertion `s->pagetable\[index\] == 0xFFFFFFFF' failed\); refused by blockgraph$/, true],
  // fuzz --qemu 10.0 2838488303 (stop 39, wt-fz19): a stream's copy-on-read write through blklogwrites, which drops
  // BDRV_REQ_WRITE_UNCHANGED onto a file link without write (graph/jobs/unchanged-write.ts; survivors:
  // abort-39-stream-through-blklogwrites-survives, 7.2 and 10.0)
  ['abort-39-stream-through-blklogwrites', 'block-stream', /^Stream job 's0' copies into 'x3' with unchanged writes, which blklogwrites node 'x3' passes to its 'file' link as plain writes while that link holds no write permission .*\(QEMU aborts here: bdrv_co_do_copy_on_readv -> blk_log_writes_co_pwritev -> bdrv_co_write_req_prepare: Assertion `child->perm & BLK_PERM_WRITE' failed\); refused by blockgraph/, true],
  // fuzz 1952165311 (stop 40, wt-fz20; 10.0 keeps the bitmap on the filter and deletes n3): the completed mirror moved cbw6 off n3
  ['abort-40-del-mirror-source-under-cbw', 'blockdev-del', /^Cannot close node 'n3': the block-copy bitmap of copy-before-write filter 'cbw6' is still on it \(QEMU 7\.2 aborts here: bdrv_close: Assertion 'QLIST_EMPTY\(&bs->dirty_bitmaps\)' failed\)/, false],
  // combo-c12 (wt-combo13): a reopen list attaches main-loop b to t in io0, then x's prepare fails;
  // tran_abort moves b back out of io0 (graph/reopen/attach-abort.ts; boundary: combo-c12-iothread-reopen)
  ['abort-41-reopen-attach-into-iothread-then-fails', 'blockdev-reopen', /^L2 cache entry size must be a power of two between 512 and the cluster size \(65536\) \(after 'b' was moved into iothread 'io0' as the backing child of 't': QEMU 7\.2 aborts here moving it back, bdrv_attach_child_common_abort: qemu_mutex_unlock_impl: Operation not permitted\)/, false],
  // fuzz 3033561078 (stop 38 found, stop 39 models it): the overlay a later snapshot-sync opened holds its lock until
  // tran_clean while an earlier external_snapshot_abort re-takes one (graph/held-overlay-lock.ts; survivors:
  // abort-39-txn-snapshot-sync-existing-lock-survives, 7.2 and 10.0)
  ['abort-38-txn-snapshot-sync-existing-lock-in-abort', 'transaction', /^Failed to get "write" lock: the transaction failed, and its abort gives node 'f1' back its lock on 't2\.qcow2' while overlay 'n11' .*\(QEMU aborts here: external_snapshot_abort -> bdrv_replace_node\(\.\.\., &error_abort\) -> raw_check_lock_bytes\); refused by blockgraph$/, true],
  // combo-c13 (wt-combo14): a merge of an empty bitmap list keeps no backup, and both the command and
  // a transaction's commit free it (hbitmap_free(NULL)); boundary: abort-42-txn-merge-empty-list-then-fails-survives
  ['abort-42-merge-empty-list', 'block-dirty-bitmap-merge', /^Merging no bitmaps into 't' \(QEMU crashes here: block_dirty_bitmap_merge calls hbitmap_free\(NULL\), segmentation fault\); refused by blockgraph$/, true],
  ['abort-42-txn-merge-empty-list', 'transaction', /^Merging no bitmaps into 't' in a transaction \(QEMU crashes here: block_dirty_bitmap_free_backup calls hbitmap_free\(NULL\), segmentation fault\); refused by blockgraph$/, true],
  ['abort-24-vm-commit-cancel-filter-removal-conflict', 'job-cancel', /^Removing job filter 'j1\.main node' puts its parents on 'n0': Permission conflict on node 'n0'.*\(QEMU aborts here: mirror_exit_common's bdrv_replace_node/, false],
];

for (const [name, execute, text, diesOn10] of ABORTS) {
  test(`${name}: refused on 7.2${diesOn10 ? ' and 10.0' : ''}, state and events untouched`, async () => {
    const s = upTo(load(name), execute);
    for (const v of diesOn10 ? ['7.2', '10.0'] as const : ['7.2'] as const) {
      const t = await runOnModel(s, undefined, { qemuVersion: v });
      const last = t.steps[t.steps.length - 1]!;
      const before = t.steps[t.steps.length - 2]?.graph ?? { nodes: [], parents: [], edges: [] };
      assert.ok(!isWaitStep(last) && !last.result.ok, `${name} on ${v}: not refused`);
      if (!isWaitStep(last) && !last.result.ok) {
        assert.match(last.result.desc, text);
        assert.match(last.result.desc, /refused by blockgraph/);
      }
      assert.equal(last.events, []);
      assert.equal(last.graph, before);
      // every earlier step is carried out as on the daemon (the probe saw them all succeed)
      // (the failed backup is the abort's setup: it leaves its target in the iothread; so does
      // the failed transaction of abort-16 leave its snapshot's old node)
      const failing = ['abort-10-backup-fails-target-left-in-iothread', 'abort-16-txn-snapshot-abort-old-node-left-in-iothread', 'abort-34-quorum-del-child-after-refused-iothread-export'].includes(name) ? 1 : 0;
      assert.is(t.steps.slice(0, -1).filter((x) => !isWaitStep(x) && !x.result.ok).length, failing, `${name} on ${v}: an earlier step failed`);
    }
  });
}

// QEMU 10.0 dies earlier in two of them: bdrv_insert_node asserts that the node it inserts above
// stayed in its AioContext, and the filter's open moved it to the main loop (rule 'insert-node-context-asserts')
test('10.0: a stream or backup whose filter would move its node out of an iothread is refused (bdrv_insert_node)', async () => {
  for (const [name, execute] of [['abort-10-backup-fails-target-left-in-iothread', 'blockdev-backup'], ['abort-10-stream-node-leaves-iothread-survives', 'block-stream']] as const) {
    const s = upTo(load(name), execute);
    const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
    const last = t.steps[t.steps.length - 1]!;
    assert.ok(!isWaitStep(last) && !last.result.ok, name);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, /\(QEMU 10\.0 aborts here: bdrv_insert_node: Assertion .bdrv_get_aio_context\(bs\) == ctx' failed\); refused by blockgraph/);
    assert.equal(last.events, []);
    // 7.2 carries the same command out (the stream) or answers QEMU's error (the backup)
    const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
    const l72 = t72.steps[t72.steps.length - 1]!;
    assert.ok(!isWaitStep(l72) && (l72.result.ok || !/refused by blockgraph/.test(l72.result.desc)), `${name} on 7.2`);
  }
});

// fuzz --against vm --qemu 10.0 314375822: QEMU 10.0 hangs at a disk's realize (blkconf_geometry's
// read) above a node a blockdev-reopen listing it twice left drained; 7.2 takes the disk
test('abort-31-vm-device-add-reopen-leaked-drain: refused on 10.0 (a hang), carried out on 7.2; the generator avoids it, not the survivors', async () => {
  const s = load('abort-31-vm-device-add-reopen-leaked-drain');
  const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) {
    assert.match(last.result.desc, /^device_add of scsi-hd 'sd0' on node 'o', above node 'a' which a blockdev-reopen left drained: QEMU hangs here \(realize's blkconf_geometry/);
    assert.match(last.result.desc, /refused by blockgraph/);
  }
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  assert.ok(t72.steps.every((x) => !isWaitStep(x) && x.result.ok), 'every step carried out on 7.2');
  assert.match((await verdict('abort-31-vm-device-add-reopen-leaked-drain', 'device_add')) ?? '', /^fuzz 314375822:/);
  // the survivors (a CD-ROM on the overlay, a disk beside it) are sent
  const surv = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'scenarios', 'vm', 'abort-31-vm-device-add-reopen-leaked-drain-survives.json'), 'utf8')) as Scenario;
  const w = new World();
  const ts = await runOnModel(surv, undefined, { qemuVersion: '10.0' });
  for (const [i, out] of ts.steps.entries()) {
    assert.is(knownAbort(surv.steps[i]!, w.proc('A')), undefined, `survivor step ${i}`);
    w.observe(surv.steps[i]!, out);
  }
});

// fuzz --against vm --qemu 10.0 785820337 (stop 36, wt-fz17): the same leaked drain under a scsi-generic, whose
// realize waits in blk_ioctl(SG_GET_VERSION_NUM) (blk_co_do_ioctl → blk_wait_while_drained); 7.2 answers the ioctl's -ENOTSUP
test('abort-36-vm-scsi-generic-reopen-leaked-drain: refused on 10.0 (a hang), QEMU\'s ioctl error on 7.2; the generator avoids it', async () => {
  const s = load('abort-36-vm-scsi-generic-reopen-leaked-drain');
  const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) {
    assert.match(last.result.desc, /^device_add of scsi-generic 'sg0' on node 'o', above node 'a' which a blockdev-reopen left drained: QEMU hangs here \(realize's blk_ioctl\(SG_GET_VERSION_NUM\)/);
    assert.match(last.result.desc, /refused by blockgraph/);
  }
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const l72 = t72.steps[t72.steps.length - 1]!;
  assert.ok(t72.steps.slice(0, -1).every((x) => !isWaitStep(x) && x.result.ok), 'every earlier step carried out on 7.2');
  assert.ok(!isWaitStep(l72) && !l72.result.ok && l72.result.desc === 'cannot get SG_IO version number: Operation not supported', '7.2: the ioctl fails');
  assert.match((await verdict('abort-36-vm-scsi-generic-reopen-leaked-drain', 'device_add')) ?? '', /^fuzz 314375822:/);
});

// wt-vm12: 7.2 aborts when a medium (blk_insert_bs) or a main-loop disk (set_drive_helper) takes a
// node out of its iothread without its lock; 10.0 carries both out
test('abort-32-vm: refused on 7.2 with the abort named, carried out on 10.0', async () => {
  for (const [name, text] of [
    ['abort-32-vm-insert-medium-node-in-other-iothread', /^Cannot insert node 'm' \(iothread 'io1'\) as the medium of a BlockBackend in iothread 'io0' \(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl/],
    ['abort-32-vm-virtio-blk-on-node-in-iothread', /^Cannot attach virtio-blk-pci 'vd0' to node 'a' in iothread 'io0' \(QEMU 7\.2 aborts here: qemu_mutex_unlock_impl/],
  ] as const) {
    const s = load(name);
    const t = await runOnModel(s, undefined, { qemuVersion: '7.2' });
    const last = t.steps[t.steps.length - 1]!;
    assert.ok(!isWaitStep(last) && !last.result.ok, name);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, text);
    assert.equal(last.events, []);
    assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
    const t10 = await runOnModel(s, undefined, { qemuVersion: '10.0' });
    assert.ok(t10.steps.every((x) => !isWaitStep(x) && x.result.ok), `${name}: every step carried out on 10.0`);
  }
});

// wt-vm17: 7.2 attaches block_resize's BlockBackend to an inactive node (after a completed
// migration) and bdrv_co_truncate asserts; 10.0 refuses the BlockBackend's 'resize' first
test('abort-36-vm-resize-inactive: refused on 7.2 with the abort named, QEMU 10.0\'s refusal on 10.0', async () => {
  const s = load('abort-36-vm-resize-inactive');
  const t = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, /^Node 'd0' is inactive .*bdrv_co_write_req_prepare: Assertion .*refused by blockgraph/);
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  const t10 = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const l10 = t10.steps[t10.steps.length - 1]!;
  assert.ok(!isWaitStep(l10) && !l10.result.ok && l10.result.desc === "Permission 'resize' unavailable on inactive node");
});

test('abort-32-vm-virtio-blk-num-queues-over-max: refused on both versions (virtio_add_queue aborts past VIRTIO_QUEUE_MAX); 1024 queues are taken', async () => {
  const s = load('abort-32-vm-virtio-blk-num-queues-over-max');
  for (const v of ['7.2', '10.0'] as const) {
    const t = await runOnModel(s, undefined, { qemuVersion: v });
    const last = t.steps[t.steps.length - 1]!;
    assert.ok(!isWaitStep(last) && !last.result.ok, v);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, /^device_add of virtio-blk-pci 'vd0' with num-queues 1025: QEMU aborts here \(virtio_blk_device_realize .*virtio_add_queue aborts past VIRTIO_QUEUE_MAX, 1024\); refused by blockgraph/);
    assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
    const ok = await runOnModel({ ...s, steps: s.steps.map((x, i) => (i === 1 ? { ...x, arguments: { ...(x as { arguments: object }).arguments, 'num-queues': 1024 } } : x)) as Step[] }, undefined, { qemuVersion: v });
    assert.ok(ok.steps.every((x) => !isWaitStep(x) && x.result.ok), `${v}: 1024 queues`);
  }
});

// fuzz --against vm 1394297969 (wt-fz16): an internal snapshot's metadata writes pass the file's
// end through preallocate filter x1 (it preallocates); x1 is in io0 under a scsi-cd of the
// iothread controller; blockdev-snapshot-sync's external_snapshot_commit reopens n2 read-only in
// bdrv_reopen, which released io0's lock, and preallocate_check_perm's truncate polls io0
// (graph/preallocate-truncate.ts). Survivors: the CD-ROM on the main-loop controller, nothing preallocated
// (and as found: both snapshots in one transaction, abort-35-vm-txn-…)
for (const name of ['abort-35-vm-snapshot-preallocated-filter-in-iothread', 'abort-35-vm-txn-snapshot-preallocated-filter-in-iothread']) test(`${name}: refused on 7.2, carried out on 10.0; the generator avoids it, not the survivors`, async () => {
  const s = load(name);
  const t = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) {
    assert.match(last.result.desc, /^Preallocate filter 'x1' in iothread 'io0' has preallocated past its data and loses write or resize in a reopen: .*\(QEMU 7\.2 aborts here: bdrv_reopen_multiple -> preallocate_check_perm -> bdrv_truncate: qemu_mutex_unlock_impl: Operation not permitted\); refused by blockgraph/);
  }
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  assert.ok(t.steps.slice(0, -1).every((x) => !isWaitStep(x) && x.result.ok), 'every earlier step carried out on 7.2');
  const t10 = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  assert.ok(t10.steps.every((x) => !isWaitStep(x) && x.result.ok), 'every step carried out on 10.0');
  // the VM generator's view (its device_add follow-up puts the CD-ROM's node in io0)
  const verdicts = async (sc: Scenario): Promise<(string | undefined)[]> => {
    const w = new World();
    const g = new VmGenerator(new Rng(1), w, '7.2');
    const out = await runOnModel(sc, undefined, { qemuVersion: '7.2' });
    const v: (string | undefined)[] = [];
    for (const [i, o] of out.steps.entries()) {
      const st = sc.steps[i]!;
      v.push(knownAbort(st, w.proc('A')) ?? vmAbort(st, g));
      w.observe(st, o);
      g.followUp(st, !isWaitStep(o) && o.result.ok);
    }
    return v;
  };
  const v = await verdicts(s);
  assert.equal(v.slice(0, -1), v.slice(0, -1).map(() => undefined));
  assert.match(v[v.length - 1] ?? '', /^fuzz 1394297969:/);
  for (const surv of ['abort-35-vm-snapshot-preallocated-filter-main-loop-survives', 'abort-35-vm-snapshot-preallocate-filter-in-iothread-nothing-preallocated-survives']) {
    const sc = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'scenarios', 'vm', `${surv}.json`), 'utf8')) as Scenario;
    assert.equal(await verdicts(sc), sc.steps.map(() => undefined), surv);
  }
});

/** The fuzzer's view after the model ran every step but the last, and its verdict on the last. */
async function verdict(name: string, execute: string): Promise<string | undefined> {
  const s = upTo(load(name), execute);
  const t = await runOnModel({ ...s, steps: s.steps.slice(0, -1) });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(s.steps[i]!, out);
  return knownAbort(s.steps[s.steps.length - 1]!, w.proc('A'));
}

// wt-combo9 (the eighth held-out set): blockdev-set-active {active: false} of a qcow2 node whose
// persistent bitmap an export holds busy: qcow2_inactivate's store releases it and
// bdrv_release_dirty_bitmap_locked asserts !busy (QSD 10.0.2 dies: scripts/probe-aborts.ts abort-37);
// 7.2 has no such command. A transient exported bitmap is not released (the boundary,
// combo-c8-set-active-bitmaps-export-job, carried out and sent by the generator)
test('abort-37-set-inactive-exported-persistent-bitmap: refused on 10.0, unknown command on 7.2; the generator avoids it, not the transient boundary', async () => {
  const s = load('abort-37-set-inactive-exported-persistent-bitmap');
  const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) {
    assert.match(last.result.desc, /^Bitmap 'p' of qcow2 node 'd' is in use \(busy\) and would be released after it is stored \(QEMU aborts here: qcow2_store_persistent_dirty_bitmaps -> bdrv_release_dirty_bitmap_locked: Assertion `!bdrv_dirty_bitmap_busy\(bitmap\)' failed\); refused by blockgraph$/);
  }
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  assert.ok(t.steps.slice(0, -1).every((x) => !isWaitStep(x) && x.result.ok), 'every earlier step carried out');
  const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const l72 = t72.steps[t72.steps.length - 1]!;
  assert.ok(!isWaitStep(l72) && !l72.result.ok && l72.result.desc === 'The command blockdev-set-active has not been found');
  assert.match((await verdict('abort-37-set-inactive-exported-persistent-bitmap', 'blockdev-set-active')) ?? '', /^stop 37:/);
  // the same with the exported bitmap transient: inactivated on 10.0, and sent
  const transient = { ...s, steps: s.steps.map((x, i) => (i === 1 ? { ...x, arguments: { node: 'd', name: 'p', disabled: true } } : x)) as Step[] };
  const tt = await runOnModel(transient, undefined, { qemuVersion: '10.0' });
  assert.ok(tt.steps.every((x) => !isWaitStep(x) && x.result.ok), 'the transient boundary carried out on 10.0');
  const w = new World();
  const pre = await runOnModel({ ...transient, steps: transient.steps.slice(0, -1) });
  for (const [i, out] of pre.steps.entries()) w.observe(transient.steps[i]!, out);
  assert.is(knownAbort(transient.steps[transient.steps.length - 1]!, w.proc('A')), undefined);
});

test('the generator avoids each abort (oracle/fuzz/aborts.ts) and still sends the nearest forms that do not abort', async () => {
  // the finalize abort is avoided where it is set up (the cbw over the job's filter): an
  // auto-finalized job would kill the daemon at whatever step it ends on
  for (const [name, execute] of ABORTS) {
    // the growing-file abort is avoided at the backup of the file (oracle/fuzz/aborts.ts backupOfGrowingFile)
    const avoidedAt = name.endsWith('disk-under-filter') || name.endsWith('disk-on-target-backing') ? 'device_add'
      : name.startsWith('abort-31-vm-device-del') ? 'device_del'
      : (execute === 'job-finalize' && name.startsWith('abort-9')) || name.startsWith('abort-24-vm-commit') ? 'blockdev-add'
      : name.startsWith('abort-13-backup-file') ? 'blockdev-backup'
      : name === 'abort-32-reopen-drops-last-filter-parent' ? 'blockdev-reopen'
      : name === 'abort-24-snapshot-internal-over-backup-file-grows' ? 'drive-backup'
      : name === 'abort-37-stream-drops-base-with-exported-bitmap' ? 'block-export-add' : execute;
    assert.match((await verdict(name, avoidedAt)) ?? '', /^(fuzz \d+|crash 5|issue 12 item 8|iotests [\w/-]+|stop 3[67]|stop 4[12]):/, name);
  }
  assert.is(await verdict('abort-9-finalize-stream-cbw-below-survives', 'block-stream'), undefined);
  // fuzz --qemu 10.0 250573919 (10.0 hangs, not modelled): blockdev-del above a running backup moved into io0; paused, it survives
  assert.match((await verdict('abort-34-blockdev-del-over-moved-running-backup', 'blockdev-del')) ?? '', /^fuzz 250573919:/);
  assert.is(await verdict('abort-34-blockdev-del-over-moved-running-backup-paused-survives', 'blockdev-del'), undefined);
  assert.is(await verdict('abort-9-txn-disable-unknown-node-survives', 'transaction'), undefined);
  assert.is(await verdict('abort-9-reopen-queued-child-undrained-reversed-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-9-add-raw-over-stream-filter-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-32-add-qcow2-through-raw-slice-over-stream-filter-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-33-reopen-drops-block-copy-bitmap-node-monitor-owned-survives', 'blockdev-reopen'), undefined);
  // fuzz 1009896524 (7.2 and 10.0 die alike; the model does not refuse it, so it is not in ABORTS): avoided, sync none sent
  assert.match((await verdict('abort-33-backup-into-quorum-overlay', 'blockdev-backup')) ?? '', /^fuzz 1009896524:/);
  assert.is(await verdict('abort-33-backup-into-quorum-overlay-sync-none-survives', 'blockdev-backup'), undefined);
  // stop 34 (7.2 and 10.0 die alike; the model does not refuse them, so they are not in ABORTS): avoided, the boundaries sent
  assert.match((await verdict('abort-34-create-qed-through-backup-filter', 'blockdev-create')) ?? '', /^fuzz 1295196418:/);
  assert.is(await verdict('abort-34-create-qed-through-backup-filter-no-backup-survives', 'blockdev-create'), undefined);
  assert.match((await verdict('abort-34-blkverify-read-mismatch', 'blockdev-add')) ?? '', /^fuzz 2258166518:/);
  assert.is(await verdict('abort-34-blkverify-read-mismatch-zeroes-survives', 'blockdev-add'), undefined);
  assert.match((await verdict('abort-34-vmdk-split-empty-no-extents-open', 'blockdev-create')) ?? '', /^stop 34: blockdev-create of an empty twoGbMaxExtentSparse vmdk/);
  assert.is(await verdict('abort-34-vmdk-split-empty-no-extents-open-sized-survives', 'blockdev-create'), undefined);
  assert.is(await verdict('abort-32-reopen-drops-last-filter-parent-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-32-finalize-stream-backup-below-base-no-diamond-survives', 'job-finalize'), undefined);
  assert.is(await verdict('abort-10-reopen-qcow2-option-fails-file-kept-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-10-reopen-qcow2-inline-backing-file-kept-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-10-txn-snapshot-abort-no-conflict-survives', 'transaction'), undefined);
  assert.is(await verdict('abort-10-backup-fails-target-main-loop-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-24-null-negative-size-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-11-reopen-attach-no-diamond-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-12-resize-pinned-in-iothread-survives', 'block_resize'), undefined);
  assert.is(await verdict('abort-12-add-cbw-mirror-target-back-in-main-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-13-snapshot-overlay-in-iothread-no-job-survives', 'blockdev-snapshot'), undefined);
  assert.is(await verdict('abort-13-reopen-keep-cbw-diamond-survives', 'blockdev-reopen'), undefined);
  assert.is(await verdict('abort-12-txn-snapshot-abort-over-paused-backup-survives', 'transaction'), undefined);
  assert.is(await verdict('abort-16-txn-snapshot-abort-old-node-moved-back-survives', 'blockdev-add'), undefined);
  assert.is(await verdict('abort-17-stream-read-only-under-backup-survives', 'block-stream'), undefined);
  assert.is(await verdict('abort-18-snapshot-delete-ro-qcow2-over-ro-file-survives', 'blockdev-snapshot-delete-internal-sync'), undefined);
  assert.is(await verdict('abort-24-cancel-backup-created-in-iothread-survives', 'job-cancel'), undefined);
  assert.is(await verdict('abort-24-cancel-backup-under-job-created-in-iothread-survives', 'job-cancel'), undefined);
  // the monitor-owned overlay's device_del is sent (vm/abort-31-vm-device-del-last-filter-parent-survives)
  {
    const surv = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'scenarios', 'vm', 'abort-31-vm-device-del-last-filter-parent-survives.json'), 'utf8')) as Scenario;
    const w = new World();
    const ts = await runOnModel(surv);
    for (const [i, out] of ts.steps.entries()) {
      assert.is(knownAbort(surv.steps[i]!, w.proc('A')), undefined, `abort-31 device_del survivor step ${i}`);
      w.observe(surv.steps[i]!, out);
    }
  }
});

// fuzz 2207863690: the view knows no lengths, so every mirror (but sync none, which skips
// mirror_dirty_init) and every commit of a fixed-length filter whose child is not the one it was
// opened over is avoided, the recorded same-length boundary too; a filter over its own child is sent
test('the generator avoids a mirror through a filter whose child was replaced, not sync none nor an untouched filter', async () => {
  const s = upTo(load('abort-14-commit-filter-over-shorter-image'), 'block-commit');
  const t = await runOnModel({ ...s, steps: s.steps.slice(0, -1) });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(s.steps[i]!, out);
  const v = (execute: string, args: Record<string, unknown>) => knownAbort({ execute, arguments: args } as Step, w.proc('A'));
  assert.match(v('blockdev-mirror', { 'job-id': 'm', device: 'x7', target: 'n5', sync: 'full' }) ?? '', /^fuzz 2207863690: blockdev-mirror of 'x7' whose filter 'x7'/);
  assert.is(v('blockdev-mirror', { 'job-id': 'm', device: 'x7', target: 'n5', sync: 'none' }), undefined);
  assert.match((await verdict('abort-14-commit-filter-same-length-survives', 'block-commit')) ?? '', /^fuzz 2207863690:/);
  const fresh: Step[] = [
    { execute: 'blockdev-add', arguments: { driver: 'null-aio', 'node-name': 'n5' } },
    { execute: 'blockdev-add', arguments: { driver: 'blkdebug', 'node-name': 'x7', image: 'n5' } },
  ];
  const tf = await runOnModel({ ...s, steps: fresh });
  const wf = new World();
  for (const [i, out] of tf.steps.entries()) wf.observe(fresh[i]!, out);
  assert.is(knownAbort({ execute: 'block-commit', arguments: { 'job-id': 'c', device: 'x7' } }, wf.proc('A')), undefined);
});

// the sync full neighbour survives on 7.2 (zero_target onto null-co: no block status asked) and the
// model carries it out, step by step as recorded (7.2 only: 10.0 fails the job, sizes differ)
test('abort-14 boundary: a sync full mirror of the same filter is carried out as recorded on 7.2', async () => {
  const name = 'fuzz-found/7.2-only-abort-14-mirror-full-filter-over-shorter-image-survives.json';
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name);
  const c = compareTranscripts(t, await runOnModel(scenarioOf(t)));
  assert.equal(c.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `#${x.index}: ${x.diff.join('; ')}`), []);
});

// A truncate that fails still releases the BlockBackend (qmp_block_resize goes on to blk_unref):
// the node moves back to the main loop on both versions, and 7.2 is left with io0 locked
// (recorded hanging: 'Cannot resize fixed-size raw disks' for a raw node with a size, then a
// blockdev-del in io0). 7.2 refuses it; 10.0 answers QEMU's error (the move stays: abort residue).
test('a block_resize whose truncate fails in an iothread: refused on 7.2, the error and the move on 10.0', async () => {
  const steps: Step[] = [
    { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io0' } },
    { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'n0', size: 1048576, file: { driver: 'file', filename: 'r.raw', 'node-name': 'f0' } } },
    { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'n0', iothread: 'io0' } },
    { execute: 'block_resize', arguments: { 'node-name': 'n0', size: 2097152 } },
  ];
  const s: Scenario = { name: 'resize-fails-in-iothread', description: '', covers: [], images: [{ file: 'r.raw', format: 'raw', size: '16M' }], steps };
  const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
  const l72 = t72.steps[3]!;
  assert.ok(!isWaitStep(l72) && !l72.result.ok && /QEMU 7\.2 hangs at the next wait/.test(l72.result.desc), '7.2 refuses');
  const t10 = await runOnModel({ ...s, steps: [...steps, { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'file', filename: 'r.raw' }, backing: 'n0' } }] }, undefined, { qemuVersion: '10.0' });
  const l10 = t10.steps[3]!;
  assert.ok(!isWaitStep(l10) && !l10.result.ok && l10.result.desc === 'Cannot resize fixed-size raw disks', '10.0: QEMU\'s error');
});

// fuzz 1664638692 (shrunk): n3 is in io1 (its file's component was moved with force) and becomes
// f17's overlay, which takes f17 from its other parent (bdrv_replace_node); dropping n3's backing
// then closes f17 in io1 without the lock, which 7.2 survives or dies of by chance. The model
// refuses it (graph/aio.ts refuseCloseInIothread); the generator must not send it, but still
// sends the drop of a backing the monitor holds (aio-reopen-iothread-neighbours, step 21).
test('the generator avoids a reopen that closes a dropped child in an iothread (a 7.2 race), not one that keeps it', async () => {
  const steps: Step[] = [
    { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io1' } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n3', file: { driver: 'blkdebug', image: { driver: 'file', filename: 'mid.qcow2', 'node-name': 'f1' }, 'node-name': 'x2' }, backing: null } },
    { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'f1', iothread: 'io1', force: true } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n19', file: { driver: 'blkdebug', image: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f17' }, 'node-name': 'x18' } } },
    { execute: 'blockdev-snapshot', arguments: { node: 'f17', overlay: 'n3' } },
    { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'n3', file: 'x2', backing: null }] } },
  ];
  const s: Scenario = { name: 'reopen-drop-backing-closes-in-iothread', description: '', covers: [], images: [{ file: 'mid.qcow2', format: 'qcow2', size: '16M' }, { file: 't2.qcow2', format: 'qcow2', size: '16M' }], steps };
  const t = await runOnModel({ ...s, steps: steps.slice(0, -1) });
  assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  assert.match(knownAbort(steps[5]!, w.proc('A')) ?? '', /^fuzz 1664638692: reopen drops backing 'f17' of 'n3'/);
  const last = (await runOnModel(s)).steps[5]!;
  assert.ok(!isWaitStep(last) && !last.result.ok && /would be closed in iothread 'io1'/.test(last.result.desc), 'the model refuses it');
  // the boundary: the same drop of a monitor-owned backing, recorded surviving
  const n = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'transcripts', 'aio-reopen-iothread-neighbours.json'), 'utf8')) as Scenario;
  const tn = await runOnModel({ ...n, steps: n.steps.slice(0, 21) });
  const wn = new World();
  for (const [i, out] of tn.steps.entries()) wn.observe(n.steps[i]!, out);
  assert.is(knownAbort(n.steps[21]!, wn.proc('A')), undefined);
});

test('the generator avoids deleting an NBD client node (7.2: a server export in an iothread dies), not other nodes', async () => {
  // oracle/scenarios/qemu-aborts/abort-31-nbd-client-del-iothread-export: daemon B's export in io0,
  // A's client c; the view of A cannot see B's iothreads, so any nbd node is avoided
  const s = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oracle', 'scenarios', 'qemu-aborts', 'abort-31-nbd-client-del-iothread-export.json'), 'utf8')) as Scenario;
  const t = await runOnModel({ ...s, steps: s.steps.slice(0, 5) });
  assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(s.steps[i]!, out);
  assert.match(knownAbort(s.steps[5]!, w.proc('A')) ?? '', /^wt-iotc: blockdev-del of NBD client 'c'/);
  assert.is(knownAbort({ proc: 'B', execute: 'blockdev-del', arguments: { 'node-name': 'd' } } as Step, w.proc('B')), undefined);
});

// fuzz 1430764569's boundary: the same backup of f0 and the same stream, with nothing in the base
// to copy, allocates nothing: the file keeps its length and QEMU survives (recorded on 7.2 and
// 10.0: abort-13-backup-file-stream-no-copy-survives)
test('abort-13 boundary: a stream that allocates nothing under the backup of the file is carried out', async () => {
  for (const v of ['7.2', '10.0'] as const) {
    const t = await runOnModel(upTo(load('abort-13-backup-file-stream-no-copy-survives'), 'block-stream'), undefined, { qemuVersion: v });
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), v);
  }
});


// fuzz --qemu 10.0 3776961068 (rule 'drop-filter-frees-child-asserts', graph/jobs/drop-filter.ts):
// a blockdev-snapshot-sync overlay under a backup's copy-before-write filter is freed when the
// job's end drops the filter; 10.0's bdrv_drop_filter then ends the drain of the freed node and
// dies. 7.2 carries it out (fuzz-found/7.2-only-abort-19-…); a blockdev-add'ed overlay survives both.
test('10.0: ending a backup whose filter holds the last reference on a snapshot-sync overlay is refused (bdrv_drop_filter)', async () => {
  const s = load('abort-19-backup-snapshot-sync-finalize');
  const cancel: Scenario = { ...s, steps: [...s.steps.slice(0, -1), { execute: 'job-cancel', arguments: { id: 'd1' } }] };
  for (const sc of [s, cancel]) {
    const t = await runOnModel(sc, undefined, { qemuVersion: '10.0' });
    const last = t.steps[t.steps.length - 1]!;
    assert.ok(!isWaitStep(last) && !last.result.ok);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, /^Dropping job filter '.*' frees its child 'n4', which nothing else references \(QEMU 10\.0 aborts here: bdrv_drop_filter -> .*bdrv_do_drained_end: Assertion `bs->quiesce_counter > 0' failed\); refused by blockgraph/);
    assert.equal(last.events, []);
    assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
    const t72 = await runOnModel(sc, undefined, { qemuVersion: '7.2' });
    const l72 = t72.steps[t72.steps.length - 1]!;
    assert.ok(!isWaitStep(l72) && l72.result.ok, '7.2 ends the job');
  }
  const surv = load('abort-19-backup-snapshot-overlay-finalize-survives');
  for (const v of ['7.2', '10.0'] as const) {
    const t = await runOnModel(surv, undefined, { qemuVersion: v });
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), `boundary on ${v}`);
  }
  // the generator avoids the snapshot-sync that sets it up, not the blockdev-snapshot of the boundary
  assert.match((await verdict('abort-19-backup-snapshot-sync-finalize', 'blockdev-snapshot-sync')) ?? '', /^QEMU 10\.0 abort: blockdev-snapshot-sync of 'n0' under a job's filter/);
  assert.is(await verdict('abort-19-backup-snapshot-overlay-finalize-survives', 'blockdev-snapshot'), undefined);
});

test('the generator avoids a job writing to a raw node over a resized node (10.0 abort, fuzz 4197392066), not one over a node never resized', async () => {
  const images = [{ file: 'mid.qcow2', format: 'qcow2', size: '16M' }, { file: 'base.qcow2', format: 'qcow2', size: '16M' }];
  const view = async (steps: Step[]) => {
    const t = await runOnModel({ name: 'raw-over-shrunk', description: '', covers: [], images, steps } as Scenario);
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return w.proc('A');
  };
  const add = (n: string, file: string): Step => ({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: file }, backing: null } });
  const slice: Step = { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'sl13', file: 'n12', offset: 0 } };
  const resize = (n: string): Step => ({ execute: 'block_resize', arguments: { 'node-name': n, size: 1048576 } });
  const mirror: Step = { execute: 'blockdev-mirror', arguments: { 'job-id': 'j17', device: 'n10', target: 'sl13', sync: 'full' } };
  const backup: Step = { execute: 'transaction', arguments: { actions: [{ type: 'blockdev-backup', data: { 'job-id': 'b1', device: 'n10', target: 'sl13', sync: 'full' } }] } };
  const stale = await view([add('n10', 'mid.qcow2'), add('n12', 'base.qcow2'), slice, resize('n12')]);
  assert.match(knownAbort(mirror, stale) ?? '', /^fuzz --qemu 10\.0 4197392066: blockdev-mirror writing to 'sl13', with raw node 'sl13' over a resized node/);
  assert.match(knownAbort(backup, stale) ?? '', /^fuzz --qemu 10\.0 4197392066: transaction writing to 'sl13'/);
  const untouched = await view([add('n10', 'mid.qcow2'), add('n12', 'base.qcow2'), slice]);
  assert.is(knownAbort(mirror, untouched), undefined, 'a raw node over a node never resized is sent');
});

test('the generator keeps a node unlinked from a moved component as maybe in the iothread (fuzz 3305389551: crash 5 through it)', async () => {
  const images = [{ file: 't2.qcow2', format: 'qcow2', size: '16M' }, { file: 'r.raw', format: 'raw', size: '16M' }];
  const steps: Step[] = [
    { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io0' } },
    { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'n0', file: { driver: 'file', filename: 'r.raw' } } },
    { execute: 'blockdev-add', arguments: { driver: 'blkdebug', 'node-name': 'x4', image: 'n0' } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n6', file: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f7' }, backing: 'x4' } },
    { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'n0', iothread: 'io0' } },
    { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'n6', file: 'f7', backing: null }] } },
  ];
  const t = await runOnModel({ name: 'unlinked-stays', description: '', covers: [], images, steps } as Scenario);
  assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  const add: Step = { execute: 'blockdev-add', arguments: { driver: 'blkdebug', 'node-name': 'x11', image: 'f7' } };
  assert.match(knownAbort(add, w.proc('A')) ?? '', /^crash 5: blockdev-add references 'f7' in an iothread/);
  // and the model refuses it as QEMU 7.2's abort
  const m = await runOnModel({ name: 'unlinked-stays', description: '', covers: [], images, steps: [...steps, add] } as Scenario);
  const last = m.steps[m.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok && /QEMU 7\.2 aborts here/.test(last.result.desc));
});

test('the generator avoids a snapshot of a main-loop node onto an overlay in an iothread (fuzz 1593594901), not the other way round', async () => {
  const images = [{ file: 't1.qcow2', format: 'qcow2', size: '16M' }, { file: 't2.qcow2', format: 'qcow2', size: '16M' }];
  const add = (n: string, file: string, f: string): Step => ({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: file, 'node-name': f }, backing: null } });
  const view = async (moved: string) => {
    const steps: Step[] = [
      { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io1' } },
      add('n5', 't2.qcow2', 'f6'), add('n7', 't1.qcow2', 'f8'),
      { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': moved, iothread: 'io1' } },
    ];
    const t = await runOnModel({ name: 'snapshot-across', description: '', covers: [], images, steps } as Scenario);
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return w.proc('A');
  };
  const snapshot: Step = { execute: 'blockdev-snapshot', arguments: { node: 'f8', overlay: 'n5' } };
  const inTxn: Step = { execute: 'transaction', arguments: { actions: [{ type: 'blockdev-snapshot', data: { node: 'f8', overlay: 'n5' } }] } };
  const overlayMoved = await view('n5');
  assert.match(knownAbort(snapshot, overlayMoved) ?? '', /^fuzz 1593594901: blockdev-snapshot of 'f8' onto 'n5' in an iothread/);
  assert.match(knownAbort(inTxn, overlayMoved) ?? '', /^fuzz 1593594901/);
  assert.is(knownAbort(snapshot, await view('n7')), undefined, 'the old node in the iothread, the overlay in the main loop: sent');
});

test('the generator avoids a backup of a format node that is a qcow2 node\'s file (fuzz 3411725876), not of an overlay\'s backing', async () => {
  const images = [{ file: 'top.qcow2', format: 'qcow2', size: '16M' }, { file: 'base.qcow2', format: 'qcow2', size: '16M' }, { file: 'mid.qcow2', format: 'qcow2', size: '16M' }];
  const steps: Step[] = [
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'base.qcow2' }, backing: null } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'f5' }, backing: null } },
    { execute: 'blockdev-add', arguments: { driver: 'blkdebug', 'node-name': 'x6', image: 'f5' } },
    { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'n4', file: 'x6', backing: null }] } },
    { execute: 'blockdev-snapshot', arguments: { node: 'x6', overlay: 'n2' } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n7', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 't9.qcow2' }, backing: 'n7' } },
  ];
  const t = await runOnModel({ name: 'backup-of-qcow2-file', description: '', covers: [], images: [...images, { file: 't9.qcow2', format: 'qcow2', size: '16M' }], steps } as Scenario);
  assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  const backup = (device: string): Step => ({ execute: 'drive-backup', arguments: { 'job-id': 'd7', device, sync: 'none', mode: 'existing', target: 't1.qcow2', format: 'qcow2' } });
  assert.match(knownAbort(backup('n2'), w.proc('A')) ?? '', /^fuzz 3411725876: backup of format node 'n2', the file of a qcow2 node/);
  assert.is(knownAbort(backup('n7'), w.proc('A')), undefined, 'the backing of an overlay is sent');
});

test('the generator avoids a job writing to a raw node over an external snapshot\'s overlay (10.0 abort, fuzz 3430820474), not one without the snapshot', async () => {
  const images = [{ file: 'a.qcow2', format: 'qcow2', size: '16M' }, { file: 'top.qcow2', format: 'qcow2', size: '16M' }, { file: 't1.qcow2', format: 'qcow2', size: '16M' }];
  const view = async (steps: Step[]) => {
    const t = await runOnModel({ name: 'raw-over-overlay', description: '', covers: [], images, steps } as Scenario);
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return w.proc('A');
  };
  const raw: Step = { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'n7', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'f8' }, offset: 1000 } };
  const top: Step = { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n13', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'f14' }, backing: 'n7' } };
  const snap: Step = { execute: 'transaction', arguments: { actions: [{ type: 'blockdev-snapshot-sync', data: { 'node-name': 'f8', 'snapshot-node-name': 'n18', 'snapshot-file': 't1.qcow2', mode: 'existing' } }] } };
  const commit: Step = { execute: 'block-commit', arguments: { 'job-id': 'j19', device: 'n13', 'base-node': 'n7', 'filter-node-name': 'c20', speed: 1, 'auto-finalize': false, 'auto-dismiss': false } };
  assert.match(knownAbort(commit, await view([raw, top, snap])) ?? '', /^fuzz --qemu 10\.0 4197392066: block-commit writing to 'n7', with raw node 'n7' over a resized node/);
  assert.is(knownAbort(commit, await view([raw, top])), undefined, 'without the snapshot the commit is sent');
});

// fuzz --qemu 10.0 3430820474: the active commit into raw n7 (offset 1000) over a snapshot's overlay
// kills 10.0 (n7 keeps its length at open, the writes pass the overlay's end); 7.2 measures n7 again
// and the job fails at its truncate of the base. The model carries out 7.2's recording step by step,
// and the boundary (the raw node at offset 0) on both versions; the generator avoids the abort form
test('abort-33: the commit into a raw node over a snapshot overlay fails on 7.2 as recorded; its boundary at offset 0 survives on both', async () => {
  const name = 'fuzz-found/7.2-only-abort-33-commit-into-raw-past-snapshot-overlay.json';
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name);
  const c = compareTranscripts(t, await runOnModel(scenarioOf(t)));
  assert.equal(c.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `#${x.index}: ${x.diff.join('; ')}`), []);
  const done = t.steps[4]!.events.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  assert.is(done?.data?.error, 'Invalid argument');
  for (const [dir, version] of [[TRANSCRIPTS_DIR, '7.2'], [join(TRANSCRIPTS_DIR, 'qemu-10.0'), '10.0']] as const) {
    const b = 'abort-33-commit-into-raw-at-0-over-snapshot-overlay-survives.json';
    const bt = parseTranscript(readFileSync(join(dir, b), 'utf8'), b);
    const bc = compareTranscripts(bt, await runOnModel(scenarioOf(bt), undefined, { qemuVersion: version }));
    assert.equal(bc.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `${version} #${x.index}: ${x.diff.join('; ')}`), []);
  }
  const w = new World();
  const sc = scenarioOf(t);
  const run = await runOnModel({ ...sc, steps: sc.steps.slice(0, 3) });
  for (const [i, out] of run.steps.entries()) w.observe(sc.steps[i]!, out);
  assert.match(knownAbort(sc.steps[3]!, w.proc('A')) ?? '', /^fuzz --qemu 10\.0 4197392066: block-commit writing to 'n7'/);
});

// the same two 10.0 deaths refused by the model under 10.0 rules (graph/jobs/write-past-end.ts), at
// the command that starts the copy; 7.2 carries both out (the commit fails in its truncate, the mirror
// on the sizes), as recorded
test('10.0: a job writing through a raw node past the end of the shorter node below it is refused (bdrv_co_write_req_prepare); 7.2 carries it out', async () => {
  const name = 'fuzz-found/7.2-only-abort-33-commit-into-raw-past-snapshot-overlay.json';
  const sc = scenarioOf(parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name));
  const commit = { ...sc, steps: sc.steps.slice(0, 4) };
  const last = (t: Awaited<ReturnType<typeof runOnModel>>) => t.steps[t.steps.length - 1] as { result: { ok: boolean; desc?: string } };
  const c10 = last(await runOnModel(commit, undefined, { qemuVersion: '10.0' }));
  assert.match(c10.result.desc ?? '', /^A write of 8388608 bytes at offset 8389608 of 'n18' through 'n7' passes its end \(16777216 bytes\).*\(QEMU 10\.0 aborts here: bdrv_co_write_req_prepare/);
  assert.ok(last(await runOnModel(commit)).result.ok, '7.2 starts the commit');
  const images = [{ file: 'mid.qcow2', format: 'qcow2', size: '16M' }, { file: 'base.qcow2', format: 'qcow2', size: '16M' }];
  const add = (n: string, file: string): Step => ({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: file }, backing: null } });
  const steps: Step[] = [add('n10', 'mid.qcow2'), add('n12', 'base.qcow2'), { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'sl13', file: 'n12', offset: 0 } },
    { execute: 'block_resize', arguments: { 'node-name': 'n12', size: 1048576 } },
    { execute: 'blockdev-mirror', arguments: { 'job-id': 'j17', device: 'n10', target: 'sl13', sync: 'full' } }];
  const mirror = { name: 'raw-over-shrunk', description: '', covers: [], images, steps } as Scenario;
  assert.match(last(await runOnModel(mirror, undefined, { qemuVersion: '10.0' })).result.desc ?? '', /^A write of 16777216 bytes at offset 0 of 'n12' through 'sl13' passes its end \(1048576 bytes\)/);
  assert.ok(last(await runOnModel(mirror)).result.ok, '7.2 starts the mirror (it fails on the sizes)');
});

test('the generator avoids a job over a qcow2 whose file a reopen moved off its image (7.2 hang, fuzz 1681112954), not after it is moved back or onto the same image', async () => {
  const images = [{ file: 'a.qcow2', format: 'qcow2', size: '16M' }, { file: 'mid.qcow2', format: 'qcow2', size: '16M' }];
  const view = async (steps: Step[]) => {
    const t = await runOnModel({ name: 'foreign-file', description: '', covers: [], images, steps } as Scenario);
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return w.proc('A');
  };
  const nul: Step = { execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n0', 'read-zeroes': true } };
  const same: Step = { execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f9', filename: 'a.qcow2', 'read-only': true } };
  const mid: Step = { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n3', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null, 'read-only': true } };
  const n4: Step = { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'f5' }, backing: 'n3', 'read-only': true } };
  const reopen = (file: string): Step => ({ execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'n4', file, backing: 'n3', 'read-only': true }] } });
  const stream: Step = { execute: 'block-stream', arguments: { 'job-id': 'j16', device: 'n4', speed: 1, 'auto-finalize': false, 'auto-dismiss': true } };
  const commit: Step = { execute: 'block-commit', arguments: { 'job-id': 'j17', device: 'n4', speed: 1 } };
  const moved = await view([nul, same, mid, n4, reopen('n0')]);
  assert.match(knownAbort(stream, moved) ?? '', /^fuzz 1681112954: block-stream over qcow2 'n4'/);
  assert.match(knownAbort(commit, moved) ?? '', /^fuzz 1681112954: block-commit over qcow2 'n4'/);
  assert.is(knownAbort(stream, await view([nul, same, mid, n4])), undefined, 'never reopened: sent');
  assert.is(knownAbort(stream, await view([nul, same, mid, n4, reopen('n0'), reopen('f9')])), undefined, 'moved back onto its image (another file node of it): sent');
  assert.is(knownAbort(stream, await view([nul, same, mid, n4, reopen('f9')])), undefined, 'another file node of the same image: sent');
});


// fuzz 3404316613: QSD 7.2 gave no reply for minutes to a block_resize shrinking a qcow2 over a
// throttle node of a group with `iops-total: 10, iops-size: 4096` (the truncate's discards wait for
// the group): avoided while a group with limits exists, sent when every group is without limits
test('the generator avoids a block_resize over a throttle node while a throttle group has limits', async () => {
  const setup = (limits: Record<string, number>): Step[] => [
    { execute: 'object-add', arguments: { 'qom-type': 'throttle-group', id: 'tg1', limits } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n7', file: { driver: 'throttle', 'throttle-group': 'tg1', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'f6' } } } },
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f9' } } },
  ];
  const images = [{ file: 'top.qcow2', format: 'qcow2', size: '16M' }, { file: 't2.qcow2', format: 'qcow2', size: '16M' }];
  const view = async (limits: Record<string, number>) => {
    const steps = setup(limits);
    const t = await runOnModel({ name: 'resize-over-throttle', description: '', covers: [], images, steps } as Scenario);
    assert.ok(t.steps.every((x) => isWaitStep(x) || x.result.ok), 'the setup is carried out');
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return (node: string) => knownAbort({ execute: 'block_resize', arguments: { 'node-name': node, size: 1048576 } }, w.proc('A'));
  };
  const limited = await view({ 'iops-size': 4096, 'iops-total': 10 });
  assert.match(limited('n7') ?? '', /^fuzz 3404316613: block_resize of 'n7' over a throttle node/);
  assert.is(limited('n8'), undefined, 'a node with no throttle below is sent');
  assert.is((await view({}))('n7'), undefined, 'a group without limits never waits');
});

// iotests 245 fifth port (wt-iotf): change-backing-file's header write down an inactive node's file
// (graph/length.ts writeRefusal from commands/change-backing-file.ts): an inactive qcow2 holds its
// file without write (`child->perm & BLK_PERM_WRITE`), an inactivated file is itself inactive
// (`!(bs->open_flags & BDRV_O_INACTIVE)`); 10.0 dies, 7.2 cannot make the node inactive. Survivor:
// abort-33-change-backing-file-reactivated-survives (both versions)
test('abort-33: header writes down an inactive qcow2 (change-backing-file, a stream finalized) are refused on 10.0, state and events untouched', async () => {
  for (const [name, assertion, execute] of [
    ['abort-33-change-backing-file-inactive-node', /^Inactive node 'b' would write its metadata to 'b-file', which is writable, .*Assertion `child->perm & BLK_PERM_WRITE' failed\); refused by blockgraph/, 'change-backing-file'],
    ['abort-33-change-backing-file-inactivated-file', /'b-file', which is inactive, .*Assertion `!\(bs->open_flags & BDRV_O_INACTIVE\)' failed\); refused by blockgraph/, 'change-backing-file'],
    // stream_prepare's bdrv_change_backing_file after blockdev-set-active {active: false} (graph/jobs/stream.ts)
    ['abort-33-finalize-stream-inactivated-overlay', /'top-file', which is inactive, .*Assertion `!\(bs->open_flags & BDRV_O_INACTIVE\)' failed\); refused by blockgraph/, 'job-finalize'],
    // bdrv_drop_intermediate's update_filename over an overlay added inactive (graph/jobs/commit.ts)
    ['abort-33-finalize-commit-inactive-overlay', /^Inactive node 'top' would write its metadata to 'top-file', which is writable, .*Assertion `child->perm & BLK_PERM_WRITE' failed\); refused by blockgraph/, 'job-finalize'],
  ] as const) {
    const s = upTo(load(name), execute);
    const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
    const last = t.steps[t.steps.length - 1]!;
    assert.ok(!isWaitStep(last) && !last.result.ok, name);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, assertion);
    assert.equal(last.events, []);
    assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
    assert.is(t.steps.slice(0, -1).filter((x) => !isWaitStep(x) && !x.result.ok).length, 0, `${name}: an earlier step failed`);
    const t72 = await runOnModel(s, undefined, { qemuVersion: '7.2' });
    const l72 = t72.steps[t72.steps.length - 1]!;
    assert.ok(!isWaitStep(l72) && (l72.result.ok || !/refused by blockgraph/.test(l72.result.desc)), `${name} on 7.2`);
  }
});

// fuzz --qemu 10.0 3705470636 (wt-fz15): blockdev-set-active over a node one parent holds twice (file and backing)
test('abort-34-set-inactive-file-and-backing-one-node: refused on 10.0 (7.2 has no such command); the generator avoids it, not its survivor', async () => {
  const s = load('abort-34-set-inactive-file-and-backing-one-node');
  const t = await runOnModel(s, undefined, { qemuVersion: '10.0' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && !last.result.ok);
  if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, /^Node 'f1' is reached again below a parent that just inactivated it \(QEMU 10\.0 aborts here: bdrv_inactivate_recurse: Assertion `top_level' failed\); refused by blockgraph/);
  assert.equal(last.events, []);
  assert.equal(last.graph, t.steps[t.steps.length - 2]!.graph);
  const w = new World();
  for (const [i, out] of t.steps.slice(0, -1).entries()) w.observe(s.steps[i]!, out);
  assert.match(knownAbort(s.steps[s.steps.length - 1]!, w.proc('A')) ?? '', /^fuzz 3705470636:/);
  const surv = load('abort-34-set-inactive-file-and-backing-one-node-two-nodes-survives');
  const ts = await runOnModel(surv, undefined, { qemuVersion: '10.0' });
  const ws = new World();
  for (const [i, out] of ts.steps.entries()) {
    assert.is(knownAbort(surv.steps[i]!, ws.proc('A')), undefined, `survivor step ${i}`);
    ws.observe(surv.steps[i]!, out);
  }
});

// stop 34: fuzz 2030445139's hang needs a grouped transaction that fails after creating two jobs;
// two blockdev-backups between four fresh null nodes cannot fail, and the job-states family sends
// them to hold a job in 'waiting' (transcript fuzz-job-verbs-while-waiting). Another use of one
// of those nodes, or a third action, and the transaction is avoided again.
test('stop 34: a grouped transaction of two backups between unused null nodes is sent, any other is not', async () => {
  const name = 'fuzz-job-verbs-while-waiting.json';
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name);
  const steps = scenarioOf(t).steps;
  const w = new World();
  for (let i = 0; i < 4; i++) w.observe(steps[i]!, t.steps[i]!);
  const txn = steps[4] as { execute: string; arguments: { actions: { type: string; data: Record<string, unknown> }[] } };
  assert.is(txn.execute, 'transaction');
  assert.is(knownAbort(txn as Step, w.proc('A')), undefined);
  const third = { ...txn, arguments: { ...txn.arguments, actions: [...txn.arguments.actions, { type: 'block-dirty-bitmap-add', data: { node: 'n1', name: 'b' } }] } };
  assert.match(knownAbort(third as Step, w.proc('A')) ?? '', /^fuzz 2030445139:/);
  const shared = { ...txn, arguments: { ...txn.arguments, actions: [txn.arguments.actions[0]!, { ...txn.arguments.actions[1]!, data: { ...txn.arguments.actions[1]!.data, target: 'n2' } }] } };
  assert.match(knownAbort(shared as Step, w.proc('A')) ?? '', /^fuzz 2030445139:/);
});

// fuzz 3456471345 (stop 38, wt-fz18): the generator sends no blockdev-create through a vpc node (its view
// knows no node sizes); the boundary through the 16 MiB vpc is carried out by the model as QEMU does
test('abort-38-create-through-empty-vpc: the generator avoids a create through a vpc node; the 16 MiB boundary is carried out', async () => {
  assert.match((await verdict('abort-38-create-through-empty-vpc', 'blockdev-create')) ?? '', /^fuzz 3456471345:/);
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, 'abort-38-create-through-vpc-in-table-survives.json'), 'utf8'), 'abort-38');
  const c = compareTranscripts(t, await runOnModel(scenarioOf(t)));
  assert.ok(c.steps.every((x) => x.outcome && x.errorText && x.graph), 'the boundary agrees');
});

// fuzz 3033561078 (stop 38, wt-fz18): QEMU 7.2 and 10.0 die in external_snapshot_abort when a later snapshot-sync's
// overlay still holds the lock of a file the earlier action's old node writes again (not modelled): the generator avoids it
test('abort-38-txn-snapshot-sync-existing-lock-in-abort: the generator avoids the transaction', async () => {
  assert.match((await verdict('abort-38-txn-snapshot-sync-existing-lock-in-abort', 'transaction')) ?? '', /^fuzz 3033561078:/);
});

// fuzz --qemu 10.0 2838488303 (stop 39, wt-fz19): the generator sends no stream of a device whose filters pass a
// blklogwrites node; the survivors' streams (nothing to copy, the qcow2 node below the filter) are carried out and sent
test('abort-39-stream-through-blklogwrites: the generator avoids it, not the stream of the node below; the survivors agree', async () => {
  assert.match((await verdict('abort-39-stream-through-blklogwrites', 'block-stream')) ?? '', /^fuzz 2838488303:/);
  for (const dir of [TRANSCRIPTS_DIR, join(TRANSCRIPTS_DIR, 'qemu-10.0')]) {
    const t = parseTranscript(readFileSync(join(dir, 'abort-39-stream-through-blklogwrites-survives.json'), 'utf8'), 'abort-39');
    const c = compareTranscripts(t, await runOnModel(scenarioOf(t), undefined, { qemuVersion: dir === TRANSCRIPTS_DIR ? '7.2' : '10.0' }));
    assert.ok(c.steps.every((x) => x.outcome && x.errorText && x.graph), `the boundary agrees (${dir})`);
    const steps = scenarioOf(t).steps;
    const w = new World();
    for (const [i, out] of t.steps.entries()) {
      const st = steps[i]!;
      const sent = knownAbort(st, w.proc('A'));
      if (!isWaitStep(st) && st.execute === 'block-stream' && (st.arguments as { device: string }).device === 'n6') assert.is(sent, undefined, 'the stream of n6 is sent');
      w.observe(st, out);
    }
  }
});

test.run();
