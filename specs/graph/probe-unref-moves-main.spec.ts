// bdrv_open_inherit's probing BlockBackend on the `file` child: while the open runs it pins the
// file node in its iothread (blk_root_change_aio_ctx refuses an unnamed BlockBackend), so the node
// being opened moves in; its blk_unref then ends in bdrv_root_unref_child, whose
// bdrv_try_change_aio_context(child_bs, qemu_get_aio_context()) (errors ignored) takes the file
// node and its component, the new node included, back to the main loop when nothing else pins it
// there. Probed on QSD 10.0.2 (stop 44): a backup of a raw node added over a file node that
// x-blockdev-set-iothread had put in io0 runs (its filter's bdrv_insert_node finds the source in
// the main loop); moved back into io0 after the add, the same backup dies in bdrv_insert_node.
// Recorded in combo-c15-b3-cbw-iothread-backup-chain (10.0), a failed add's probe doing the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Scenario, Step } from '../../oracle/format.js';
import { isWaitStep } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';

const steps = (moveBack: boolean): Step[] => [
  { proc: 'A', execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io0' } },
  { proc: 'A', execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 't', file: { driver: 'file', 'node-name': 't-f', filename: 't.img' } } },
  { proc: 'A', execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f', filename: 'r.img' } },
  { proc: 'A', execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'f', iothread: 'io0' } },
  { proc: 'A', execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'r', file: 'f' } },
  ...(moveBack ? [{ proc: 'A', execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'r', iothread: 'io0' } }] : []),
  { proc: 'A', execute: 'blockdev-backup', arguments: { 'job-id': 'b', device: 'r', target: 't', sync: 'full' } },
];
const scenario = (moveBack: boolean): Scenario => ({
  name: 'probe-unref-moves-main', description: 'spec', covers: ['aio'],
  images: [{ file: 't.img', format: 'raw', size: '1M' }, { file: 'r.img', format: 'raw', size: '1M' }],
  steps: steps(moveBack),
});
const last = async (moveBack: boolean, v: '7.2' | '10.0') => {
  const t = await runOnModel(scenario(moveBack), undefined, { qemuVersion: v });
  const s = t.steps.at(-1)!;
  assert.ok(!isWaitStep(s));
  return isWaitStep(s) ? undefined : s.result;
};

test('10.0: the probe\'s blk_unref took the raw node and its file back to the main loop: the backup runs', async () => {
  const r = await last(false, '10.0');
  assert.ok(r?.ok, JSON.stringify(r));
});

test('10.0: moved back into io0 after the add, the backup is refused as the bdrv_insert_node abort', async () => {
  const r = await last(true, '10.0');
  assert.ok(r && !r.ok);
  if (r && !r.ok) assert.match(r.desc, /QEMU 10\.0 aborts here: bdrv_insert_node/);
});

test.run();
