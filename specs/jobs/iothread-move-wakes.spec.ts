// Found by fuzzing (case 501669465): x-blockdev-set-iothread drains every node of the component
// it moves (bdrv_change_aio_context -> bdrv_drained_begin, ended by bdrv_set_aio_context_clean),
// so a speed-limited active commit sleeping after its first run is resumed
// (child_job_drained_end -> job_resume), finds its bitmap clean and goes ready. A move of a
// node outside the job's graph does not wake it. Recorded on 7.2 and 10.0:
// oracle/transcripts/fuzz-iothread-move-wakes-mirror.json (there a `wait` for ready covers the
// lag of QEMU's mirror_flush; here no wait step may advance the job).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

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

test.run();
