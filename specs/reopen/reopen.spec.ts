// blockdev-reopen rules with hand-derived expectations (reference §5, seeds 000 and 003).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Draft } from '../../graph/draft.js';
import { applyChanges } from '../../graph/apply.js';
import { Proc } from '../../graph/proc.js';
import { planReopen } from '../../graph/reopen/plan.js';
import type { State } from '../../graph/types.js';
import { executeCommand } from '../../commands/model.js';
import { EMPTY_LIST_ERROR, reopenNext, reopenStart } from '../../machines/reopen.js';

function run(state: State, cmd: string, args: unknown) {
  const r = executeCommand(state, 'A', cmd, args);
  return r;
}
function ok(state: State, cmd: string, args: unknown): State {
  const r = run(state, cmd, args);
  assert.ok('return' in r.reply, `${cmd} failed: ${JSON.stringify(r.reply)}`);
  return r.state;
}
const errOf = (r: ReturnType<typeof run>) => ('error' in r.reply ? r.reply.error.desc : null);

/** base <- mid <- top, all explicit, each with a named inline file node. */
function chain(): State {
  let s: State = {};
  for (const [f, b] of [['base.qcow2', undefined], ['mid.qcow2', 'base.qcow2'], ['top.qcow2', 'mid.qcow2']] as const) {
    s = ok(s, 'x-blockgraph-image-create', { file: f, format: 'qcow2', size: '1M', ...(b ? { backing: b } : {}) });
  }
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'basef' }, backing: null });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'mid', file: { driver: 'file', filename: 'mid.qcow2', 'node-name': 'midf' }, backing: 'base' });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'topf' }, backing: 'mid' });
  return s;
}

function mutate(s: State, fn: (p: Proc) => void): State {
  const d = new Draft(s);
  fn(new Proc(d, 'A'));
  let next = s;
  for (const st of d.steps()) next = applyChanges(next, st.changes);
  return next;
}

test('a frozen backing link cannot be changed (edge, parent, current child named)', () => {
  let s = chain();
  s = mutate(s, (p) => p.patchEdge(p.backing('mid')!.id, { frozen: true }));
  const r = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'mid', file: 'midf', backing: null }] });
  assert.is(errOf(r), "Cannot change frozen 'backing' link from 'mid' to 'base'");
  assert.is(r.state, s);
  // keeping the same backing is no change, so the frozen link does not matter
  assert.is(errOf(run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'mid', file: 'midf', backing: 'base' }] })), null);
});

test('an implicit job filter: naming the node below it is no change; replacing it is refused', () => {
  let s = chain();
  // an implicit filter f between top and mid, as a commit job puts it there
  s = mutate(s, (p) => {
    p.putNode({ ...p.node('mid')!, name: 'f', driver: 'commit_top', implicit: true, options: {}, order: 999, monitor: false });
    const e = p.backing('top')!;
    p.patchEdge(e.id, { child: 'f' });
    p.putEdge({ ...e, id: 'e9999', parent: { kind: 'node', node: 'f' }, child: 'mid', at: 9999 });
  });
  const same = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: 'topf', backing: 'mid' }] });
  assert.is(errOf(same), null);
  const other = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: 'topf', backing: 'base' }] });
  assert.is(errOf(other), 'Cannot replace implicit backing child of top');
});

test('cycle checks: a node below (or the node itself) cannot become the backing', () => {
  const s = chain();
  assert.is(errOf(run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'base', file: 'basef', backing: 'top' }] })),
    "Making 'top' a backing child of 'base' would create a cycle");
  assert.is(errOf(run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: 'topf', backing: 'top' }] })),
    "Making 'top' a backing child of 'top' would create a cycle");
});

test('the list is one transaction: a bad second element leaves the first node unchanged', () => {
  const s = chain();
  const r = run(s, 'blockdev-reopen', {
    options: [
      { driver: 'qcow2', 'node-name': 'base', 'read-only': true, file: 'basef', backing: null },
      { driver: 'qcow2', 'node-name': 'top', file: 'topf', backing: 'mid', 'l2-cache-entry-size': 1000 },
    ],
  });
  assert.is(errOf(r), 'L2 cache entry size must be a power of two between 512 and the cluster size (65536)');
  assert.is(r.state, s);
  assert.is(r.steps.length, 0);
});

test('an empty list is refused (QEMU 7.2 and 10.0 abort on it)', () => {
  const s = chain();
  const r = run(s, 'blockdev-reopen', { options: [] });
  assert.is(errOf(r), EMPTY_LIST_ERROR);
  // 10.0.2 aborts too (docs/fidelity.md "Known 7.2 aborts, on 10.0", crash 1; probed again by stop 36's port): not 7.2 alone
  assert.match(EMPTY_LIST_ERROR, /QEMU 7\.2 and 10\.0 abort/);
  assert.is(r.state, s);
});

