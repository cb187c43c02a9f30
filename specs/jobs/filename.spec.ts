// bdrv_refresh_filename as the graph changes (what query-named-block-nodes reports as `file`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { M, chain } from './helpers.js';

test('qcow2: its image name only while the backing is what the header names', () => {
  const m = new M();
  chain(m);
  assert.is(m.p().node('top')!.filename, 'top.qcow2');
  m.ok('x-blockgraph-image-create', { file: 'lone.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  // header names base.qcow2 but no backing is opened: overridden -> json:{…}
  m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'lone', file: { driver: 'file', filename: 'lone.qcow2' }, backing: null });
  assert.is(m.p().node('lone')!.filename, '');
});

test('job filters: implicit ones copy their child, commit_top its backing, a named copy-on-read has none; parents follow', () => {
  const m = new M();
  chain(m, { names: ['b0', 'b1', 'b2', 'b3'] });
  m.ok('block-commit', { 'job-id': 'c0', device: 'b3', 'top-node': 'b2', 'base-node': 'b0', 'filter-node-name': 'cf', 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(m.p().node('cf')!.filename, 'b2.qcow2');
  // b3's backing is cf, whose name is b2.qcow2 = b3's header: b3 keeps its name
  assert.is(m.p().node('b3')!.filename, 'b3.qcow2');
  m.ok('job-cancel', { id: 'c0' });
  m.ok('block-stream', { 'job-id': 's0', device: 'b1', 'base-node': 'b0', 'filter-node-name': 'cor', 'auto-finalize': false });
  assert.is(m.p().node('cor')!.filename, '');
  // b2's backing is now the json-named filter: b2 is json too, and so is b3 above it
  assert.is(m.p().node('b2')!.filename, '');
  assert.is(m.p().node('b3')!.filename, '');
  m.ok('x-blockgraph-job-advance', { id: 's0', status: 'pending' });
  m.ok('job-finalize', { id: 's0' });
  assert.is(m.p().node('b2')!.filename, 'b2.qcow2');
  assert.is(m.p().node('b3')!.filename, 'b3.qcow2');
});

test.run();
