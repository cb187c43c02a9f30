// hbitmap arithmetic the dirty-bitmap counts rest on (graph/bitmap-contents.ts): granules touched
// by a request, unions, re-granulation for a merge, counts in bytes. The expectations are worked
// out by hand from util/hbitmap.c (hbitmap_set rounds the first byte down and the last byte up to
// the granularity; hbitmap_count is set granules << granularity).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clipRanges, rangesBytes, regranulate, setRange, unionRanges } from '../../graph/bitmap-contents.js';

const K = 1024;
const M = 1024 * K;

test('a write sets every granule it touches, and no more', () => {
  // one byte in the middle of the second 64 KiB granule
  assert.equal(setRange([], 65 * K, 1, 64 * K, 4 * M), [[64 * K, 128 * K]]);
  // a write across a granule boundary takes both granules
  assert.equal(setRange([], 64 * K - 512, 1024, 64 * K, 4 * M), [[0, 128 * K]]);
  // an empty request sets nothing
  assert.equal(setRange([[0, 64 * K]], 3 * M, 0, 64 * K, 4 * M), [[0, 64 * K]]);
});

test('the last granule of a bitmap whose size is no multiple of it counts whole', () => {
  // a 1 MiB + 512 B node, 64 KiB granules: the write of its last sector sets the 17th granule
  const r = setRange([], M, 512, 64 * K, M + 512);
  assert.equal(r, [[M, M + 64 * K]]);
  assert.is(rangesBytes(r), 64 * K);
});

test('unions merge touching and overlapping ranges', () => {
  assert.equal(unionRanges([[0, 10], [20, 30]], [[10, 20]]), [[0, 30]]);
  assert.equal(unionRanges([[40, 50]], [[0, 5], [45, 60]]), [[0, 5], [40, 60]]);
});

test('a merge into a coarser bitmap sets each granule any source bit falls in', () => {
  // 64 KiB bits at 1 MiB and 3 MiB + 64 KiB, merged into 1 MiB granules: the second and fourth
  assert.equal(regranulate([[M, M + 64 * K], [3 * M + 64 * K, 3 * M + 128 * K]], M, 4 * M), [[M, 2 * M], [3 * M, 4 * M]]);
  assert.is(rangesBytes(regranulate([[0, 4 * M]], 512, 4 * M)), 4 * M);
});

test('clipping keeps only what lies inside', () => {
  assert.equal(clipRanges([[0, M], [2 * M, 4 * M]], M / 2, 3 * M), [[M / 2, M], [2 * M, 3 * M]]);
  assert.equal(clipRanges([[0, M]], M, 2 * M), []);
});

test.run();
