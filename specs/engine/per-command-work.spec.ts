// Work on a command's path that does not depend on the graph, counted (never timed): the state
// digest (graph/hash.ts, a canonical encoding and a sha256 per entity image) is computed once per
// image a transaction changes — the engine computes the digest after the txn for its decision and
// folds the records without computing it again — and not at all for an image one step hands on
// to the next (it is added and subtracted again: `open` then `monitor-ref` of the same node).
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { DigestCache, digestApply, entityDigest, digestApplySteps, digestHex, digestWork, stateDigest } from '../../graph/hash.js';
import type { Change } from '../../graph/draft.js';
import { openMemory } from '../../store/index.js';
import { compactWhole, expandWhole, wholeWork } from '../../store/whole-txn.js';

test('one entity digest per image a command brings into the state; an image leaving it is looked up', async () => {
  const e = await Engine.open(await openMemory());
  const images: number[] = [];
  const digests: number[] = [];
  const cmds: [string, Record<string, unknown>][] = [
    ['blockdev-add', { driver: 'null-co', 'node-name': 'a' }],
    ['blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'a' }],
    ['blockdev-del', { 'node-name': 'r' }],
    ['blockdev-del', { 'node-name': 'a' }],
  ];
  for (const [cmd, args] of cmds) {
    const before = digestWork.entities;
    const r = await e.execute('A', cmd, args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    digests.push(digestWork.entities - before);
    // after-images that enter the state, less those a later change of the same entity takes as
    // its before-image; a before-image the state held was digested when it came in (DigestCache)
    let n = 0;
    const latest = new Map<string, unknown>();
    for (const s of r.steps) for (const c of s.changes) {
      const key = `${c.s}/${c.c}/${c.id}`;
      const handedOn = c.before != null && latest.get(key) === c.before;
      n += (c.after != null ? 1 : 0) - (handedOn ? 1 : 0);
      latest.set(key, c.after);
    }
    images.push(n);
  }
  assert.equal(digests, images, 'entity digests per command = after-images its steps bring in');
  assert.equal(digests, [2, 3, 0, 0], 'add null-co: the process meta and the node once; add raw: the meta after, r and its edge (the meta before is known); del: nothing (was 2, 4, 2, 1 before the digests were kept by image, and 4, 10, ... before that)');
  // the digest kept without the second computation is still the state's own
  const kept = (e as unknown as { digest: bigint }).digest;
  assert.is(digestHex(kept), digestHex(stateDigest(e.state)));
  await e.log.close();
});

test('a reopened engine knows the digests of the images it loaded (computed once, at open)', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (const n of ['a', 'b']) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': n });
  const e2 = await Engine.open(log);
  const before = digestWork.entities;
  const r = await e2.execute('A', 'blockdev-del', { 'node-name': 'a' });
  assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  assert.is(digestWork.entities - before, 0, 'the deleted node\'s image is the one the open digested');
  assert.is(digestHex((e2 as unknown as { digest: bigint }).digest), digestHex(stateDigest(e2.state)));
  await log.close();
});

test('DigestCache: an image is known only under the entity it was digested for, and only once folded', () => {
  const img = { v: 1 };
  const c = new DigestCache();
  c.set('A', 'nodes', 'x', img, 7n);
  assert.is(c.get('A', 'nodes', 'x', img), 7n);
  assert.is(c.get('A', 'nodes', 'y', img), undefined, 'the same object under another id');
  assert.is(c.get('B', 'nodes', 'x', img), undefined, 'another scope');
  assert.is(c.get('A', 'nodes', 'x', { v: 1 }), undefined, 'an equal copy');
  const after = { v: 2 };
  c.note('A', 'nodes', 'z', 9n);
  assert.is(c.get('A', 'nodes', 'z', after), undefined, 'noted, not yet folded');
  c.settle({ A: { nodes: { z: after } } });
  assert.is(c.get('A', 'nodes', 'z', after), 9n, 'settled on the image the state holds');
  c.note('A', 'nodes', 'w', 3n);
  c.drop();
  c.settle({ A: { nodes: { w: img } } });
  assert.is(c.get('A', 'nodes', 'w', img), undefined, 'dropped: never settled');
  // digestApplySteps with a cache holding the true digest: the same result as without
  c.set('A', 'nodes', 'x', img, entityDigest('A', 'nodes', 'x', img));
  const st = [{ name: 's', changes: [{ s: 'A', c: 'nodes', id: 'x', before: img, after: { v: 3 } } as Change] }];
  assert.is(digestApplySteps(100n, st, c), digestApplySteps(100n, st));
});

test('digestApplySteps equals digestApply step by step, also when an entity is set back to an earlier image', () => {
  const I = { v: 1 };
  const J = { v: 2 };
  const K = { v: 3 };
  const ch = (before: unknown, after: unknown, id = 'x'): Change => ({ s: 'A', c: 'things', id, before, after });
  const cases: Change[][][] = [
    [[ch(null, I)], [ch(I, J)], [ch(J, I)]], // set back to the object it had: I still counts once
    [[ch(K, I), ch(null, J, 'y')], [ch(I, { ...I })], [ch(J, null, 'y')]], // an equal copy is not the same image
    [[ch(I, J)], [ch(J, K)], [ch(K, null)]],
  ];
  for (const steps of cases) {
    let d = 12345n;
    for (const st of steps) d = digestApply(d, st);
    assert.is(digestHex(digestApplySteps(12345n, steps.map((changes) => ({ name: 's', changes })))), digestHex(d));
  }
});

test('storing a command encodes no image to compare it: an entity changed again is matched by identity', async () => {
  const e = await Engine.open(await openMemory());
  const cmds: [string, Record<string, unknown>][] = [
    ['blockdev-add', { driver: 'null-co', 'node-name': 'a' }], // open, then monitor-ref of the same node
    ['blockdev-add', { driver: 'raw', 'node-name': 'r', file: 'a' }], // open, attach, monitor-ref: r three times
    ['blockdev-del', { 'node-name': 'r' }],
    ['blockdev-del', { 'node-name': 'a' }],
  ];
  for (const [cmd, args] of cmds) {
    const before = wholeWork.imageEncodings;
    const r = await e.execute('A', cmd, args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    assert.is(wholeWork.imageEncodings - before, 0, `${cmd}: images encoded to be compared`);
  }
  await e.log.close();
});

test('an equal image that is another object is still stored as a reference (encoded once each to compare)', () => {
  const img = { driver: 'null-co', 'node-name': 'a', ro: false };
  const data = {
    op: 'x', args: {}, plan: ['s1', 's2'], decided: { outcome: 'commit' },
    steps: [
      { name: 's1', changes: [{ s: 'A', c: 'things', id: 'a', before: null, after: img }] },
      { name: 's2', changes: [{ s: 'A', c: 'things', id: 'a', before: { ...img }, after: { ...img, ro: true } }] },
    ],
  };
  const before = wholeWork.imageEncodings;
  const stored = compactWhole(data) as unknown[];
  assert.is(wholeWork.imageEncodings - before, 2);
  assert.ok(JSON.stringify(stored[3]).includes('"R":0'), JSON.stringify(stored[3]));
  const back = expandWhole(JSON.parse(JSON.stringify(stored))) as { steps: { changes: { before: unknown }[] }[] };
  assert.equal(back.steps[1]!.changes[0]!.before, img);
});

test('an entity digest quotes each member name once, not per digest (JSON.stringify calls counted)', () => {
  const node = (name: string) => ({ aio: 'main', align: 1, auto: false, driver: 'null-co', explicit: { driver: 'null-co', 'node-name': name, 'read-only': 'off' }, filename: 'null-co://', forceShare: false, header: null, implicit: false, name, order: 4, ro: false });
  entityDigest('A', 'nodes', 'w', node('w')); // its member names quoted
  const orig = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((...a: Parameters<typeof JSON.stringify>) => { calls++; return orig(...a); }) as typeof JSON.stringify;
  let d: bigint;
  try { d = entityDigest('A', 'nodes', 'x', node('x')); } finally { JSON.stringify = orig; }
  // one per primitive value (14 here); each of the 15 member names was one more before
  assert.is(calls, 14, `${calls} JSON.stringify calls (was 29)`);
  // the digest is the one the same text always gave
  const text = '{"aio":"main","align":1,"auto":false,"driver":"null-co","explicit":{"driver":"null-co","node-name":"x","read-only":"off"},"filename":"null-co://","forceShare":false,"header":null,"implicit":false,"name":"x","order":4,"ro":false}';
  assert.is(d!, BigInt('0x' + createHash('sha256').update('A\0nodes\0x\0' + text).digest('hex')));
});

test.run();
