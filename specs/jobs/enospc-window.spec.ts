// A commit into a qcow2 base over a raw `size` window (wt-nospc): commit_populate's first write
// needs a cluster past the image's end, which raw_adjust_offset refuses with -ENOSPC. Live, the
// job fails just after the reply (the read of top yields first); 10.0 is fast enough that the
// failure races the graph query after the reply, so this is a spec, not a transcript (the
// backup and mirror forms are: jobs-into-qcow2-over-raw-size-enospc). The ENOSPC is one cause of
// the per-chunk write error (graph/jobs/job-read.ts jobWriteError), so the job's error policy
// decides (block_job_error_action): stop pauses it (transcript jobs-raw-window-enospc-stop),
// ignore retries the chunk for good.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

async function session() {
  const m = new MemoryBackend();
  const run = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    return 'error' in r.reply ? (r.reply as { error: { desc: string } }).error.desc : null;
  };
  const ok = async (c: string, a: Record<string, unknown>) => assert.is(await run(c, a), null, c);
  const job = (id: string) => (m.state.A!.jobs as Record<string, { status: string; error?: string; paused?: number }>)[id];
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2', data: [{ offset: 0, length: 8388608 }] });
  await ok('x-blockgraph-image-create', { file: 't.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'mid.qcow2', 'backing-format': 'qcow2' });
  const events = async (c: string, a: Record<string, unknown>) => (await m.execute('A', c, a)).events.map((e) => `${e.event} ${JSON.stringify(e.data)}`);
  return { ok, job, events };
}

async function chain(ok: (c: string, a: Record<string, unknown>) => Promise<void>, window: number | undefined) {
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'wb', file: { driver: 'file', filename: 'base.qcow2' }, ...(window ? { size: window } : {}) });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: 'wb', backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'mid', file: { driver: 'file', filename: 'mid.qcow2' }, backing: 'base' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' }, backing: 'mid' });
}

test('commit into a base over a raw window: running at the reply, then failed with ENOSPC', async () => {
  const { ok, job } = await session();
  await chain(ok, 196608);
  await ok('block-commit', { 'job-id': 'c1', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(job('c1')!.status, 'running');
  await ok('x-blockgraph-job-advance', { id: 'c1', status: 'pending' });
  assert.is(job('c1')!.status, 'concluded');
  assert.is(job('c1')!.error, 'No space left on device');
});

test('the same commit into a base without a window reaches pending', async () => {
  const { ok, job } = await session();
  await chain(ok, undefined);
  await ok('block-commit', { 'job-id': 'c1', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'auto-finalize': false, 'auto-dismiss': false });
  await ok('x-blockgraph-job-advance', { id: 'c1', status: 'pending' });
  assert.is(job('c1')!.status, 'pending');
});

for (const [policy, status] of [['stop', 'paused'], ['enospc', 'paused'], ['ignore', 'running']] as const) {
  test(`commit into a base over a raw window with on-error ${policy}: ${status}, not failed`, async () => {
    const { ok, job, events } = await session();
    await chain(ok, 196608);
    await ok('block-commit', { 'job-id': 'c1', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'on-error': policy, 'auto-finalize': false, 'auto-dismiss': false });
    assert.is(job('c1')!.status, 'running');
    const evs = await events('x-blockgraph-job-advance', { id: 'c1', status: 'pending' });
    const action = policy === 'ignore' ? 'ignore' : 'stop';
    assert.ok(evs.includes(`BLOCK_JOB_ERROR {"device":"c1","operation":"write","action":"${action}"}`), evs.join('\n'));
    assert.is(job('c1')!.status, status);
    assert.not.ok(job('c1')!.error);
  });
}

test('mirror into a qcow2 over a raw window with on-target-error stop pauses; ignore keeps it busy', async () => {
  for (const [policy, status] of [['stop', 'paused'], ['ignore', 'running'], ['report', 'concluded']] as const) {
    const { ok, job } = await session();
    await chain(ok, 196608);
    await ok('blockdev-add', { driver: 'raw', 'node-name': 'wt', file: { driver: 'file', filename: 't.qcow2' }, size: 196608 });
    await ok('blockdev-add', { driver: 'qcow2', 'node-name': 't', file: 'wt', backing: null });
    await ok('blockdev-mirror', { 'job-id': 'm1', device: 'top', target: 't', sync: 'full', 'on-target-error': policy, 'auto-finalize': false, 'auto-dismiss': false });
    assert.is(job('m1')!.status, 'running', policy);
    await ok('x-blockgraph-job-advance', { id: 'm1', status: 'ready' });
    assert.is(job('m1')!.status, status, policy);
  }
});

test('backup into a qcow2 over a raw window: on-target-error decides at the job\'s next run', async () => {
  for (const [policy, status] of [['stop', 'paused'], ['enospc', 'paused'], ['ignore', 'running'], ['report', 'concluded']] as const) {
    const { ok, job } = await session();
    await chain(ok, 196608);
    await ok('blockdev-add', { driver: 'raw', 'node-name': 'wt', file: { driver: 'file', filename: 't.qcow2' }, size: 196608 });
    await ok('blockdev-add', { driver: 'qcow2', 'node-name': 't', file: 'wt', backing: null });
    await ok('blockdev-backup', { 'job-id': 'b1', device: 'top', target: 't', sync: 'full', 'on-target-error': policy, 'auto-finalize': false, 'auto-dismiss': false });
    assert.is(job('b1')!.status, 'running', policy);
    await ok('x-blockgraph-job-advance', { id: 'b1', status: 'pending' });
    assert.is(job('b1')!.status, status, policy);
  }
});

test.run();
