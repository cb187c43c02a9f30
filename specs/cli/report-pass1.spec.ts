// `blockgraph report`'s first pass keeps what the pages need of the entries (the newest --last
// seqs, the newest --graphs changing ones), never a number per entry: on a 10M-record log that
// was ~2.7M entries in four arrays. TopSeqs gives what sorting every seq and slicing gave, and
// holds at most 2k + 64 seqs whatever it is fed (counted, not timed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TopSeqs } from '../../cli/commands/report.js';

/** Seqs nearly in order (rows complete in the order they began, a few late: crash-cut transactions). */
function seqs(n: number, seed: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 1; i <= n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push(x % 50 === 0 ? Math.max(1, i * 3 - (x % 400)) : i * 3);
  }
  return out;
}

for (const k of [0, 1, 200, 5000]) {
  test(`the newest ${k} of 200k seqs, holding at most 2k + 64`, () => {
    const all = seqs(200_000, k + 7);
    const top = new TopSeqs(k);
    for (const s of all) top.add(s);
    const sorted = [...all].sort((a, b) => a - b);
    const want = k === 0 ? [] : sorted.slice(-k);
    assert.equal(top.values(), want);
    assert.is(top.smallest(), want[0] ?? 0);
    assert.ok(top.maxHeld <= 2 * k + 64, `held ${top.maxHeld}`);
  });
}

test.run();
