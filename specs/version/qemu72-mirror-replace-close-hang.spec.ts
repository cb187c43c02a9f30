// Where QEMU 7.2.22 hangs and 10.0 does not (graph/rules.ts 'mirror-replace-close-iothread-hangs'):
// a mirror completed with `replaces` naming a quorum child opened inline, all in iothread io0 (the
// quorum pinned by a fixed-iothread export): mirror_exit_common's bdrv_unref(s->to_replace) frees
// the child and bdrv_flush polls with io0's AioContext held twice. Under 7.2's rules the model
// refuses the completing command, saying so, and the state is untouched; under 10.0's the job
// completes (qemu-10.0/aborts/abort-41-mirror-replaces-quorum-child-iothread). Children added as
// monitor-owned nodes are not freed: both versions complete it (abort-41-…-owned-child-iothread-survives).
// Also iotests 281's backup left out at stop 40 (docs/iotests-l-left-out.md): 10.0 aborts in
// bdrv_insert_node whatever the target's context (blockdev_backup_action moves the target into the
// source's first), so the model refuses both forms under 10.0's rules (rule 'insert-node-context-asserts').
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { knownAbort } from '../../oracle/fuzz/index.js';
import { ProcView } from '../../oracle/fuzz/world.js';

async function quorumInIothread(qemu: '7.2' | '10.0', owned: boolean, jobArgs: Record<string, unknown> = {}) {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  for (const f of ['q0', 'q1', 'q2', 'r']) await ok('x-blockgraph-image-create', { file: `${f}.img`, format: 'qcow2', size: '1M' });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  const kids = [0, 1, 2].map((i) => ({ driver: 'qcow2', 'node-name': `c${i}`, file: { driver: 'file', filename: `q${i}.img` } }));
  if (owned) for (const k of kids) await ok('blockdev-add', k);
  await ok('blockdev-add', { driver: 'quorum', 'node-name': 'q', 'vote-threshold': 2, children: owned ? kids.map((k) => k['node-name']) : kids });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'r', file: { driver: 'file', filename: 'r.img' } });
  await ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  await ok('block-export-add', { type: 'nbd', id: 'e', 'node-name': 'q', iothread: 'io0', 'fixed-iothread': true });
  await ok('blockdev-mirror', { 'job-id': 'm', device: 'q', target: 'r', sync: 'full', replaces: 'c1', ...jobArgs });
  await ok('x-blockgraph-job-advance', { id: 'm', status: 'ready' });
  return m;
}

test('7.2: completing a mirror that frees an inline quorum child in an iothread is refused whole (QEMU 7.2 hangs)', async () => {
  const m = await quorumInIothread('7.2', false);
  const h = stateHash(m.state);
  const r = await m.execute('A', 'block-job-complete', { device: 'm' });
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 7\.2 hangs here: mirror_exit_common/);
  assert.is(stateHash(m.state), h);
  assert.equal(r.events, []);
});

test('7.2: the same with auto-finalize off: the refusal moves to job-finalize, where mirror_exit_common runs', async () => {
  const m = await quorumInIothread('7.2', false, { 'auto-finalize': false });
  const c = await m.execute('A', 'block-job-complete', { device: 'm' });
  assert.ok('return' in c.reply, JSON.stringify(c.reply));
  const r = await m.execute('A', 'job-finalize', { id: 'm' });
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 7\.2 hangs here/);
});

for (const [qemu, owned] of [['10.0', false], ['7.2', true], ['10.0', true]] as const) {
  test(`${qemu}, children ${owned ? 'monitor-owned' : 'inline'}: the mirror completes and c1 is ${owned ? 'kept' : 'gone'}`, async () => {
    const m = await quorumInIothread(qemu, owned);
    const r = await m.execute('A', 'block-job-complete', { device: 'm' });
    assert.ok('return' in r.reply, JSON.stringify(r.reply));
    const q = await m.execute('A', 'query-named-block-nodes', { flat: true });
    const names = ((q.reply as { return: { 'node-name': string }[] }).return).map((n) => n['node-name']);
    assert.is(names.includes('c1'), owned);
  });
}

async function backup281(qemu: '7.2' | '10.0', targetInIothread: boolean) {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  await ok('x-blockgraph-image-create', { file: 's.qcow2', format: 'qcow2', size: '1M' });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 's', file: { driver: 'file', filename: 's.qcow2' } });
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 't', size: 1048576 });
  await ok('x-blockdev-set-iothread', { 'node-name': 's', iothread: 'io0' });
  if (targetInIothread) await ok('x-blockdev-set-iothread', { 'node-name': 't', iothread: 'io0' });
  await ok('block-dirty-bitmap-add', { node: 's', name: 'b' });
  return m;
}

for (const inIothread of [false, true]) {
  test(`281's incremental backup of a node moved into io0, target ${inIothread ? 'in io0' : 'in the main loop'}: refused under 10.0's rules, started under 7.2's`, async () => {
    const args = { 'job-id': 'b0', device: 's', target: 't', sync: 'incremental', bitmap: 'b', speed: 1 };
    const m10 = await backup281('10.0', inIothread);
    const h = stateHash(m10.state);
    const r10 = await m10.execute('A', 'blockdev-backup', args);
    assert.ok('error' in r10.reply, JSON.stringify(r10.reply));
    if ('error' in r10.reply) assert.match(r10.reply.error.desc, /QEMU 10\.0 aborts here: bdrv_insert_node/);
    assert.is(stateHash(m10.state), h);
    const r72 = await (await backup281('7.2', inIothread)).execute('A', 'blockdev-backup', args);
    assert.ok('return' in r72.reply, JSON.stringify(r72.reply));
  });
}

test('the fuzz generator never sends a mirror of a node in an iothread that replaces another node', () => {
  const view = new ProcView();
  view.graph = { nodes: [{ name: 'q', driver: 'quorum', ro: false }, { name: 'c1', driver: 'qcow2', ro: false }, { name: 'r', driver: 'qcow2', ro: false }], parents: [], edges: [{ parent: 'q', name: 'children.1', child: 'c1' }] } as never;
  view.moved.add('q');
  const guard = (s: object) => knownAbort(s as never, view);
  assert.match(guard({ execute: 'blockdev-mirror', arguments: { device: 'q', target: 'r', sync: 'full', replaces: 'c1' } })!, /QEMU 7\.2 hangs/);
  assert.is(guard({ execute: 'blockdev-mirror', arguments: { device: 'q', target: 'r', sync: 'full', replaces: 'q' } }), undefined);
  assert.is(guard({ execute: 'blockdev-mirror', arguments: { device: 'r', target: 'q', sync: 'full', replaces: 'r' } }), undefined);
});

test.run();
