// Issue 19: each known QEMU 7.2 abort (oracle README crash list 1–5, issue 12 item 8; the model
// refuses them all, oracle/fuzz/aborts.ts) run on both daemons. Writes the scenarios to
// oracle/scenarios/qemu-aborts/, prints which version dies where, and records the transcript of
// each one a version survives into oracle/transcripts/qemu-10.0/aborts/ (10.0) — the proof that
// 10.0 no longer aborts there.
//   node --import tsx scripts/probe-aborts.ts [--write] [NAME-SUBSTRING] [--qemu 7.2|10.0]
// A daemon that aborts may take long to be reaped (core dump): run one scenario per process
// under `timeout` when probing them all (the table in docs/fidelity.md was made that way).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printJson, printTranscript, type ImageSpec, type JsonObject, type Scenario, type Step } from '../oracle/format.js';
import { runScenario } from '../oracle/harness.js';
import { onHostOf, recordingRoot } from '../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../oracle/temp-dirs.js';
import { createImagesWithQemuImg, spawnQsd } from '../oracle/qsd.js';
import { requireQemuBinaries } from '../oracle/qemu-bins.js';

const img = (f: string, backing?: string): ImageSpec => ({ file: `${f}.qcow2`, format: 'qcow2', size: '16M', ...(backing ? { backing: `${backing}.qcow2`, 'backing-format': 'qcow2' } : {}) });
const x = (execute: string, args: JsonObject = {}): Step => ({ execute, arguments: args });
const qcow = (n: string, backing: string | null | JsonObject, extra: JsonObject = {}): JsonObject =>
  ({ driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: `${n}.qcow2`, 'node-name': `${n}f` }, backing, ...extra });
const chain = [x('blockdev-add', qcow('base', null)), x('blockdev-add', qcow('mid', 'base')), x('blockdev-add', qcow('top', 'mid'))];
const CHAIN_IMAGES = [img('base'), img('mid', 'base'), img('top', 'mid')];
const io = [x('object-add', { 'qom-type': 'iothread', id: 'io0' }), x('object-add', { 'qom-type': 'iothread', id: 'io1' })];
const mv = (n: string, t: string) => x('x-blockdev-set-iothread', { 'node-name': n, iothread: t });
const re = (n: string, o: JsonObject) => ({ driver: 'qcow2', 'node-name': n, file: `${n}f`, ...o });

