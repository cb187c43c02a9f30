// Where QEMU 10.0.2 aborts and 7.2 does not (graph/rules.ts 'insert-node-context-asserts'): a
// backup's copy-before-write or a stream's copy-on-read filter opened over a node that
// x-blockdev-set-iothread put in an iothread (nothing pins it there) moves that node to the main
// loop (bdrv_attach_child_common), and 10.0's bdrv_insert_node asserts that it did not. Under 10.0's
// rules the model refuses, saying so, and the state is untouched; under 7.2's the job starts
// (oracle/transcripts/aio-backup-cbw-pulls-movable-source.json, aio-stream-cor-pulls-movable-source.json).
// A source pinned by a fixed-iothread export stays (the filter moves in instead): no abort
// (aio-backup-cbw-follows-pinned-source, recorded on both). The fuzz generator never sends it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { knownAbort } from '../../oracle/fuzz/index.js';
import { ProcView } from '../../oracle/fuzz/world.js';

async function srcInIothread(qemu: '7.2' | '10.0', pin: boolean, ro = false) {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1M' });
  await ok('x-blockgraph-image-create', { file: 'src.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  await ok('x-blockgraph-image-create', { file: 'tgt.qcow2', format: 'qcow2', size: '1M' });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'src', file: { driver: 'file', filename: 'src.qcow2' }, backing: 'base', ...(ro ? { 'read-only': true } : {}) });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'tgt', file: { driver: 'file', filename: 'tgt.qcow2' }, backing: null });
  if (pin) {
    await ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-A.sock' } } });
    await ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'src', iothread: 'io0', 'fixed-iothread': true });
  } else await ok('x-blockdev-set-iothread', { 'node-name': 'src', iothread: 'io0' });
  return m;
}

const CMDS = [
  ['blockdev-backup', { 'job-id': 'b0', device: 'src', target: 'tgt', sync: 'none', 'auto-finalize': false }],
  ['transaction', { actions: [{ type: 'blockdev-backup', data: { 'job-id': 'b0', device: 'src', target: 'tgt', sync: 'none', 'auto-finalize': false } }] }],
  ['block-stream', { 'job-id': 's0', device: 'src', 'filter-node-name': 'sf', speed: 1, 'auto-finalize': false }],
] as const;

test('10.0: a stream over a read-only node that would abort is refused whole (no fail path runs where QEMU dies)', async () => {
  const m = await srcInIothread('10.0', false, true);
  const h = stateHash(m.state);
  const r = await m.execute('A', 'block-stream', { 'job-id': 's0', device: 'src', 'auto-finalize': false });
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 10\.0 aborts here: bdrv_insert_node/);
  assert.is(stateHash(m.state), h);
});

for (const [cmd, args] of CMDS) {
  test(`10.0: ${cmd} over a node nothing pins in an iothread is refused (QEMU 10.0 aborts in bdrv_insert_node)`, async () => {
    const m = await srcInIothread('10.0', false);
    const h = stateHash(m.state);
    const r = await m.execute('A', cmd, args as never);
    assert.ok('error' in r.reply, JSON.stringify(r.reply));
    if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 10\.0 aborts here: bdrv_insert_node/);
    assert.is(stateHash(m.state), h);
  });
  test(`7.2: ${cmd} over a node nothing pins in an iothread starts the job`, async () => {
    const m = await srcInIothread('7.2', false);
    const r = await m.execute('A', cmd, args as never);
    assert.ok('return' in r.reply, JSON.stringify(r.reply));
  });
  test(`10.0: ${cmd} over a node pinned by a fixed-iothread export starts the job`, async () => {
    const m = await srcInIothread('10.0', true);
    const r = await m.execute('A', cmd, args as never);
    assert.ok('return' in r.reply, JSON.stringify(r.reply));
  });
}

test('the fuzz generator never sends a job filter over a node in an iothread that nothing pins', () => {
  const view = new ProcView();
  view.graph = { nodes: [{ name: 'src', driver: 'qcow2', ro: false }, { name: 'pin', driver: 'qcow2', ro: false }], parents: [], edges: [] } as never;
  view.moved.add('src');
  view.exports.set('e0', { id: 'e0', node: 'pin', iothread: 'io0', fixed: true });
  const guard = (s: object) => knownAbort(s as never, view);
  assert.match(guard({ execute: 'blockdev-backup', arguments: { device: 'src', target: 'pin', sync: 'none' } })!, /QEMU 10\.0 abort/);
  assert.match(guard({ execute: 'block-stream', arguments: { device: 'src' } })!, /QEMU 10\.0 abort/);
  assert.match(guard({ execute: 'transaction', arguments: { actions: [{ type: 'blockdev-backup', data: { device: 'src', target: 'pin', sync: 'none' } }] } })!, /QEMU 10\.0 abort/);
  assert.is(guard({ execute: 'blockdev-backup', arguments: { device: 'pin', target: 'src', sync: 'none' } }), undefined);
});

test.run();
