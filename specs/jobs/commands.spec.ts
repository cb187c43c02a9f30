// The job commands end to end on the model: argument checks, job edges and perms (§2.2), verbs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { M, chain } from './helpers.js';

test('stream: COR filter over top, job edges with §2.2 perms, BB R/RWU', () => {
  const m = new M();
  chain(m);
  m.ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', 'filter-node-name': 'cor', 'auto-finalize': false });
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:created', 'JOB_STATUS_CHANGE:running']);
  const p = m.p();
  const jobEdges = p.children({ kind: 'job', job: 's0' }).map((e) => `${e.name}->${e.child} ${e.perm}/${e.shared}`).sort();
  assert.equal(jobEdges, ['active node->top 0/7', 'intermediate node->mid 0/5', 'main node->cor 0/15']);
  const bb = p.bbs().find((b) => b.owner.kind === 'job')!;
  assert.equal([bb.perm, bb.shared, bb.allowAioChange], [1, 7, true]);
  // COR over top: perm = R + U always, shared = RW + U
  assert.is(m.edge('cor', 'file'), 'top RU/RWU');
  assert.is(p.node('cor')!.implicit, false);
});

test('stream with nothing to copy (top directly above base) is pending at once', () => {
  const m = new M();
  chain(m);
  m.ok('block-stream', { 'job-id': 's0', device: 'mid', 'base-node': 'base', 'auto-finalize': false });
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:created', 'JOB_STATUS_CHANGE:running', 'JOB_STATUS_CHANGE:waiting', 'JOB_STATUS_CHANGE:pending', 'BLOCK_JOB_PENDING']);
});

test('stream finalize: filter gone, top relinked to base, header names base.qcow2, job gone (auto-dismiss)', () => {
  const m = new M();
  chain(m);
  m.ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', 'auto-finalize': false });
  m.ok('x-blockgraph-job-advance', { id: 's0', status: 'pending' });
  m.take();
  m.ok('job-finalize', { id: 's0' });
  assert.equal(m.take(), ['BLOCK_JOB_COMPLETED', 'JOB_STATUS_CHANGE:concluded', 'JOB_STATUS_CHANGE:null']);
  const p = m.p();
  assert.is(p.backing('top')!.child, 'base');
  assert.is(p.node('top')!.header!.backing, 'base.qcow2');
  assert.is(p.jobs().length, 0);
  assert.is(p.bbs().length, 0);
  assert.ok(!p.nodes().some((n) => n.driver === 'copy-on-read'));
});

test('stream of a read-only top: writable while it runs, read-only (with its file) afterwards', () => {
  const m = new M();
  chain(m, { topRo: true });
  m.ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', 'auto-finalize': false });
  assert.is(m.p().node('top')!.ro, false);
  assert.is(m.p().node('topf')!.ro, false);
  m.ok('x-blockgraph-job-advance', { id: 's0', status: 'pending' });
  m.ok('job-finalize', { id: 's0' });
  assert.is(m.p().node('top')!.ro, true);
  assert.is(m.p().node('topf')!.ro, true);
});

test('stream argument and chain errors in QEMU order', () => {
  const m = new M();
  chain(m);
  assert.is(m.run('block-stream', { 'job-id': 's0', device: 'top', base: 'x', 'base-node': 'base' }), "'base' and 'base-node' cannot be specified at the same time");
  assert.is(m.run('block-stream', { 'job-id': 's0', device: 'nosuch' }), "Cannot find device='nosuch' nor node-name='nosuch'");
  assert.is(m.run('block-stream', { 'job-id': 's0', device: 'mid', 'base-node': 'top' }), "Node 'top' is not a backing image of 'mid'");
  assert.is(m.run('block-stream', { 'job-id': '0bad', device: 'top' }), "Invalid job ID '0bad'");
  m.ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', speed: 1, 'auto-finalize': false });
  assert.is(m.run('block-stream', { 'job-id': 's0', device: 'mid', 'base-node': 'base' }), "Node 'mid' is busy: block device is in use by block job: stream");
});

