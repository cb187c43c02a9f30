// Work on a command's path that does not depend on the graph, counted (never timed): the state
// digest (graph/hash.ts, a canonical encoding and a sha256 per entity image) is computed once per
// image a transaction changes — the engine computes the digest after the txn for its decision and
// folds the records without computing it again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { digestHex, digestWork, stateDigest } from '../../graph/hash.js';
import { openMemory } from '../../store/index.js';
import { compactWhole, expandWhole, wholeWork } from '../../store/whole-txn.js';

test('one entity digest per changed image per command; the kept digest is the state\'s', async () => {
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
    let n = 0;
    for (const s of r.steps) for (const c of s.changes) n += (c.before != null ? 1 : 0) + (c.after != null ? 1 : 0);
    images.push(n);
  }
  assert.equal(digests, images, 'entity digests per command = images its steps change');
  assert.ok(images.every((n) => n > 0));
  // the digest kept without the second computation is still the state's own
  const kept = (e as unknown as { digest: bigint }).digest;
  assert.is(digestHex(kept), digestHex(stateDigest(e.state)));
  await e.log.close();
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

test.run();
