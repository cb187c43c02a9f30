// The live re-recording specs' sample and their few-at-once runner (live-set.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { areaOf, liveSelection, prefetching, STRIDE } from './live-set.js';

test('areas: the first word, or the first two for lettered sets', () => {
  assert.is(areaOf('fuzz-backup-size.json'), 'fuzz');
  assert.is(areaOf('combo-c7-add-variants.json'), 'combo-c7');
  assert.is(areaOf('vm-lv2-pc.json'), 'vm-lv2');
  assert.is(areaOf('combo-stream-through-cor.json'), 'combo-stream');
  assert.is(areaOf('vm-x.json'), 'vm');
  assert.is(areaOf('reopen.json'), 'reopen');
});

test('the sample keeps one in STRIDE of each area, its first always, whatever order the files come in', () => {
  const big = Array.from({ length: 23 }, (_, i) => `fuzz-${String(i).padStart(2, '0')}.json`);
  const files = [...big, 'reopen-a.json', 'combo-c1-a.json', 'combo-c1-b.json', 'abort-9-x.json'];
  const s = liveSelection(files, false);
  assert.equal(s.filter((f) => f.startsWith('fuzz-')), big.filter((_, i) => i % STRIDE === 0));
  // every area is in it, the small ones by their first file
  for (const a of ['reopen-a.json', 'combo-c1-a.json', 'abort-9-x.json']) assert.ok(s.includes(a), a);
  assert.not.ok(s.includes('combo-c1-b.json'));
  assert.equal(liveSelection([...files].reverse(), false), s);
  // all: every file, sorted
  assert.equal(liveSelection(files, true), [...files].sort());
});

test('prefetching: item i starts i … i+width-1, never more than width at once, each once', async () => {
  let running = 0, most = 0;
  const startedAt: number[] = [];
  const release: (() => void)[] = [];
  const get = prefetching(5, 2, (i) => {
    startedAt.push(i);
    running++; most = Math.max(most, running);
    return new Promise<number>((r) => { release[i] = () => { running--; r(i * 10); }; });
  });
  const p0 = get(0);
  assert.equal(startedAt, [0, 1]);
  release[0]!();
  assert.is(await p0, 0);
  const p1 = get(1);
  assert.equal(startedAt, [0, 1, 2]);
  release[1]!(); release[2]!();
  assert.is(await p1, 10);
  assert.is(await get(2), 20);
  assert.equal(startedAt, [0, 1, 2, 3]);
  release[3]!();
  const p3 = get(3);
  release[4]!();
  assert.is(await p3, 30);
  assert.is(await get(4), 40);
  assert.equal(startedAt, [0, 1, 2, 3, 4]);
  assert.is(most, 2);
});

test("prefetching: a recording that fails is its own test's failure, not an unhandled rejection before it", async () => {
  const seen: unknown[] = [];
  const onUnhandled = (e: unknown) => seen.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const get = prefetching(2, 2, (i) => (i === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(i)));
    assert.is(await get(0), 0);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen, []);
    try { await get(1); assert.unreachable('resolved'); } catch (e) { assert.match((e as Error).message, /boom/); }
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test.run();
