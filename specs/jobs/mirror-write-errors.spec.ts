// Found by fuzzing (case seeds 3822441365, 1088877639): a speed-limited mirror or active commit
// whose writes into the target fail (graph/jobs/target-write.ts) issues its first run, sleeps
// for the rate limit (mirror_iteration returns the delay) and only sees s->ret when it is woken:
// on 7.2 the end of a drain (qmp_transaction's bdrv_drain_all) or block-job-set-speed's kick
// fails it with the errno (mirror_run: if (s->ret < 0) goto immediate_exit). The live copies
// complete in the thread pool, so their BLOCK_JOB_ERROR events race the replies: only the
// null-co form is a transcript (fuzz-mirror-write-error-wakes-failed); the rest is here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

async function session(version?: '10.0') {
  const m = new MemoryBackend();
  const run = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    return 'error' in r.reply ? (r.reply as { error: { desc: string } }).error.desc : null;
  };
  const ok = async (c: string, a: Record<string, unknown>) => assert.is(await run(c, a), null, c);
  if (version) await ok('x-blockgraph-process-start', { qemu: version });
  const job = (id: string) => (m.state.A!.jobs as Record<string, { status: string; error?: string }>)[id];
  await ok('x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '16M', data: [{ offset: 0, length: 8388608 }] });
  await ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '16M', data: [{ offset: 0, length: 16777216 }] });
  await ok('x-blockgraph-image-create', { file: 'e.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'r.raw', format: 'raw', size: '16M' });
  return { m, run, ok, job };
}

test('active commit into a snapshot-access base: asleep after its first run, failed by the next drain', async () => {
  const { ok, job } = await session();
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n1', file: { driver: 'file', filename: 'mid.qcow2' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n2', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'f3' }, backing: null });
  await ok('blockdev-add', { driver: 'snapshot-access', 'node-name': 'acc4', file: 'f3' });
  await ok('blockdev-snapshot', { node: 'acc4', overlay: 'n1' });
  await ok('block-commit', { 'job-id': 'j', device: 'n1', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(job('j')!.status, 'running');
  await ok('transaction', { actions: [] });
  assert.is(job('j')!.status, 'concluded');
});

test('a mirror into a compress filter over an allocated qcow2 image fails with EIO when woken', async () => {
  const { ok, job } = await session();
  await ok('blockdev-add', { driver: 'compress', 'node-name': 'x1', file: { driver: 'qcow2', file: { driver: 'file', filename: 'a.qcow2' } } });
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'n4', file: { driver: 'file', filename: 'r.raw' }, 'read-only': true });
  await ok('blockdev-mirror', { 'job-id': 'j', device: 'n4', target: 'x1', sync: 'full', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(job('j')!.status, 'running');
  await ok('block-job-set-speed', { device: 'j', speed: 2 });
  assert.is(job('j')!.status, 'concluded');
});

test('compressed writes into an empty qcow2 image succeed: the woken mirror finds its bitmap clean', async () => {
  const { ok, job } = await session();
  await ok('blockdev-add', { driver: 'compress', 'node-name': 'x1', file: { driver: 'qcow2', file: { driver: 'file', filename: 'e.qcow2' } } });
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'n4', file: { driver: 'file', filename: 'r.raw' }, 'read-only': true });
  await ok('blockdev-mirror', { 'job-id': 'j', device: 'n4', target: 'x1', sync: 'full', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  await ok('block-job-set-speed', { device: 'j', speed: 2 });
  assert.is(job('j')!.status, 'ready');
});

test('on-target-error ignore: the failed writes do not end the job', async () => {
  const { ok, job } = await session();
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 'z0', size: 16777216, 'read-zeroes': true });
  await ok('blockdev-add', { driver: 'file', 'node-name': 'f1', filename: 'r.raw' });
  await ok('blockdev-add', { driver: 'snapshot-access', 'node-name': 'acc2', file: 'f1' });
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'n3', file: 'acc2' });
  await ok('blockdev-mirror', { 'job-id': 'j', device: 'z0', target: 'n3', sync: 'full', speed: 1, 'on-target-error': 'ignore', 'auto-finalize': false, 'auto-dismiss': false });
  await ok('block-job-set-speed', { device: 'j', speed: 2 });
  assert.is.not(job('j')!.status, 'concluded');
});

test('10.0: the kick does not end block_job_ratelimit_sleep, the job stays running', async () => {
  const { ok, job } = await session('10.0');
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 'z0', size: 16777216, 'read-zeroes': true });
  await ok('blockdev-add', { driver: 'file', 'node-name': 'f1', filename: 'r.raw' });
  await ok('blockdev-add', { driver: 'snapshot-access', 'node-name': 'acc2', file: 'f1' });
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'n3', file: 'acc2' });
  await ok('blockdev-mirror', { 'job-id': 'j', device: 'z0', target: 'n3', sync: 'full', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  await ok('block-job-set-speed', { device: 'j', speed: 2 });
  assert.is(job('j')!.status, 'running');
});

test.run();
