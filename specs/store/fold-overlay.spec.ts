// Issue 15, replay of a log with edges: the lazy fold (replay/fold-lazy.ts) keeps the state's
// key levels as ordered Maps (its overlay) and writes them back at materialize. Counted, never
// timed: replaying the edges workload (bench/write.ts edgesWorkload: chains over file children,
// reopens, stream jobs) writes the state's objects only for the entities that survive, where the
// fold before set ~3.3 entries per record through graph/apply.ts. Exactness at the edges of the
// model: collections and scopes the start state holds empty (pruned by a delete of a missing
// entity, as applyChangesInPlace prunes them), integer ids, names `__proto__` (every record then
// folded the full way), counts known after materialize.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { edgesWorkload } from '../../bench/write.js';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { adjacencyWork, countOf } from '../../graph/adjacency.js';
import { LazyFold, lazyWork } from '../../replay/fold-lazy.js';
import { emptyFold, foldRaw, type Fold } from '../../replay/fold.js';
import { replay } from '../../replay/replay.js';
import { ChainReader, encodeRecord } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';
import type { NewRecord } from '../../store/types.js';

const it = suite('store/fold-overlay');

const shape = (f: Fold) => JSON.stringify({ seq: f.seq, state: f.state, open: [...f.open.values()] });
const rec = (data: Record<string, unknown>, txn: string): NewRecord => ({ stream: 'A', type: 'txn.begun', v: 4, at: 'now', txn, data });
const whole = (changes: unknown[]) => ({
  op: 'x', args: {}, plan: ['main'], steps: [{ name: 'main', changes }],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'ab'.repeat(32) } },
});
function chain(datas: Record<string, unknown>[], from = 1, prev = ''): string[] {
  return datas.map((d, i) => {
    const x = encodeRecord(from + i, rec(d, `t${from + i}`), prev);
    prev = x.record.hash;
    return x.value;
  });
}

/** Folds `values` from `start` eagerly (foldRaw) and lazily, built at every seq or only at the end: the same state. */
function bothWays(start: () => Fold, values: string[], everySeq: boolean): void {
  const eager = start();
  const lazy = new LazyFold(start());
  const b = new ChainReader(eager.seq + 1, '');
  const c = new ChainReader(eager.seq + 1, '');
  for (const v of values) {
    foldRaw(eager, b.nextRaw(v));
    lazy.feed(c, v);
    if (everySeq) assert.is(shape(lazy.materialize()), shape(eager), `seq ${eager.seq}`);
  }
  assert.is(shape(lazy.materialize()), shape(eager), 'the end');
}

const entities = (f: Fold) => Object.values(f.state).reduce((n, scope) => n + Object.values(scope as Record<string, object>).reduce((m, coll) => m + Object.keys(coll).length, 0), 0);

it('replaying the edges workload: the state\'s objects written for the survivors only, the same state as the eager fold', async () => {
  const log = await openMemory();
  const e = await Engine.open(log, { clock: FIXED_CLOCK });
  // two images, then 10 cycles of a chain made, reopened twice, streamed, deleted; and a chain left
  for (const [cmd, args] of edgesWorkload(2 + 9 * 10 + 2)) {
    const r = await e.execute('A', cmd, args);
    assert.ok('return' in r.reply, `${cmd}: ${JSON.stringify(r.reply)}`);
  }
  lazyWork.lazy = lazyWork.full = lazyWork.entriesSet = lazyWork.cancelled = lazyWork.built = lazyWork.parses = lazyWork.compared = lazyWork.comparedChars = 0;
  const lz = await replay(log, { fromScratch: true });
  assert.is(lazyWork.lazy, log.head, 'every record folded lazily');
  const survivors = entities(lz);
  // the process's meta, the two images' nodes, the last chain's two nodes, their file nodes and edges
  assert.ok(survivors >= 5 && survivors < 20, `${survivors} entities survive`);
  // each survivor's entry written once, at materialize; before the overlay: 3.3 entries per record
  assert.is(lazyWork.entriesSet, survivors, `${lazyWork.entriesSet} entries written for ${survivors} survivors (${log.head} records)`);
  // only the survivors built (and the process's meta now and then: its patches alternate members, MAX_PATCHES)
  assert.ok(lazyWork.built >= survivors && lazyWork.built <= survivors + log.head / 8, `${lazyWork.built} entities built`);
  assert.ok(lazyWork.cancelled >= 10 * 9, `${lazyWork.cancelled} entities made and deleted unbuilt`);
  // patches compared with the one before only where short and their first names start alike:
  // 195 pairs, 4,886 chars (every pair: 359, 33,471 chars: a job's data patch walked whole), for
  // the same builds and parses
  assert.ok(lazyWork.comparedChars < 8000, `${lazyWork.compared} pairs compared, ${lazyWork.comparedChars} chars`);
  assert.ok(lazyWork.parses <= 41, `${lazyWork.parses} texts parsed`);
  // the eager fold of the same log
  const f = emptyFold();
  for await (const chunk of log.readRawChunks({})) for (const r of chunk) foldRaw(f, r);
  assert.is(shape(lz), shape(f), 'the same state');
  assert.is(JSON.stringify(lz.state), JSON.stringify(e.state), 'the live state');
  // the counts of the collections written are known: no collection counted again on first use
  adjacencyWork.entriesCounted = 0;
  for (const scope of Object.values(lz.state)) for (const coll of Object.values(scope as Record<string, object>)) assert.is(countOf(coll), Object.keys(coll).length);
  assert.is(adjacencyWork.entriesCounted, 0, 'counts kept at materialize');
  await log.close();
});

