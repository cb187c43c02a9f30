// Where QEMU 7.2 aborts (reference §7.6, oracle README crash 3), the model refuses with an
// error that says so, and the state is untouched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';

async function chain() {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  for (const f of ['base', 'mid', 'top']) await ok('x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '16M' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'mid', file: { driver: 'file', filename: 'mid.qcow2' }, backing: 'base' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' }, backing: 'mid' });
  return { m, ok };
}

test('§7.6: moving the overlay away from a named commit filter whose links are frozen is refused', async () => {
  const { m, ok } = await chain();
  await ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'filter-node-name': 'cf', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  const h = stateHash(m.state);
  const fileName = Object.values(m.state.A!.edges!).map((e) => e as { parent: { node?: string }; name: string; child: string })
    .find((e) => e.parent.node === 'top' && e.name === 'file')!.child;
  const r = await m.execute('A', 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: fileName, backing: 'mid' }] });
  assert.ok('error' in r.reply);
  if ('error' in r.reply) assert.match(r.reply.error.desc, /^Cannot detach 'cf' from 'top': it would be closed while its 'backing' link is frozen \(QEMU 7\.2 and 10\.0 abort here: bdrv_replace_child_noperm/);
  assert.is(stateHash(m.state), h);
});

test('crash 3: a parent moving its backing away from a node whose backing is its own file node is refused', async () => {
  const { m } = await chain();
  const midFile = Object.values(m.state.A!.edges!).map((e) => e as { parent: { node?: string }; name: string; child: string })
    .find((e) => e.parent.node === 'mid' && e.name === 'file')!.child;
  const topFile = Object.values(m.state.A!.edges!).map((e) => e as { parent: { node?: string }; name: string; child: string })
    .find((e) => e.parent.node === 'top' && e.name === 'file')!.child;
  // allowed in QEMU: mid takes its own file node as backing
  const r1 = await m.execute('A', 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'mid', file: midFile, backing: midFile }] });
  assert.ok('return' in r1.reply, JSON.stringify(r1.reply));
  // keeping backing: mid is fine
  const keep = await m.execute('A', 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: topFile, backing: 'mid' }] });
  assert.ok('return' in keep.reply, JSON.stringify(keep.reply));
  const h = stateHash(m.state);
  const r = await m.execute('A', 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: topFile, backing: null }] });
  assert.ok('error' in r.reply);
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 7\.2 aborts here: Assertion 'c->parent_quiesce_counter > 0' failed/);
  assert.is(stateHash(m.state), h);
});

async function inlineChain() {
  const m = new MemoryBackend();
  for (const f of ['hd0', 'hd1', 'hd2']) await m.execute('A', 'x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '1M' });
  const q = (i: number, extra: Record<string, unknown> = {}) =>
    ({ driver: 'qcow2', 'node-name': `hd${i}`, file: { driver: 'file', 'node-name': `f${i}`, filename: `hd${i}.qcow2` }, ...extra });
  const r = await m.execute('A', 'blockdev-add', q(0, { backing: q(1, { backing: null }) }));
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
  return { m, q };
}

// (the first two lists also change the queue order for hd1's RO->RW: the trial run in QEMU's
// order must not cut Draft steps, which once crashed the model with 'rollback across a finished step')
test('segfault: a queued node closed by the same reopen (its parent drops it) is refused, state untouched', async () => {
  const { m, q } = await inlineChain();
  const h = stateHash(m.state);
  for (const options of [
    [q(0, { backing: null }), q(1, { backing: null })],
    [q(1, { backing: null }), q(0, { backing: null })],
    [q(0, { backing: null }), { driver: 'file', 'node-name': 'f1', filename: 'hd1.qcow2' }], // closed with hd1
  ]) {
    const r = await m.execute('A', 'blockdev-reopen', { options });
    assert.ok('error' in r.reply, JSON.stringify(options));
    if ('error' in r.reply) assert.match(r.reply.error.desc, /^Cannot reopen '(hd1|f1)' in the same blockdev-reopen that closes it \(QEMU 7\.2 .*segmentation fault\)$/);
    assert.is(stateHash(m.state), h);
  }
});

test('no segfault when something else still holds the dropped child: the reopen goes through', async () => {
  const { m, q } = await inlineChain();
  await m.execute('A', 'x-blockgraph-image-create', { file: 'hd3.qcow2', format: 'qcow2', size: '1M' });
  const r0 = await m.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'hd3', file: { driver: 'file', filename: 'hd3.qcow2' }, backing: 'hd1' });
  assert.ok('return' in r0.reply, JSON.stringify(r0.reply));
  const r = await m.execute('A', 'blockdev-reopen', { options: [q(0, { backing: null }), q(1, { backing: null })] });
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
});

test('a failing multi-node reopen with a backing change (queue order changed for RO->RW qcow2) answers QEMU\'s error, state untouched', async () => {
  const { m, q } = await inlineChain();
  await m.execute('A', 'x-blockgraph-image-create', { file: 'ro.qcow2', format: 'qcow2', size: '1M' });
  await m.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'ro', 'read-only': true, file: { driver: 'file', filename: 'ro.qcow2' } });
  const h = stateHash(m.state);
  // hd1 goes RO -> RW (its file is prepared first) and changes its backing; f1's entry fails after that
  const r = await m.execute('A', 'blockdev-reopen', {
    options: [q(0, { backing: 'hd1' }), q(1, { backing: 'ro', 'read-only': false }), { driver: 'file', 'node-name': 'f1', filename: 'other.qcow2' }],
  });
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.is(r.reply.error.desc, "Cannot change the option 'filename'");
  assert.is(stateHash(m.state), h);
});

test('crash 7: object-del of an iothread a node is in is refused; an unused iothread is deleted', async () => {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io1' });
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 'n0' });
  await ok('x-blockdev-set-iothread', { 'node-name': 'n0', iothread: 'io0' });
  const h = stateHash(m.state);
  const r = await m.execute('A', 'object-del', { id: 'io0' });
  assert.ok('error' in r.reply);
  if ('error' in r.reply) assert.match(r.reply.error.desc, /^Cannot delete iothread 'io0': node 'n0' is in its AioContext \(QEMU 7\.2 deletes it and aborts/);
  assert.is(stateHash(m.state), h);
  await ok('object-del', { id: 'io1' });
  await ok('x-blockdev-set-iothread', { 'node-name': 'n0', iothread: null });
  await ok('object-del', { id: 'io0' });
});

test.run();
