// A fan-in (many parents on one node, issue 15's 10k fan-in built through QMP): each
// blockdev-add of one more parent refreshes the shared child's permissions, and QEMU's
// bdrv_parent_perms_conflict compares every ordered pair of its parents. The model finds the same
// first conflicting pair in O(parents) (graph/refresh.ts checkParentConflicts), counted here in
// adjacencyWork.permComparisons, never timed; and the pair and message it reports are the ones
// the pairwise loop reports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { adjacencyWork } from '../../graph/adjacency.js';
import { checkParentConflicts } from '../../graph/refresh.js';
import { permNames } from '../../graph/perm.js';
import type { Proc } from '../../graph/proc.js';
import type { Edge } from '../../graph/types.js';
import { openMemory } from '../../store/index.js';

/** Comparisons made by the add of parent number `n + 1` of a null-co node with `n` raw parents. */
async function comparisonsAt(n: number): Promise<number> {
  return (await workAt(n)).permComparisons;
}

async function workAt(n: number): Promise<{ permComparisons: number; edgesVisited: number }> {
  const e = await Engine.open(await openMemory());
  const ok = async (args: Record<string, unknown>) => {
    const r = await e.execute('A', 'blockdev-add', args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  };
  await ok({ driver: 'null-co', 'node-name': 'base' });
  for (let i = 0; i < n; i++) await ok({ driver: 'raw', 'node-name': `f${i}`, file: 'base' });
  const before = { ...adjacencyWork };
  await ok({ driver: 'raw', 'node-name': 'last', file: 'base' });
  const used = { permComparisons: adjacencyWork.permComparisons - before.permComparisons, edgesVisited: adjacencyWork.edgesVisited - before.edgesVisited };
  await e.log.close();
  return used;
}

test('one more parent of a fan-in costs O(parents) comparisons, not O(parents²)', async () => {
  const small = await comparisonsAt(40);
  const big = await comparisonsAt(400);
  // the pairwise loop would make (n+1)·n comparisons per check: 1,640 and 160,400
  assert.ok(small > 0, 'the check ran');
  assert.ok(big <= 12 * 401, `${big} comparisons at 401 parents`);
  assert.ok(big / small < 10 * 1.5, `${small} at 41 parents, ${big} at 401: grows faster than the parents`);
});

test('one more parent of a fan-in visits its parents a fixed number of times (no drain walk without jobs, hasParents stops at the first)', async () => {
  const n = 400;
  const { edgesVisited } = await workAt(n);
  // what is left is O(parents): one read of the parents for the refresh's cumulative perms and conflict check
  assert.ok(edgesVisited <= (n + 1) + 50, `${edgesVisited} edges visited by the add of parent ${n + 1}`);
});

/** QEMU's loop (bdrv_parent_perms_conflict with bdrv_a_allow_b), for comparison. */
function pairwise(parents: Edge[]): [Edge, Edge] | undefined {
  for (const a of parents) for (const b of parents) if (a !== b && b.perm & ~a.shared) return [a, b];
  return undefined;
}

test('the first conflicting pair (and its message) is the pairwise loop\'s, on random parent sets', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let round = 0; round < 2000; round++) {
    const n = 1 + Math.floor(rnd() * 7);
    const parents: Edge[] = Array.from({ length: n }, (_, i) => ({
      id: `e${i}`, name: 'file', child: 'x', parent: { kind: 'node', node: `p${i}` },
      perm: rnd() < 0.6 ? 0x1 : Math.floor(rnd() * 16), shared: rnd() < 0.6 ? 0xf : Math.floor(rnd() * 16), at: n - i,
    }) as unknown as Edge);
    const p = { parents: () => parents } as unknown as Proc;
    const want = pairwise(parents);
    let got: string | undefined;
    try { checkParentConflicts(p, 'x'); } catch (e) { got = (e as Error).message; }
    if (!want) { assert.is(got, undefined, `round ${round}`); continue; }
    const [a, b] = want;
    assert.is(got, `Permission conflict on node 'x': permissions '${permNames(b.perm & ~a.shared)}' are both required by node '${(b.parent as { node: string }).node}' (uses node 'x' as 'file' child) and unshared by node '${(a.parent as { node: string }).node}' (uses node 'x' as 'file' child).`, `round ${round}`);
  }
});

test.run();
