// fuzz 2659328845 (10.0): a transaction [blockdev-snapshot-sync over n4, blockdev-snapshot of n4
// over its own file f5] leaves f5 both file and backing of n4; the snapshot's commit reopens n4
// read-only and queues f5 twice (rule reopen-queue-drains-per-call): f5 stays drained, so a
// blockdev-create through it would hang QEMU 10.0. The model refuses it; the generator, which
// sees no blockdev-reopen there, must not send it (oracle/fuzz/aborts.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario, type Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, World } from '../../oracle/fuzz/index.js';

const create = (file: string): Step => ({ execute: 'blockdev-create', arguments: { 'job-id': 'c1', options: { driver: 'qcow2', file, size: 16777216 } } } as Step);
const scenario: Scenario = {
  format: 'blockgraph-oracle/1', name: 'internal-reopen-drain', description: 'x', covers: ['fuzz'],
  images: [{ file: 'base.qcow2', format: 'qcow2', size: '16M' }, { file: 't1.qcow2', format: 'qcow2', size: '16M' }, { file: 't2.qcow2', format: 'qcow2', size: '16M' }],
  steps: [
    { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n4', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'f5' } } },
    { execute: 'transaction', arguments: { actions: [
      { type: 'blockdev-snapshot-sync', data: { 'node-name': 'n4', 'snapshot-node-name': 'n6', 'snapshot-file': 't1.qcow2', mode: 'existing' } },
      { type: 'blockdev-snapshot', data: { node: 'f5', overlay: 'n4' } }] } },
    { execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f9', filename: 't2.qcow2' } },
  ] as Step[],
} as Scenario;

test('10.0: a blockdev-create through a node an internal reopen queued twice is never generated', async () => {
  // the model answers it as QEMU 10.0 does (probed live, wt-fz10): the create's BlockBackend
  // conflicts with n4's file link (blk_co_new_with_bs), so the job aborts before its writes could
  // wait on the drained f5 (transcript fuzz-create-through-twice-linked-file-perm-fails); the
  // refusal is for a create whose BlockBackend is made (specs/oracle/fuzz-reopen-twice-subtree)
  const t = await runOnModel({ ...scenario, steps: [...scenario.steps, create('f5')] }, undefined, { qemuVersion: '10.0' });
  const last = t.steps[t.steps.length - 1]!;
  assert.ok(!isWaitStep(last) && last.result.ok);
  assert.equal(last.events.map((e) => e.data?.status), ['created', 'running', 'aborting', 'concluded']);
  const before = await runOnModel(scenario, undefined, { qemuVersion: '10.0' });
  const w = new World();
  for (const [i, out] of before.steps.entries()) w.observe(scenario.steps[i]!, out);
  assert.match(knownAbort(create('f5'), w.proc('A')) ?? '', /^QEMU 10\.0 hang: blockdev-create over 'f5', above 'f5', linked twice from one parent/);
  // a node linked once is still sent
  assert.is(knownAbort(create('f9'), w.proc('A')), undefined);
});

test.run();
