// qmp_transaction (issue 12 cause 7): all prepares, then commits, then cleans; a failing action
// undoes the ones before it, and the refusal leaves the state as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { withoutIdCounters } from '../../graph/id-counter.js';
import { HOST, type State } from '../../graph/types.js';
import { chain, M } from './helpers.js';

/** The state without one host image: what bdrv_img_create wrote stays after a refusal (graph/images.ts). */
function withoutImage(s: State, file: string): State {
  const host = s[HOST];
  if (!host?.images) return s;
  const images = { ...host.images };
  delete images[file];
  return { ...s, [HOST]: { ...host, images } } as State;
}

function setup(): M {
  const m = new M();
  chain(m, { names: ['a'] });
  chain(m, { names: ['b'] });
  chain(m, { names: ['ov'] });
  return m;
}

test('an Abort action after a snapshot-sync undoes the snapshot (no node); the image it created stays', () => {
  const m = setup();
  const h = stateHash(withoutIdCounters(m.state));
  assert.is(m.run('transaction', { actions: [
    { type: 'blockdev-snapshot-sync', data: { 'node-name': 'a', 'snapshot-file': 's1.qcow2', 'snapshot-node-name': 's1' } },
    { type: 'abort', data: {} },
  ] }), 'Transaction aborted using Abort action');
  assert.is(m.p().node('s1'), undefined);
  // no .abort deletes the file bdrv_img_create wrote (recorded: fuzz-refused-create-keeps-image)
  assert.is(m.p().image('s1.qcow2')?.backing, 'a.qcow2');
  assert.is(stateHash(withoutImage(withoutIdCounters(m.state), 's1.qcow2')), h);
});

test('two snapshots in one transaction: both appended, both old tops read-only after commit', () => {
  const m = setup();
  // an export on a: the overlay takes its place and so stays (clean drops only the open's reference)
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd-A.sock' } } });
  m.ok('block-export-add', { type: 'nbd', id: 'ea', 'node-name': 'a', writable: true });
  m.ok('transaction', { actions: [
    { type: 'blockdev-snapshot-sync', data: { 'node-name': 'a', 'snapshot-file': 's1.qcow2', 'snapshot-node-name': 's1' } },
    { type: 'blockdev-snapshot', data: { node: 'b', overlay: 'ov' } },
  ] });
  assert.is(m.edge('s1', 'backing')?.split(' ')[0], 'a');
  assert.is(m.edge('ov', 'backing')?.split(' ')[0], 'b');
  assert.is(m.p().node('a')!.ro, true);
  assert.is(m.p().node('b')!.ro, true);
  assert.is(m.p().node('s1')!.header?.backing, 'a.qcow2', 'the created image names the old top');
});

test('the second action failing undoes the first; checks of snapshot-sync in QEMU order', () => {
  const m = setup();
  const h = stateHash(withoutIdCounters(m.state));
  assert.is(m.run('transaction', { actions: [
    { type: 'blockdev-snapshot-sync', data: { 'node-name': 'a', 'snapshot-file': 's1.qcow2', 'snapshot-node-name': 's1' } },
    { type: 'blockdev-snapshot', data: { node: 'b', overlay: 'nosuch' } },
  ] }), "Cannot find device='nosuch' nor node-name='nosuch'");
  assert.is(stateHash(withoutImage(withoutIdCounters(m.state), 's1.qcow2')), h);
  assert.is(m.run('blockdev-snapshot-sync', { 'node-name': 'a', 'snapshot-file': 'x.qcow2' }), 'New overlay node-name missing');
  assert.is(m.run('blockdev-snapshot-sync', { 'node-name': 'a', 'snapshot-file': 'x.qcow2', 'snapshot-node-name': 'b' }), 'New overlay node-name already in use');
  assert.is(m.run('transaction', { actions: [{ type: 'blockdev-snapshot', data: { node: 'b', overlay: 'ov' } }], properties: { 'completion-mode': 'grouped' } }),
    "Action 'blockdev-snapshot' does not support Transaction property completion-mode = grouped");
  assert.is(stateHash(withoutImage(withoutIdCounters(m.state), 's1.qcow2')), h);
});

// checked on QSD 7.2: the overlay is gone after the command, a is read-only
test('snapshot-sync of a node nothing uses: clean closes the overlay again, the old top stays read-only', () => {
  const m = setup();
  m.ok('blockdev-snapshot-sync', { 'node-name': 'a', 'snapshot-file': 's1.qcow2', 'snapshot-node-name': 's1' });
  assert.is(m.p().node('s1'), undefined);
  assert.is(m.p().node('a')!.ro, true);
});

test.run();
