// bdrv_change_aio_context's visit (reference §8.2–§8.4), on graphs built directly through
// the Draft. Expected orders are worked out by hand from the 7.2 recursion: parents (newest
// first) before children (newest first), an edge-only visited set, post-order recording.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attachAcrossContexts, moveToContext, planMove, tryMoveToContext } from '../../graph/aio.js';
import { Draft } from '../../graph/draft.js';
import { checkInvariants } from '../../graph/invariants.js';
import { newNode } from '../../graph/ops.js';
import { PERM_ALL } from '../../graph/perm.js';
import { Proc } from '../../graph/proc.js';
import type { Edge, ParentRef } from '../../graph/types.js';

function fresh(): Proc {
  const p = new Proc(new Draft({}), 'A');
  p.putObject({ id: 'io0', qomType: 'iothread', props: {} });
  return p;
}
function link(p: Proc, parent: ParentRef, name: string, child: string): Edge {
  const at = p.nextSeq();
  const e: Edge = { id: 'e' + at, parent, name, child, role: 0, perm: 0, shared: PERM_ALL, frozen: false, at };
  p.putEdge(e);
  return e;
}
const N = (node: string): ParentRef => ({ kind: 'node', node });
function bb(p: Proc, id: string, on: string, allow: boolean, aio = 'main'): void {
  p.putBB({ id, owner: { kind: 'export', id }, perm: 0, shared: PERM_ALL, allowAioChange: allow, aio, at: p.nextSeq() });
  link(p, { kind: 'bb', bb: id }, 'root', on);
}
function job(p: Proc, id: string, edges: [string, string][]): void {
  p.putJob({ id, type: 'stream', status: 'running', autoFinalize: false, autoDismiss: true, paused: 0, speed: 1, cancelled: false, error: null, data: {}, at: p.nextSeq() });
  for (const [name, child] of edges) link(p, { kind: 'job', job: id }, name, child);
}
const ctxs = (p: Proc) => Object.fromEntries(p.nodes().map((n) => [n.name, n.aio]));
const order = (p: Proc, start: string, ctx = 'io0') => planMove(p, N(start), ctx).actions.map((a) => `${a.kind}:${a.id}`);

test('chain: recorded post-order, the starting node last (commit moves it first)', () => {
  const p = fresh();
  for (const n of ['base', 'mid', 'top']) newNode(p, { name: n, driver: 'null-co' });
  link(p, N('mid'), 'backing', 'base');
  link(p, N('top'), 'backing', 'mid');
  assert.equal(order(p, 'base'), ['node:top', 'node:mid', 'node:base']);
  assert.equal(order(p, 'top'), ['node:base', 'node:mid', 'node:top']);
  assert.equal(order(p, 'mid'), ['node:top', 'node:base', 'node:mid']);
});

test('diamond: the edge-only visited set re-enters a node and records it twice', () => {
  const p = fresh();
  for (const n of ['R', 'P1', 'P2', 'D']) newNode(p, { name: n, driver: 'null-co' });
  link(p, N('R'), 'children.0', 'P1');
  link(p, N('R'), 'children.1', 'P2');
  link(p, N('P1'), 'file', 'D');
  link(p, N('P2'), 'file', 'D');
  // R → (newest child) P2 → D → (D's other parent) P1 → (P1's parent) R again, R's edges all visited.
  assert.equal(order(p, 'R'), ['node:R', 'node:P1', 'node:D', 'node:P2', 'node:R']);
  moveToContext(p, 'R', 'io0');
  assert.equal(ctxs(p), { R: 'io0', P1: 'io0', P2: 'io0', D: 'io0' });
});

test('a BlockBackend that allows changes follows; one that does not refuses the whole move', () => {
  const p = fresh();
  for (const n of ['a', 'b']) newNode(p, { name: n, driver: 'null-co' });
  link(p, N('a'), 'file', 'b');
  bb(p, 'bb1', 'a', true);
  assert.equal(order(p, 'b'), ['bb:bb1', 'node:a', 'node:b']);
  bb(p, 'bb2', 'a', false);
  const plan = planMove(p, N('b'), 'io0');
  assert.is(plan.error, 'Cannot change iothread of active block backend');
  assert.throws(() => moveToContext(p, 'b', 'io0'), /Cannot change iothread of active block backend/);
  assert.is(tryMoveToContext(p, 'b', 'io0'), false);
  assert.equal(ctxs(p), { a: 'main', b: 'main' });
  assert.equal(p.bbs().map((x) => x.aio), ['main', 'main']);
});

