// stream_start's fail path (QEMU 7.2 and 10.0): job_early_fail never unrefs s->blk, so the
// BlockBackend leaks onto the streamed node; a read-only top is reopened read-only again.
// Live evidence: oracle/transcripts/stream-fail-leaked-backend-effects.json and neighbours.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockBackendName } from '../../replay/names.js';
import { chain, M } from './helpers.js';

/** top over mid over base, with a writable NBD export on mid: the stream cannot hold mid. */
function leaked(m: M): void {
  chain(m);
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  m.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'mid', writable: true });
  m.take();
  const e = m.run('block-stream', { 'job-id': 'j0', device: 'top', 'auto-finalize': false });
  assert.match(e ?? '', /^Permission conflict on node 'mid'/);
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:created', 'JOB_STATUS_CHANGE:null']);
}

test('a stream refused at an intermediate node leaves its BlockBackend on the top', () => {
  const m = new M();
  leaked(m);
  const p = m.p();
  assert.is(p.job('j0'), undefined);
  const bbs = p.bbs().filter((b) => b.owner.kind === 'leak');
  assert.is(bbs.length, 1);
  assert.equal(bbs[0].owner, { kind: 'leak', id: 'j0', role: 'stream' });
  assert.is(blockBackendName(bbs[0].owner, bbs[0].id), 'blk(LEAKED by stream job j0)');
  const root = p.children({ kind: 'bb', bb: bbs[0].id })[0];
  assert.is(root.child, 'top');
  // the leaked parent takes consistent-read on the top, which qcow2 passes down its backing link
  assert.is(m.edge('top', 'backing'), 'mid R/RWUZ');
  assert.is(m.run('blockdev-del', { 'node-name': 'top' }), 'Node top is in use');
  assert.match(m.run('block_resize', { 'node-name': 'top', size: 1 << 24 }) ?? '', /permissions 'resize' are both required by an unnamed block device/);
});

test('a later job with the same id does not free the leaked BlockBackend', () => {
  const m = new M();
  leaked(m);
  m.ok('block-export-del', { id: 'e0' });
  m.ok('block-stream', { 'job-id': 'j0', device: 'top', 'auto-finalize': false });
  m.ok('job-cancel', { id: 'j0' });
  const p = m.p();
  assert.is(p.job('j0'), undefined);
  assert.is(p.bbs().filter((b) => b.owner.kind === 'leak').length, 1);
});

test('a read-only top is read-only again after the fail path, even where the leak does not happen', () => {
  const m = new M();
  chain(m, { topRo: true });
  // the top's file node read-write on its own: the fail path's reopen takes it read-only again
  m.ok('blockdev-reopen', { options: [{ driver: 'file', filename: 'top.qcow2', 'node-name': 'topf' }] });
  assert.is(m.p().node('topf')!.ro, false);
  assert.is(m.run('block-stream', { 'job-id': '1bad', device: 'top' }), "Invalid job ID '1bad'");
  assert.is(m.p().node('topf')!.ro, true);
  assert.is(m.p().bbs().length, 0);
});

test.run();
