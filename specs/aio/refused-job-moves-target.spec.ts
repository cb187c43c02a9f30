// A refused blockdev-backup leaves its target in the source's AioContext: blockdev_backup_prepare
// moves it first (bdrv_try_change_aio_context) and blockdev_backup_abort does not move it back.
// A refusal after the target was attached (the job's copy-before-write filter) detaches it, and
// bdrv_detach_child moves the parentless node back to the main context.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Session } from './helpers.js';

function world(): Session {
  const s = new Session();
  s.image('src.qcow2'); s.image('tgt.qcow2');
  s.qcow2('src'); s.qcow2('tgt');
  s.ok('object-add', { 'qom-type': 'iothread', id: 'io1' });
  s.ok('x-blockdev-set-iothread', { 'node-name': 'src', iothread: 'io1' });
  return s;
}

test('a refusal before the job exists keeps the target moved', () => {
  const s = world();
  assert.is(s.ctx('tgt'), 'main');
  assert.is(s.run('blockdev-backup', { 'job-id': 'b', device: 'src', target: 'tgt', sync: 'full', 'bitmap-mode': 'on-success' }),
    'Cannot specify bitmap sync mode without a bitmap');
  assert.is(s.ctx('tgt'), 'io1');
  assert.is(s.ctx('tgtf'), 'io1');
  // what the fuzzer met (seed 2230846464): QEMU 7.2 died on a later reference to the target
  s.image('n16.qcow2');
  assert.match(s.run('blockdev-add', { driver: 'qcow2', 'node-name': 'n16', file: { driver: 'file', filename: 'n16.qcow2' }, backing: 'tgt' }) ?? '', /QEMU 7.2 aborts here/);
});

test('the same refusal inside a transaction keeps it moved too; a lookup error moves nothing', () => {
  const s = world();
  assert.is(s.run('transaction', { actions: [{ type: 'blockdev-backup', data: { 'job-id': 'b', device: 'src', target: 'tgt', sync: 'full', 'x-perf': { 'max-workers': 0 } } }] }),
    'max-workers must be between 1 and 2147483647');
  assert.is(s.ctx('tgt'), 'io1');
  const t = world();
  assert.is(t.run('blockdev-backup', { 'job-id': 'b', device: 'src', target: 'nosuch', sync: 'full' }), "Cannot find device='nosuch' nor node-name='nosuch'");
  assert.is(t.ctx('tgt'), 'main');
});

test('a job created and then aborted by a later action puts the target back (bdrv_detach_child)', () => {
  const s = world();
  assert.ok(s.run('transaction', { actions: [
    { type: 'blockdev-backup', data: { 'job-id': 'b', device: 'src', target: 'tgt', sync: 'none' } },
    { type: 'abort', data: {} },
  ] }));
  assert.is(s.ctx('tgt'), 'main');
});

test('blockdev-mirror: a refused mirror leaves its target moved too (qmp_blockdev_mirror)', () => {
  const s = world();
  assert.is(s.run('blockdev-mirror', { 'job-id': 'm', device: 'src', target: 'tgt', sync: 'full', granularity: 100 }),
    "Parameter 'granularity' expects a value in range [512B, 64MB]");
  assert.is(s.ctx('tgt'), 'io1');
});

test.run();
