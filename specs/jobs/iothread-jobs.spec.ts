// Found by fuzzing: a job started on a node in an iothread must put its filter and itself
// in that context (QEMU attaches the filter to the node, which moves it), or the component
// would be split between two AioContexts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkInvariants } from '../../graph/invariants.js';
import { MemoryBackend } from '../../commands/model-host.js';

async function setup() {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-image-create', { file: 'r.raw', format: 'raw', size: '1M' });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  return { m, ok };
}

// (a node x-blockdev-set-iothread moved, nothing pinning it there, is pulled into the main loop
// by the filter's attach instead: bdrv_append -> bdrv_attach_child_common tries the child side
// first; recorded on 7.2 and 10.0: oracle/transcripts/aio-job-filter-append-pulls-movable-source.json)
test('blockdev-mirror from a node in an iothread nothing pins: the filter pulls it into the main loop, one context', async () => {
  const { m, ok } = await setup();
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'n3', file: { driver: 'file', filename: 'r.raw' } });
  await ok('x-blockdev-set-iothread', { 'node-name': 'n3', iothread: 'io0', force: true });
  // same size as the source: mirror_run fails a job whose target has another size
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 't', size: 1048576 });
  await ok('blockdev-mirror', { 'job-id': 'm0', device: 'n3', target: 't', sync: 'full', 'filter-node-name': 'mf' });
  assert.equal(checkInvariants(m.state), []);
  const nodes = m.state.A!.nodes as Record<string, { aio: string }>;
  assert.is(nodes.mf!.aio, 'main');
  assert.is(nodes.n3!.aio, 'main', 'the source followed the filter');
  assert.is(nodes.t!.aio, 'main', 'the target joined the component');
});

test('block-stream and block-commit on a chain in an iothread keep one context', async () => {
  const { m, ok } = await setup();
  for (const f of ['base', 'mid', 'top']) await ok('x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '16M' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'mid', file: { driver: 'file', filename: 'mid.qcow2' }, backing: 'base' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' }, backing: 'mid' });
  await ok('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io0' });
  await ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.equal(checkInvariants(m.state), []);
  await ok('job-cancel', { id: 'c0' });
  await ok('job-dismiss', { id: 'c0' });
  await ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', speed: 1, 'auto-finalize': false });
  assert.equal(checkInvariants(m.state), []);
});

test.run();
