// Canonical JSON sorts each object's keys without Array.prototype.sort (store/sort-keys.ts,
// issue 15): sort() copies its array into a work array on every call, ~20 small lists per
// command. Counted, never timed; the text is the same as with sort().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson } from '../../store/codec.js';
import { canonicalJson as digestJson } from '../../graph/hash.js';
import { sortKeys } from '../../store/sort-keys.js';

test('sortKeys orders as sort() does (UTF-16 code units), in place', () => {
  let seed = 7;
  const rnd = (k: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % k; };
  const alphabet = ['a', 'b', 'B', '-', '_', '0', 'z', 'é', '\u{1F600}', 'node-name', 'A'];
  for (let t = 0; t < 500; t++) {
    const keys = Array.from({ length: rnd(40) }, () => Array.from({ length: 1 + rnd(3) }, () => alphabet[rnd(alphabet.length)]).join(''));
    const want = [...keys].sort();
    const got = sortKeys(keys);
    assert.is(got, keys, 'in place');
    assert.equal(got, want);
  }
});

test('canonical JSON of a record and of a digest image calls no Array.prototype.sort', () => {
  const img = { 'node-name': 'n1', driver: 'null-co', ro: false, cache: { direct: false, 'no-flush': false }, children: [{ z: 1, a: 2 }], b: null };
  const sort = Array.prototype.sort;
  let calls = 0;
  Array.prototype.sort = function (this: unknown[], ...a: []) { calls++; return sort.apply(this, a); } as typeof sort;
  let texts: string[];
  try {
    texts = [canonicalJson(img), digestJson(img)];
  } finally {
    Array.prototype.sort = sort;
  }
  assert.is(calls, 0);
  assert.is(texts[0], '{"b":null,"cache":{"direct":false,"no-flush":false},"children":[{"a":2,"z":1}],"driver":"null-co","node-name":"n1","ro":false}');
  assert.is(texts[1], texts[0]);
});

test.run();
