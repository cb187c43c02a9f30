// A format node opened over a file node pinned in an iothread by a fixed export (each form run on
// qemu-storage-daemon 7.2 and 10.0.2): qed dies on both versions, read-only or not, before any
// permission check (bdrv_qed_open attaches its file before bdrv_qed_init_state, and the move into
// io0 runs bdrv_qed_detach_aio_context's timer_del on a timer not made yet: SIGSEGV); vdi aborts
// on 7.2 like qcow2 (its header read polls io0 without the lock: qemu_mutex_unlock_impl) and opens
// on 10.0. The model refuses where QEMU dies, state untouched, and carries out the rest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { M } from '../jobs/helpers.js';

function pinned(qemu: '7.2' | '10.0', fmt: string, file: string): M {
  const m = new M();
  m.ok('x-blockgraph-process-start', { qemu });
  m.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  m.ok('x-blockgraph-image-create', { file, format: fmt, size: '16M' });
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-A.sock' } } });
  m.ok('blockdev-add', { driver: 'file', 'node-name': 'cf', filename: file });
  m.ok('block-export-add', { type: 'nbd', id: 'e', 'node-name': 'cf', iothread: 'io0', 'fixed-iothread': true });
  return m;
}

function refused(m: M, args: Record<string, unknown>, why: RegExp): void {
  const h = stateHash(withoutIdCounters(m.state));
  const err = m.run('blockdev-add', args);
  assert.ok(err !== null, 'should be refused');
  assert.match(err!, why);
  assert.is(stateHash(withoutIdCounters(m.state)), h, 'state untouched');
}

const SEGV = /QEMU 7\.2 and 10\.0 crash here: segmentation fault in bdrv_qed_detach_aio_context/;

for (const qemu of ['7.2', '10.0'] as const) {
  for (const ro of [true, false]) {
    test(`${qemu}: qed over the pinned file node (read-only ${ro}): refused, SIGSEGV on QEMU`, () => {
      const m = pinned(qemu, 'qed', 'c.qed');
      refused(m, { driver: 'qed', 'node-name': 'c', file: 'cf', 'read-only': ro }, SEGV);
    });
  }
}

test('7.2: vdi over the pinned file node read-only: refused (qemu_mutex_unlock_impl)', () => {
  const m = pinned('7.2', 'vdi', 'v.vdi');
  refused(m, { driver: 'vdi', 'node-name': 'c', file: 'cf', 'read-only': true }, /qemu_mutex_unlock_impl: Operation not permitted/);
});

test('10.0: vdi over the pinned file node read-only: opened in io0', () => {
  const m = pinned('10.0', 'vdi', 'v.vdi');
  m.ok('blockdev-add', { driver: 'vdi', 'node-name': 'c', file: 'cf', 'read-only': true });
  assert.is(m.p().node('c')!.aio, 'io0');
});

test.run();
