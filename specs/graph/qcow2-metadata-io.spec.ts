// Stop 42's qcow2 metadata mechanisms in isolation, with the numbers QEMU 7.2 gave in the qr3
// transcripts: the refcount blocks alloc_refcount_block adds (graph/qcow2-refblocks.ts), the
// ranges qcow2_process_discards sends (graph/discard-stats.ts), and the file lengths the layout
// gives with them (graph/open.ts qcow2FileSize).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RefblockGrowth, refblockCoverage } from '../../graph/qcow2-refblocks.js';
import { discardRanges } from '../../graph/discard-stats.js';
import { qcow2FileSize } from '../../graph/open.js';

test('refcount_block_size is cluster_size * 8 / refcount_bits', () => {
  assert.is(refblockCoverage({ clusterSize: 512 }), 256);
  assert.is(refblockCoverage({ clusterSize: 512, refcountBits: 64 }), 64);
  assert.is(refblockCoverage({}), 32768);
});

test('a run into an uncovered range gets one block right after it; a covered one none', () => {
  const g = new RefblockGrowth(256);
  assert.is(g.afterRun(4, 1, 5), 0);
  assert.is(g.afterRun(200, 64, 264), 1);
  assert.is(g.afterRun(265, 64, 329), 0);
  // a run into a range the earlier block covers: none; a fresh image's run over two new ranges:
  // the first block lands in the second range, which gets its block next (update_refcount's
  // recursion), so the two take two clusters
  assert.is(g.afterRun(500, 10, 510), 0);
  assert.is(new RefblockGrowth(256).afterRun(200, 400, 600), 2);
});

test('qcow2FileSize: 512-byte clusters with 256 KiB of data (qr3-cluster-512-refblock-growth)', () => {
  // 4 metadata clusters, 8 L2 tables, 512 data clusters and the two blocks for ranges 1 and 2
  const len = qcow2FileSize({ file: 'a', format: 'qcow2', size: 1 << 20, clusterSize: 512, data: [[0, 256 * 1024]] });
  assert.is(len, (4 + 8 + 512 + 2) * 512);
});

test('update_refcount_discard merges neighbouring clusters into one range', () => {
  assert.equal(discardRanges([5, 6, 7, 9, 4], 65536), [[4 * 65536, 4 * 65536], [9 * 65536, 65536]]);
  assert.equal(discardRanges([], 512), []);
});

test.run();
