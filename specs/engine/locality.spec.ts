// Cost by locality: a command's work depends on the nodes and edges it touches, not on the
// size of the graph. Checked by counting the graph work the engine does (index builds,
// whole-collection enumerations and counts, edges visited by parent/child lookups), never by
// timing (timings are in bench/). blockdev-add/del of a small unrelated subgraph next to a
// 200-node chain and next to a 8,000-node chain must do the same work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildAioGraph } from '../../bench/aio.js';
import { Engine } from '../../engine/engine.js';
import { adjacencyWork, countOf, edgeIndexOf } from '../../graph/adjacency.js';
import { applyChangesInPlace } from '../../graph/apply.js';
import type { Change } from '../../graph/draft.js';
import type { Edge, State } from '../../graph/types.js';
import { digestHex, stateDigest } from '../../graph/hash.js';
import { openMemory } from '../../store/index.js';

type Work = typeof adjacencyWork;
const snapshotWork = (): Work => ({ ...adjacencyWork });
const since = (w: Work): Work => {
  const out = { ...adjacencyWork };
  for (const k of Object.keys(out) as (keyof Work)[]) out[k] -= w[k];
  return out;
};
const total = (w: Work) => w.edgesIndexed + w.entriesCounted + w.entriesEnumerated + w.edgesVisited;

/** An engine whose state is a connected chain of n nodes (seeded through a snapshot). */
async function engineAt(n: number): Promise<Engine> {
  const state = buildAioGraph(n, 'chain');
  const log = await openMemory();
  await log.append([{ stream: 'log', type: 'log.seeded', at: '1970-01-01T00:00:00.000Z', data: null }]);
  await log.putSnapshot({ seq: 1, hash: log.headHash, stateHash: digestHex(stateDigest(state)), state });
  return Engine.open(log);
}

async function cycle(e: Engine, i: number): Promise<void> {
  const ok = async (cmd: string, args: Record<string, unknown>) => {
    const r = await e.execute('A', cmd, args);
    assert.ok(!('error' in r.reply), `${cmd}: ${JSON.stringify(r.reply)}`);
  };
  await ok('blockdev-add', { driver: 'null-co', 'node-name': `x${i}` });
  await ok('blockdev-add', { driver: 'raw', 'node-name': `r${i}`, file: `x${i}` });
  await ok('blockdev-del', { 'node-name': `r${i}` });
  await ok('blockdev-del', { 'node-name': `x${i}` });
}

async function workPerCycle(n: number): Promise<{ warm: Work; steady: Work; nodes: number }> {
  const e = await engineAt(n);
  const w0 = snapshotWork();
  await cycle(e, 0); // first use builds the indexes kept with the state: O(n) once
  const warm = since(w0);
  const w1 = snapshotWork();
  for (let i = 1; i <= 5; i++) await cycle(e, i);
  const steady = since(w1);
  const nodes = Object.keys(e.state.A!.nodes!).length;
  await e.log.close();
  return { warm, steady, nodes };
}

test('blockdev-add/del work does not grow with the graph (indexes kept with the state)', async () => {
  const small = await workPerCycle(200);
  const big = await workPerCycle(8000);
  console.log(`  200 nodes: ${JSON.stringify(small.steady)}; 8000 nodes: ${JSON.stringify(big.steady)}`);
  assert.is(small.nodes, 200);
  assert.is(big.nodes, 8000);
  assert.ok(total(small.steady) > 0, 'the lookups a command makes are counted');
  assert.is(big.steady.edgesIndexed, 0, 'no index rebuilt per command');
  assert.is(big.steady.entriesCounted, 0, 'no collection counted per command');
  assert.is(big.steady.entriesEnumerated, 0, 'no whole collection enumerated per command');
  assert.ok(total(big.steady) <= 2 * total(small.steady), `work ${total(big.steady)} at 8000 nodes vs ${total(small.steady)} at 200`);
  // The one-time build is linear in the graph, not more.
  assert.ok(big.warm.edgesIndexed <= 8000 + 10, `index build visited ${big.warm.edgesIndexed} edges`);
});

test('the index and counts kept with the state follow in-place changes (and undo) exactly', () => {
  // A deterministic walk of puts, moves and deletes of edges and nodes, checked after every
  // change against an index and count built from scratch on a copy.
  const state: State = {};
  let rnd = 12345;
  const next = (n: number) => { rnd = (rnd * 1103515245 + 12345) % 2 ** 31; return rnd % n; };
  const applied: Change[][] = [];
  for (let i = 0; i < 600; i++) {
    const id = `e${next(40)}`;
    const cur = (state.A?.edges?.[id] ?? null) as Edge | null;
    const after: Edge | null = next(3) === 0 ? null : {
      id, parent: next(2) ? { kind: 'node', node: `n${next(8)}` } : { kind: 'bb', bb: `b${next(3)}` },
      name: 'file', child: `n${next(8)}`, role: 0, perm: 0, shared: 0, frozen: false, at: i,
    };
    const changes: Change[] = [{ s: 'A', c: 'edges', id, before: cur, after }];
    if (next(5) === 0) {
      const nid = `n${next(4)}`;
      changes.push({ s: 'A', c: 'nodes', id: nid, before: state.A?.nodes?.[nid] ?? null, after: next(2) ? { i } : null });
    }
    applyChangesInPlace(state, changes);
    applied.push(changes);
    if (i % 7 === 0) { applyChangesInPlace(state, applied.pop()!, 'undo'); }
    if (i === 0) edgeIndexOf(state.A?.edges ?? {}); // start maintaining once built
    const edges = state.A?.edges;
    if (!edges) { assert.ok(!state.A || !('edges' in state.A), 'an emptied collection is dropped'); continue; }
    assert.is(countOf(edges), Object.keys(edges).length, `count after change ${i}`);
    const kept = edgeIndexOf(edges);
    const fresh = edgeIndexOf({ ...edges });
    const norm = (m: Map<string, Set<string>>) => [...m].map(([k, v]) => [k, [...v].sort()] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.equal(norm(kept.byChild), norm(fresh.byChild), `byChild after change ${i}`);
    assert.equal(norm(kept.byParent), norm(fresh.byParent), `byParent after change ${i}`);
  }
});

test.run();
