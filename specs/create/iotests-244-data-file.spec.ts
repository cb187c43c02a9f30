// blockdev-create of qcow2 with an external data file, as iotests 244 drives it (stop 38's blind
// port, 244-j-*). The job errors are what qemu-storage-daemon 7.2.22 and 10.0.2 answered in
// query-jobs for the same commands (probed 2026-12-04, both versions alike); the transcripts
// record only outcome, events and graph.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

async function host() {
  const b = new MemoryBackend();
  await b.execute('A', 'x-blockgraph-image-create', { file: 't.qcow2', format: 'raw', size: '0' });
  await b.execute('A', 'x-blockgraph-image-create', { file: 't.qcow2.data', format: 'raw', size: '0' });
  await b.execute('A', 'x-blockgraph-image-create', { file: 't.qcow2.base', format: 'qcow2', size: '1M' });
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 't.qcow2', 'node-name': 'meta' });
  await b.execute('A', 'blockdev-add', { driver: 'file', filename: 't.qcow2.data', 'node-name': 'data' });
  return b;
}

async function errorOf(b: MemoryBackend, id: string): Promise<string | undefined> {
  const r = await b.execute('A', 'query-jobs', {});
  const j = ((r.reply as { return: { id: string; error?: string }[] }).return).find((x) => x.id === id);
  assert.ok(j, `job ${id} listed`);
  return j!.error;
}

// qcow2_co_create's data file checks, in its order
const REFUSED: [string, Record<string, unknown>, string][] = [
  ['data-file-raw without a data file', { 'data-file-raw': true }, 'data-file-raw requires data-file'],
  ['a data file on a v2 image', { 'data-file': 'data', version: 'v2' }, 'External data files are only supported with compatibility level 1.1 and above (use version=v3 or greater)'],
  ['data-file-raw with a backing file', { 'data-file': 'data', 'data-file-raw': true, 'backing-file': 't.qcow2.base', 'backing-fmt': 'qcow2' }, 'Backing file and data-file-raw cannot be used at the same time'],
  ['a data file naming no node', { 'data-file': 'nosuch' }, "Cannot find device='nosuch' nor node-name='nosuch'"],
];

for (const [what, opts, text] of REFUSED) {
  test(`qcow2 blockdev-create refuses ${what}`, async () => {
    const b = await host();
    const r = await b.execute('A', 'blockdev-create', { 'job-id': 'j', options: { driver: 'qcow2', file: 'meta', size: 1048576, ...opts } });
    assert.equal(r.events.map((e) => e.data?.status), ['created', 'running', 'aborting', 'concluded']);
    assert.is(await errorOf(b, 'j'), text);
  });
}

test('the created image names its data file: opened without the data-file option it opens that file, and the data file grew to the size', async () => {
  const b = await host();
  await b.execute('A', 'blockdev-create', { 'job-id': 'j', options: { driver: 'qcow2', file: 'meta', size: 1048576, 'data-file': 'data', 'data-file-raw': true } });
  assert.is(await errorOf(b, 'j'), undefined);
  await b.execute('A', 'blockdev-del', { 'node-name': 'data' });
  const r = await b.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'fmt', file: 'meta' });
  assert.ok(!('error' in (r.reply as object)), JSON.stringify(r.reply));
  const q = await b.execute('A', 'query-named-block-nodes', { flat: true });
  const nodes = (q.reply as { return: { 'node-name': string; image: { filename: string; 'virtual-size': number } }[] }).return;
  const data = nodes.find((n) => n.image.filename === 't.qcow2.data' && n['node-name'] !== 'fmt');
  assert.ok(data, 'a node on the data file');
  assert.is(data!.image['virtual-size'], 1048576);
});

test.run();