test('omitted options: driver options that are not mutable cannot be reset', () => {
  let s: State = ok({}, 'x-blockgraph-image-create', { file: 'r.img', format: 'raw', size: '1M' });
  s = ok(s, 'blockdev-add', { driver: 'file', 'node-name': 'rf', filename: 'r.img', locking: 'off' });
  assert.is(errOf(run(s, 'blockdev-reopen', { options: [{ driver: 'file', 'node-name': 'rf', filename: 'r.img' }] })),
    "Option 'locking' cannot be reset to its default value");
  // given unchanged, it is fine (QemuOpts gives the enum back as the same string)
  assert.is(errOf(run(s, 'blockdev-reopen', { options: [{ driver: 'file', 'node-name': 'rf', filename: 'r.img', locking: 'off' }] })), null);
});

test('implicit children are reopened with their parent; a referenced file keeps its old read-only', () => {
  let s = ok({}, 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', 'read-only': true, file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' }, backing: null });
  // file given by its own name: af is reopened keeping its options, read-only=on stays (§5.2)
  const r = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'a', file: 'af', backing: null }] });
  assert.is(errOf(r), 'Block node is read-only');
  // explicit read-only=false is inherited by af
  const r2 = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'a', 'read-only': false, file: 'af', backing: null }] });
  assert.is(errOf(r2), null);
  const p = new Proc(new Draft(r2.state), 'A');
  assert.is(p.node('a')!.ro, false);
  assert.is(p.node('af')!.ro, false);
});

test('seed 000: RO->RW qcow2 gets its file child prepared first; commit runs children first', () => {
  let s = ok({}, 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', 'read-only': true, file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' }, backing: null });
  const plan = planReopen(s, 'A', [{ driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' }, backing: null }]);
  assert.ok(plan.ok, JSON.stringify(plan.error));
  assert.equal(plan.queue, ['a', 'af']); // QEMU's queue: parent first
  const prep = plan.steps.filter((x) => x.step === 'prepare');
  assert.equal(prep.map((x) => x.node), ['af', 'a']);
  assert.equal(prep.map((x) => x.ro), [{ from: true, to: false }, { from: true, to: false }]);
  assert.equal(plan.steps.find((x) => x.step === 'commit')!.nodes, ['a', 'af']);
  // RW->RO keeps QEMU's order (the parent writes while its file is still writable)
  let w = ok({}, 'x-blockgraph-image-create', { file: 'b.qcow2', format: 'qcow2', size: '1M' });
  w = ok(w, 'blockdev-add', { driver: 'qcow2', 'node-name': 'b', file: { driver: 'file', filename: 'b.qcow2', 'node-name': 'bf' }, backing: null });
  const plan2 = planReopen(w, 'A', [{ driver: 'qcow2', 'node-name': 'b', 'read-only': true, file: 'bf', backing: null }]);
  assert.equal(plan2.steps.filter((x) => x.step === 'prepare').map((x) => x.node), ['b', 'bf']);
  // the plan is pure
  assert.is(planReopen(w, 'A', []).ok, false);
});

test('the reopen is logged as steps: one per prepared node, refresh-perms, commit', () => {
  let s = ok({}, 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' }, backing: null });
  const r = run(s, 'blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'a', 'read-only': true, file: 'af', backing: null }] });
  assert.is(errOf(r), null);
  const names = r.steps.map((x) => x.name);
  assert.ok(names.includes('reopen refresh-perms'), names.join(','));
  assert.ok(names.includes('reopen commit'), names.join(','));
  const p = new Proc(new Draft(r.state), 'A');
  assert.is(p.node('a')!.ro, true);
  assert.is(p.node('af')!.ro, true);
});

test('machine: prepare all, then refresh, commit, cleanup; a failure aborts', () => {
  let m = reopenNext(reopenStart(), { type: 'BUILT', order: ['a', 'af'] });
  assert.ok(m.matches('preparing'));
  m = reopenNext(m, { type: 'PREPARED' });
  assert.ok(m.matches('preparing'));
  const failed = reopenNext(m, { type: 'FAILED', error: 'x' });
  assert.ok(failed.matches('aborted'));
  assert.equal(failed.context.prepared, ['a']);
  m = reopenNext(m, { type: 'PREPARED' });
  assert.ok(m.matches('refreshing'));
  m = reopenNext(reopenNext(reopenNext(m, { type: 'PERMS_OK' }), { type: 'COMMITTED' }), { type: 'CLEANED' });
  assert.ok(m.matches('done'));
  assert.ok(reopenNext(reopenStart(), { type: 'BUILT', order: [] }).matches('rejected'));
});

test.run();