test('job edges pull in every node the job uses, then the job moves', () => {
  const p = fresh();
  for (const n of ['x', 'y', 'z']) newNode(p, { name: n, driver: 'null-co' });
  // x and y are connected only through job j; z is unrelated.
  job(p, 'j', [['main node', 'x'], ['target', 'y']]);
  // From x: parent edge (j → x) → job: its edges newest first: target y, then main node (visited).
  assert.equal(order(p, 'x'), ['node:y', 'job:j', 'node:x']);
  moveToContext(p, 'x', 'io0');
  assert.equal(ctxs(p), { x: 'io0', y: 'io0', z: 'main' });
  assert.is(p.job('j')!.aio, 'io0');
  assert.equal(checkInvariants(applied(p)), []);
});

test('a commit-style job BlockBackend (no context changes) keeps the whole chain in place', () => {
  const p = fresh();
  for (const n of ['base', 'mid', 'top']) newNode(p, { name: n, driver: 'null-co' });
  link(p, N('mid'), 'backing', 'base');
  link(p, N('top'), 'backing', 'mid');
  job(p, 'c0', [['main node', 'top'], ['intermediate node', 'mid'], ['base', 'base']]);
  bb(p, 'bbase', 'base', false);
  for (const n of ['top', 'mid', 'base']) assert.is(planMove(p, N(n), 'io0').error, 'Cannot change iothread of active block backend', n);
});

test('attachAcrossContexts: child moves first, else the parent side, else the first error', () => {
  const p = fresh();
  p.putObject({ id: 'io1', qomType: 'iothread', props: {} });
  for (const n of ['par', 'kid']) newNode(p, { name: n, driver: 'null-co' });
  moveToContext(p, 'par', 'io0');
  attachAcrossContexts(p, N('par'), 'kid'); // free child joins the parent
  assert.equal(ctxs(p), { par: 'io0', kid: 'io0' });

  const q = fresh();
  q.putObject({ id: 'io1', qomType: 'iothread', props: {} });
  for (const n of ['par', 'kid']) newNode(q, { name: n, driver: 'null-co' });
  bb(q, 'pin', 'kid', false); // kid pinned in main
  moveToContext(q, 'par', 'io1');
  attachAcrossContexts(q, N('par'), 'kid'); // child refuses → parent moves to main
  assert.equal(ctxs(q), { par: 'main', kid: 'main' });

  const r = fresh();
  r.putObject({ id: 'io1', qomType: 'iothread', props: {} });
  for (const n of ['par', 'kid']) newNode(r, { name: n, driver: 'null-co' });
  moveToContext(r, 'kid', 'io0');
  bb(r, 'pk', 'kid', false, 'io0');
  moveToContext(r, 'par', 'io1');
  bb(r, 'pp', 'par', false, 'io1');
  assert.throws(() => attachAcrossContexts(r, N('par'), 'kid'), /Cannot change iothread of active block backend/);
  assert.equal(ctxs(r), { par: 'io1', kid: 'io0' });
});

test('iterative visit: a 20k-node chain does not overflow the stack', () => {
  const p = fresh();
  const n = 20000;
  for (let k = 0; k < n; k++) newNode(p, { name: `n${k}`, driver: 'null-co' });
  for (let k = 0; k + 1 < n; k++) link(p, N(`n${k}`), 'backing', `n${k + 1}`);
  moveToContext(p, `n${n - 1}`, 'io0');
  assert.ok(p.nodes().every((x) => x.aio === 'io0'));
});

function applied(p: Proc) {
  let s = {};
  for (const st of p.d.steps()) for (const ch of st.changes) {
    const scope = ((s as any)[ch.s] ??= {});
    const coll = (scope[ch.c] ??= {});
    if (ch.after === null) delete coll[ch.id]; else coll[ch.id] = ch.after;
  }
  return s;
}

test.run();
