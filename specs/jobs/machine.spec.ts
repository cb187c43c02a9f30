// The job statechart against QEMU's job.c tables (hand-copied expectations).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jobCreate, jobStep, verbAllowed, type JobEffect, type JobSnapshot } from '../../machines/job.js';

const names = (fx: JobEffect[]) => fx.map((f) => (f.kind === 'graph' ? `@${f.op}` : f.event === 'JOB_STATUS_CHANGE' ? String(f.data.status) : f.event));

function make(autoFinalize: boolean, autoDismiss: boolean) {
  const c = jobCreate({ id: 'j0', type: 'commit', autoFinalize, autoDismiss, speed: 0 });
  assert.equal(names(c.effects), ['created']);
  return c.snapshot;
}
function step(s: JobSnapshot, e: Parameters<typeof jobStep>[1]) { return jobStep(s, e); }

test('verb table: pending accepts only cancel and finalize', () => {
  for (const v of ['cancel', 'finalize'] as const) assert.ok(verbAllowed('pending', v), v);
  for (const v of ['pause', 'resume', 'set-speed', 'complete', 'dismiss', 'change'] as const) assert.not.ok(verbAllowed('pending', v), v);
  assert.ok(verbAllowed('ready', 'complete'));
  assert.not.ok(verbAllowed('running', 'complete'));
  assert.ok(verbAllowed('concluded', 'dismiss'));
  assert.not.ok(verbAllowed('concluded', 'cancel'));
  assert.ok(verbAllowed('standby', 'resume'));
  assert.not.ok(verbAllowed('waiting', 'pause'));
});

test('a refused verb gives QEMU text and changes nothing', () => {
  let s = step(make(false, false), { type: 'START' }).snapshot;
  s = step(s, { type: 'DONE' }).snapshot;
  assert.is(s.context.status, 'pending');
  const r = step(s, { type: 'VERB', verb: 'set-speed' });
  assert.is(r.error, "Job 'j0' in state 'pending' cannot accept command verb 'set-speed'");
  assert.is(r.snapshot.context.status, 'pending');
  assert.is(step(s, { type: 'VERB', verb: 'finalize' }).error, null);
});

test('manual finalize: waiting, pending + BLOCK_JOB_PENDING; finalize runs prepare/commit/clean then COMPLETED, concluded', () => {
  let s = step(make(false, false), { type: 'START' }).snapshot;
  const done = step(s, { type: 'DONE' });
  assert.equal(names(done.effects), ['waiting', 'pending', 'BLOCK_JOB_PENDING']);
  s = done.snapshot;
  const fin = step(s, { type: 'FINALIZE' });
  assert.equal(names(fin.effects), ['@prepare', '@commit', '@clean', 'BLOCK_JOB_COMPLETED', 'concluded']);
  const dis = step(fin.snapshot, { type: 'DISMISS' });
  assert.equal(names(dis.effects), ['null', '@free']);
});

test('auto-finalize and auto-dismiss run straight through, without BLOCK_JOB_PENDING', () => {
  const s = step(make(true, true), { type: 'START' }).snapshot;
  const r = step(s, { type: 'DONE' });
  assert.equal(names(r.effects), ['waiting', 'pending', '@prepare', '@commit', '@clean', 'BLOCK_JOB_COMPLETED', 'concluded', 'null', '@free']);
  assert.is(r.snapshot.context.status, 'null');
});

test('cancel: aborting, abort and clean, BLOCK_JOB_CANCELLED, concluded (null only with auto-dismiss)', () => {
  const s = step(make(false, false), { type: 'START' }).snapshot;
  assert.equal(names(step(s, { type: 'CANCEL' }).effects), ['aborting', '@abort', '@clean', 'BLOCK_JOB_CANCELLED', 'concluded']);
  const t = step(make(false, true), { type: 'START' }).snapshot;
  assert.equal(names(step(t, { type: 'CANCEL' }).effects), ['aborting', '@abort', '@clean', 'BLOCK_JOB_CANCELLED', 'concluded', 'null', '@free']);
});

test('ready and pause: READY then BLOCK_JOB_READY; pause of a ready job is standby', () => {
  const s = step(make(false, false), { type: 'START' }).snapshot;
  const r = step(s, { type: 'READY' });
  assert.equal(names(r.effects), ['ready', 'BLOCK_JOB_READY']);
  const p = step(r.snapshot, { type: 'PAUSE' });
  assert.is(p.snapshot.context.status, 'standby');
  assert.is(step(p.snapshot, { type: 'RESUME' }).snapshot.context.status, 'ready');
  assert.is(step(s, { type: 'PAUSE' }).snapshot.context.status, 'paused');
});

test.run();
