import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson, decodeRecord, encodeRecord, HEADER, keySeq, recordProblem, seqKey } from '../../store/codec.js';

const codec = suite('store/codec');

codec('canonical JSON sorts keys at every level and drops undefined as JSON does', () => {
  assert.is(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: 'é' }, u: undefined }), '{"a":{"c":"é","d":[3,{"x":2,"y":1}]},"b":1}');
  assert.is(canonicalJson([undefined, null, true]), '[null,null,true]');
  assert.is(canonicalJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
  assert.is(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
});

codec('canonical JSON refuses values JSON would silently change', () => {
  for (const bad of [NaN, Infinity, { x: -Infinity }, 1n, undefined]) {
    assert.throws(() => canonicalJson(bad), (e: { code?: string }) => e.code === 'BG_BAD_INPUT');
  }
});

codec('hash = sha256(prevHash + canonical body); decode gives back the record', () => {
  const prev = 'ab'.repeat(32);
  const { record, value } = encodeRecord(7, { stream: 'A', type: 't', at: 'now', data: { z: 1, a: 2 } }, prev);
  const body = '{"at":"now","data":{"a":2,"z":1},"seq":7,"stream":"A","type":"t","v":1}';
  assert.is(value.substring(HEADER), body);
  assert.is(record.hash, createHash('sha256').update(prev + body).digest('hex'));
  assert.equal(decodeRecord(value, 7), record);
  assert.is(recordProblem(value, 7, prev), undefined);
  assert.match(recordProblem(value, 7, 'cd'.repeat(32))!, /broken chain/);
  const first = encodeRecord(1, { stream: 'A', type: 't', at: 'now', data: null }, '');
  assert.is(first.record.prevHash, '');
  assert.is(decodeRecord(first.value, 1).prevHash, '');
  assert.is(recordProblem(first.value, 1, ''), undefined);
});

codec('seq keys sort numerically', () => {
  const seqs = [1, 2, 9, 10, 15, 16, 255, 256, 4096, 2 ** 40];
  const keys = seqs.map(seqKey);
  assert.equal([...keys].sort(), keys);
  assert.equal(keys.map(keySeq), seqs);
  assert.ok(Number.isNaN(keySeq('zz')));
});

codec.run();
