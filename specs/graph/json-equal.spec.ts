// jsonTextEqual (graph/json-equal.ts) gives JSON.stringify's answer without writing the texts,
// and a draft's step no longer stringifies its changes' images to drop the ones that changed
// nothing (issue 15): counted, never timed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Draft } from '../../graph/draft.js';
import { jsonEqualWork, jsonTextEqual } from '../../graph/json-equal.js';

/** The draft's comparison before (graph/draft.ts sameJson): the same value, or the same text. */
const byText = (a: unknown, b: unknown): boolean | 'throws' => {
  if (a === b) return true;
  try { return JSON.stringify(a) === JSON.stringify(b); } catch { return 'throws'; }
};
const walked = (a: unknown, b: unknown): boolean | 'throws' => {
  try { return jsonTextEqual(a, b); } catch { return 'throws'; }
};

test('the same answer (or the same refusal) as JSON.stringify, on hand-picked values', () => {
  const withToJson = { toJSON: () => 1 };
  const cases: [unknown, unknown][] = [
    [0, -0], [1, 2], [1, '1'], [NaN, null], [Infinity, null], [NaN, 0], [{ a: NaN }, { a: null }], [[undefined], [null]],
    [[() => 1], [null]], [{ a: 1, b: 2 }, { b: 2, a: 1 }], [{ a: 1, u: undefined }, { a: 1 }], [{ u: undefined, a: 1 }, { a: 1 }],
    [{ a: 1, f: () => 1 }, { a: 1 }], [[1, 2], [1, 2, 3]], [[], {}], [{}, {}], [withToJson, 1], [{ x: withToJson }, { x: 1 }],
    [new Date(0), '1970-01-01T00:00:00.000Z'], [1n, 1n], [{ a: 1n }, { a: 2 }], [{ a: 1 }, { a: 2, b: 1n }], [undefined, () => 1],
    [undefined, null], [Object.create({ inherited: 1 }), {}], [[1, , 3], [1, null, 3]], // eslint-disable-line no-sparse-arrays
    [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'x' }] } }], [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'y' }] } }],
    [new Number(1), 1], [{ a: new String('x') }, { a: 'x' }], // eslint-disable-line no-new-wrappers
  ];
  for (const [a, b] of cases) {
    assert.is(walked(a, b), byText(a, b), `${String(a)} vs ${String(b)}`);
    assert.is(walked(b, a), byText(b, a));
  }
});

test('the same answer as JSON.stringify on random JSON-like values (seeded)', () => {
  let seed = 777;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const leaf = (): unknown => {
    const r = rnd();
    return r < 0.25 ? Math.floor(rnd() * 3) : r < 0.4 ? ['a', 'b'][Math.floor(rnd() * 2)] : r < 0.5 ? rnd() < 0.5 : r < 0.6 ? null
      : r < 0.66 ? undefined : r < 0.7 ? NaN : -0;
  };
  const value = (depth: number): unknown => {
    if (depth > 2 || rnd() < 0.4) return leaf();
    if (rnd() < 0.4) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of rnd() < 0.5 ? ['x', 'y', 'z'] : ['z', 'y', 'x']) if (rnd() < 0.6) o[k] = value(depth + 1);
    return o;
  };
  let equal = 0;
  for (let i = 0; i < 4000; i++) {
    const a = value(0);
    const b = rnd() < 0.5 ? value(0) : structuredClone(a);
    const want = byText(a, b);
    if (want === true) equal++;
    assert.is(walked(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  assert.ok(equal > 500, `${equal} equal pairs`);
});

test('a step drops its no-op changes without stringifying an image', () => {
  const img = { driver: 'null-co', name: 'a', explicit: { driver: 'null-co', 'node-name': 'a' }, monitor: false, order: 1 };
  const d = new Draft({ A: { nodes: { a: img } } } as never);
  d.patch('A', 'nodes', 'a', { monitor: true });
  d.put('A', 'nodes', 'b', { ...img, name: 'b' });
  d.put('A', 'nodes', 'c', { x: 1 });
  d.patch('A', 'nodes', 'a', { monitor: false }); // a is back to an equal copy of its image: no change
  const real = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((...args: Parameters<typeof real>) => { calls++; return real(...args); }) as typeof real;
  const w = jsonEqualWork.byText;
  let steps;
  try {
    steps = d.steps();
  } finally {
    JSON.stringify = real;
  }
  assert.is(calls, 0, 'JSON.stringify calls to filter the step (was 2 per change whose images are two objects)');
  assert.is(jsonEqualWork.byText - w, 0);
  assert.equal(steps.flatMap((s) => s.changes.map((c) => c.id)).sort(), ['b', 'c'], 'the no-op change of a is dropped');
});

test.run();
