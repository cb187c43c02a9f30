// Format version 5 (txn.begun version 4, frame 3 of store/codec.ts, store/whole-split.ts): the
// redo part is its own JSON text ahead of the undo part, its length in the header; the record
// decodes to exactly what version 3 of the same data decodes to; replay's read parses the redo
// part alone; a damaged value (either part, the length, a decision code that lies) is a corrupt
// record, never a misread; the same data at version 3 is still read (older logs open).
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogCorruptError } from '../../errors/index.js';
import { emptyFold, foldRaw, foldRecord } from '../../replay/fold.js';
import { canonicalJson, ChainReader, decodeRecord, decodeWork, encodeRecord, HEADER2, HEADER3, recordHash, recordProblem } from '../../store/codec.js';
import type { NewRecord } from '../../store/types.js';
import { node, openStep, txnBegun } from './frame-records.js';

const it = suite('store/frame3');

const rec = (data: Record<string, unknown>, v = 4, txn = 't1'): NewRecord => txnBegun(data, v, txn);
const add = (name: string, seq: number) => ({
  op: 'blockdev-add', args: { driver: 'null-co', 'node-name': name }, plan: ['open', 'monitor-ref'],
  steps: [
    openStep(name, seq),
    { name: 'monitor-ref', changes: [{ s: 'A', c: 'nodes', id: name, before: node(name, false), after: node(name, true) }] },
  ],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'ab'.repeat(32) } },
});
const del = (name: string) => ({
  op: 'blockdev-del', args: { 'node-name': name }, plan: ['main'],
  steps: [{ name: 'main', changes: [{ s: 'A', c: 'nodes', id: name, before: node(name, true), after: null }] }],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'cd'.repeat(32) } },
});
const redoOf = (value: string) => value.substring(HEADER3, HEADER3 + parseInt(value.substring(HEADER2, HEADER3), 16));

it('the layout: frame 3, the redo length, the redo part (type and txn first, after-side only), then the undo part', () => {
  const x = encodeRecord(1, rec(add('n', 1)), '');
  assert.is(x.value[8], '3');
  const redo = redoOf(x.value);
  // the node's after-image templated (store/image-template.ts), the monitor-ref a patch
  assert.match(redo, /^\["txn\.begun",4,"t1",\[1,\[\[\["A","meta","proc",1,\{"autoName":0,"seq":1\}\],\["A","nodes","n",1,\{"driver":"null-co",/);
  assert.ok(redo.endsWith('}]],[["A","nodes","n",3,{"monitor":true}]]]]]'), redo);
  const undo = x.value.substring(HEADER3 + redo.length);
  assert.is(undo, '["A","now",null,["blockdev-add",{"driver":"null-co","node-name":"n"},0,["open","monitor-ref"],[null,null,0],"' + 'ab'.repeat(32) + '"]]');
  assert.is(recordHash(1, rec(add('n', 1)), ''), x.record.hash);
  assert.is(recordProblem(x.value, 1, ''), undefined);
  // a delete's redo part names the entity alone: its image is in the undo part
  assert.match(redoOf(encodeRecord(1, rec(del('n')), '').value), /^\["txn\.begun",4,"t1",\[1,\[\[\["A","nodes","n"\]\]\]\]\]$/);
});

it('decodes to what version 3 of the same data decodes to (data, envelope, key order)', () => {
  const cases = [add('n', 1), add('m', 7), del('n'), { ...add('n', 2), plan: ['other'] },
    { ...add('n', 2), decided: { outcome: 'abort', reason: 'no', ended: {} } },
    { ...add('n', 2), decided: { outcome: 'commit', reply: { return: {} }, events: [] } }, // not ended here
    { op: 'blockdev-add', args: {}, plan: ['x'] }, // a plain begun (the phased path)
    { ...add('n', 2), extra: 1 }]; // an odd shape: no redo part
  for (const data of cases) {
    const five = encodeRecord(1, rec(data), '');
    const three = encodeRecord(1, rec(data, 3), '');
    assert.is(five.value[8], '3');
    assert.is(three.value[8], '2');
    const a = decodeRecord(five.value, 1, '');
    const b = decodeRecord(three.value, 1, '');
    assert.is(JSON.stringify({ ...a, v: 0, hash: '' }), JSON.stringify({ ...b, v: 0, hash: '' }));
    assert.is(canonicalJson(a.data), canonicalJson(data));
    // and both folds give the same state and open transactions
    const f1 = emptyFold();
    const f2 = emptyFold();
    const seed = encodeRecord(1, rec(add('n', 1), 4, 't0'), '');
    for (const f of [f1, f2]) foldRecord(f, decodeRecord(seed.value, 1, ''));
    const second = encodeRecord(2, rec(data), seed.record.hash);
    foldRecord(f1, decodeRecord(second.value, 2, seed.record.hash));
    foldRaw(f2, new ChainReader(2, seed.record.hash).nextRaw(second.value));
    assert.is(JSON.stringify([f2.state, [...f2.open.values()]]), JSON.stringify([f1.state, [...f1.open.values()]]));
  }
});

it('replay\'s read parses the redo part alone; the full decode parses both', () => {
  const x = encodeRecord(1, rec(add('n', 1)), '');
  decodeWork.parses = decodeWork.chars = 0;
  const raw = new ChainReader(1, '').nextRaw(x.value);
  assert.is(decodeWork.parses, 1);
  assert.is(decodeWork.chars, redoOf(x.value).length);
  foldRaw(emptyFold(), raw);
  assert.is(decodeWork.parses, 1, 'the fold parses nothing more');
  decodeWork.parses = 0;
  decodeRecord(x.value, 1, '');
  assert.is(decodeWork.parses, 2);
});

it('a damaged value is a corrupt record: either part, the length, a decision code that does not match the decision', () => {
  const { value } = encodeRecord(1, rec(add('n', 1)), '');
  const redo = redoOf(value);
  const undo = value.substring(HEADER3 + redo.length);
  const bads = [
    forge(value, redo.replace('[1,[[[', '[2,[[['), undo), // says "ends otherwise": the decision commits
    forge(value, redo.replace('[1,[[[', '[1,[[[["A","nodes","x"],'), undo), // a change the undo part has no before for
    forge(value, redo, undo.replace('[null,null,0]', '[null,0,0]')), // a reference to no image
    forge(value, redo.slice(0, -1), undo), // not JSON
  ];
  for (const bad of bads) assert.throws(() => decodeRecord(bad, 1, ''), (e: unknown) => e instanceof LogCorruptError);
  // a length past the value, or not hex: the frame itself is refused
  for (const len of ['ffffffff', 'zzzzzzzz', '00000001']) {
    const rest = value.slice(8, HEADER2) + len + value.slice(HEADER3);
    const v = crc32(rest).toString(16).padStart(8, '0') + rest;
    assert.throws(() => new ChainReader(1, '').nextRaw(v), (e: unknown) => e instanceof LogCorruptError);
  }
  // the CRC covers the undo part too
  const flipped = value.slice(0, -3) + (value.at(-3) === 'a' ? 'b' : 'a') + value.slice(-2);
  assert.throws(() => new ChainReader(1, '').nextRaw(flipped), (e: unknown) => e instanceof LogCorruptError && /crc/.test(e.message));
});

/** `value`'s header (seq, hash, link) with other parts, their length and a CRC that matches. */
function forge(value: string, redo: string, undo: string): string {
  const rest = value.slice(8, HEADER2) + redo.length.toString(16).padStart(8, '0') + redo + undo;
  return crc32(rest).toString(16).padStart(8, '0') + rest;
}

it.run();
