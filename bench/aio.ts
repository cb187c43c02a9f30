// AioContext move benchmark: a connected graph of n nodes (a qcow2 chain, each format node
// with its file node, a movable export BlockBackend on top; or a wide tree under one quorum)
// is moved to an iothread and back through the real move code. The graph is built directly
// through the Draft (no permission refresh per attach), since perms play no part in a move.
import { pathToFileURL } from 'node:url';
import { applyChanges } from '../graph/apply.js';
import { moveToContext } from '../graph/aio.js';
import { Draft } from '../graph/draft.js';
import { newNode } from '../graph/ops.js';
import { PERM_ALL, PERM_R, ROLE_COW, ROLE_DATA, ROLE_IMAGE } from '../graph/perm.js';
import { Proc } from '../graph/proc.js';
import type { Edge, ParentRef, State } from '../graph/types.js';

export type Shape = 'chain' | 'tree';

function edge(p: Proc, parent: ParentRef, name: string, child: string, role: number): void {
  const at = p.nextSeq();
  const e: Edge = { id: 'e' + at, parent, name, child, role, perm: 0, shared: PERM_ALL, frozen: false, at };
  p.putEdge(e);
}

/** A state whose process "A" holds a connected graph of exactly n nodes and an iothread io0. */
export function buildAioGraph(n: number, shape: Shape = 'chain'): State {
  const d = new Draft({});
  const p = new Proc(d, 'A');
  p.putObject({ id: 'io0', qomType: 'iothread', props: {} });
  if (shape === 'chain') {
    // top = f0 -> backing f1 -> … ; each fK has file node pK. Odd n: the last format node has no file.
    const formats = Math.ceil(n / 2);
    for (let k = 0; k < formats; k++) newNode(p, { name: `f${k}`, driver: 'qcow2', monitor: true });
    for (let k = 0; k < n - formats; k++) newNode(p, { name: `p${k}`, driver: 'file' });
    for (let k = formats - 1; k >= 0; k--) {
      if (k < n - formats) edge(p, { kind: 'node', node: `f${k}` }, 'file', `p${k}`, ROLE_IMAGE);
      if (k + 1 < formats) edge(p, { kind: 'node', node: `f${k}` }, 'backing', `f${k + 1}`, ROLE_COW);
    }
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'export', id: 'e0' }, perm: PERM_R, shared: PERM_ALL, allowAioChange: true, aio: 'main', at: p.meta().seq });
    edge(p, { kind: 'bb', bb: bbId }, 'root', 'f0', 0);
  } else {
    newNode(p, { name: 'q', driver: 'quorum', monitor: true });
    for (let k = 1; k < n; k++) {
      newNode(p, { name: `c${k}`, driver: 'null-co', monitor: true });
      edge(p, { kind: 'node', node: 'q' }, `children.${k - 1}`, `c${k}`, ROLE_DATA);
    }
  }
  let s: State = {};
  for (const st of d.steps()) s = applyChanges(s, st.changes);
  return s;
}

function move(state: State, node: string, ctx: string): State {
  const d = new Draft(state);
  moveToContext(new Proc(d, 'A'), node, ctx, { log: true });
  let s = state;
  for (const st of d.steps()) s = applyChanges(s, st.changes);
  return s;
}

/** Times moving the whole graph (entered at its deepest node) to io0 and back to main. */
export function benchAioMove(n: number, shape: Shape = 'chain'): { n: number; ms: number; nodesPerSec: number } {
  const s0 = buildAioGraph(n, shape);
  const start = shape === 'chain' ? `f${Math.ceil(n / 2) - 1}` : 'q';
  move(move(s0, start, 'io0'), start, 'main'); // warm-up
  const t0 = performance.now();
  const s1 = move(s0, start, 'io0');
  const s2 = move(s1, start, 'main');
  const ms = performance.now() - t0;
  const nodes = s2.A!.nodes as Record<string, { aio: string }>;
  if (Object.values(nodes).some((x) => x.aio !== 'main')) throw new Error('bench: graph did not come back to main');
  if (Object.values(s1.A!.nodes as Record<string, { aio: string }>).some((x) => x.aio !== 'io0')) throw new Error('bench: graph did not move');
  return { n, ms: Math.round(ms * 100) / 100, nodesPerSec: Math.round((2 * n) / (ms / 1000)) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const shape of ['chain', 'tree'] as const) {
    for (const n of [1000, 5000, 10000, 20000]) console.log(shape, JSON.stringify(benchAioMove(n, shape)));
  }
}