const S = (name: string, description: string, images: ImageSpec[], steps: Step[]): Scenario => ({ name, description, covers: ['qemu-aborts'], images, steps });
export const ABORT_SCENARIOS: Scenario[] = [
  S('abort-1-empty-reopen', 'crash 1: blockdev-reopen with an empty options list', [], [x('blockdev-reopen', { options: [] })]),
  S('abort-2-reopen-away-from-commit-filter', 'crash 2 (§7.6): a running commit with a named filter; the overlay reopened with its backing moved away from the filter', CHAIN_IMAGES, [
    ...chain,
    x('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'filter-node-name': 'cf', speed: 1, 'auto-finalize': false, 'auto-dismiss': false }),
    x('blockdev-reopen', { options: [re('top', { backing: 'mid' })] }),
  ]),
  S('abort-3-drop-self-file-backing', 'crash 3: mid takes its own file node as backing, then top drops mid as backing', CHAIN_IMAGES, [
    ...chain,
    x('blockdev-reopen', { options: [re('mid', { backing: 'midf' })] }),
    x('blockdev-reopen', { options: [re('top', { backing: null })] }),
  ]),
  S('abort-4-stream-filter-after-finalize', 'crash 4: a stream job finalized but not dismissed; query-named-block-nodes', [img('base'), img('top', 'base')], [
    x('blockdev-add', qcow('base', null)), x('blockdev-add', qcow('top', 'base')),
    x('block-stream', { 'job-id': 's0', device: 'top', 'auto-finalize': false, 'auto-dismiss': false }),
    { wait: { job: 's0', status: 'pending' } },
    x('job-finalize', { id: 's0' }),
    x('query-named-block-nodes'),
  ]),
  S('abort-5-add-backing-ref-in-iothread', 'crash 5: blockdev-add whose backing reference was moved to an iothread', [img('a'), img('c')], [
    ...io, x('blockdev-add', qcow('c', null)), mv('c', 'io0'), x('blockdev-add', qcow('a', 'c')),
  ]),
  S('abort-5-throttle-file-ref-in-iothread', 'crash 5: a throttle filter over a reference moved to an iothread', [img('c')], [
    ...io, x('object-add', { 'qom-type': 'throttle-group', id: 'tg' }), x('blockdev-add', qcow('c', null)), mv('c', 'io0'),
    x('blockdev-add', { driver: 'throttle', 'node-name': 't', 'throttle-group': 'tg', file: 'c' }),
  ]),
  S('abort-8-reopen-backing-from-iothread', 'item 8: a main-loop parent reopened to take a movable backing from io0', [img('a'), img('c')], [
    ...io, x('blockdev-add', qcow('a', null)), x('blockdev-add', qcow('c', null)), mv('c', 'io0'),
    x('blockdev-reopen', { options: [re('a', { backing: 'c' })] }),
  ]),
  S('abort-8-reopen-two-iothreads-one-backing', 'item 8: [a backing c, b backing c] with a in io0 and b in io1', [img('a'), img('b'), img('c')], [
    ...io, x('blockdev-add', qcow('a', null)), x('blockdev-add', qcow('b', null)), x('blockdev-add', qcow('c', null)), mv('a', 'io0'), mv('b', 'io1'),
    x('blockdev-reopen', { options: [re('a', { backing: 'c' }), re('b', { backing: 'c' })] }),
  ]),
  S('abort-8-reopen-drop-inline-file-in-iothread', 'item 8: a parent in io0 swaps its inline file for another node in io0', [img('a'), img('f')], [
    ...io, x('blockdev-add', qcow('a', null)), mv('a', 'io0'), x('blockdev-add', { driver: 'file', 'node-name': 'ff', filename: 'f.qcow2' }), mv('ff', 'io0'),
    x('blockdev-reopen', { options: [re('a', { file: 'ff' })] }),
  ]),
  S('abort-8-add-file-pinned-read-only', 'item 8: blockdev-add read-only over a file node pinned in io0 by a fixed export', [img('c')], [
    ...io, x('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } }),
    x('blockdev-add', { driver: 'file', 'node-name': 'cf', filename: 'c.qcow2' }),
    x('block-export-add', { type: 'nbd', id: 'e', 'node-name': 'cf', iothread: 'io0', 'fixed-iothread': true }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'c', file: 'cf', backing: null, 'read-only': true }),
  ]),
  // issue 12, fuzz run 2026120222 (seeds in docs/fidelity.md "New 7.2 aborts from the fuzzer")
  S('abort-9-finalize-stream-filter-under-cbw', 'fuzz 3412715501: a copy-before-write filter over a stream\'s named filter; job-finalize drops the filter, which still holds the block-copy bitmap', [img('top')], [
    x('blockdev-add', { driver: 'file', 'node-name': 'f9', filename: 'top.qcow2' }),
    x('block-stream', { 'job-id': 'j11', device: 'f9', 'filter-node-name': 's12', 'auto-finalize': false, 'auto-dismiss': true }),
    { wait: { job: 'j11', status: 'pending' } },
    x('blockdev-add', { driver: 'copy-before-write', 'node-name': 'cbw15', file: 's12', target: 's12' }),
    x('job-finalize', { id: 'j11' }),
  ]),
  S('abort-9-finalize-stream-cbw-below-survives', 'boundary of abort-9-finalize-stream-filter-under-cbw: the copy-before-write filter over the stream\'s device, not its filter', [img('top'), img('t1')], [
    x('blockdev-add', { driver: 'file', 'node-name': 'f9', filename: 'top.qcow2' }),
    x('blockdev-add', { driver: 'file', 'node-name': 't1', filename: 't1.qcow2' }),
    x('blockdev-add', { driver: 'copy-before-write', 'node-name': 'cbw15', file: 'f9', target: 't1' }),
    x('block-stream', { 'job-id': 'j11', device: 'f9', 'filter-node-name': 's12', 'auto-finalize': false, 'auto-dismiss': true }),
    { wait: { job: 'j11', status: 'pending' } },
    x('job-finalize', { id: 'j11' }),
    x('query-named-block-nodes'),
  ]),
  S('abort-9-txn-enable-unknown-node', 'fuzz 2879275817: a block-dirty-bitmap-enable action whose lookup fails; its abort disables a NULL bitmap', [], [
    x('transaction', { actions: [{ type: 'block-dirty-bitmap-enable', data: { node: 'nosuch', name: 'b0' } }] }),
  ]),
  S('abort-9-txn-disable-unknown-node-survives', 'boundary of abort-9-txn-enable-unknown-node: the same with block-dirty-bitmap-disable (its abort only re-enables a bitmap that was enabled)', [], [
    x('transaction', { actions: [{ type: 'block-dirty-bitmap-disable', data: { node: 'nosuch', name: 'b0' } }] }),
    x('query-named-block-nodes'),
  ]),
  S('abort-9-reopen-queued-child-undrained', 'fuzz 1321449412: [n2 (backing n4 kept), n4 file f3]: n4\'s inline file was queued under n2, n4 drops it, its drain goes with the link', [img('base'), img('top')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'f3' }, backing: { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'top.qcow2' }, backing: null } }),
    x('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'n2', file: 'f3', backing: 'n4', 'read-only': false }, { driver: 'qcow2', 'node-name': 'n4', backing: null, 'read-only': false, file: 'f3' }] }),
  ]),
  S('abort-9-reopen-queued-child-undrained-reversed-survives', 'boundary of abort-9-reopen-queued-child-undrained: the same two entries, n4 first (its old file is then never queued)', [img('base'), img('top')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'f3' }, backing: { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'top.qcow2' }, backing: null } }),
    x('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'n4', backing: null, 'read-only': false, file: 'f3' }, { driver: 'qcow2', 'node-name': 'n2', file: 'f3', backing: 'n4', 'read-only': false }] }),
  ]),
  S('abort-9-add-qcow2-read-through-stream-filter', 'fuzz 754698230: a stream with nothing to stream (device n2 has no backing) keeps its copy-on-read filter; a qcow2 opened over n0 reads its header through n0\'s backing, the filter', [img('t1'), img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n0', file: { driver: 'file', filename: 't1.qcow2', 'node-name': 'f1' }, backing: { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 't2.qcow2' }, backing: null } }),
    x('block-stream', { 'job-id': 'j4', device: 'n2', speed: 1, 'auto-finalize': false, 'auto-dismiss': true }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n9', file: 'n0', backing: null }),
  ]),
  S('abort-9-add-raw-over-stream-filter-survives', 'boundary of abort-9-add-qcow2-read-through-stream-filter: raw over n0 opens without reading', [img('t1'), img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n0', file: { driver: 'file', filename: 't1.qcow2', 'node-name': 'f1' }, backing: { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 't2.qcow2' }, backing: null } }),
    x('block-stream', { 'job-id': 'j4', device: 'n2', speed: 1, 'auto-finalize': false, 'auto-dismiss': true }),
    x('blockdev-add', { driver: 'raw', 'node-name': 'n9', file: 'n0' }),
  ]),
  S('abort-9-create-qcow2-on-file-in-iothread', 'fuzz 2167532356: blockdev-create qcow2 on a file node moved to io0; qcow2_co_create opens the new image over it from the main loop', [img('a')], [
    x('object-add', { 'qom-type': 'iothread', id: 'io0' }),
    x('blockdev-add', { driver: 'file', 'node-name': 'f2', filename: 'a.qcow2' }),
    mv('f2', 'io0'),
    x('blockdev-create', { 'job-id': 'c4', options: { driver: 'qcow2', file: 'f2', size: 16777216 } }),
    { wait: { job: 'c4', status: 'concluded' } },
  ]),
  // issue 12, the aborts the generator did not avoid yet (wt-abort; docs/fidelity.md)
  S('abort-10-reopen-qcow2-file-then-option-fails', 'fuzz 3103340992: a qcow2 reopen stages a new file (x7), then fails "Cannot change the option"; qcow2_reopen_abort re-syncs data_file to the staged child that tran_abort frees; the close crashes', [img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f2' }, 'force-share': true, 'read-only': true }),
    x('object-add', { 'qom-type': 'throttle-group', id: 'tg0', limits: { 'iops-total': 100, 'iops-total-max': 200 } }),
    x('blockdev-add', { driver: 'throttle', 'node-name': 'x7', 'throttle-group': 'tg0', file: 'f2' }),
    x('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'n1', file: 'x7', 'force-share': true, 'read-only': true }] }),
    x('blockdev-del', { 'node-name': 'n1' }),
  ]),
  S('abort-10-reopen-qcow2-option-fails-file-kept-survives', 'boundary of abort-10-reopen-qcow2-file-then-option-fails: the same option error with the file unchanged (nothing staged)', [img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f2' }, 'force-share': true, 'read-only': true }),
    x('object-add', { 'qom-type': 'throttle-group', id: 'tg0', limits: { 'iops-total': 100, 'iops-total-max': 200 } }),
    x('blockdev-add', { driver: 'throttle', 'node-name': 'x7', 'throttle-group': 'tg0', file: 'f2' }),
    x('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'n1', file: 'f2', 'force-share': true, 'read-only': true }] }),
    x('blockdev-del', { 'node-name': 'n1' }),
  ]),
  S('abort-10-reopen-qcow2-file-later-entry-fails-survives', 'boundary of abort-10-reopen-qcow2-file-then-option-fails: n1 stages the new file and prepares; the next entry fails (tran_abort runs before qcow2_reopen_abort then)', [img('t2'), img('a')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f2' }, 'read-only': true }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'f3' }, 'force-share': true, 'read-only': true }),
    x('object-add', { 'qom-type': 'throttle-group', id: 'tg0', limits: { 'iops-total': 100, 'iops-total-max': 200 } }),
    x('blockdev-add', { driver: 'throttle', 'node-name': 'x7', 'throttle-group': 'tg0', file: 'f2' }),
    x('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'n1', file: 'x7', 'read-only': true }, { driver: 'qcow2', 'node-name': 'n2', file: 'f3', 'force-share': true, 'read-only': true }] }),
    x('blockdev-del', { 'node-name': 'n1' }),
  ]),
  S('abort-10-txn-snapshot-abort-perm-conflict', 'fuzz 1939925021: blockdev-snapshot of f0 with overlay n1 (f0 is under n1: n1 -> blkdebug -> f0; sl4 over n1), then a failing action; external_snapshot_abort moves sl4 onto f0 with bdrv_replace_node(&error_abort): permission conflict', [img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'blkdebug', image: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f0' } }, backing: null }),
    x('blockdev-add', { driver: 'raw', 'node-name': 'sl4', file: 'n1', offset: 0, size: 196608 }),
    x('transaction', { actions: [{ type: 'blockdev-snapshot', data: { node: 'f0', overlay: 'n1' } }, { type: 'block-dirty-bitmap-remove', data: { node: 'sl9', name: 'b0' } }] }),
  ]),
  S('abort-10-txn-snapshot-abort-no-conflict-survives', 'boundary of abort-10-txn-snapshot-abort-perm-conflict: the overlay has no parent of its own (no sl4); the abort moves only what the append moved', [img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'blkdebug', image: { driver: 'file', filename: 't2.qcow2', 'node-name': 'f0' } }, backing: null }),
    x('transaction', { actions: [{ type: 'blockdev-snapshot', data: { node: 'f0', overlay: 'n1' } }, { type: 'block-dirty-bitmap-remove', data: { node: 'sl9', name: 'b0' } }] }),
    x('blockdev-add', { driver: 'raw', 'node-name': 'sl4', file: 'n1', offset: 0, size: 196608 }),
  ]),
  S('abort-10-txn-snapshot-abort-read-only', 'fuzz 3299987652: overlay n3 is a running mirror\'s target; snapshot of read-only n6 onto it, then a failing snapshot-sync; external_snapshot_abort moves the mirror\'s writer onto read-only n6 (&error_abort)', [img('t1'), img('t2'), img('mid')], [
    x('blockdev-add', { driver: 'copy-on-read', 'node-name': 'x1', file: { driver: 'qcow2', file: { driver: 'file', filename: 't1.qcow2' } } }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n3', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null }),
    x('blockdev-add', { driver: 'null-co', 'node-name': 'n6', 'read-zeroes': true, 'read-only': true }),
    x('blockdev-mirror', { 'job-id': 'j7', device: 'x1', target: 'n3', sync: 'full', speed: 1, 'auto-finalize': false, 'auto-dismiss': false }),
    x('transaction', { actions: [{ type: 'blockdev-snapshot', data: { node: 'n6', overlay: 'n3' } }, { type: 'blockdev-snapshot-sync', data: { 'node-name': 'n3', 'snapshot-node-name': 'n12', 'snapshot-file': 't2.qcow2', mode: 'existing' } }] }),
  ]),
  // wt-iotc (iotests 281 port): an NBD client deleted while its export runs in an iothread kills
  // the serving 7.2 daemon just after the client's blockdev-del returns (nbd_blockdev_client_closed:
  // Assertion `qemu_in_main_thread() && nbd_server' failed), asynchronously: B's next command may
  // still be answered (a block-export-del first closes the client from the main loop and saves it)
  S('abort-31-nbd-client-del-iothread-export', 'rule nbd-client-close-in-iothread-aborts: daemon B exports a null-co node with iothread io0; daemon A connects an nbd node to it and deletes it', [], [
    { proc: 'B', ...x('object-add', { 'qom-type': 'iothread', id: 'io0' }) },
    { proc: 'B', ...x('blockdev-add', { driver: 'null-co', 'node-name': 'd', 'read-zeroes': true }) },
    { proc: 'B', ...x('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-B.sock' } } }) },
    { proc: 'B', ...x('block-export-add', { type: 'nbd', id: 'exp', 'node-name': 'd', writable: true, iothread: 'io0' }) },
    { proc: 'A', ...x('blockdev-add', { driver: 'nbd', 'node-name': 'c', server: { type: 'unix', path: 'nbd-B.sock' }, export: 'd' }) },
    { proc: 'A', ...x('blockdev-del', { 'node-name': 'c' }) },
    { proc: 'A', ...x('query-named-block-nodes') },
    { proc: 'B', ...x('query-block-exports') },
  ]),
  S('abort-31-nbd-client-del-main-export-survives', 'boundary of abort-31-nbd-client-del-iothread-export: the same export without an iothread (the iothread exists): the client\'s close is seen in the main loop', [], [
    { proc: 'B', ...x('object-add', { 'qom-type': 'iothread', id: 'io0' }) },
    { proc: 'B', ...x('blockdev-add', { driver: 'null-co', 'node-name': 'd', 'read-zeroes': true }) },
    { proc: 'B', ...x('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-B.sock' } } }) },
    { proc: 'B', ...x('block-export-add', { type: 'nbd', id: 'exp', 'node-name': 'd', writable: true }) },
    { proc: 'A', ...x('blockdev-add', { driver: 'nbd', 'node-name': 'c', server: { type: 'unix', path: 'nbd-B.sock' }, export: 'd' }) },
    { proc: 'A', ...x('blockdev-del', { 'node-name': 'c' }) },
    { proc: 'A', ...x('query-named-block-nodes') },
    { proc: 'B', ...x('query-block-exports') },
  ]),
  S('abort-10-backup-fails-target-left-in-iothread', 'fuzz 3325169334: blockdev-backup from n3 (io1) to read-only n4 moves n4 into io1 and fails; nothing moves it back, and blkdebug over n4 moves it out without io1\'s lock (crash 5)', [img('top'), img('mid')], [
    x('object-add', { 'qom-type': 'iothread', id: 'io1' }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n3', file: { driver: 'file', filename: 'top.qcow2' }, backing: null }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null, 'read-only': true }),
    mv('n3', 'io1'),
    x('blockdev-backup', { 'job-id': 'b12', device: 'n3', target: 'n4', sync: 'none', 'auto-finalize': false, 'auto-dismiss': true }),
    x('blockdev-add', { driver: 'blkdebug', 'node-name': 'x14', image: 'n4' }),
  ]),
  S('abort-10-backup-fails-target-main-loop-survives', 'boundary of abort-10-backup-fails-target-left-in-iothread: the same failing backup with n3 in the main loop (the target does not move)', [img('top'), img('mid')], [
    x('object-add', { 'qom-type': 'iothread', id: 'io1' }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n3', file: { driver: 'file', filename: 'top.qcow2' }, backing: null }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null, 'read-only': true }),
    x('blockdev-backup', { 'job-id': 'b12', device: 'n3', target: 'n4', sync: 'none', 'auto-finalize': false, 'auto-dismiss': true }),
    x('blockdev-add', { driver: 'blkdebug', 'node-name': 'x14', image: 'n4' }),
  ]),
  S('abort-10-stream-node-leaves-iothread-survives', 'fuzz 3090920988, boundary of crash 5: n8 was moved to io1, then block-stream on it; bdrv_insert_node opened the filter in the main loop and attached n8, which moved there (7.2): references to it no longer abort', [img('base'), img('top')], [
    x('object-add', { 'qom-type': 'iothread', id: 'io1' }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'base.qcow2' }, backing: null }),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'f9' }, backing: null, 'read-only': true }),
    mv('n8', 'io1'),
    x('block-stream', { 'job-id': 'j10', device: 'n8', speed: 1, 'auto-finalize': false, 'auto-dismiss': true }),
    { wait: { job: 'j10', status: 'pending' } },
    x('blockdev-add', { driver: 'raw', 'node-name': 'r5', file: 'n8' }),
    x('blockdev-add', { driver: 'copy-before-write', 'node-name': 'cbw12', file: 'n2', target: 'n8' }),
  ]),
  S('abort-10-add-cbw-target-in-iothread', 'fuzz 1972411501: copy-before-write whose target n2 was moved to io0 (bdrv_open_child attaches it like file: crash 5)', [img('base'), img('t2')], [
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'base.qcow2' } }),
    x('object-add', { 'qom-type': 'iothread', id: 'io0' }),
    mv('n2', 'io0'),
    x('blockdev-add', { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 't2.qcow2' } }),
    x('blockdev-add', { driver: 'copy-before-write', 'node-name': 'cbw9', file: 'n8', target: 'n2' }),
  ]),
];

