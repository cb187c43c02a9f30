// blockgraph/testing: every assertion passes on a true statement and throws a clear
// AssertionError on a false one.
import { AssertionError } from 'node:assert';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { given, type Trial } from '../../testing/index.js';

const CHAIN = [
  ['x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' }],
  ['x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2' }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'base-file' }, backing: null }],
  ['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'top-file' }, backing: 'base' }],
] as const;

const BUSY = "Node 'base' is busy: node is used as backing hd of 'top'";

/** Asserts that `fn` throws an AssertionError whose message matches. */
function fails(fn: () => void, msg: RegExp | string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, AssertionError);
    assert.match((e as Error).message, msg);
    return;
  }
  assert.unreachable(`expected the assertion to fail with ${msg}`);
}

async function withTrial(t: Trial, fn: (t: Trial) => Promise<void>) {
  try { await fn(t); } finally { await t.close(); }
}

test('ok / error: exact QEMU text, and each fails on the other outcome', async () => {
  const t = await given.commands(CHAIN);
  await withTrial(t, async () => {
    await t.when('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', 'read-only': true, file: 'top-file', backing: 'base' }] });
    t.then.ok();
    fails(() => t.then.error('anything'), /expected blockdev-reopen to fail with 'anything', but it succeeded/);
    await t.when('blockdev-del', { 'node-name': 'base' });
    t.then.error(BUSY);
    t.then.error(BUSY, 'GenericError');
    fails(() => t.then.ok(), `expected blockdev-del to succeed, but QEMU answered error GenericError: '${BUSY}'`);
    fails(() => t.then.error('Node base is in use'), `but QEMU's text was\n  '${BUSY}'`);
    fails(() => t.then.error(BUSY, 'DeviceNotFound'), /expected error class DeviceNotFound, got GenericError/);
  });
});

test('node(...).is / exists / absent', async () => {
  const t = await given.commands(CHAIN);
  await withTrial(t, async () => {
    await t.when('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', 'read-only': true, file: 'top-file', backing: 'base' }] });
    t.then.node('top').is({ ro: true, driver: 'qcow2' });
    t.then.node('nosuch').absent();
    fails(() => t.then.node('top').is({ ro: false }), "node 'top' in A: expected ro false, got true");
    fails(() => t.then.node('nosuch').is({ ro: true }), "expected node 'nosuch' in A, but there is none");
    fails(() => t.then.node('top').absent(), "expected no node 'top' in A, but it exists");
  });
});

test('edge(...).has with permission names as sets; absent', async () => {
  const t = await given.commands(CHAIN);
  await withTrial(t, async () => {
    await t.when('query-named-block-nodes', {});
    // the file child of a read-write qcow2 node: QEMU 7.2 takes read, write and resize (given out of order: a set)
    t.then.edge('top', 'file').has({ child: 'top-file', perm: ['resize', 'write', 'consistent-read'] });
    assert.equal(actualPerm(t, 'top', 'file').sort(), ['consistent-read', 'resize', 'write']);
    t.then.edge('top', 'backing').has({ child: 'base', perm: [], frozen: false });
    t.then.edge('top', 'nosuch').absent();
    fails(() => t.then.edge('top', 'backing').has({ perm: ['write'] }), `edge 'backing' from 'top' in A: expected perm ["write"], got []`);
    fails(() => t.then.edge('top', 'backing').has({ child: 'top-file' }), `expected child "top-file", got "base"`);
    fails(() => t.then.edge('base', 'backing').has({ perm: [] }), "expected an edge 'backing' from 'base' in A, but there is none");
    fails(() => t.then.edge('top', 'file').absent(), "but it points to 'top-file'");
  });
});

// The file edge's permissions as the state holds them, read without the helper under test.
function actualPerm(t: Trial, parent: string, name: string): string[] {
  const e = Object.values(t.state.A!.edges!).find((x: any) => x.name === name && x.parent.node === parent) as { perm: number };
  return ['consistent-read', 'write', 'write-unchanged', 'resize'].filter((_, i) => e.perm & (1 << i)).reverse();
}

test('stateUnchanged: holds for a refusal, fails with the entity diff for a change', async () => {
  const t = await given.commands(CHAIN);
  await withTrial(t, async () => {
    await t.when('blockdev-del', { 'node-name': 'base' });
    t.then.stateUnchanged();
    t.then.logged(['command.rejected']);
    await t.when('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', 'read-only': true, file: 'top-file', backing: 'base' }] });
    fails(() => t.then.stateUnchanged(), /expected blockdev-reopen to leave the state unchanged, but:\n  ~ A\.edges\.[^\n]*\n?[\s\S]*~ A\.nodes\.top: [^\n]*ro false -> true/);
    t.then.logged(['txn.begun', 'txn.decided', 'txn.ended']);
    fails(() => t.then.logged(['command.rejected']), /expected the log to get \["command.rejected"\]/);
  });
});

test('invariantsHold: holds on a real graph, fails on a broken one', async () => {
  const t = await given.commands(CHAIN);
  await withTrial(t, async () => {
    t.then.invariantsHold();
    // break the state behind the engine's back: an edge to a node that does not exist
    const e = Object.values(t.state.A!.edges!).find((x: any) => x.name === 'backing') as { child: string };
    e.child = 'ghost';
    fails(() => t.then.invariantsHold(), /invariants violated:\n  A: edge \S+ \(backing\) points to missing node 'ghost'/);
  });
});

test('given.fixture and given.scenario load recorded material; a failing given is reported', async () => {
  const f = await given.fixture('specs/golden/reopen-transaction.jsonl');
  await withTrial(f, async () => {
    f.then.node('a').is({ ro: true });
    await f.when('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'a', file: 'af', backing: null }] });
    f.then.error('Block node is read-only');
    f.then.stateUnchanged();
  });
  const s = await given.scenario('oracle/transcripts/job-commit-intermediate.json');
  await withTrial(s, async () => {
    s.then.node('mid').absent();
    s.then.node('top').absent();
    s.then.node('base').is({ ro: false, driver: 'qcow2' });
    s.then.invariantsHold();
  });
  try {
    await given.commands([['blockdev-add', { driver: 'qcow2', 'node-name': 'x', file: { driver: 'file', filename: 'missing.qcow2' } }]]);
    assert.unreachable('a failing given must throw');
  } catch (e) {
    assert.match((e as Error).message, /given command 0 \(blockdev-add\) failed: GenericError: /);
  }
  try {
    await given.commands(CHAIN).then((t) => { t.then.ok(); });
    assert.unreachable('then without when must throw');
  } catch (e) {
    assert.match((e as Error).message, 'needs a when');
  }
});

test.run();
