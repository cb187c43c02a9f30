// A path this daemon serves through its own FUSE export in the main loop: opening or creating it
// from a QMP command (raw_open_common's / raw_co_create's open(2)) waits for a FUSE reply that the
// export's handler in that same main loop would send; live on QSD 7.2.22 and 10.0.2 the daemon
// sits in request_wait_answer for ever (308-o-export-of-export-file as first written). Refused as
// that hang, state untouched; an export in an iothread answers from there (live on 7.2.22).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { M } from '../jobs/helpers.js';

const HANG = /is the mountpoint of this daemon's FUSE export 'e' in the main loop \(QEMU hangs here: raw_open_common's open\(2\)/;
const HANG_E2 = /is the mountpoint of this daemon's FUSE export 'e2' in the main loop \(QEMU hangs here: raw_co_create's open\(2\)/;

for (const version of [undefined, '10.0']) {
  test(`${version ?? '7.2'}: an open or create of the own main-loop FUSE mountpoint is refused as the hang`, () => {
    const m = new M();
    if (version) m.ok('x-blockgraph-process-start', { qemu: version });
    m.ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
    m.ok('x-blockgraph-image-create', { file: 'm.raw', format: 'raw', size: '1M' });
    m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' } });
    m.ok('block-export-add', { type: 'fuse', id: 'e', 'node-name': 'a', mountpoint: 'a.qcow2' });
    m.ok('block-export-add', { type: 'fuse', id: 'e2', 'node-name': 'a', mountpoint: 'm.raw' });
    const h = stateHash(withoutIdCounters(m.state));
    // a second node on the image's own file, now the export's mountpoint
    assert.match(m.run('blockdev-add', { driver: 'raw', 'node-name': 'r', 'read-only': true, file: { driver: 'file', filename: 'a.qcow2', locking: 'off' } }) ?? '', HANG);
    // bdrv_img_create's raw_co_create for a snapshot overlay at another mountpoint
    assert.match(m.run('blockdev-snapshot-sync', { 'node-name': 'a', 'snapshot-file': 'm.raw', 'snapshot-node-name': 's', format: 'qcow2' }) ?? '', HANG_E2);
    assert.is(stateHash(withoutIdCounters(m.state)), h, 'state untouched');
    // once the export is gone, the path opens as before
    m.ok('block-export-del', { id: 'e2' });
    m.ok('blockdev-add', { driver: 'raw', 'node-name': 'r', file: { driver: 'file', filename: 'm.raw' } });
  });

  test(`${version ?? '7.2'}: the mountpoint of an export in an iothread opens`, () => {
    const m = new M();
    if (version) m.ok('x-blockgraph-process-start', { qemu: version });
    m.ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
    m.ok('x-blockgraph-image-create', { file: 'm.raw', format: 'raw', size: '1M' });
    m.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
    m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' } });
    m.ok('block-export-add', { type: 'fuse', id: 'e', 'node-name': 'a', mountpoint: 'm.raw', iothread: 'io0' });
    m.ok('blockdev-add', { driver: 'raw', 'node-name': 'r', 'read-only': true, file: { driver: 'file', filename: 'm.raw', locking: 'off' } });
  });
}

test.run();
