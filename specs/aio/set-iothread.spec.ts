// x-blockdev-set-iothread and block-export-add's iothread handling (reference §8.1, §8.5),
// with expectations derived by hand from QEMU 7.2's blockdev.c / block/export/export.c.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Session } from './helpers.js';

function chain(): Session {
  const s = new Session();
  s.image('base.qcow2'); s.image('mid.qcow2'); s.image('top.qcow2');
  s.qcow2('base'); s.qcow2('mid', 'base'); s.qcow2('top', 'mid');
  s.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  s.ok('object-add', { 'qom-type': 'iothread', id: 'io1' });
  s.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  return s;
}

test('check order: unknown node, then the BlockBackend guard, then the iothread lookup', () => {
  const s = chain();
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'nope', iothread: 'io9' }), "Failed to find node with node-name='nope'");
  s.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top' });
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io9' }),
    'Node top is associated with a BlockBackend and could be in use (use force=true to override this check)');
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io9', force: true }), 'Cannot find iothread io9');
  // Only direct BlockBackend parents count (bdrv_has_blk): mid is free to ask.
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'mid', iothread: 'io9' }), 'Cannot find iothread io9');
});

test('a move takes the whole component: parents, children, the movable export BlockBackend', () => {
  const s = chain();
  s.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top' });
  s.ok('x-blockdev-set-iothread', { 'node-name': 'base', iothread: 'io0' });
  for (const n of ['top', 'topf', 'mid', 'midf', 'base', 'basef']) assert.is(s.ctx(n), 'io0', n);
  assert.equal(s.bbs().map((b) => b.aio), ['io0']);
  s.ok('x-blockdev-set-iothread', { 'node-name': 'mid', iothread: null });
  for (const n of ['top', 'basef']) assert.is(s.ctx(n), 'main', n);
  assert.equal(s.bbs().map((b) => b.aio), ['main']);
});

test('a fixed-iothread export pins its component; a refused move changes nothing', () => {
  const s = chain();
  s.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'mid', iothread: 'io0', 'fixed-iothread': true });
  for (const n of ['top', 'mid', 'basef']) assert.is(s.ctx(n), 'io0', n);
  const before = s.state;
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'base', iothread: 'io1' }), 'Cannot change iothread of active block backend');
  assert.is(s.state, before);
  assert.is(s.run('x-blockdev-set-iothread', { 'node-name': 'top', iothread: null }), 'Cannot change iothread of active block backend');
  // Moving to the context it is already in is a no-op, not a refusal.
  s.ok('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io0' });
  // A second export with a fixed other iothread fails; a non-fixed one is created in io0.
  assert.is(s.run('block-export-add', { type: 'nbd', id: 'e1', 'node-name': 'top', iothread: 'io1', 'fixed-iothread': true }),
    'Cannot change iothread of active block backend');
  s.ok('block-export-add', { type: 'nbd', id: 'e1', 'node-name': 'top', iothread: 'io1' });
  assert.equal(s.bbs().map((b) => b.aio).sort(), ['io0', 'io0']);
});

test('deleting the pinning export moves the node back to the main loop (§8.5)', () => {
  const s = chain();
  s.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', iothread: 'io0', 'fixed-iothread': true });
  assert.is(s.ctx('base'), 'io0');
  s.ok('block-export-del', { id: 'e0' });
  for (const n of ['top', 'mid', 'base', 'basef']) assert.is(s.ctx(n), 'main', n);
  s.ok('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io1' });
  assert.is(s.ctx('basef'), 'io1');
});

test('blockdev-add of a node whose referenced child sits in an iothread is refused (QEMU 7.2 aborts)', () => {
  const s = chain();
  s.image('ov.qcow2');
  s.ok('x-blockdev-set-iothread', { 'node-name': 'top', iothread: 'io0' });
  const err = s.run('blockdev-add', { driver: 'qcow2', 'node-name': 'ov', file: { driver: 'file', filename: 'ov.qcow2' }, backing: 'top' });
  assert.ok(err && err.includes('QEMU 7.2 aborts'), String(err));
  assert.is(s.node('ov'), undefined);
  const err2 = s.run('blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'topf' });
  assert.ok(err2 && err2.includes("Node 'topf' is in iothread 'io0'"), String(err2));
  s.ok('x-blockdev-set-iothread', { 'node-name': 'top', iothread: null });
  s.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'ov', file: { driver: 'file', filename: 'ov.qcow2' }, backing: 'top' });
});

test.run();
