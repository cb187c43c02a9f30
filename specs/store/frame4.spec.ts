// Format version 6 (txn.begun version 5, frame 4 of store/codec.ts): frame 3 with the redo
// part's skip table (each image's, patch's and removed-field list's length) between the redo
// length and the redo part. The same data and texts as version 4; replay's lazy scan skips each
// image by its length (store/redo-scan.ts, counted in scanWork) instead of scanning it; the table
// is derived from the redo part alone, so the full decoder recomputes it and a record whose table
// is not its redo part's is a corrupt record (never a misread by `verify`), and the lazy fold of
// a table that does not fit falls back to the full path, which folds the redo part as written.
// Version 4 (frame 3) is still written for a record of version 4 and read.
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogCorruptError } from '../../errors/index.js';
import { CURRENT_VERSION } from '../../events/types.js';
import { emptyFold, foldRaw } from '../../replay/fold.js';
import { lazyWork, LazyFold } from '../../replay/fold-lazy.js';
import { ChainReader, decodeRecord, encodeRecord, HEADER2, HEADER3, recordHash, recordProblem, TABLE4 } from '../../store/codec.js';
import { newRedoScan, scanRedo, scanWork, skipTable } from '../../store/redo-scan.js';
import type { NewRecord } from '../../store/types.js';
import { node, openStep, txnBegun } from './frame-records.js';

const it = suite('store/frame4');

const rec = (data: Record<string, unknown>, v = 5, txn = 't1'): NewRecord => txnBegun(data, v, txn);
const add = (name: string, seq: number) => ({
  op: 'blockdev-add', args: { driver: 'null-co', 'node-name': name }, plan: ['open', 'monitor-ref'],
  steps: [
    openStep(name, seq),
    // a patch that removes a field too (its removed-field list has a length of its own)
    { name: 'monitor-ref', changes: [{ s: 'A', c: 'nodes', id: name, before: node(name, false), after: { ...node(name, true), header: undefined } }] },
  ],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'ab'.repeat(32) } },
});
const del = (name: string) => ({
  op: 'blockdev-del', args: { 'node-name': name }, plan: ['main'],
  steps: [{ name: 'main', changes: [{ s: 'A', c: 'nodes', id: name, before: node(name, true), after: null }] }],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'cd'.repeat(32) } },
});
const clean = (d: Record<string, unknown>) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
const redoAt = (value: string) => TABLE4 + 4 * parseInt(value.substring(HEADER3, TABLE4), 16);
const redoOf = (value: string) => value.substring(redoAt(value), redoAt(value) + parseInt(value.substring(HEADER2, HEADER3), 16));

it('the layout: frame 4, the redo length, the skip table, then the redo and undo parts of frame 3', () => {
  assert.is(CURRENT_VERSION['txn.begun'], 5);
  const x = encodeRecord(1, rec(clean(add('n', 1))), '');
  assert.is(x.value[8], '4');
  const redo = redoOf(x.value);
  // the same texts version 4 writes in frame 3
  const v4 = encodeRecord(1, rec(clean(add('n', 1)), 4), '');
  assert.is(v4.value[8], '3');
  const redo4 = v4.value.substring(HEADER3, HEADER3 + redo.length);
  assert.is(redo, redo4.replace('["txn.begun",4,', '["txn.begun",5,'));
  assert.is(x.value.substring(redoAt(x.value) + redo.length), v4.value.substring(HEADER3 + redo.length), 'the same undo part');
  // the table: the meta's image, the node's image, the monitor-ref's patch and its removed fields
  const table = x.value.substring(HEADER3, redoAt(x.value));
  assert.is(table, skipTable(redo));
  const lens = table.substring(4).match(/.{4}/g)!.map((h) => parseInt(h, 16));
  assert.is(lens.length, 4);
  const image = redo.substring(redo.indexOf('{"driver"'), redo.indexOf(']],[['));
  assert.ok(image.endsWith('"size":1}'), image);
  const texts = ['{"autoName":0,"seq":1}', image, '{"monitor":true}', '["header"]'];
  for (const t of texts) assert.ok(redo.includes(t), t);
  assert.equal(lens, texts.map((t) => t.length));
  assert.is(recordHash(1, rec(clean(add('n', 1))), ''), x.record.hash);
  assert.is(recordProblem(x.value, 1, ''), undefined);
  // a delete has no image in its redo part: an empty table
  assert.is(encodeRecord(1, rec(del('n')), '').value.substring(HEADER3, TABLE4), '0000');
  // and it decodes to the record as given, at version 5
  const back = decodeRecord(x.value, 1, '');
  assert.is(back.v, 5);
  assert.equal(back.data, clean(add('n', 1)));
});

