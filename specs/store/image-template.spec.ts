// Version 3 images (store/image-template.ts): every image the conformance set's transcripts make
// comes back exactly (canonical JSON, key order) and is stored in fewer bytes; an image with no
// template, or one the template cannot express, is stored as before; version 2 still reads.
import { isWhole, partsOf } from '../../events/whole.js';
import { readdirSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { runOnModel, transcriptVersion } from '../../oracle/run-model.js';
import { canonicalJson, decodeRecord, encodeRecord, HEADER2 } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';
import { compactImage, expandImage, expandSlow, templateFor } from '../../store/image-template.js';

const it = suite('store/image-template');
const DIR = new URL('../../oracle/transcripts/', import.meta.url).pathname;

it('every image of 60 conformance transcripts round-trips, and their step records take at most 80% of the bytes', async () => {
  let images = 0;
  let v2Bytes = 0;
  let v3Bytes = 0;
  let wholes = 0;
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().filter((_, i) => i % 8 === 0).slice(0, 60);
  for (const f of files) {
    const t = JSON.parse(readFileSync(DIR + f, 'utf8'));
    if (!Array.isArray(t.steps) || t.vm) continue;
    const log = await openMemory();
    const e = await Engine.open(log);
    await runOnModel(t, e, { qemuVersion: transcriptVersion(t) }).catch(() => undefined);
    const recs = await log.readAll();
    for (const r of recs) {
      if (!isWhole(r)) continue;
      // a whole transaction (format version 4, store/whole-txn.ts) decodes to the data it was given
      const { seq: _s, hash: _h, prevHash: _p, ...rest } = r;
      const x = encodeRecord(1, rest, '');
      assert.is(canonicalJson(decodeRecord(x.value, 1, '').data), canonicalJson(r.data), `${f} seq ${r.seq}`);
      wholes++;
    }
    for (const r of recs.flatMap(partsOf)) {
      const changes = (r.data as { changes?: { c: string; before: unknown; after: unknown }[] } | null)?.changes;
      if (r.type !== 'txn.step' && r.type !== 'txn.compensated') continue;
      for (const ch of changes ?? []) {
        for (const img of [ch.before, ch.after]) {
          const tpl = templateFor(ch.c, img);
          if (!tpl) continue;
          images++;
          const back = expandImage(tpl, JSON.parse(JSON.stringify(compactImage(tpl, img as Record<string, unknown>))));
          assert.is(JSON.stringify(back), JSON.stringify(JSON.parse(canonicalJson(img))), `${f} ${ch.c}`);
        }
      }
      // the whole record, encoded at version 2 and 3: the same data back, fewer bytes at 3
      const { seq: _s, hash: _h, prevHash: _p, ...rest } = r;
      const two = encodeRecord(1, { ...rest, v: 2 }, '');
      const three = encodeRecord(1, { ...rest, v: 3 }, '');
      assert.equal(three.record.data, two.record.data, `${f} seq ${r.seq}`);
      assert.equal(decodeRecord(three.value, 1, '').data, two.record.data);
      v2Bytes += two.value.length;
      v3Bytes += three.value.length;
    }
    await log.close();
  }
  assert.ok(images > 1000, `${images} images checked`);
  assert.ok(wholes > 100, `${wholes} whole transactions round-tripped`);
  assert.ok(v3Bytes <= 0.8 * v2Bytes, `version 3 ${v3Bytes} B, version 2 ${v2Bytes} B`);
});

it('a node image at its defaults stores only what differs; absent members and options != explicit survive', () => {
  const tpl = templateFor('nodes', {})!;
  const explicit = { 'auto-read-only': 'off', 'cache.direct': 'off', 'cache.no-flush': 'off', driver: 'file', filename: 'a.raw', 'node-name': 'f', 'read-only': 'off' };
  const img = { aio: 'main', align: 1, auto: false, driver: 'file', explicit, filename: 'a.raw', forceShare: false, header: null, implicit: false, inheritsFrom: null, lock: null, monitor: true, name: 'f', neverFreeze: false, options: { ...explicit, discard: 'unmap', 'cache.direct': undefined }, order: 3, ro: false, size: 5 };
  const stored = compactImage(tpl, img);
  // unmap is a template member this image lacks; cache.direct went away from options
  assert.equal(stored, { driver: 'file', explicit: { filename: 'a.raw' }, filename: 'a.raw', monitor: true, name: 'f', options: { p: { discard: 'unmap' }, u: ['cache.direct'] }, order: 3, size: 5, '~': ['unmap'] });
  assert.is(JSON.stringify(expandImage(tpl, stored)), JSON.stringify(JSON.parse(canonicalJson(img))));
  // options equal to explicit: not stored at all
  const same = compactImage(tpl, { ...img, options: { ...explicit } });
  assert.not.ok('options' in same);
  assert.equal(expandImage(tpl, same)!.options, explicit);
  // a template member that differs is kept; a "~" member makes the image untemplatable
  assert.equal(compactImage(tpl, { ...img, aio: 'io0' }).aio, 'io0');
  assert.is(templateFor('nodes', { ...img, '~': 1 }), undefined);
  assert.is(templateFor('nodes', { ...img, explicit: { ...explicit, '~': 1 } }), undefined);
  assert.is(templateFor('order', img), undefined);
});

it('a decision at version 3 stores only what differs from a plain commit, and any decision comes back', () => {
  const cases: unknown[] = [
    { ended: { stateHash: 'ab'.repeat(32) }, events: [], outcome: 'commit', reply: { return: {} } },
    { events: [{ event: 'JOB_STATUS_CHANGE', data: { id: 'j', status: 'created' } }], outcome: 'commit', reply: { return: { x: 1 } } },
    { outcome: 'abort', reason: 'crash' },
    { outcome: 'commit', '~': 1 },
    'not an object',
  ];
  for (const data of cases) {
    const r = { stream: 'A', type: 'txn.decided', v: 3, at: 'now', txn: 't1', data };
    const three = encodeRecord(1, r, '');
    const two = encodeRecord(1, { ...r, v: 2 }, '');
    assert.equal(three.record.data, two.record.data);
    assert.is(JSON.stringify(decodeRecord(three.value, 1, '').data), JSON.stringify(JSON.parse(canonicalJson(data))));
  }
  const plain = encodeRecord(1, { stream: 'A', type: 'txn.decided', v: 3, at: 'now', txn: 't1', data: cases[0] }, '');
  assert.is(plain.value.substring(HEADER2), `["txn.decided",3,"A","now","t1",null,{"ended":{"stateHash":"${'ab'.repeat(32)}"}}]`);
});

it('a damaged templated image is a damaged record, never a thrown TypeError', () => {
  const r = { stream: 'A', type: 'txn.step', v: 3, at: 'now', txn: 't1', data: { name: 'm', changes: [{ s: 'A', c: 'nodes', id: 'n', before: null, after: { name: 'n', driver: 'file', explicit: { driver: 'file' }, options: { driver: 'file' } } }] } };
  const { value } = encodeRecord(1, r, '');
  assert.match(value.substring(HEADER2), /"A":/);
  const forged = (v: string) => {
    // a stored image rewritten with a valid CRC: as a buggy writer would leave it
    const rest = v.substring(8);
    return (crc32(rest) >>> 0).toString(16).padStart(8, '0') + rest;
  };
  const bad = forged(value.replace('"~":["aio"', '"~":[7,"aio"'));
  assert.is.not(bad, forged(value));
  assert.throws(() => decodeRecord(bad, 1, ''), (e: { code?: string }) => e.code === 'BG_LOG_CORRUPT');
});

it('the shape cache gives what the uncached expansion gives: same shape, other values; a "~" list; keys that hold a separator', () => {
  const t = templateFor('nodes', {})!;
  const img = (name: string, extra: Record<string, unknown> = {}) => ({
    aio: 'main', driver: 'qcow2', explicit: { driver: 'qcow2', 'node-name': name, 'read-only': 'on' }, filename: `${name}.qcow2`,
    monitor: name.length % 2 === 0, name, options: { driver: 'qcow2', 'node-name': name, 'read-only': 'on', x: 1 }, order: name.length, ro: true, size: 7, ...extra,
  });
  const cases = [img('a'), img('bb'), img('ccc', { lock: 'x' }), img('dd', { 'a\u0000b': 1 }), img('e', { 'a': 1, 'b\u0000': 2 })];
  const { aio: _drop, ...noAio } = img('f'); // a template member absent: stored in "~"
  cases.push(noAio as never, { ...noAio, name: 'g' } as never);
  for (let round = 0; round < 2; round++) {
    for (const c of cases) {
      const stored = () => JSON.parse(JSON.stringify(compactImage(t, c as Record<string, unknown>))) as Record<string, unknown>;
      const want = JSON.stringify(JSON.parse(canonicalJson(c)));
      assert.is(JSON.stringify(expandImage(t, stored())), want);
      assert.is(JSON.stringify(expandSlow(t, stored())), want);
    }
  }
});

it.run();
