// fuzz 1736587111 (10.0, wt-fz10): a node listed twice in a blockdev-reopen is queued twice with
// its implicit children (bdrv_reopen_queue_child recurses into the children it created, one given
// by its own name included), so 10.0 leaves them drained too (rule reopen-queue-drains-per-call).
// The generator counts the whole subtree: it sends no blockdev-create through such a child, whose
// writes could wait for ever (oracle/fuzz/aborts.ts). The model refuses that hang only once the
// create's BlockBackend exists (blk_co_new_with_bs: a permission conflict fails the job first,
// transcript fuzz-create-perm-fails-before-drained-write).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Scenario, Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, World } from '../../oracle/fuzz/index.js';

const steps = [
  { execute: 'blockdev-add', arguments: { driver: 'throttle', 'node-name': 'x1', 'throttle-group': 'tg0', file: { driver: 'file', filename: 't1.qcow2', 'node-name': 'f0' } } },
  { execute: 'blockdev-reopen', arguments: { options: [
    { driver: 'throttle', 'node-name': 'x1', 'throttle-group': 'tg0', file: 'f0' },
    { driver: 'throttle', 'node-name': 'x1', 'throttle-group': 'tg0', file: 'f0' }] } },
] as Step[];
const scenario = {
  format: 'blockgraph-oracle/1', name: 'reopen-twice-subtree', description: 'x', covers: ['fuzz'],
  images: [{ file: 't1.qcow2', format: 'qcow2', size: '16M' }],
  steps: [{ execute: 'object-add', arguments: { 'qom-type': 'throttle-group', id: 'tg0', limits: {} } } as Step, ...steps],
} as Scenario;
const create = (file: string): Step => ({ execute: 'blockdev-create', arguments: { 'job-id': 'c1', options: { driver: 'qcow2', file, size: 1048576 } } } as Step);

test('10.0: the implicit child of a node listed twice counts as left drained', async () => {
  const t = await runOnModel(scenario, undefined, { qemuVersion: '10.0' });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(scenario.steps[i]!, out);
  assert.match(knownAbort(create('f0'), w.proc('A')) ?? '', /^QEMU 10\.0 hang: blockdev-create over 'f0', above 'f0' which a blockdev-reopen queued twice/);
  // and the model refuses it there (a throttle filter shares write and resize: the BlockBackend is made)
  const m = await runOnModel({ ...scenario, steps: [...scenario.steps, create('f0')] }, undefined, { qemuVersion: '10.0' });
  const last = m.steps[m.steps.length - 1]!;
  assert.ok('result' in last && !last.result.ok && /^Node 'f0' was left drained/.test(last.result.desc));
});

test.run();
