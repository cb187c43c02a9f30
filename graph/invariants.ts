// Structural invariants of a state, to run after every step in tests: the graph is a DAG,
// every edge's ends exist, stored permissions are what a fresh bdrv_list_refresh_perms
// computes, and every connected component (through node edges, BlockBackends and jobs)
// sits in one AioContext. Returns human-readable violations; [] means all hold.
import { QmpError } from '../errors/index.js';
import { jobContext } from './aio.js';
import { Draft, parentKey } from './draft.js';
import { Proc } from './proc.js';
import { refreshPerms } from './refresh.js';
import { HOST, type State } from './types.js';

export function checkInvariants(state: State): string[] {
  const out: string[] = [];
  for (const scope of Object.keys(state).sort()) {
    if (scope === HOST) continue;
    const p = new Proc(new Draft(state), scope);
    for (const msg of checkScope(state, p)) out.push(`${scope}: ${msg}`);
  }
  return out;
}

function checkScope(state: State, p: Proc): string[] {
  const out: string[] = [];
  const nodes = p.nodes();
  const edges = p.edges();

  // Ends of every edge.
  for (const e of edges) {
    if (!p.node(e.child)) out.push(`edge ${e.id} (${e.name}) points to missing node '${e.child}'`);
    const par = e.parent;
    const ok = par.kind === 'node' ? p.node(par.node) : par.kind === 'bb' ? p.bb(par.bb) : p.job(par.job);
    if (!ok) out.push(`edge ${e.id} (${e.name}) has missing parent ${parentKey(par)}`);
  }

  // Acyclic through node→node edges (iterative three-colour DFS).
  const colour = new Map<string, 1 | 2>();
  for (const n of nodes) {
    if (colour.has(n.name)) continue;
    const stack: { node: string; kids: string[]; i: number }[] = [{ node: n.name, kids: p.childrenOf(n.name).map((e) => e.child), i: 0 }];
    colour.set(n.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.kids.length) {
        const k = top.kids[top.i++]!;
        const c = colour.get(k);
        if (c === 1) out.push(`cycle through '${top.node}' -> '${k}'`);
        else if (c === undefined && p.node(k)) {
          colour.set(k, 1);
          stack.push({ node: k, kids: p.childrenOf(k).map((e) => e.child), i: 0 });
        }
      } else {
        colour.set(top.node, 2);
        stack.pop();
      }
    }
  }
  if (out.length) return out; // the checks below assume a well-formed DAG

  // Permissions: a fresh refresh of every node must find nothing to change.
  const fresh = new Proc(new Draft(state), p.name);
  try {
    refreshPerms(fresh, nodes.map((n) => n.name));
    for (const e of edges) {
      const f = fresh.edge(e.id)!;
      if (f.perm !== e.perm || f.shared !== e.shared) {
        out.push(`edge ${parentKey(e.parent)} -${e.name}-> ${e.child}: stored perm/shared ${e.perm}/${e.shared}, refresh gives ${f.perm}/${f.shared}`);
      }
    }
    for (const n of nodes) {
      const f = fresh.node(n.name)!;
      if (JSON.stringify(f.lock) !== JSON.stringify(n.lock)) out.push(`node '${n.name}': lock ${JSON.stringify(n.lock)}, refresh gives ${JSON.stringify(f.lock)}`);
    }
  } catch (err) {
    if (!(err instanceof QmpError)) throw err;
    out.push(`permission refresh fails: ${err.desc}`);
  }

  // One AioContext per connected component (union-find over every edge's two ends).
  const up = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (up.has(r) && up.get(r) !== r) r = up.get(r)!;
    for (let k = x; k !== r; ) { const nx = up.get(k)!; up.set(k, r); k = nx; }
    return r;
  };
  const union = (a: string, b: string) => { const ra = find(a), rb = find(b); if (ra !== rb) up.set(ra, rb); };
  const ctxOf = new Map<string, string>();
  for (const n of nodes) { up.set('node:' + n.name, 'node:' + n.name); ctxOf.set('node:' + n.name, n.aio); }
  for (const b of p.bbs()) { up.set('bb:' + b.id, 'bb:' + b.id); ctxOf.set('bb:' + b.id, b.aio); }
  for (const j of p.jobs()) { up.set('job:' + j.id, 'job:' + j.id); ctxOf.set('job:' + j.id, jobContext(j)); }
  for (const e of edges) union(parentKey(e.parent), 'node:' + e.child);
  const seen = new Map<string, { ctx: string; who: string }>();
  for (const [who, ctx] of [...ctxOf].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const r = find(who);
    const first = seen.get(r);
    if (!first) seen.set(r, { ctx, who });
    else if (first.ctx !== ctx) out.push(`AioContext split in one component: ${first.who} in '${first.ctx}', ${who} in '${ctx}'`);
  }
  return out;
}
