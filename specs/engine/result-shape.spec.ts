// Hidden classes made per command (issue 15, wt-cmd5), asked of V8 itself (%HaveSameMap), never
// timed. A V8 map (hidden class) lives in old space until a full GC. Two shapes of code made one
// per command:
// - an object literal with its own accessor (`get state()` on every ExecResult, `get excerpt()`
//   on every QMP message): each evaluation turned the object into dictionary mode with a fresh
//   closure in an AccessorPair, which V8 allocates in old space. A scavenge treats that
//   old-to-new pointer as a root, so the closure, hence the command's Draft, steps and images,
//   survived every scavenge until a full GC: ~1 MB per scavenge (promoted), the pauses that
//   set the sequential p99 (bench/RESULTS.md, wt-cmd5);
// - properties added after an object spread (`{ ...opts, parseAfterHandOff: true }`,
//   `{ ...rest, ...bOut(), p }`, `{ ...TEXT, ...syncOption(sync) }`): V8 (node 20) gives a
//   spread's result a detached map, and each property added to it a new map, never shared.
// The assertions on maps and accessors below fail on the code before.
const ownAccessor = (o: object, k: string) => Object.getOwnPropertyDescriptor(o, k)?.get !== undefined;
import { setFlagsFromString } from 'node:v8';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand } from '../../commands/model.js';
import { Engine } from '../../engine/engine.js';
import { JsonMessageReader, type JsonMessage } from '../../qmp/json-reader.js';
import { compactChange } from '../../store/image-delta.js';
import { openMemory } from '../../store/index.js';
import type { NewRecord } from '../../store/types.js';

setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const fast = new Function('o', 'return %HasFastProperties(o)') as (o: unknown) => boolean;
setFlagsFromString('--no-allow-natives-syntax');

const add = (name: string) => ({ driver: 'null-co', 'node-name': name });

/** The last two of 16 objects `make` returns: V8's inline caches take a few calls to settle. */
const warm = <T>(make: (i: number) => T): [T, T] => {
  const out = Array.from({ length: 16 }, (_, i) => make(i));
  return [out[14]!, out[15]!];
};

test('the probe itself: two literals share a map, a spread with a member added does not', () => {
  const lit = (i: number) => ({ a: i, b: true });
  assert.ok(sameMap(...warm(lit)));
  const spread = (o: object) => ({ ...o, c: 1 });
  assert.not.ok(sameMap(...warm((i) => spread(lit(i)))), 'V8 of this node makes a map per spread result with an added member');
});

test("the model's results of two commands share one hidden class", async () => {
  const e = await Engine.open(await openMemory());
  await e.execute('A', 'blockdev-add', add('x'));
  const [r1, r2] = warm((i) => executeCommand(e.state, 'A', 'blockdev-add', add(`n${i}`)));
  assert.not.ok(ownAccessor(r1, 'state'), 'no accessor of its own (an old-space AccessorPair per result)');
  assert.ok(fast(r1) && fast(r2), 'not in dictionary mode');
  assert.ok(sameMap(r1, r2), 'blockdev-add results');
  const d1 = executeCommand(e.state, 'A', 'blockdev-del', { 'node-name': 'x' });
  assert.ok(sameMap(r1, d1), 'blockdev-del result');
  // the next state is still made on first use, from the steps
  assert.ok(r1.state.A?.nodes?.n14 !== undefined && r1.state.A?.nodes?.n15 === undefined);
  assert.ok(d1.state.A?.nodes?.x === undefined && e.state.A?.nodes?.x !== undefined);
});

test("the engine's records and their stored changes share hidden classes across commands", async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const records: NewRecord[] = [];
  const orig = log.appendRawNow.bind(log);
  log.appendRawNow = (rs, opts) => { records.push(...rs); return orig(rs, opts); };
  for (let i = 0; i < 16; i++) await e.execute('A', 'blockdev-add', add(`n${i}`));
  for (let i = 0; i < 16; i++) await e.execute('A', 'blockdev-del', { 'node-name': `n${i}` });
  assert.is(records.length, 32);
  for (const r of records.slice(15)) assert.ok(sameMap(records[14], r), 'the whole transaction records');
  // the stored form of their changes: a create, a delete, an update, each of one shape
  type Ch = { s: string; c: string; id: string; before: unknown; after: unknown };
  const changes = (r: NewRecord) => (r.data as { steps: { changes: Ch[] }[] }).steps.flatMap((s) => s.changes);
  for (const r of records.slice(0, 14)) for (const ch of changes(r)) compactChange(ch, true); // warm
  const [a1, a2] = [changes(records[14]!), changes(records[15]!)];
  assert.ok(a1.length > 0 && a1.length === a2.length);
  for (let k = 0; k < a1.length; k++) {
    const x = compactChange(a1[k], true);
    const y = compactChange(a2[k], true);
    assert.ok(sameMap(x, y), `stored change ${k} of an add (${Object.keys(x as object).join(',')})`);
  }
  for (const r of records.slice(16, 30)) for (const ch of changes(r)) compactChange(ch, true); // warm
  const [d1, d2] = [changes(records[30]!), changes(records[31]!)];
  for (let k = 0; k < d1.length; k++) assert.ok(sameMap(compactChange(d1[k], true), compactChange(d2[k], true)), `stored change ${k} of a del`);
  const upd = (i: number) => compactChange({ s: 'A', c: 'nodes', id: `n${i}`, before: { a: 1, b: i }, after: { a: 2, b: i } }, true);
  assert.ok(sameMap(...warm(upd)), 'an update (patch)');
});

test('the QMP reader: two messages share one hidden class, and still serialize their excerpt', () => {
  const out: JsonMessage[] = [];
  const r = new JsonMessageReader((m) => out.push(m));
  for (let i = 0; i < 16; i++) r.feed(Buffer.from(`{"execute": "query-version", "id": ${i}}\n{"x": }\n`));
  assert.is(out.length, 32);
  assert.not.ok(ownAccessor(out[30]!, 'excerpt') || ownAccessor(out[31]!, 'excerpt'), 'no accessor of its own');
  assert.ok(fast(out[30]) && fast(out[31]), 'not in dictionary mode');
  assert.ok(sameMap(out[28], out[30]), 'values');
  assert.ok(sameMap(out[29], out[31]), 'errors');
  assert.is((JSON.parse(JSON.stringify(out[30])) as { excerpt: string }).excerpt, '{"execute":"query-version","id":15}');
});

test.run();
