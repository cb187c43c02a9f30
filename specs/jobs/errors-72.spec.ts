// Issue 12 root causes 5/6: QEMU 7.2's texts and events where a job command is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { jobCreate, jobStep } from '../../machines/job.js';
import { chain, graphHash, M } from './helpers.js';

test('a negative speed: the job is created and fails early (created -> null), state untouched', () => {
  for (const [cmd, args] of [
    ['block-stream', { 'job-id': 'j', device: 'top', speed: -1 }],
    ['block-commit', { 'job-id': 'j', device: 'top', 'top-node': 'mid', speed: -2 }],
    ['block-commit', { 'job-id': 'j', device: 'top', speed: -3 }],
  ] as const) {
    const m = new M();
    chain(m);
    m.take();
    // the filter the job inserted took a generated name first: the counter stays advanced (id_generate)
    const h = graphHash(m.state);
    assert.is(m.run(cmd, args), "Parameter 'speed' expects a non-negative value", cmd);
    assert.equal(m.take(), ['JOB_STATUS_CHANGE:created', 'JOB_STATUS_CHANGE:null'], cmd);
    assert.is(graphHash(m.state), h, cmd);
  }
});

test('a refusal before the job exists sends no event', () => {
  const m = new M();
  chain(m);
  m.take();
  assert.is(m.run('block-stream', { 'job-id': 'j', device: 'top', 'base-node': 'base', bottom: 'mid' }), "'bottom' and 'base-node' cannot be specified at the same time");
  assert.equal(m.take(), []);
});

test('block-job-cancel of a user-paused job needs force; block_resize of a held node', () => {
  const m = new M();
  chain(m);
  m.ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.is(m.run('block-job-set-speed', { device: 'c0', speed: -1 }), "Parameter 'speed' expects a non-negative value");
  assert.is(m.run('block_resize', { 'node-name': 'mid', size: 1 << 25 }), "Device '(null)' is in use");
  assert.is(m.run('block_resize', { device: 'x', 'node-name': 'mid', size: 1 << 25 }), "Device 'x' is in use");
  assert.is(m.run('block_resize', { device: 'top', size: 1 << 25 }), "Cannot find device='top' nor node-name=''");
  m.ok('job-pause', { id: 'c0' });
  const h = stateHash(m.state);
  assert.is(m.run('block-job-cancel', { device: 'c0' }), "The block job for device 'c0' is currently paused");
  assert.is(stateHash(m.state), h);
  m.ok('job-cancel', { id: 'c0' }); // job-cancel has no such check
  assert.is(m.p().job('c0')!.status, 'concluded');
});

test('mirror onto a target of another size: the job fails at once, its error in BLOCK_JOB_COMPLETED', () => {
  const m = new M();
  chain(m, { names: ['src'] });
  m.ok('x-blockgraph-image-create', { file: 'big.qcow2', format: 'qcow2', size: '2M' });
  m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'big', file: { driver: 'file', filename: 'big.qcow2' }, backing: null });
  m.take();
  m.ok('blockdev-mirror', { 'job-id': 'm0', device: 'src', target: 'big', sync: 'full', 'auto-finalize': false, 'auto-dismiss': false });
  const completed = m.events.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  assert.equal(completed?.data?.error, 'Source and target image have different sizes');
  assert.equal(m.take(), ['JOB_STATUS_CHANGE:created', 'JOB_STATUS_CHANGE:running', 'JOB_STATUS_CHANGE:aborting', 'BLOCK_JOB_COMPLETED', 'JOB_STATUS_CHANGE:concluded']);
  assert.is(m.p().job('m0')!.error, 'Source and target image have different sizes');
  assert.is(m.p().node('src')!.driver, 'qcow2');
  assert.ok(!m.p().parents('src').some((e) => e.parent.kind === 'node'), 'mirror_top is gone');
});

test('machine: a failed .prepare aborts (COMPLETED with the error); a cancelled job still says CANCELLED', () => {
  let s = jobCreate({ id: 'j', type: 'commit', autoFinalize: false, autoDismiss: false, speed: 0 }).snapshot;
  for (const e of [{ type: 'START' }, { type: 'DONE' }] as const) s = jobStep(s, e).snapshot;
  assert.is(s.context.status, 'pending');
  const r = jobStep(s, { type: 'PREPARE_FAILED', error: 'Input/output error' });
  assert.is(r.snapshot.context.status, 'concluded');
  const evs = r.effects.map((f) => (f.kind === 'emit' ? `${f.event}${f.event === 'BLOCK_JOB_COMPLETED' ? ':' + String(f.data.error) : ''}` : f.op));
  assert.equal(evs, ['JOB_STATUS_CHANGE', 'abort', 'clean', 'BLOCK_JOB_COMPLETED:Input/output error', 'JOB_STATUS_CHANGE']);
  const c = jobStep(s, { type: 'CANCEL' });
  assert.ok(c.effects.some((f) => f.kind === 'emit' && f.event === 'BLOCK_JOB_CANCELLED'));
});

test.run();