// The later finds (abort-10 on: fuzz seeds, wt-* helpers) live only as scenario files: probed
// as they are, never rewritten by --write (their transcripts were recorded with `qmp record`, some
// into fuzz-found/7.2-only-*; a hang shows as the harness's no-reply timeout)
const listed = new Set(ABORT_SCENARIOS.map((x) => x.name));
const loaded = new Set<string>();
for (const f of readdirSync('oracle/scenarios/qemu-aborts').filter((x) => x.endsWith('.json')).sort()) {
  const sc = JSON.parse(readFileSync(join('oracle/scenarios/qemu-aborts', f), 'utf8')) as Scenario;
  if (listed.has(sc.name)) continue;
  ABORT_SCENARIOS.push(sc);
  loaded.add(sc.name);
}

const write = process.argv.includes('--write');
if (write) {
  mkdirSync('oracle/scenarios/qemu-aborts', { recursive: true });
  mkdirSync('oracle/transcripts/qemu-10.0/aborts', { recursive: true });
}
const qAt = process.argv.indexOf('--qemu');
const only = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--qemu');
const exact = process.argv.includes('--exact');
const versions = (qAt >= 0 ? [process.argv[qAt + 1]] : ['7.2', '10.0']) as ('7.2' | '10.0')[];
for (const s of ABORT_SCENARIOS.filter((x) => !only || (exact ? x.name === only : x.name.includes(only)))) {
  const writeIt = write && !loaded.has(s.name);
  if (writeIt) writeFileSync(`oracle/scenarios/qemu-aborts/${s.name}.json`, printJson(s));
  const cells: string[] = [];
  for (const v of versions) {
    const bins = requireQemuBinaries(v);
    const root = recordingRoot(s);
    const dir = makeOwnedDirSync(root, 'bg-aborts');
    try {
      await createImagesWithQemuImg(s, dir, bins);
      const t = await runScenario(onHostOf(s, root), (proc) => spawnQsd(dir, { label: proc, bin: bins.qsd }), { dir, waitTimeoutMs: 10_000 });
      const last = t.steps[t.steps.length - 1]!;
      cells.push(`${v}: survives (last step ${'result' in last ? (last.result.ok ? 'ok' : last.result.desc) : 'wait'})`);
      // a boundary (`-survives`: the nearest form that does not abort) is an ordinary transcript
      // on both versions, scored by conformance; a 7.2 abort that 10.0 survives goes to aborts/
      if (writeIt && s.name.endsWith('-survives')) {
        writeFileSync(`oracle/transcripts/${v === '10.0' ? 'qemu-10.0/' : ''}${s.name}.json`, printTranscript(t));
      } else if (writeIt && v === '10.0') writeFileSync(`oracle/transcripts/qemu-10.0/aborts/${s.name}.json`, printTranscript(t));
    } catch (e) {
      cells.push(`${v}: DIES (${(e as Error).message.split(dir).join('.').replace(/\s+/g, ' ').slice(0, 160)})`);
    } finally {
      removeOwnedSync(dir);
    }
  }
  console.log(`${s.name}\n  ${cells.join('\n  ')}`);
}
process.exit(0); // a dead daemon's pipes must not keep the probe alive
