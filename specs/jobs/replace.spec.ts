// bdrv_replace_node / bdrv_append / bdrv_drop_intermediate (§7), hand-derived expectations.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import { QmpError } from '../../errors/index.js';
import { appendNode, replaceNode } from '../../graph/replace.js';
import { dropIntermediate } from '../../graph/jobs/commit.js';
import { addJobEdge } from '../../graph/jobs/parts.js';
import { PERM_ALL } from '../../graph/perm.js';
import { M, chain } from './helpers.js';

const parentsOf = (p: Proc, n: string) =>
  p.parents(n).map((e) => `${e.parent.kind === 'node' ? e.parent.node : e.parent.kind === 'bb' ? 'bb' : 'job:' + e.parent.job}.${e.name}`);

function withExport(m: M, node: string) {
  m.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  m.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': node, writable: true });
}

test('replace moves BlockBackends and node parents, keeps job edges (stay_at_node)', () => {
  const m = new M();
  chain(m);
  withExport(m, 'mid');
  const p = new Proc(new Draft(m.state), 'A');
  p.putJob({ id: 'j', type: 'stream', status: 'running', autoFinalize: true, autoDismiss: true, paused: 0, speed: 0, cancelled: false, error: null, data: {}, at: 999 });
  addJobEdge(p, 'j', 'mid', 'intermediate node', 0, PERM_ALL);
  replaceNode(p, 'mid', 'base');
  assert.equal(parentsOf(p, 'mid'), ['job:j.intermediate node']);
  // the export and top's backing moved; mid's own backing edge was into base already
  assert.ok(parentsOf(p, 'base').includes('bb.root'));
  assert.ok(parentsOf(p, 'base').includes('top.backing'));
  assert.ok(parentsOf(p, 'base').includes('mid.backing'));
  assert.ok(p.node('mid'), 'mid is monitor-owned and stays');
});

test('a frozen parent link refuses the whole replacement: "Cannot change \'backing\' link to …"', () => {
  const m = new M();
  chain(m);
  withExport(m, 'mid');
  const p = new Proc(new Draft(m.state), 'A');
  const e = p.backing('top')!;
  p.patchEdge(e.id, { frozen: true });
  try {
    replaceNode(p, 'mid', 'base');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, QmpError);
    assert.is((err as QmpError).desc, "Cannot change 'backing' link to 'mid'");
  }
  // rolled back: the export did not move either
  assert.ok(parentsOf(p, 'mid').includes('bb.root'));
});

test('without auto-skip an edge inside the new node\'s subtree fails: "Should not change …"', () => {
  const m = new M();
  chain(m);
  const p = new Proc(new Draft(m.state), 'A');
  // replacing base by top: mid's backing edge into base lies below top
  try {
    replaceNode(p, 'base', 'top', { autoSkip: false });
    assert.unreachable();
  } catch (err) {
    assert.is((err as QmpError).desc, "Should not change 'backing' link to 'base'");
  }
  replaceNode(p, 'base', 'top'); // with auto-skip it is simply left alone
  assert.equal(parentsOf(p, 'base'), ['mid.backing']);
});

test('append: the overlay takes the old top as backing and its place in the export', () => {
  const m = new M();
  chain(m);
  withExport(m, 'top');
  m.ok('x-blockgraph-image-create', { file: 'ov.qcow2', format: 'qcow2', size: '1M' });
  m.ok('blockdev-add', { driver: 'qcow2', 'node-name': 'ov', file: { driver: 'file', filename: 'ov.qcow2' }, backing: null });
  const p = new Proc(new Draft(m.state), 'A');
  appendNode(p, 'ov', 'top');
  assert.equal(parentsOf(p, 'top'), ['ov.backing']);
  assert.equal(parentsOf(p, 'ov'), ['bb.root']);
  // COW perms of a writable export's overlay: backing takes R, shares R, U and (W shared above) W, Z
  const b = p.backing('ov')!;
  assert.is(b.perm, 0x1);
  assert.is(b.shared, 0xf);
});

test('drop_intermediate (seed 001 case 1): overlay relinked to base, header rewritten, dropped node stays if owned', () => {
  const m = new M();
  chain(m, { names: ['b0', 'b1', 'b2', 'b3'] });
  const p = new Proc(new Draft(m.state), 'A');
  assert.is(dropIntermediate(p, 'b2', 'b0', null), null);
  assert.is(p.backing('b3')!.child, 'b0');
  assert.equal(p.node('b3')!.header, { backing: 'b0.qcow2', backingFormat: 'qcow2' });
  assert.is(p.image('b3.qcow2')!.backing, 'b0.qcow2');
  assert.is(p.backing('b2')!.child, 'b1', 'b2 keeps its own link');
});

test('drop_intermediate (seed 001 case 2, active layer): the BlockBackend moves to base, no bdrv_swap', () => {
  const m = new M();
  chain(m);
  withExport(m, 'top');
  const p = new Proc(new Draft(m.state), 'A');
  assert.is(dropIntermediate(p, 'top', 'base', null), null);
  assert.equal(parentsOf(p, 'base'), ['bb.root', 'mid.backing']);
  assert.equal(parentsOf(p, 'top'), []);
  assert.ok(p.node('top') && p.node('mid'), 'monitor-owned nodes stay');
});

test('drop_intermediate refuses a base outside the chain', () => {
  const m = new M();
  chain(m);
  const p = new Proc(new Draft(m.state), 'A');
  assert.is(dropIntermediate(p, 'mid', 'top', null), "'top' is not in the backing chain of 'mid'");
});

test.run();
