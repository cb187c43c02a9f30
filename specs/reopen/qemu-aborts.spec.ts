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
  if ('error' in r.reply) assert.match(r.reply.error.desc, /^Cannot detach 'cf' from 'top': it would be closed while its 'backing' link is frozen \(QEMU 7\.2 aborts/);
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

test.run();
