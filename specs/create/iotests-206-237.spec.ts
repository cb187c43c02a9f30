// blockdev-create as iotests 206/211-213/237 drive it (stop 37's blind port, NNN-i-*). The job
// errors are what qemu-storage-daemon 7.2.22 and 10.0.2 answered in query-jobs for the same
// commands (probed 2026-12-04, both versions alike); the transcripts record only outcome, events
// and graph.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

async function host() {
  const b = new MemoryBackend();
  await b.execute('A', 'x-blockgraph-image-create', { file: 't.qcow2', format: 'raw', size: '0' });
  return b;
}

async function jobOf(b: MemoryBackend, id: string): Promise<{ status: string; error?: string }> {
  const r = await b.execute('A', 'query-jobs', {});
  const j = ((r.reply as { return: { id: string; error?: string; status: string }[] }).return).find((x) => x.id === id);
  assert.ok(j, `job ${id} listed`);
  return j!;
}

async function names(b: MemoryBackend): Promise<string[]> {
  const r = await b.execute('A', 'query-named-block-nodes', { flat: true });
  return ((r.reply as { return: { 'node-name': string }[] }).return).map((n) => n['node-name']).sort();
}

// qcow2_co_create's blk_co_truncate: bdrv_co_truncate, bdrv_check_request, qcow2_grow_l1_table
const RESIZE: [number, number | undefined, string][] = [
  [2 ** 63, undefined, 'Could not resize image: Image size cannot be negative'],
  [2 ** 63 - 2 ** 30, undefined, 'Could not resize image: Failed to grow the L1 table: File too large'],
  [2 ** 63 - 1024, undefined, 'Could not resize image: offset(9223372036854774784) exceeds maximum(9223372035781033984)'],
  [2 ** 48, 512, 'Could not resize image: Failed to grow the L1 table: File too large'],
];

for (const [size, cluster, text] of RESIZE) {
  test(`qcow2 of ${size} bytes${cluster ? ` in ${cluster}-byte clusters` : ''} fails in its final truncate`, async () => {
    const b = await host();
    await b.execute('A', 'blockdev-add', { driver: 'file', filename: 't.qcow2', 'node-name': 'node0' });
    const r = await b.execute('A', 'blockdev-create', { 'job-id': 'j', options: { driver: 'qcow2', file: 'node0', size, ...(cluster ? { 'cluster-size': cluster } : {}) } });
    assert.equal(r.events.map((e) => e.data?.status), ['created', 'running', 'aborting', 'concluded']);
    assert.is((await jobOf(b, 'j')).error, text);
  });
}

test('a size the L1 table still covers is created (256 TiB in 64 KiB clusters; qemu-img create -f qcow2 256T succeeds too)', async () => {
  const b = await host();
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 't.qcow2', 'node-name': 'node0' });
  await b.execute('A', 'blockdev-create', { 'job-id': 'j', options: { driver: 'qcow2', file: 'node0', size: 2 ** 48 } });
  const j = await jobOf(b, 'j');
  assert.is(j.status, 'concluded');
  assert.is(j.error, undefined);
});

test('vmdk: an extent list longer than the size needs fails after the extents', async () => {
  const b = await host();
  for (const [n, f] of [['e1', 'e1.vmdk'], ['e2', 'e2.vmdk']]) {
    await b.execute('A', 'x-blockgraph-image-create', { file: f, format: 'vmdk', size: '0' });
    await b.execute('A', 'blockdev-add', { driver: 'file', filename: f, 'node-name': n });
  }
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 't.qcow2', 'node-name': 'node0' });
  await b.execute('A', 'blockdev-create', { 'job-id': 'v', options: { driver: 'vmdk', file: 'node0', size: 512, subformat: 'monolithicFlat', extents: ['e1', 'e2'] } });
  assert.is((await jobOf(b, 'v')).error, 'List of extents contains unused extents');
  // one extent, as the size needs: created
  await b.execute('A', 'job-dismiss', { id: 'v' });
  await b.execute('A', 'blockdev-create', { 'job-id': 'v', options: { driver: 'vmdk', file: 'node0', size: 512, subformat: 'monolithicFlat', extents: ['e1'] } });
  assert.is((await jobOf(b, 'v')).error, undefined);
});

test('an inline file definition is opened for the create and closed after it', async () => {
  const b = await host();
  const r = await b.execute('A', 'blockdev-create', { 'job-id': 'w', options: { driver: 'qcow2', file: { driver: 'file', filename: 't.qcow2' }, size: 1048576 } });
  assert.equal(r.events.map((e) => e.data?.status), ['created', 'running', 'waiting', 'pending', 'concluded']);
  const j = await jobOf(b, 'w');
  assert.is(j.status, 'concluded');
  assert.is(j.error, undefined);
  assert.equal(await names(b), []);
  // the image it wrote opens as qcow2
  const a = await b.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'q', file: { driver: 'file', filename: 't.qcow2' } });
  assert.equal(a.reply, { return: {} });
});

test.run();