test('intermediate commit: commit_top (read-only, never_freeze) above mid, BBs base RW/RU and mid -/all, refusing AioContext moves', () => {
  const m = new M();
  chain(m);
  m.ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'auto-finalize': false, 'auto-dismiss': false });
  const p = m.p();
  const ct = p.backing('top')!.child;
  assert.equal([p.node(ct)!.driver, p.node(ct)!.ro, p.node(ct)!.neverFreeze, p.node(ct)!.implicit], ['commit_top', true, true, true]);
  const bbs = p.bbs().map((b) => `${p.children({ kind: 'bb', bb: b.id })[0]!.child} ${b.perm}/${b.shared} ${b.allowAioChange}`).sort();
  assert.equal(bbs, ['base 3/5 false', 'mid 0/15 false']);
  assert.is(m.edge('mid', 'file'), 'midf RWZ/U');
  assert.is(m.run('block-commit', { 'job-id': 'c1', device: 'top', 'base-node': 'mid' }), 'Need a root block node');
  assert.is(m.run('job-complete', { id: 'c0' }), "Job 'c0' in state 'running' cannot accept command verb 'complete'");
  m.ok('x-blockgraph-job-advance', { id: 'c0', status: 'pending' });
  m.ok('job-finalize', { id: 'c0' });
  assert.is(m.p().backing('top')!.child, 'base');
  assert.is(m.p().jobs()[0]!.status, 'concluded');
  m.ok('job-dismiss', { id: 'c0' });
  assert.is(m.p().jobs().length, 0);
});

test('commit chain errors', () => {
  const m = new M();
  chain(m);
  assert.is(m.run('block-commit', { 'job-id': 'c0', device: 'nosuch' }), "Device 'nosuch' not found");
  assert.is(m.run('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'top' }), "'top' is not in this backing file chain");
  // base has an overlay parent: not a root
  assert.is(m.run('block-commit', { 'job-id': 'c0', device: 'base' }), 'Need a root block node');
  chain(m, { names: ['solo'] });
  assert.is(m.run('block-commit', { 'job-id': 'c0', device: 'solo' }), 'cannot commit an image into itself');
});

test('mirror: ready at advance, complete -> pending, finalize replaces source by target in the export', () => {
  const m = new M();
  chain(m, { names: ['a'] });
  chain(m, { names: ['t'] });
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  m.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'a', writable: true });
  m.ok('blockdev-mirror', { 'job-id': 'm0', device: 'a', target: 't', sync: 'full', 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(m.run('job-complete', { id: 'm0' }), "Job 'm0' in state 'running' cannot accept command verb 'complete'");
  m.take();
  m.ok('x-blockgraph-job-advance', { id: 'm0', status: 'pending' });
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:ready', 'BLOCK_JOB_READY']);
  m.ok('job-complete', { id: 'm0' });
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:waiting', 'JOB_STATUS_CHANGE:pending', 'BLOCK_JOB_PENDING']);
  m.ok('job-finalize', { id: 'm0' });
  const p = m.p();
  const exp = p.bbs().find((b) => b.owner.kind === 'export')!;
  assert.is(p.children({ kind: 'bb', bb: exp.id })[0]!.child, 't');
  assert.is(p.bbs().length, 1, 'the target BlockBackend is gone');
  assert.is(p.children({ kind: 'job', job: 'm0' }).length, 0);
});

test('verbs: pause/resume errors and settled statuses', () => {
  const m = new M();
  chain(m);
  m.ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(m.run('job-resume', { id: 'c0' }), "Can't resume a job that was not paused");
  m.ok('job-pause', { id: 'c0' });
  assert.is(m.p().job('c0')!.status, 'paused');
  assert.is(m.run('job-pause', { id: 'c0' }), 'Job is already paused');
  m.ok('x-blockgraph-job-advance', { id: 'c0', status: 'pending' });
  assert.is(m.p().job('c0')!.status, 'paused', 'a paused job makes no progress');
  m.ok('job-resume', { id: 'c0' });
  assert.is(m.p().job('c0')!.status, 'running');
  assert.is(m.run('job-finalize', { id: 'nosuch' }), 'Job not found');
  assert.is(m.run('block-job-set-speed', { device: 'nosuch', speed: 1 }), "Block job 'nosuch' not found");
  m.ok('block-job-set-speed', { device: 'c0', speed: 5 });
  assert.is(m.p().job('c0')!.speed, 5);
});

test('blockdev-snapshot: checks in order, old top read-only afterwards', () => {
  const m = new M();
  chain(m, { names: ['a'] });
  chain(m, { names: ['ov'] });
  m.ok('x-blockgraph-image-create', { file: 'r.raw', format: 'raw', size: '1M' });
  m.ok('blockdev-add', { driver: 'raw', 'node-name': 'r', file: { driver: 'file', filename: 'r.raw' } });
  assert.is(m.run('blockdev-snapshot', { node: 'x', overlay: 'ov' }), "Cannot find device='x' nor node-name='x'");
  assert.is(m.run('blockdev-snapshot', { node: 'a', overlay: 'r' }), 'The overlay does not support backing images');
  m.ok('blockdev-snapshot', { node: 'a', overlay: 'ov' });
  assert.is(m.p().node('a')!.ro, true);
  assert.is(m.p().node('ov')!.filename, '', 'backing differs from the header: json:{…} name');
  assert.is(m.run('blockdev-snapshot', { node: 'a', overlay: 'ov' }), "Node 'a' is busy: node is used as backing hd of 'ov'");
});

test.run();
