// The move is linear in the size of the component (issue 6.4) — checked by counting the
// graph lookups the move makes, not by timing it (timings belong to bench/, not to specs):
// every node is looked up and every edge list read a bounded number of times, so 4x the
// graph costs ~4x the lookups (a list scan per node, as QEMU's pre-7.2 walk did, would be ~16x).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildAioGraph } from '../../bench/aio.js';
import { moveToContext } from '../../graph/aio.js';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import type { ParentRef, State } from '../../graph/types.js';

class CountingProc extends Proc {
  lookups = 0;
  edgesRead = 0;
  override node(name: string) { this.lookups++; return super.node(name); }
  override parents(node: string) { const r = super.parents(node); this.edgesRead += r.length; return r; }
  override children(parent: ParentRef) { const r = super.children(parent); this.edgesRead += r.length; return r; }
  // whole-graph reads count in full, so a scan per node would show up as quadratic
  override nodes() { const r = super.nodes(); this.lookups += r.length; return r; }
  override edges() { const r = super.edges(); this.edgesRead += r.length; return r; }
  override bbs() { const r = super.bbs(); this.lookups += r.length; return r; }
}

function work(state: State, start: string): { lookups: number; edgesRead: number; nodes: number; edges: number } {
  const p = new CountingProc(new Draft(state), 'A');
  moveToContext(p, start, 'io0');
  return {
    lookups: p.lookups, edgesRead: p.edgesRead,
    nodes: Object.keys(state.A!.nodes!).length, edges: Object.keys(state.A!.edges!).length,
  };
}

for (const shape of ['chain', 'tree'] as const) {
  test(`an AioContext move does O(nodes + edges) work (${shape})`, () => {
    const startOf = (n: number) => (shape === 'chain' ? `f${Math.ceil(n / 2) - 1}` : 'q');
    const small = work(buildAioGraph(2000, shape), startOf(2000));
    const big = work(buildAioGraph(8000, shape), startOf(8000));
    console.log(`  ${shape}: 2k nodes -> ${small.lookups} lookups, ${small.edgesRead} edges read; 8k -> ${big.lookups}, ${big.edgesRead}`);
    for (const w of [small, big]) {
      assert.ok(w.lookups <= 8 * (w.nodes + w.edges), `lookups ${w.lookups} for ${w.nodes} nodes + ${w.edges} edges`);
      assert.ok(w.edgesRead <= 4 * w.edges + 8, `edges read ${w.edgesRead} for ${w.edges} edges`);
    }
    assert.ok(big.lookups <= 4.5 * small.lookups, 'lookups grow linearly');
    assert.ok(big.edgesRead <= 4.5 * small.edgesRead, 'edge reads grow linearly');
  });
}

test.run();
