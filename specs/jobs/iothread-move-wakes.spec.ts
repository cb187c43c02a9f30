// Found by fuzzing (case 501669465): x-blockdev-set-iothread drains every node of the component
// it moves (bdrv_change_aio_context -> bdrv_drained_begin, ended by bdrv_set_aio_context_clean),
// so a speed-limited active commit sleeping after its first run is resumed
// (child_job_drained_end -> job_resume), finds its bitmap clean and goes ready. A move of a
// node outside the job's graph does not wake it. Recorded on 7.2 and 10.0:
// oracle/transcripts/fuzz-iothread-move-wakes-mirror.json (there a `wait` for ready covers the
// lag of QEMU's mirror_flush; here no wait step may advance the job).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBackend } from '../../commands/model-host.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

async function setup() {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  const status = () => (m.state.A!.jobs as Record<string, { status: string }>).j4!.status;
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2', data: [{ offset: 0, length: 8388608 }] });
  await ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '16M' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'mid.qcow2' } });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'other', file: { driver: 'file', filename: 'a.qcow2' } });
  await ok('block-commit', { 'job-id': 'j4', device: 'n2', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  await ok('blockdev-add', { driver: 'blkdebug', 'node-name': 'x5', image: 'n2', align: 512 });
  return { m, ok, status };
}

test('moving a node outside the job leaves a sleeping active commit asleep', async () => {
  const { ok, status } = await setup();
  assert.is(status(), 'running');
  await ok('x-blockdev-set-iothread', { 'node-name': 'other', iothread: 'io0' });
  assert.is(status(), 'running');
});

test("moving the job's component wakes it: its bitmap is clean, it goes ready", async () => {
  const { ok, status } = await setup();
  await ok('x-blockdev-set-iothread', { 'node-name': 'x5', iothread: 'io0' });
  assert.is(status(), 'ready');
  await ok('job-complete', { id: 'j4' });
});

// 10.0's recording of the same scenario never gets ready (graph/rules.ts 'aio-move-drain-wakes-jobs')
test('under 10.0 rules the move wakes nothing: job-complete right after it is refused', async () => {
  const name = 'fuzz-found/7.2-only-fuzz-iothread-move-wakes-mirror.json';
  const sc = scenarioOf(parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name));
  // up to the move of x5, then job-complete without the wait
  const steps = [...sc.steps.slice(0, 9), sc.steps[10]!];
  assert.equal(steps[9], { proc: 'A', execute: 'job-complete', arguments: { id: 'j4' } });
  const t10 = await runOnModel({ ...sc, steps }, undefined, { qemuVersion: '10.0' });
  assert.is((t10.steps[9] as { result: { ok: boolean } }).result.ok, false);
  const t72 = await runOnModel({ ...sc, steps });
  assert.is((t72.steps[9] as { result: { ok: boolean } }).result.ok, true);
});

test.run();
