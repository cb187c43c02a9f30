// blockdev-create's job errors as query-jobs reports them. The transcripts record only outcome,
// events and graph; these texts were read from qemu-storage-daemon 7.2.22's query-jobs for the
// same commands (oracle/transcripts/create-basic.json's sequence, 2026-12-02).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

async function host() {
  const b = new MemoryBackend();
  await b.execute('A', 'x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1M' });
  return b;
}

async function jobError(b: MemoryBackend, id: string): Promise<string | undefined> {
  const r = await b.execute('A', 'query-jobs', {});
  const j = ((r.reply as { return: { id: string; error?: string; status: string; type: string }[] }).return).find((x) => x.id === id);
  assert.ok(j, `job ${id} listed`);
  assert.is(j!.type, 'create');
  assert.is(j!.status, 'concluded');
  return j!.error;
}

const QSD_ERRORS: [string, Record<string, unknown>, string][] = [
  ['missing node', { driver: 'qcow2', file: 'nosuch', size: 1048576 }, "Cannot find device='nosuch' nor node-name='nosuch'"],
  ['size', { driver: 'qcow2', file: 'st', size: 1000 }, 'Image size must be a multiple of 512 bytes'],
  ['cluster size', { driver: 'qcow2', file: 'st', size: 1048576, 'cluster-size': 1000 }, 'Cluster size must be a power of two between 512 and 2048k'],
  ['backing-fmt alone', { driver: 'qcow2', file: 'st', size: 1048576, 'backing-fmt': 'qcow2' }, 'Backing format cannot be used without backing file'],
];

for (const [what, options, text] of QSD_ERRORS) {
  test(`a qcow2 create that fails in the job: ${what}`, async () => {
    const b = await host();
    await b.execute('A', 'blockdev-add', { driver: 'file', filename: 'base.qcow2', 'node-name': 'st' });
    const r = await b.execute('A', 'blockdev-create', { 'job-id': 'c', options });
    assert.equal(r.reply, { return: {} });
    assert.equal(r.events.map((e) => e.data?.status), ['created', 'running', 'aborting', 'concluded']);
    assert.is(await jobError(b, 'c'), text);
  });
}

test('a qcow2 create under a format node: permission conflict of the create BlockBackend', async () => {
  const b = await host();
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 'base.qcow2', 'node-name': 'libvirt-1-storage' });
  await b.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'libvirt-1-format', file: 'libvirt-1-storage', backing: null });
  await b.execute('A', 'blockdev-create', { 'job-id': 'c3', options: { driver: 'qcow2', file: 'libvirt-1-storage', size: 1048576 } });
  assert.is(await jobError(b, 'c3'),
    "Permission conflict on node 'libvirt-1-storage': permissions 'write, resize' are both required by an unnamed block device (uses node 'libvirt-1-storage' as 'root' child) and unshared by node 'libvirt-1-format' (uses node 'libvirt-1-storage' as 'file' child).");
  await b.execute('A', 'job-dismiss', { id: 'c3' });
  await b.execute('A', 'blockdev-create', { 'job-id': 'c3', options: { driver: 'file', filename: 'base.qcow2', size: 0 } });
  assert.is(await jobError(b, 'c3'), 'Failed to get "write" lock');
});

test('a created image is in the catalogue: blockdev-add opens it with its backing file', async () => {
  const b = await host();
  await b.execute('A', 'blockdev-create', { 'job-id': 'c1', options: { driver: 'file', filename: 'top.qcow2', size: 0 } });
  assert.is(await jobError(b, 'c1'), undefined);
  await b.execute('A', 'job-dismiss', { id: 'c1' });
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 'top.qcow2', 'node-name': 'ts' });
  await b.execute('A', 'blockdev-create', { 'job-id': 'c2', options: { driver: 'qcow2', file: 'ts', size: 1048576, 'backing-file': 'base.qcow2', 'backing-fmt': 'qcow2' } });
  await b.execute('A', 'job-dismiss', { id: 'c2' });
  const r = await b.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: 'ts' });
  assert.equal(r.reply, { return: {} });
  const names = ((await b.execute('A', 'query-named-block-nodes', {})).reply as { return: { 'node-name': string; drv: string }[] }).return;
  assert.ok(names.some((n) => n.drv === 'qcow2' && n['node-name'] !== 'top'), 'the backing file named in the new header was opened');
});

test.run();
