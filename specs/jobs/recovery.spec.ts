// Issue 5.4: jobs found unfinished at engine recovery are cancelled deterministically.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import { applyChanges } from '../../graph/apply.js';
import { cancelOrphanedJobs } from '../../graph/jobs/recovery.js';
import { M, chain } from './helpers.js';

function recover(m: M) {
  const d = new Draft(m.state);
  const p = new Proc(d, 'A');
  const events = cancelOrphanedJobs(p);
  let state = m.state;
  for (const s of d.steps()) state = applyChanges(state, s.changes);
  m.state = state;
  return events.map((e) => (e.event === 'JOB_STATUS_CHANGE' ? `${e.data.id}:${e.data.status}` : `${e.event}:${e.data.device}`));
}

test('a running commit and a running stream: links unfrozen, filters gone, BlockBackends released', () => {
  const m = new M();
  chain(m, { names: ['b0', 'b1', 'b2', 'b3', 'b4'] });
  chain(m, { names: ['x0', 'x1', 'x2'] });
  m.ok('block-commit', { 'job-id': 'c0', device: 'b4', 'top-node': 'b2', 'base-node': 'b1', 'filter-node-name': 'cf', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  m.ok('block-stream', { 'job-id': 's0', device: 'x2', 'base-node': 'x0', speed: 1, 'auto-finalize': false });
  m.ok('job-pause', { id: 's0' });
  assert.ok(m.frozen().length > 0);
  const ev = recover(m);
  // creation order: c0 first, then s0; commit keeps its concluded job (no auto-dismiss), stream goes
  assert.equal(ev, [
    'c0:aborting', 'BLOCK_JOB_CANCELLED:c0', 'c0:concluded',
    's0:aborting', 'BLOCK_JOB_CANCELLED:s0', 's0:concluded', 's0:null',
  ]);
  const p = m.p();
  assert.equal(m.frozen(), []);
  assert.ok(!p.nodes().some((n) => n.driver === 'commit_top' || n.driver === 'copy-on-read'));
  assert.is(p.bbs().length, 0);
  assert.is(p.backing('b3')!.child, 'b2');
  assert.is(p.backing('b4')!.child, 'b3');
  assert.is(p.backing('x2')!.child, 'x1');
  assert.equal(p.jobs().map((j) => `${j.id}:${j.status}`), ['c0:concluded']);
  // the chain is usable again: a new job may take it
  m.ok('job-dismiss', { id: 'c0' });
  m.ok('block-commit', { 'job-id': 'c1', device: 'b4', 'top-node': 'b2', 'base-node': 'b1', 'auto-finalize': false, 'auto-dismiss': false });
});

test('recovery is a no-op without jobs and leaves concluded jobs alone', () => {
  const m = new M();
  chain(m);
  assert.equal(recover(m), []);
  m.ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'auto-finalize': false, 'auto-dismiss': false });
  m.ok('job-cancel', { id: 'c0' });
  const before = JSON.stringify(m.state);
  assert.equal(recover(m), []);
  assert.is(JSON.stringify(m.state), before);
});

test('recovery of an active commit removes mirror_top and puts the export back on top', () => {
  const m = new M();
  chain(m);
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  m.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true });
  m.ok('block-commit', { 'job-id': 'ac', device: 'top', 'auto-finalize': false, 'auto-dismiss': false });
  m.ok('x-blockgraph-job-advance', { id: 'ac', status: 'ready' });
  recover(m);
  const p = m.p();
  assert.equal(m.frozen(), []);
  const exp = p.bbs().find((b) => b.owner.kind === 'export')!;
  assert.is(p.children({ kind: 'bb', bb: exp.id })[0]!.child, 'top');
  assert.ok(!p.nodes().some((n) => n.driver === 'mirror_top'));
});

test.run();
