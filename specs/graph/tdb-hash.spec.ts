// tdb_hash (graph/tdb-hash.ts): the same value as qobject/qdict.c's over the key's UTF-8 bytes,
// for every kind of key, and each option key hashed once per process, not once per comparison
// of every blockdev-add's sorts (issue 15: counted, never timed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { bucketOf, bucketWork, withBucketOrder } from '../../graph/reopen/qdict.js';
import { computeTdbHash, tdbHash, tdbWork } from '../../graph/tdb-hash.js';
import { openMemory } from '../../store/index.js';

/** qobject/qdict.c tdb_hash, transcribed over a Buffer of the key's UTF-8 bytes (the form the three copies had). */
function reference(key: string): number {
  const b = Buffer.from(key, 'utf8');
  let value = Math.imul(0x238f13af, b.length) >>> 0;
  for (let i = 0; i < b.length; i++) value = (value + ((b[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}

test('the hash of qobject/qdict.c over UTF-8 bytes, ASCII or not', () => {
  const keys = ['', 'a', 'driver', 'node-name', 'cache.direct', 'file.filename', 'x'.repeat(200), 'é', 'naïve-node', '日本', '\u{1F600}', '\uD800', 'a\uDC00b', '\u007f\u0080'];
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 2000; i++) {
    let k = '';
    const len = rnd() % 24;
    for (let j = 0; j < len; j++) k += String.fromCharCode(rnd() % 5 === 0 ? rnd() % 0x10000 : 0x20 + (rnd() % 0x5f));
    keys.push(k);
  }
  for (const k of keys) {
    assert.is(computeTdbHash(k), reference(k), JSON.stringify(k));
    assert.is(tdbHash(k), reference(k), JSON.stringify(k));
  }
});

test('a blockdev-add and its del hash their option keys once: none again for the next node', async () => {
  const e = await Engine.open(await openMemory());
  const cycle = async (name: string) => {
    const before = tdbWork.computed;
    for (const [cmd, args] of [
      ['blockdev-add', { driver: 'null-co', 'node-name': name, 'read-only': true, discard: 'unmap', 'detect-zeroes': 'on' }],
      ['blockdev-add', { driver: 'raw', 'node-name': `${name}-raw`, file: name }],
      ['blockdev-del', { 'node-name': `${name}-raw` }],
      ['blockdev-del', { 'node-name': name }],
    ] as const) {
      const r = await e.execute('A', cmd, args as Record<string, unknown>);
      assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    }
    return tdbWork.computed - before;
  };
  await cycle('first');
  assert.is(await cycle('second'), 0, 'the same option keys: every hash kept (was one Buffer and one hash per key per sort comparison)');
  await e.log.close();
});

/** withBucketOrder as it was before its fast path (graph/reopen/qdict.ts), the reference. */
function bucketOrderBefore(d: Record<string, unknown>, order: readonly string[]): Record<string, unknown> {
  const keys = Object.keys(d);
  const rank = new Map(order.map((k, i) => [k, i]));
  const byBucket = new Map<number, string[]>();
  for (const k of keys) (byBucket.get(bucketOf(k)) ?? byBucket.set(bucketOf(k), []).get(bucketOf(k))!).push(k);
  const next = new Map<number, string[]>();
  for (const [b, ks] of byBucket) {
    if (ks.length < 2) continue;
    next.set(b, [...ks].sort((x, y) => (rank.get(x) ?? order.length + ks.indexOf(x)) - (rank.get(y) ?? order.length + ks.indexOf(y))));
  }
  if (!next.size) return d;
  const taken = new Map<number, number>();
  const out: Record<string, unknown> = {};
  let moved = false;
  for (const k of keys) {
    const b = bucketOf(k);
    const list = next.get(b);
    if (!list) { out[k] = d[k]; continue; }
    const i = taken.get(b) ?? 0;
    taken.set(b, i + 1);
    const key = list[i]!;
    if (key !== k) moved = true;
    out[key] = d[key];
  }
  return moved ? out : d;
}

test('withBucketOrder: the same object, key order and identity as before, and no maps where no bucket is shared', () => {
  // keys that share a bucket: found by the hash, 512 buckets
  const byB = new Map<number, string[]>();
  for (let i = 0; i < 3000; i++) { const k = `opt-${i}`; (byB.get(bucketOf(k)) ?? byB.set(bucketOf(k), []).get(bucketOf(k))!).push(k); }
  const shared = [...byB.values()].find((ks) => ks.length >= 3)!;
  let seed = 11;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  for (let t = 0; t < 3000; t++) {
    const pool = [...shared, 'driver', 'node-name', 'cache.direct', 'file.filename', `x${rnd(50)}`, `opt-${rnd(3000)}`];
    const d: Record<string, unknown> = {};
    for (let i = rnd(pool.length + 1); i > 0; i--) d[pool[rnd(pool.length)]!] = rnd(5);
    const keys = Object.keys(d);
    const order = rnd(2) ? keys.slice().reverse() : pool.filter(() => rnd(2));
    const want = bucketOrderBefore(d, order);
    const got = withBucketOrder(d, order);
    assert.is(got === d, want === d, 'the same object exactly when nothing moves');
    assert.equal(Object.entries(got), Object.entries(want));
  }
  const before = bucketWork.ordered;
  withBucketOrder({ driver: 'null-co', 'node-name': 'n0' }, ['node-name', 'driver']);
  assert.is(bucketWork.ordered - before, 0, 'a blockdev-add\'s explicit options share no bucket: no ordering maps built');
  withBucketOrder({ [shared[0]!]: 1, [shared[1]!]: 2 }, [shared[1]!, shared[0]!]);
  assert.is(bucketWork.ordered - before, 1);
});

test('a long name is hashed each time, never kept (a hostile request cannot pin memory)', () => {
  const long = 'k'.repeat(100_000);
  const before = tdbWork.computed;
  assert.is(tdbHash(long), reference(long));
  assert.is(tdbHash(long), reference(long));
  assert.is(tdbWork.computed - before, 2, 'computed both times');
  const short = 'cache.no-flush';
  tdbHash(short);
  const b2 = tdbWork.computed;
  tdbHash(short);
  assert.is(tdbWork.computed - b2, 0, 'a short one kept');
});

test.run();
