// graph/invariants.ts catches each kind of broken state, and passes on sound ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyChanges } from '../../graph/apply.js';
import { Draft } from '../../graph/draft.js';
import { checkInvariants } from '../../graph/invariants.js';
import { Proc } from '../../graph/proc.js';
import type { Edge, State } from '../../graph/types.js';
import { Session } from './helpers.js';

function sound(): State {
  const s = new Session();
  s.image('base.qcow2'); s.image('top.qcow2');
  s.qcow2('base'); s.qcow2('top', 'base');
  s.ok('object-add', { 'qom-type': 'iothread', id: 'io0' });
  s.ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  s.ok('block-export-add', { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true });
  return s.state;
}
function edit(state: State, fn: (p: Proc) => void): State {
  const d = new Draft(state);
  fn(new Proc(d, 'A'));
  let s = state;
  for (const st of d.steps()) s = applyChanges(s, st.changes);
  return s;
}
const edgeOf = (p: Proc, parent: string, name: string) => p.childrenOf(parent).find((e) => e.name === name)!;

test('a sound state has no violations', () => {
  assert.equal(checkInvariants(sound()), []);
});

test('a split AioContext inside one component is reported', () => {
  const bad = edit(sound(), (p) => p.patchNode('base', { aio: 'io0' }));
  const v = checkInvariants(bad);
  assert.is(v.length, 1);
  assert.match(v[0]!, /AioContext split in one component/);
  const badBB = edit(sound(), (p) => { const b = p.bbs()[0]!; p.putBB({ ...b, aio: 'io0' }); });
  assert.match(checkInvariants(badBB).join('\n'), /bb:.* in 'io0'/);
});

test('stale permissions are reported', () => {
  const bad = edit(sound(), (p) => { const e = edgeOf(p, 'top', 'backing'); p.patchEdge(e.id, { perm: 0xf }); });
  assert.match(checkInvariants(bad).join('\n'), /-backing-> base: stored perm\/shared 15\//);
});

test('dangling edges and cycles are reported', () => {
  const dangling = edit(sound(), (p) => {
    const e: Edge = { id: 'ex', parent: { kind: 'node', node: 'top' }, name: 'x', child: 'ghost', role: 0, perm: 0, shared: 15, frozen: false, at: 999 };
    p.putEdge(e);
  });
  assert.match(checkInvariants(dangling).join('\n'), /points to missing node 'ghost'/);
  const cyc = edit(sound(), (p) => {
    const e: Edge = { id: 'ey', parent: { kind: 'node', node: 'base' }, name: 'backing', child: 'top', role: 8, perm: 0, shared: 15, frozen: false, at: 999 };
    p.putEdge(e);
  });
  assert.match(checkInvariants(cyc).join('\n'), /cycle through/);
});

test.run();
