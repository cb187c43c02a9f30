// A commit into a qcow2 base over a raw `size` window (wt-nospc): commit_populate's first write
// needs a cluster past the image's end, which raw_adjust_offset refuses with -ENOSPC. Live, the
// job fails just after the reply (the read of top yields first); 10.0 is fast enough that the
// failure races the graph query after the reply, so this is a spec, not a transcript (the
// backup and mirror forms are: jobs-into-qcow2-over-raw-size-enospc).
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
  const job = (id: string) => (m.state.A!.jobs as Record<string, { status: string; error?: string }>)[id];
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2', data: [{ offset: 0, length: 8388608 }] });
  await ok('x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'mid.qcow2', 'backing-format': 'qcow2' });
  return { ok, job };
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

test.run();
