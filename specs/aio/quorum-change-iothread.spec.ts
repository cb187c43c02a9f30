// x-blockdev-change (qmp_x_blockdev_change) takes no AioContext lock. quorum_del_child ends in
// bdrv_detach_child → bdrv_try_change_aio_context(child, main loop): a removed child in an
// iothread that can go back to the main loop moves there, and 7.2's bdrv_set_aio_context_commit
// releases the iothread's lock the main thread never took (recorded on QSD 7.2: the daemon closed
// the connection; 10.0.2 carries it out, combo-c3-iot-quorum-children-move before its reorder).
// The quorum checks come first, in QEMU's order (quorum_del_child's vote threshold,
// bdrv_add_child's "already has a parent").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { M } from '../jobs/helpers.js';

function quorum(threshold: number, version?: string): M {
  const m = new M();
  if (version) m.ok('x-blockgraph-process-start', { qemu: version });
  m.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  for (const n of ['c0', 'c1', 'c2']) {
    m.ok('x-blockgraph-image-create', { file: `${n}.qcow2`, format: 'qcow2', size: '1M' });
    m.ok('blockdev-add', { driver: 'qcow2', 'node-name': n, file: { driver: 'file', filename: `${n}.qcow2`, 'node-name': `${n}f` }, 'read-only': true });
  }
  m.ok('blockdev-add', { driver: 'quorum', 'node-name': 'q', 'vote-threshold': threshold, children: ['c0', 'c1'], 'read-only': true });
  return m;
}

test('7.2: removing a quorum child that would leave an iothread is refused as the abort, state untouched', () => {
  const m = quorum(1);
  m.ok('x-blockdev-set-iothread', { 'node-name': 'q', iothread: 'io0' });
  const h = stateHash(withoutIdCounters(m.state));
  const err = m.run('x-blockdev-change', { parent: 'q', child: 'children.0' });
  assert.match(err ?? '', /\(QEMU 7\.2 aborts here: bdrv_detach_child -> bdrv_try_change_aio_context: qemu_mutex_unlock_impl: Operation not permitted\)/);
  assert.is(stateHash(withoutIdCounters(m.state)), h, 'state untouched');
  // in the main loop the same removal is carried out
  m.ok('x-blockdev-set-iothread', { 'node-name': 'q', iothread: null });
  m.ok('x-blockdev-change', { parent: 'q', child: 'children.0' });
});

test('10.0: the same removal is carried out and the child goes back to the main loop', () => {
  const m = quorum(1, '10.0');
  m.ok('x-blockdev-set-iothread', { 'node-name': 'q', iothread: 'io0' });
  m.ok('x-blockdev-change', { parent: 'q', child: 'children.0' });
  assert.is(m.p().node('c0')!.aio, 'main');
});

test('quorum_del_child: the vote threshold is checked before anything moves', () => {
  const m = quorum(2);
  m.ok('x-blockdev-set-iothread', { 'node-name': 'q', iothread: 'io0' });
  assert.is(m.run('x-blockdev-change', { parent: 'q', child: 'children.0' }), 'The number of children cannot be lower than the vote threshold 2');
});

test('bdrv_add_child: a node with a parent is refused; the freed highest index is reused', () => {
  const m = quorum(1);
  assert.is(m.run('x-blockdev-change', { parent: 'q', node: 'c0' }), 'The node c0 already has a parent');
  m.ok('x-blockdev-change', { parent: 'q', child: 'children.1' });
  m.ok('x-blockdev-change', { parent: 'q', node: 'c2' });
  assert.equal(m.p().childrenOf('q').map((e) => `${e.name}=${e.child}`).sort(), ['children.0=c0', 'children.1=c2']);
});

test.run();