it('the lazy scan skips every image, patch and removed-field list by its length, and finds what the bracket scan finds', () => {
  const values: string[] = [];
  let prev = '';
  for (let i = 1; i <= 6; i++) {
    const x = encodeRecord(i, rec(clean(i % 2 ? add(`n${i}`, i) : del(`n${i - 1}`)), 5, `t${i}`), prev);
    values.push(x.value);
    prev = x.record.hash;
  }
  const c = new ChainReader(1, '');
  const withTable = newRedoScan();
  const without = newRedoScan();
  scanWork.skipped = scanWork.scanned = 0;
  for (const v of values) {
    const u = c.frame3At(v);
    assert.ok(u > 0);
    assert.ok(scanRedo(v, c.redoAt, u, withTable, c.version, TABLE4, c.entries));
    assert.ok(scanRedo(v, c.redoAt, u, without, c.version)); // no table: every value scanned
    for (const k of ['n', 'xa', 'xb', 'ua', 'kind', 's', 'c', 'id'] as const) {
      const a = withTable[k];
      const b = without[k];
      assert.equal(Array.isArray(a) ? a.slice(0, withTable.n) : a, Array.isArray(b) ? b.slice(0, without.n) : b, k);
    }
    c.advance(v);
  }
  assert.is(scanWork.skipped, 3 * 4, 'three adds, four values each, skipped by length');
  assert.is(scanWork.scanned, 3 * 4, 'the same values scanned without the table');
});

/** `value` with another skip table, its redo length and CRC kept consistent. */
function withTable(value: string, table: string): string {
  const rest = value.slice(8, HEADER3) + table + value.slice(redoAt(value));
  return crc32(rest).toString(16).padStart(8, '0') + rest;
}

it('a skip table that is not its redo part\'s: the full decoder refuses the record; the lazy fold falls back to the full path and folds what the redo part says', () => {
  const { value } = encodeRecord(1, rec(clean(add('n', 1))), '');
  const table = value.substring(HEADER3, redoAt(value));
  const lens = table.substring(4).match(/.{4}/g)!;
  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  const bads = [
    '0000', // no table: the scan would still read the record, but it is not the one written
    hex4(3) + lens.slice(0, 3).join(''), // one entry short
    hex4(5) + lens.join('') + '0001', // one too many
    hex4(4) + [hex4(parseInt(lens[0]!, 16) + 1), ...lens.slice(1)].join(''), // a length one too long
    hex4(4) + [lens[0], hex4(parseInt(lens[1]!, 16) - 5), ...lens.slice(2)].join(''), // one landing inside the image
    hex4(4) + ['zzzz', ...lens.slice(1)].join(''), // not hex
  ];
  for (const t of bads) {
    const bad = withTable(value, t);
    // the frame reads (CRC, seq, link, lengths), the record does not decode
    assert.throws(() => decodeRecord(bad, 1, ''), (e: unknown) => e instanceof LogCorruptError && e.seq === 1, t);
    // the eager fold of the stored form reads the redo part alone (as written); the lazy fold gives the same state
    const eager = emptyFold();
    foldRaw(eager, new ChainReader(1, '').nextRaw(bad));
    lazyWork.full = 0;
    const lazy = new LazyFold(emptyFold());
    lazy.feed(new ChainReader(1, ''), bad);
    assert.equal(lazy.materialize().state, eager.state, t);
    if (t !== '0000' && !t.startsWith(hex4(3))) assert.is(lazyWork.full, 1, `${t}: folded the full way`);
  }
});

it('the frame is the version\'s: a version-4 record in frame 4, or a version-5 one in frame 3, is refused', () => {
  const five = encodeRecord(1, rec(clean(add('n', 1))), '').value;
  const four = encodeRecord(1, rec(clean(add('n', 1)), 4), '').value;
  const swap = (v: string, frame: string, from: string, to: string) => {
    const rest = frame + v.slice(9).replace(from, to);
    return crc32(rest).toString(16).padStart(8, '0') + rest;
  };
  // frame 4 holding version 4 (table kept), frame 3 holding version 5
  assert.throws(() => decodeRecord(swap(five, '4', '["txn.begun",5,', '["txn.begun",4,'), 1, ''), (e: unknown) => e instanceof LogCorruptError);
  assert.throws(() => decodeRecord(swap(four, '3', '["txn.begun",4,', '["txn.begun",5,'), 1, ''), (e: unknown) => e instanceof LogCorruptError);
  assert.is(decodeRecord(four, 1, '').v, 4, 'version 4 in frame 3 still reads');
});

it.run();
