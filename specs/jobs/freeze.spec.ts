// Frozen backing links (§6): a bool per edge, all-or-nothing freezing, QEMU's texts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import { QmpError } from '../../errors/index.js';
import { chainFrozenError, freezeChain, unfreezeChain } from '../../graph/jobs/freeze.js';
import { M, chain } from './helpers.js';

const frozenOf = (p: Proc) => p.edges().filter((e) => e.frozen).map((e) => `${(e.parent as { node: string }).node}->${e.child}`).sort();

function throwsQmp(fn: () => void, desc: string) {
  try {
    fn();
  } catch (e) {
    assert.instance(e, QmpError);
    assert.is((e as QmpError).desc, desc);
    return;
  }
  assert.unreachable(`expected "${desc}"`);
}

test('freeze sets every link from top down to base (exclusive) and unfreeze clears them', () => {
  const m = new M();
  chain(m);
  const p = new Proc(new Draft(m.state), 'A');
  freezeChain(p, 'top', 'base');
  assert.equal(frozenOf(p), ['mid->base', 'top->mid']);
  unfreezeChain(p, 'top', 'base');
  assert.equal(frozenOf(p), []);
  freezeChain(p, 'top', 'mid');
  assert.equal(frozenOf(p), ['top->mid']);
});

test('freezing over a frozen link names that link; nothing else gets frozen', () => {
  const m = new M();
  chain(m);
  const p = new Proc(new Draft(m.state), 'A');
  freezeChain(p, 'mid', 'base');
  assert.is(chainFrozenError(p, 'top', 'base'), "Cannot change 'backing' link from 'mid' to 'base'");
  throwsQmp(() => freezeChain(p, 'top', 'base'), "Cannot change 'backing' link from 'mid' to 'base'");
  assert.equal(frozenOf(p), ['mid->base']);
});

test('a never_freeze child refuses: "Cannot freeze \'backing\' link to …"', () => {
  const m = new M();
  chain(m);
  // a running intermediate commit puts a commit_top (never_freeze) named cf between top and mid
  m.ok('block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', 'filter-node-name': 'cf', 'auto-finalize': false, 'auto-dismiss': false });
  const p = new Proc(new Draft(m.state), 'A');
  throwsQmp(() => freezeChain(p, 'top', 'cf'), "Cannot freeze 'backing' link to 'cf'");
  // the frozen check runs over the whole range before the never_freeze check
  throwsQmp(() => freezeChain(p, 'top', 'mid'), "Cannot change 'backing' link from 'cf' to 'mid'");
  // the commit froze cf -> mid -> base, into base
  assert.equal(frozenOf(p), ['cf->mid', 'mid->base']);
});

test('jobs: stream freezes filter -> top -> mid but not mid -> base; reopen-free after the job', () => {
  const m = new M();
  chain(m);
  m.ok('block-stream', { 'job-id': 's0', device: 'top', 'base-node': 'base', 'filter-node-name': 'cor', 'auto-finalize': false });
  assert.equal(m.frozen(), ['cor-[file]->top', 'top-[backing]->mid']);
  m.ok('x-blockgraph-job-advance', { id: 's0', status: 'pending' });
  m.ok('job-finalize', { id: 's0' });
  assert.equal(m.frozen(), []);
});

test('jobs: active commit freezes mirror_top -> top -> mid -> base', () => {
  const m = new M();
  chain(m);
  m.ok('block-commit', { 'job-id': 'ac', device: 'top', 'filter-node-name': 'mt', 'auto-finalize': false, 'auto-dismiss': false });
  assert.equal(m.frozen(), ['mid-[backing]->base', 'mt-[backing]->top', 'top-[backing]->mid']);
  m.ok('job-cancel', { id: 'ac' });
  assert.equal(m.frozen(), []);
});

test.run();
