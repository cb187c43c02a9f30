// Format version 4 (store/whole-txn.ts, events/whole.ts): a whole transaction in one record
// decodes to exactly the data it was given, whatever its shape; its images are shared within
// the record only; a damaged stored form is a corrupt record; a reader of version 2 refuses it.
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BlockgraphError, LogCorruptError } from '../../errors/index.js';
import { CURRENT_VERSION } from '../../events/types.js';
import { isWhole, partsOf } from '../../events/whole.js';
import { emptyFold, foldRecord } from '../../replay/fold.js';
import { canonicalJson, decodeRecord, encodeRecord, HEADER2 } from '../../store/codec.js';
import type { NewRecord } from '../../store/types.js';

const it = suite('store/whole-txn');

const node = (name: string, monitor: boolean) => ({
  aio: 'main', align: 1, auto: false, driver: 'null-co', explicit: { driver: 'null-co', 'node-name': name }, filename: 'null-co://',
  forceShare: false, header: null, implicit: false, inheritsFrom: null, lock: null, monitor, name, neverFreeze: false,
  options: { driver: 'null-co', 'node-name': name }, order: 1, ro: false, size: 1, unmap: false,
});
const whole = (data: Record<string, unknown>): NewRecord => ({ stream: 'A', type: 'txn.begun', v: 3, at: 'now', txn: 't1', data });
const base = () => ({
  op: 'blockdev-add', args: { driver: 'null-co', 'node-name': 'n' }, plan: ['open', 'monitor-ref'],
  steps: [
    { name: 'open', changes: [{ s: 'A', c: 'nodes', id: 'n', before: null, after: node('n', false) }] },
    { name: 'monitor-ref', changes: [{ s: 'A', c: 'nodes', id: 'n', before: node('n', false), after: node('n', true) }] },
  ],
  decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: { stateHash: 'ab'.repeat(32) } },
});
const roundTrip = (data: Record<string, unknown>) => {
  const x = encodeRecord(1, whole(data), '');
  const back = decodeRecord(x.value, 1, '');
  assert.is(canonicalJson(back.data), canonicalJson(data));
  return x.value.slice(HEADER2);
};

it('the engine\'s shape: positional, plan 0, the second image a reference, the decision its hash', () => {
  const body = roundTrip(base());
  assert.match(body, /^\["txn\.begun",3,"A","now","t1",null,\["blockdev-add",/);
  assert.match(body, /,0,\[\["open",/);
  assert.match(body, /"R":0/);
  assert.not.match(body, /"B":/);
  assert.match(body, new RegExp(`,"${'ab'.repeat(32)}"\\]\\]$`));
});

it('other shapes round-trip: a plan of its own, events, an abort, a member of its own, a change with extra members', () => {
  roundTrip({ ...base(), plan: ['something else'] });
  roundTrip({ ...base(), decided: { outcome: 'commit', reply: { return: {} }, events: [{ event: 'X', data: {} }], ended: { stateHash: 'cd'.repeat(32) } } });
  roundTrip({ ...base(), decided: { outcome: 'abort', reason: 'no', ended: {} } });
  assert.match(roundTrip({ ...base(), extra: 1 }), /"extra":1/); // stored as the object
  const b = base();
  (b.steps[1]!.changes[0] as Record<string, unknown>).R = 5; // a member named like the reference: the object form
  assert.not.match(roundTrip(b), /,0,\[\["open"/);
  const c = base();
  c.steps[1]!.changes[0]!.before = node('n', true); // not the image the record holds: stored literally
  assert.not.match(roundTrip(c), /"R":0/);
});

it('a damaged stored form is a corrupt record, not a misread', () => {
  const x = encodeRecord(1, whole(base()), '');
  const body = x.value.slice(HEADER2);
  for (const bad of [body.replace('"R":0', '"R":1'), body.replace(',0,[["open"', ',7,[["open"'), body.replace('"R":0', '"R":0,"B":{}')]) {
    const { value } = encodeRecord(1, whole(base()), '');
    // the same header with the damaged body and a matching CRC: only the body is wrong
    const forged = forge(value, bad);
    assert.throws(() => decodeRecord(forged, 1, ''), (e: unknown) => e instanceof LogCorruptError);
  }
});

it('the fold applies a whole transaction as its parts; a reader of version 2 refuses it', () => {
  const x = encodeRecord(1, whole(base()), '');
  const rec = decodeRecord(x.value, 1, '');
  assert.ok(isWhole(rec));
  assert.equal(partsOf(rec).map((p) => p.type), ['txn.begun', 'txn.step', 'txn.step', 'txn.decided']);
  const f = emptyFold();
  foldRecord(f, rec);
  assert.equal(f.open.size, 0);
  assert.is((f.state.A!.nodes!.n as { monitor: boolean }).monitor, true);
  const was = CURRENT_VERSION['txn.begun'];
  (CURRENT_VERSION as Record<string, number>)['txn.begun'] = 2; // as a blockgraph before version 4 reads
  try {
    assert.throws(() => foldRecord(emptyFold(), rec), (e: unknown) => e instanceof BlockgraphError && e.code === 'BG_LOG_PROTOCOL');
  } finally {
    (CURRENT_VERSION as Record<string, number>)['txn.begun'] = was;
  }
});

/** `value`'s header (seq, hash, link) with another body and a CRC that matches it. */
function forge(value: string, body: string): string {
  const rest = value.slice(8, HEADER2) + body;
  return crc32(rest).toString(16).padStart(8, '0') + rest;
}

it.run();
