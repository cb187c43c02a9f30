import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson, decodeRecord, encodeRecord, HEADER, HEADER2, keySeq, recordHash, recordProblem, seqKey } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';

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

const node = (name: string, monitor: boolean) => ({
  name, driver: 'null-co', monitor, size: 1073741824, options: { driver: 'null-co', 'node-name': name, 'read-only': 'off' }, lock: null,
});

codec('frame 2: hash = sha256(prevHash + seq + body), the envelope by position, a link to the previous hash', () => {
  const prev = 'ab'.repeat(32);
  const r = { stream: 'A', type: 't', v: 2, at: 'now', txn: 't1', data: { z: 1, a: 2 } };
  const { record, value } = encodeRecord(7, r, prev);
  const body = '["t",2,"A","now","t1",null,{"a":2,"z":1}]';
  assert.is(value[8], '2');
  assert.is(value.substring(HEADER2), body);
  assert.is(value.substring(85, HEADER2), prev.substring(0, 16));
  assert.is(record.hash, createHash('sha256').update(prev + '000000000007' + body).digest('hex'));
  assert.is(recordHash(7, r, prev), record.hash, 'a fixture recomputes it from the record alone');
  assert.equal(record, { at: 'now', data: { a: 2, z: 1 }, seq: 7, stream: 'A', txn: 't1', type: 't', v: 2, prevHash: prev, hash: record.hash });
  assert.equal(Object.keys(record), ['at', 'data', 'seq', 'stream', 'txn', 'type', 'v', 'prevHash', 'hash'], 'the key order a frame-1 body parses to');
  assert.equal(decodeRecord(value, 7, prev), record);
  assert.is(recordProblem(value, 7, prev), undefined);
  assert.match(recordProblem(value, 7, 'cd'.repeat(32))!, /broken chain/);
  assert.throws(() => decodeRecord(value, 7, 'cd'.repeat(32)), /broken chain/);
  assert.throws(() => decodeRecord(value, 7), /whose hash was not given/, 'a link alone is not a prevHash');
  const tampered = value.substring(0, HEADER2) + value.substring(HEADER2).replace('"z":1', '"z":2');
  assert.match(recordProblem(tampered, 7, prev)!, /crc/);
  assert.ok(value.length < HEADER + body.length, 'shorter than frame 1');
});

codec('frame 2 stores a step without duplicate images and decodes the full before/after pairs', () => {
  const changes = [
    { s: 'A', c: 'meta', id: 'proc', before: { autoName: 0, seq: 1 }, after: { autoName: 0, seq: 2 } },
    { s: 'A', c: 'nodes', id: 'n0', before: null, after: node('n0', false) },
    { s: 'A', c: 'nodes', id: 'n1', before: node('n1', false), after: { ...node('n1', true), extra: { q: 1 }, lock: undefined } },
    { s: 'A', c: 'nodes', id: 'n2', before: node('n2', true), after: null },
    { s: 'A', c: 'order', id: 'x', before: [1, 2], after: [2, 1] },
  ];
  const r = { stream: 'A', type: 'txn.step', v: 2, at: 'now', txn: 't1', data: { name: 'main', changes } };
  const { record, value } = encodeRecord(1, r, '');
  const stored = JSON.parse(value.substring(HEADER2))[6].changes;
  assert.equal(stored[0], { b: { autoName: 0, seq: 1 }, c: 'meta', id: 'proc', p: { seq: 2 }, s: 'A' });
  assert.equal(stored[1], { a: node('n0', false), c: 'nodes', id: 'n0', s: 'A' });
  assert.equal(stored[2], { b: node('n1', false), c: 'nodes', id: 'n1', p: { extra: { q: 1 }, monitor: true }, s: 'A', u: ['lock'] });
  assert.equal(stored[3], { b: node('n2', true), c: 'nodes', id: 'n2', s: 'A' });
  assert.equal(stored[4], { a: [2, 1], b: [1, 2], c: 'order', id: 'x', s: 'A' });
  assert.is(value.split('"options"').length - 1, 3, 'one image per node: n0 after, n1 before, n2 before');
  // what frame 1 would give back: canonical JSON parsed (keys sorted, undefined dropped)
  const want = JSON.parse(canonicalJson(changes));
  const got = (record.data as { changes: unknown[] }).changes;
  assert.equal(got, want);
  assert.is(JSON.stringify(got), JSON.stringify(want), 'same key order as a frame-1 body');
  assert.equal(decodeRecord(value, 1), record);
  // version 1 of the same record: frame 1, both images stored
  const v1 = encodeRecord(1, { ...r, v: 1 }, '');
  assert.is(v1.value[8], '1');
  assert.equal((v1.record.data as { changes: unknown[] }).changes, want);
});

codec('a log holding frame-1 records then frame-2 records reads whole, from the middle and by seq', async () => {
  const log = await openMemory();
  const rec = (i: number, v: number) => ({ stream: 'A', type: 'txn.step', v, at: 'now', txn: 't1', data: { name: `s${i}`, changes: [{ s: 'A', c: 'nodes', id: 'n', before: i > 1 ? node('n', i % 2 === 0) : null, after: node('n', i % 2 === 1) }] } });
  await log.append([rec(1, 1), rec(2, 1), rec(3, 1)]);
  await log.append([rec(4, 2), rec(5, 2), rec(6, 2)]);
  const all = await log.readAll();
  assert.equal(all.map((r) => r.v), [1, 1, 1, 2, 2, 2]);
  for (let i = 1; i < all.length; i++) assert.is(all[i]!.prevHash, all[i - 1]!.hash);
  for (const from of [2, 4, 5]) {
    assert.equal(await log.readAll({ gte: from }), all.slice(from - 1), `read from ${from}`);
    assert.equal(await log.recordAt(from), all[from - 1], `record ${from}`);
  }
  assert.equal(await log.verify(), { ok: true, head: 6 });
  await log.close();
});

codec.run();
