// fuzz 1141551519 (stop 30, wt-fz10): a speed-limited sync full drive-backup of a 1000-byte
// null-aio node is copied in one block-copy task and ends once that task's I/O is done, with no
// rate-limit sleep: live, whether it is still running at the next commands is a race (a 1 MiB
// null-co source was still running two commands later in one recording of two). The model leaves
// such a job running until a `wait` (graph/jobs/backup.ts backupFinishAfterStart finishes only a
// job with nothing to copy); the generator gives such a source no speed, so a `wait` follows it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Scenario, Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { FUZZ_IMAGES, Generator, Rng, World } from '../../oracle/fuzz/index.js';
import { driveBackupArgs } from '../../oracle/fuzz/families/iot-commands.js';

const add = (a: Record<string, unknown>): Step => ({ execute: 'blockdev-add', arguments: a } as Step);
const steps: Step[] = [
  add({ driver: 'null-aio', 'node-name': 'n5', 'read-zeroes': true, size: 1000 }),
  add({ driver: 'null-co', 'node-name': 'n6' }),
  add({ driver: 'qcow2', 'node-name': 'n7', file: { driver: 'file', filename: 't1.qcow2', 'node-name': 'f7' } }),
  add({ driver: 'file', 'node-name': 'f8', filename: 'base.qcow2' }),
  add({ driver: 'copy-on-read', 'node-name': 'x9', file: 'n5' }),
  add({ driver: 'raw', 'node-name': 'sl10', file: 'f8', offset: 0, size: 65536 }),
  add({ driver: 'file', 'node-name': 'f11', filename: 't2.qcow2' }),
  { execute: 'blockdev-create', arguments: { 'job-id': 'c1', options: { driver: 'qcow2', file: 'f11', size: 1048576 } } } as Step,
  { wait: { job: 'c1', status: 'concluded' } } as Step,
  { execute: 'job-dismiss', arguments: { id: 'c1' } } as Step,
  add({ driver: 'qcow2', 'node-name': 'n12', file: 'f11' }),
];
const scenario = { format: 'blockgraph-oracle/1', name: 'one-task', description: 'x', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), steps } as Scenario;

async function view() {
  const t = await runOnModel(scenario);
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  return w.proc('A');
}

test('the view: which sources a backup may copy in one task', async () => {
  const p = await view();
  const one = (n: string) => p.mayCopyInOneTask(n);
  // 1000 bytes, through a filter too; a 64 KiB raw window; the file of an empty qcow2 image
  assert.ok(one('n5')); assert.ok(one('x9')); assert.ok(one('sl10')); assert.ok(one('f7'));
  // a 1 MiB qcow2 blockdev-create wrote, and its file
  assert.ok(one('n12')); assert.ok(one('f11'));
  // 1 GiB null-co, a 16 MiB qcow2, the file of base.qcow2 (16 MiB of data)
  assert.not.ok(one('n6')); assert.not.ok(one('n7')); assert.not.ok(one('f8'));
});

test('the generator: no speed for a copy of such a source, so a wait follows it', async () => {
  const p = await view();
  let limited = 0;
  for (let seed = 1; seed < 4000; seed++) {
    const g = new Generator(new Rng(seed), new World());
    const a = driveBackupArgs(g, p);
    if (typeof a.speed !== 'number' || a.speed <= 0 || (a.sync !== 'full' && a.sync !== 'top')) continue;
    limited++;
    assert.not.ok(p.mayCopyInOneTask(String(a.device)), `seed ${seed}: ${JSON.stringify(a)}`);
  }
  assert.ok(limited > 10);
});

test.run();
