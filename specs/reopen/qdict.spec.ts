// QEMU's QDict walk (tdb_hash buckets), which decides the key named in reopen errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bucketOf, extractSub, flatten, qdictKeys, qobjEqual, tdbHash } from '../../graph/reopen/qdict.js';

test('tdb_hash buckets as in the reference (locking 52, drop-cache 441)', () => {
  assert.is(bucketOf('locking'), 52);
  assert.is(bucketOf('drop-cache'), 441);
});

test('tdb_hash of the empty key is 12345 (0x238F13AF * 0, then the LCG step)', () => {
  assert.is(tdbHash(''), 12345);
});

test('qdictKeys: buckets ascending, newest first inside a bucket', () => {
  assert.equal(qdictKeys({ 'drop-cache': 1, locking: 2 }), ['locking', 'drop-cache']);
  // same key twice cannot happen; two keys of one bucket: the later insert comes first
  const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'];
  const byBucket = new Map<number, string[]>();
  for (const k of keys.flatMap((x) => keys.flatMap((y) => keys.map((z) => x + y + z)))) {
    const b = bucketOf(k);
    byBucket.set(b, [...(byBucket.get(b) ?? []), k]);
  }
  const pair = [...byBucket.values()].find((ks) => ks.length >= 2)!;
  const d: Record<string, number> = {};
  d[pair[0]!] = 1;
  d[pair[1]!] = 2;
  assert.equal(qdictKeys(d), [pair[1], pair[0]]);
});

test('flatten/extractSub: nested dicts become dotted keys and move to the child', () => {
  const f = flatten({ driver: 'qcow2', file: { driver: 'file', filename: 'x' }, backing: null, children: ['n0'] });
  assert.equal(f, { driver: 'qcow2', 'file.driver': 'file', 'file.filename': 'x', backing: null, 'children.0': 'n0' });
  const sub = extractSub(f, 'file.');
  assert.equal(sub, { driver: 'file', filename: 'x' });
  assert.not.ok('file.driver' in f);
});

test('qobject_is_equal: an int never equals its string form', () => {
  assert.ok(qobjEqual('auto', 'auto'));
  assert.not.ok(qobjEqual(4096, '4096'));
  assert.not.ok(qobjEqual(4096, undefined));
  assert.ok(qobjEqual(null, null));
});

test.run();
