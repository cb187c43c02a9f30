// fuzz --against vm --qemu 10.0 448134515 (stop 40, wt-fz20): QEMU 10.0's bdrv_reopen_queue_child
// drains a node each time it is queued and bdrv_reopen_queue_free ends one section per entry, so a
// node listed in a blockdev-reopen and also reached by another listed entry's recursion stays
// drained (rule 'reopen-queue-drains-per-call'), in either order of the list. The fuzzer's view
// marked only a node listed after the entry above it; [q8, x9 (quorum over q8)] went unmarked,
// and a scsi-hd on x9 then hung QEMU in realize (blkconf_geometry through the quiesced
// BlockBackend; the model refused it). The view now marks both orders, and the generator sends
// no such device_add.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Scenario, Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { FUZZ_IMAGES, World } from '../../oracle/fuzz/index.js';
import { knownAbort } from '../../oracle/fuzz/aborts.js';

const st = (execute: string, args: Record<string, unknown>): Step => ({ execute, arguments: args } as Step);
const quorum = st('blockdev-add', { driver: 'quorum', 'node-name': 'x9', children: [{ driver: 'null-co', 'read-zeroes': true, 'node-name': 'q8' }], 'vote-threshold': 1 });
const q8 = { driver: 'null-co', 'read-zeroes': true, 'node-name': 'q8' };
const x9 = { driver: 'quorum', 'node-name': 'x9', children: [q8], 'vote-threshold': 1, 'read-only': true };

async function view(steps: Step[]) {
  const scenario = { format: 'blockgraph-oracle/1', name: 'order', description: 'x', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), steps } as Scenario;
  const t = await runOnModel(scenario, new MemoryBackend(), { qemuVersion: '10.0' });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  return w.proc('A');
}

for (const [label, options] of [['child listed first', [q8, x9]], ['child listed after', [x9, q8]]] as const) {
  test(`a reopen queueing q8 twice, ${label}: the view marks it drained, a disk on x9 is not sent`, async () => {
    const p = await view([quorum, st('blockdev-reopen', { options })]);
    assert.ok(p.reopenDrained.has('q8'));
    assert.match(knownAbort(st('device_add', { driver: 'scsi-hd', id: 'sd4', bus: 'scsi1.0', drive: 'x9' }), p) ?? '', /^fuzz 314375822: /);
  });
}

test('q8 reopened alone is queued once: nothing is marked', async () => {
  const p = await view([quorum, st('blockdev-reopen', { options: [q8] })]);
  assert.not.ok(p.reopenDrained.has('q8'));
  assert.is(knownAbort(st('device_add', { driver: 'scsi-hd', id: 'sd4', bus: 'scsi1.0', drive: 'x9' }), p), undefined);
});

test.run();
