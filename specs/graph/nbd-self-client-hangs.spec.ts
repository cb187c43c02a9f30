// An `nbd` client node of the daemon's own NBD server: nbd_open's nbd_do_establish_connection
// (a generated_co_wrapper: BDRV_POLL_WHILE on the node's AioContext) waits for the greeting the
// server would send from its listener's GSource in the main loop, which that poll never runs.
// Live on QSD 7.2.22 and 10.0.2 the daemon never answers again (nor dies of SIGTERM). The model
// refuses it as that hang, before the export is even looked up (the negotiation never starts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { M } from '../jobs/helpers.js';

for (const version of [undefined, '10.0']) {
  test(`${version ?? '7.2'}: a client of the own export is refused as the hang, state untouched`, () => {
    const m = new M();
    if (version) m.ok('x-blockgraph-process-start', { qemu: version });
    m.ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
    m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' } });
    m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'self.sock' } } });
    m.ok('block-export-add', { type: 'nbd', id: 'e', 'node-name': 'a', writable: true });
    const h = stateHash(withoutIdCounters(m.state));
    for (const exp of ['a', 'nosuch']) {
      const err = m.run('blockdev-add', { driver: 'nbd', 'node-name': 'c', server: { type: 'unix', path: 'self.sock' }, export: exp });
      assert.match(err ?? '', /is this daemon's own \(QEMU hangs here: nbd_open -> nbd_do_establish_connection/);
      assert.is(stateHash(withoutIdCounters(m.state)), h, 'state untouched');
    }
    // a server nobody started is still refused by connect(2)
    assert.is(m.run('blockdev-add', { driver: 'nbd', 'node-name': 'c', server: { type: 'unix', path: 'other.sock' }, export: 'a' }),
      "Failed to connect to 'other.sock': No such file or directory");
  });
}

test.run();
