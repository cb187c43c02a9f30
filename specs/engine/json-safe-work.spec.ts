// A command's arguments on their way into its record (issue 15, wt-cmd6), counted, never timed:
// arguments a client sent as plain JSON are already what the log stores, so jsonSafe takes them
// as they are instead of copying them (an entries array, a closure, a tuple and a defineProperty
// per member). What it converts — big integers, non-finite numbers, -0 — and
// what it normalizes (a class instance, a Date, a boxed value: copied as own enumerable members)
// is still copied, and every value stores as the same canonical text as the copy always gave.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonSafe, jsonSafeWork } from '../../commands/json-safe.js';
import { Engine } from '../../engine/engine.js';
import { canonicalJson } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';
import { JsonMessageReader, type JsonMessage } from '../../qmp/json-reader.js';

/** jsonSafe as it was before (always a copy): the reference the stored text must match. */
function copyAlways(v: unknown): unknown {
  const leaf = (x: unknown): unknown => {
    if (typeof x === 'bigint') return x.toString();
    if (typeof x === 'number') return Number.isFinite(x) ? (Object.is(x, -0) ? 0 : x) : String(x);
    return x;
  };
  if (typeof v !== 'object' || v === null) return leaf(v);
  const root: { v: unknown } = { v: undefined };
  const work: [unknown, (x: unknown) => void][] = [[v, (x) => { root.v = x; }]];
  while (work.length) {
    const [src, put] = work.pop()!;
    if (typeof src !== 'object' || src === null) { put(leaf(src)); continue; }
    if (Array.isArray(src)) {
      const out: unknown[] = new Array(src.length);
      put(out);
      src.forEach((e, i) => work.push([e, (x) => { out[i] = x; }]));
    } else {
      const out: Record<string, unknown> = {};
      put(out);
      for (const [k, e] of Object.entries(src as Record<string, unknown>)) {
        work.push([e, (x) => { Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true }); }]);
      }
    }
  }
  return root.v;
}

/** The stored text, or the refusal canonicalJson gives. */
const text = (v: unknown): string => { try { return canonicalJson(v); } catch (e) { return `throws ${(e as { code?: string }).code}`; } };

test('plain arguments from the QMP reader go into the record without a copy; the record stores them as before', async () => {
  const msgs: JsonMessage[] = [];
  const reader = new JsonMessageReader((m) => msgs.push(m));
  const line = (i: number, cmd: string) => cmd === 'add'
    ? `{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n${i}","size":${1024 * (i + 1)},"read-only":false,"cache":{"direct":false}}}\n`
    : `{"execute":"blockdev-del","arguments":{"node-name":"n${i}"}}\n`;
  for (let i = 0; i < 20; i++) reader.feed(Buffer.from(line(i, 'add')));
  for (let i = 0; i < 20; i++) reader.feed(Buffer.from(line(i, 'del')));
  const e = await Engine.open(await openMemory());
  const copies = jsonSafeWork.copies;
  for (const m of msgs) {
    assert.is(m.kind, 'value');
    const { execute, arguments: args } = (m as unknown as { value: { execute: string; arguments: Record<string, unknown> } }).value;
    assert.is(jsonSafe(args), args, 'the same object');
    const r = await e.execute('A', execute, args);
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  }
  assert.is(jsonSafeWork.copies - copies, 0, 'copies of 40 commands\' arguments (was 40: one per command)');
  // the records hold the arguments exactly as sent (the log's bytes: the golden specs)
  const stored = (await e.log.readAll()).map((r) => (r.data as { args?: unknown }).args);
  assert.equal(stored, msgs.map((m) => (m as unknown as { value: { arguments: unknown } }).value.arguments));
  await e.log.close();
});

test('what the copy converts or normalizes is still copied, to the same text', () => {
  class Opts { constructor(public driver = 'null-co', public size = 1) {} }
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [1, 2] });
  const ownProto: Record<string, unknown> = {};
  Object.defineProperty(ownProto, '__proto__', { value: { x: 1 }, enumerable: true, writable: true, configurable: true });
  const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const cases: [unknown, boolean][] = [
    [{ size: 2n ** 64n }, true], [{ a: [1, Infinity] }, true], [{ a: { b: -Infinity } }, true], [{ n: NaN }, true],
    [{ z: -0 }, true], [[-0], true], [new Opts(), true], [{ d: new Date(0) }, true], [{ s: Object('x') }, true],
    [{ a: 1, b: 'x', c: null, d: true, e: [1, { f: 2 }] }, false], [nullProto, false], [ownProto, false], [holes, false],
    [{ u: undefined, f: () => 1 }, false], ['text', false], [3, false], [null, false],
  ];
  for (const [v, copied] of cases) {
    const before = jsonSafeWork.copies;
    const out = jsonSafe(v);
    assert.is(jsonSafeWork.copies - before, copied ? 1 : 0, `copied: ${String(copied)} for ${text(copyAlways(v))}`);
    if (!copied) assert.is(out, v, 'taken as it is');
    assert.is(text(out), text(copyAlways(v)), 'the same stored text');
  }
  const parsed = JSON.parse('{"__proto__":{"x":1},"a":[1,2]}') as Record<string, unknown>;
  assert.is(jsonSafe(parsed), parsed);
  assert.is(text(jsonSafe(parsed)), text(copyAlways(parsed)));
});

test('seeded random values: the same stored text as the copy, and only values needing it copied', () => {
  let seed = 0x5eed1;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
  const gen = (depth: number): unknown => {
    const r = rnd();
    if (depth > 4 || r < 0.45) {
      const p = rnd();
      if (p < 0.02) return BigInt(Math.floor(rnd() * 1e6)) * 10n ** 20n;
      if (p < 0.03) return rnd() < 0.5 ? Infinity : NaN;
      if (p < 0.04) return -0;
      if (p < 0.3) return Math.floor(rnd() * 1000) - 500;
      if (p < 0.6) return `s${Math.floor(rnd() * 100)}`;
      if (p < 0.8) return rnd() < 0.5;
      return null;
    }
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--) o[`k${Math.floor(rnd() * 8)}`] = gen(depth + 1);
    return o;
  };
  const needs = (v: unknown): boolean => typeof v === 'bigint' || (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))
    || (typeof v === 'object' && v !== null && Object.values(v).some(needs));
  let copiedN = 0;
  for (let i = 0; i < 4000; i++) {
    const v = gen(0);
    const before = jsonSafeWork.copies;
    const out = jsonSafe(v);
    const copied = jsonSafeWork.copies - before === 1;
    if (copied) copiedN++;
    assert.is(copied, needs(v), `copy exactly when something needs converting: ${text(copyAlways(v))}`);
    assert.is(text(out), text(copyAlways(v)));
  }
  assert.ok(copiedN > 100 && copiedN < 3900, `${copiedN} of 4000 copied`);
});

test('deep nesting: no stack overflow, the iterative copy decides past the check\'s depth', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  const out = jsonSafe(deep);
  let n = 0;
  for (let x = out; Array.isArray(x); x = x[0]) n++;
  assert.is(n, 100_000);
});

test.run();
