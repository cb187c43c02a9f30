// canonicalEqual (store/canonical-equal.ts) gives canonicalJson's answer without writing the
// texts, and storing a command no longer encodes image members to compare them (issue 15):
// counted, never timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { canonicalEqual, equalWork } from '../../store/canonical-equal.js';
import { canonicalJson, encodeWork } from '../../store/codec.js';
import { imageWork } from '../../store/image-template.js';
import { openMemory } from '../../store/index.js';

/** canonicalJson(a) === canonicalJson(b), or 'throws' when either text cannot be written. */
function byText(a: unknown, b: unknown): boolean | 'throws' {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return 'throws';
  }
}
function walked(a: unknown, b: unknown): boolean | 'throws' {
  try {
    return canonicalEqual(a, b);
  } catch {
    return 'throws';
  }
}

test('the same answer (or the same refusal) as the texts, on hand-picked values', () => {
  const withToJson = { toJSON: () => 1 };
  const cases: [unknown, unknown][] = [
    [0, -0], [1, 1], [1, 2], [1, '1'], ['a', 'a'], [true, false], [null, null], [null, 0],
    [NaN, NaN], [Infinity, 1], [{ a: NaN }, { a: NaN }], [{ a: 1, b: NaN }, { a: 2, b: NaN }], [[1, NaN], [2, NaN]],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }], [{ a: 1, u: undefined }, { a: 1 }], [{ a: 1, f: () => 1 }, { a: 1 }],
    [[undefined], [null]], [[() => 1], [null]], [[1, 2], [1, 2, 3]], [[], {}], [{}, {}], [[], []],
    [withToJson, 1], [withToJson, withToJson], [{ x: withToJson }, { x: 1 }], [new Date(0), new Date(0)],
    [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'x' }] } }], [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'y' }] } }],
    [1n, 1n], [{ a: 1n }, { a: 2 }], [{ a: 1 }, { a: 1, b: 1n }], [{ a: 1 }, { b: 1 }], [{ a: undefined }, { b: undefined }],
    [Object.create({ inherited: 1 }), {}], [[1, , 3], [1, null, 3]], // eslint-disable-line no-sparse-arrays
  ];
  for (const [a, b] of cases) {
    assert.is(walked(a, b), byText(a, b), `${String(canonicalJsonSafe(a))} vs ${String(canonicalJsonSafe(b))}`);
    assert.is(walked(b, a), byText(b, a));
  }
  const shared = { a: [1, 2], b: 'x' };
  assert.is(walked(shared, shared), true);
  const sharedBad = { a: NaN };
  assert.is(walked(sharedBad, sharedBad), 'throws', 'the same object holding what canonicalJson refuses');
});

function canonicalJsonSafe(v: unknown): string {
  try { return canonicalJson(v); } catch { return '(throws)'; }
}

test('the same answer as the texts on random JSON-like values (seeded)', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const leaf = (): unknown => {
    const r = rnd();
    return r < 0.2 ? Math.floor(rnd() * 3) : r < 0.35 ? ['a', 'b', ''][Math.floor(rnd() * 3)] : r < 0.45 ? rnd() < 0.5 : r < 0.55 ? null
      : r < 0.6 ? undefined : r < 0.62 ? NaN : r < 0.64 ? -0 : 1.5;
  };
  const value = (depth: number): unknown => {
    if (depth > 2 || rnd() < 0.4) return leaf();
    if (rnd() < 0.4) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of ['x', 'y', 'z']) if (rnd() < 0.6) o[k] = value(depth + 1);
    return o;
  };
  let equal = 0;
  for (let i = 0; i < 4000; i++) {
    const a = value(0);
    // b: often a copy of a with one leaf changed, so that equal and nearly equal pairs are common
    const b = rnd() < 0.5 ? value(0) : mutate(structuredCopy(a), rnd, leaf);
    const want = byText(a, b);
    if (want === true) equal++;
    assert.is(walked(a, b), want, `${canonicalJsonSafe(a)} vs ${canonicalJsonSafe(b)}`);
  }
  assert.ok(equal > 200, `${equal} equal pairs`);
});

function structuredCopy(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(structuredCopy);
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = structuredCopy(x);
  return o;
}
function mutate(v: unknown, rnd: () => number, leaf: () => unknown): unknown {
  if (rnd() < 0.3 || typeof v !== 'object' || v === null) return rnd() < 0.5 ? v : leaf();
  if (Array.isArray(v)) { if (v.length) v[Math.floor(rnd() * v.length)] = mutate(v[0], rnd, leaf); return v; }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length) o[keys[Math.floor(rnd() * keys.length)]!] = mutate(o[keys[0]!], rnd, leaf);
  return o;
}

test('storing blockdev-add / blockdev-del: no image member encoded to compare it, no before-image templated only to be dropped', async () => {
  const e = await Engine.open(await openMemory());
  await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'w' }); // the process meta exists from here on
  const texts: number[] = [];
  const compacted: number[] = [];
  const t0 = equalWork.byText;
  for (const [cmd, args] of [['blockdev-add', { driver: 'null-co', 'node-name': 'a' }], ['blockdev-del', { 'node-name': 'a' }]] as const) {
    const x = encodeWork.texts;
    const c = imageWork.compacted;
    const r = await e.execute('A', cmd, { ...args });
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
    texts.push(encodeWork.texts - x);
    compacted.push(imageWork.compacted - c);
  }
  assert.is(equalWork.byText - t0, 0, 'every comparison answered by walking the values');
  // the record's two parts, the head and the index meta (there were 3 or 4 texts more per image
  // member compared: ~50 for an add)
  assert.equal(texts, [4, 4], 'canonical texts written per command');
  // add: the process meta's before-image, the node's after-image and the decision; monitor-ref's
  // before-image is the record's own (`R`), no longer templated first (was 4); del: the node's
  // before-image and the decision
  assert.equal(compacted, [3, 2], 'images templated per command');
  await e.log.close();
});

test.run();
