// fuzz --qemu 10.0 497471072 (stop 39 run b, triaged in stop 40, wt-fz20): a ready mirror whose
// nodes an NBD export with `iothread` moved into io0 is paused by a drain (standby) and resumed by
// io0 when io0 runs it (drained_end -> job_resume -> aio_co_enter from the main thread only
// schedules the coroutine there), so a job-finalize right after a draining command was refused
// "in state 'standby'" once and "'ready'" in four re-recordings. The generator sends no verb that
// QEMU refuses in both states of such a pair to a job in an iothread (ProcView.statusRaces,
// oracle/fuzz/aborts.ts); a main-loop job is resumed at once (no race) and keeps every verb.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Scenario, Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { FUZZ_IMAGES, World } from '../../oracle/fuzz/index.js';
import { knownAbort } from '../../oracle/fuzz/aborts.js';

const st = (execute: string, args: Record<string, unknown>): Step => ({ execute, arguments: args } as Step);
const mirrorSteps = (exported: boolean): Step[] => [
  st('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-A.sock' } } }),
  st('object-add', { 'qom-type': 'iothread', id: 'io0' }),
  st('blockdev-add', { driver: 'null-co', 'node-name': 'n7', size: 16777216, 'read-zeroes': true }),
  st('blockdev-add', { driver: 'null-aio', 'node-name': 'n8', size: 16777216, 'read-zeroes': true }),
  st('blockdev-mirror', { 'job-id': 'j6', device: 'n7', target: 'n8', sync: 'full', 'auto-finalize': false, 'auto-dismiss': false, 'filter-node-name': 's9' }),
  { wait: { job: 'j6', status: 'ready' } } as Step,
  ...(exported ? [st('block-export-add', { type: 'nbd', id: 'e11', 'node-name': 'n7', iothread: 'io0', writable: true })] : []),
];

async function view(steps: Step[]) {
  const scenario = { format: 'blockgraph-oracle/1', name: 'race', description: 'x', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), steps } as Scenario;
  const t = await runOnModel(scenario, new MemoryBackend(), { qemuVersion: '10.0' });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  return w.proc('A');
}

test('a ready job in an iothread: the verbs refused in ready and standby alike are not sent', async () => {
  const p = await view(mirrorSteps(true));
  assert.is(p.jobs.get('j6')?.status, 'ready');
  assert.ok(p.statusRaces('j6'));
  for (const [execute, args] of [['job-finalize', { id: 'j6' }], ['job-dismiss', { id: 'j6' }], ['block-job-finalize', { id: 'j6' }], ['block-job-dismiss', { id: 'j6' }]] as const) {
    assert.match(knownAbort(st(execute, args), p) ?? '', /^fuzz --qemu 10\.0 497471072: /, execute);
  }
  // accepted in ready and standby alike: still sent
  for (const [execute, args] of [['job-complete', { id: 'j6' }], ['block-job-complete', { device: 'j6' }], ['job-pause', { id: 'j6' }], ['job-cancel', { id: 'j6' }]] as const) {
    assert.is(knownAbort(st(execute, args), p), undefined, execute);
  }
});

test('the same job in the main loop keeps every verb', async () => {
  const p = await view(mirrorSteps(false));
  assert.is(p.jobs.get('j6')?.status, 'ready');
  assert.not.ok(p.statusRaces('j6'));
  assert.is(knownAbort(st('job-finalize', { id: 'j6' }), p), undefined);
});

test.run();
