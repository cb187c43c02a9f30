// vduse-blk exports (block/export/vduse-blk.c vduse_blk_exp_create): the option checks come in
// QEMU's order after blk_exp_add's own, and on a host without /dev/vduse/control (the model's)
// vduse_dev_create fails: no export, the node back in the main loop, its BlockBackend gone.
// Live: oracle/transcripts/combo-c14-b3-vduse-blk-* (7.2 and 10.0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { M } from '../jobs/helpers.js';

for (const version of [undefined, '10.0']) {
  test(`${version ?? '7.2'}: vduse-blk's checks, then the device it cannot create`, () => {
    const m = new M();
    if (version) m.ok('x-blockgraph-process-start', { qemu: version });
    m.ok('x-blockgraph-image-create', { file: 'a.img', format: 'raw', size: '1M' });
    m.ok('blockdev-add', { driver: 'raw', 'node-name': 'a', file: { driver: 'file', 'node-name': 'a-f', filename: 'a.img' } });
    m.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
    const add = (extra: Record<string, unknown>) => m.run('block-export-add', { type: 'vduse-blk', id: 'u', 'node-name': 'a', name: 'x', ...extra });
    assert.is(add({ 'num-queues': 0, 'queue-size': 3 }), 'num-queues must be greater than 0');
    for (const q of [2, 100, 2048]) assert.is(add({ 'queue-size': q }), 'queue-size is invalid');
    assert.is(add({ 'queue-size': 1024, 'logical-block-size': 1000 }), version
      ? 'parameter logical-block-size must be a power of 2 between 512 and 2097152'
      : "Property u.logical-block-size doesn't take value '1000', it's not a power of 2");
    assert.is(add({ iothread: 'io0', 'fixed-iothread': true, writable: true }), 'failed to create vduse device');
    assert.is(m.p().exports().length, 0);
    assert.is(m.p().node('a')?.aio, 'main');
    assert.equal(m.p().parents('a').filter((e) => e.parent.kind === 'bb'), []);
  });
}

test.run();