it('replaying 200 blockdev-add/del: each node\'s create waits and its delete cancels it; the node collection is not made in the overlay at every pair', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (let i = 0; i < 200; i++) {
    if (i % 2) await e.execute('A', 'blockdev-del', { 'node-name': `n${i - 1}` });
    else await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  }
  lazyWork.cancelled = lazyWork.levelsMade = lazyWork.entriesSet = 0;
  const lz = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(lz.state), JSON.stringify(e.state), 'the live state');
  assert.is(lazyWork.cancelled, 100, `${lazyWork.cancelled} creates cancelled`);
  // the process's scope and its meta collection; the nodes collection never (it would be 100 times)
  assert.is(lazyWork.levelsMade, 2, `${lazyWork.levelsMade} scopes and collections made in the overlay`);
  assert.is(lazyWork.entriesSet, 1, 'the meta entry written at materialize');
  await log.close();
});

it('a start state holding an empty collection and an empty scope: a delete of a missing entity prunes them, as applyChangesInPlace does', () => {
  const start = (): Fold => ({
    state: { A: { meta: { proc: { seq: 0 } }, nodes: {} }, B: {}, C: { odd: {} }, 7: { more: { 3: { k: 1 } } } } as never,
    seq: 0, open: new Map(),
  });
  const datas = [
    whole([{ s: 'A', c: 'nodes', id: 'x', before: null, after: null }]), // prunes A.nodes (empty)
    whole([{ s: 'B', c: 'odd', id: 'y', before: null, after: null }]), // makes and prunes B.odd, then B (empty)
    whole([{ s: 'D', c: 'odd', id: 'y', before: null, after: null }]), // no scope D: nothing
    whole([{ s: 'C', c: 'more', id: '2', before: null, after: { k: 2 } }, { s: 'C', c: 'odd', id: 'z', before: null, after: null }]), // C.odd pruned; C.more at the end
    whole([{ s: '7', c: 'more', id: '1', before: null, after: { k: 0 } }, { s: '7', c: 'more', id: 'a', before: null, after: { k: 3 } }]),
    whole([{ s: 'A', c: 'nodes', id: 'x', before: null, after: { k: 1 } }, { s: 'B', c: 'odd', id: '5', before: null, after: [5] }]),
    whole([{ s: '7', c: 'more', id: '3', before: { k: 1 }, after: null }, { s: 'A', c: 'meta', id: 'proc', before: { seq: 0 }, after: null }]),
  ];
  bothWays(start, chain(datas), true);
  bothWays(start, chain(datas), false);
});

it('names __proto__ (in a change, or an own member of the start state): those records and every one after them folded the full way, as the eager fold folds them', () => {
  const datas = [
    whole([{ s: 'A', c: 'odd', id: 'a', before: null, after: { k: 1 } }]),
    whole([{ s: 'A', c: 'odd', id: '__proto__', before: null, after: { k: 2 } }]),
    whole([{ s: 'A', c: 'odd', id: 'b', before: null, after: { k: 3 } }, { s: 'A', c: 'odd', id: 'a', before: { k: 1 }, after: null }]),
    whole([{ s: 'A', c: 'odd', id: 'b', before: { k: 3 }, after: null }]),
  ];
  // (not a scope or collection named __proto__: the eager fold's `??=` reaches Object.prototype
  // there and writes the entity into it, which would leak into every later spec of this run)
  lazyWork.lazy = lazyWork.full = 0;
  bothWays(emptyFold, chain(datas), true);
  assert.is(lazyWork.lazy, 1, 'the first record lazily');
  assert.is(lazyWork.full, 3, 'from the first __proto__ on, the full way');
  // a start state whose collection holds an own __proto__ member (JSON.parse makes one: a snapshot)
  const start = (): Fold => ({ state: JSON.parse('{"A":{"odd":{"__proto__":{"k":0},"q":{"k":9}}}}') as never, seq: 0, open: new Map() });
  lazyWork.lazy = lazyWork.full = 0;
  bothWays(start, chain([whole([{ s: 'A', c: 'odd', id: 'q', before: { k: 9 }, after: null }, { s: 'A', c: 'odd', id: 'r', before: null, after: { k: 5 } }])]), false);
  assert.is(lazyWork.full, 1, 'folded the full way');
  assert.is(Object.keys(Object.prototype).length, 0, 'nothing written into Object.prototype');
});

it.run();
