// Where qcow2_store_persistent_dirty_bitmaps puts a store's clusters (graph/qcow2-bitmap-clusters.ts)
// and the holes of a raw host file (graph/jobs/host-holes.ts markHostData). The expected numbers
// are QEMU's, read off recorded replies (the file node's virtual-size is bdrv_getlength: the host
// file's length rounded up to a sector): qr-qcow2-persistent-bitmaps-reopened (393728 after the
// first store of two empty bitmaps into a 1 MiB image, 590336 after the second) and
// qr2-bitmap-store-granularities, worked through by hand from block/qcow2-bitmap.c.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstFreeRun, storeBitmapClusters, type StoredBits } from '../../graph/qcow2-bitmap-clusters.js';
import { markHostData } from '../../graph/jobs/host-holes.js';
import { hostFileLength, qcow2FileSize } from '../../graph/open.js';
import type { Image, ImageBitmap } from '../../graph/types.js';

const K = 1024;
const M = 1024 * K;
const sector = (n: number) => Math.ceil(n / 512) * 512;
const empty = (granularity: number, size = M): StoredBits => ({ size, granularity, dirty: [] });

test('a first store: tables after the L1 table, then the directory (its dir_size bytes are the last write)', () => {
  const img: Image = { file: 'a.qcow2', format: 'qcow2', size: M };
  assert.is(hostFileLength(img), 3 * 64 * K + 8);
  const dir: ImageBitmap[] = [
    { name: 'p1', granularity: 64 * K, auto: true, inUse: false },
    { name: 'p2', granularity: 128 * K, auto: false, inUse: false },
  ];
  const next = storeBitmapClusters(img, dir, new Map([['p1', empty(64 * K)], ['p2', empty(128 * K)]]), qcow2FileSize);
  // empty bitmaps have no data clusters: p1's table at cluster 4, p2's at 5, the directory
  // (two entries of calc_dir_entry_size(2, 0) = 32 bytes) at 6
  assert.equal(next.bitmaps!.map((e) => e.clusters), [[4], [5]]);
  assert.equal(next.bitmapDir, [6]);
  assert.is(sector(hostFileLength(next)), 393728);
  // the second store rewrites both (loaded IN_USE): new tables and directory while the old ones
  // are still referenced, freed only after
  const again = storeBitmapClusters({ ...next, bitmaps: next.bitmaps!.map((e) => ({ ...e, inUse: true })) },
    next.bitmaps!, new Map([['p1', empty(64 * K)], ['p2', empty(128 * K)]]), qcow2FileSize);
  assert.equal(again.bitmapDir, [9]);
  assert.is(sector(hostFileLength(again)), 590336);
  // and a third takes the freed clusters 4-6 again: the file does not grow
  const third = storeBitmapClusters({ ...again, bitmaps: again.bitmaps!.map((e) => ({ ...e, inUse: true })) },
    again.bitmaps!, new Map([['p1', empty(64 * K)], ['p2', empty(128 * K)]]), qcow2FileSize);
  assert.equal(third.bitmapDir, [6]);
  assert.is(hostFileLength(third), hostFileLength(again));
});

test('a bitmap with bits gets a data cluster per serialized chunk that holds one, before its table', () => {
  const img: Image = { file: 'a.qcow2', format: 'qcow2', size: 2 * M };
  const dir: ImageBitmap[] = [{ name: 'p', granularity: 64 * K, auto: true, inUse: false }];
  const next = storeBitmapClusters(img, dir, new Map([['p', { size: 2 * M, granularity: 64 * K, dirty: [[0, 64 * K]] }]]), qcow2FileSize);
  assert.equal(next.bitmaps![0]!.clusters, [4, 5]);
  assert.equal(next.bitmapDir, [6]);
  // contents the model does not know count as set
  const unknown = storeBitmapClusters(img, dir, new Map([['p', { size: 2 * M, granularity: 64 * K, dirty: undefined }]]), qcow2FileSize);
  assert.equal(unknown.bitmaps![0]!.clusters, [4, 5]);
});

test("qcow2_grow_l1_table's new table goes into the first free run", () => {
  // a 1 MiB image of 4 KiB clusters with 64 KiB of data: 21 clusters in use
  const img: Image = { file: 'a.qcow2', format: 'qcow2', size: M, clusterSize: 4 * K, data: [[0, 64 * K]] };
  assert.is(qcow2FileSize(img), 86016);
  assert.is(firstFreeRun(img, 16, qcow2FileSize), 21);
  // images whose free clusters are not followed (internal snapshots) give none
  assert.is(firstFreeRun({ ...img, snapshots: [{ id: '1', name: 's' }] }, 16, qcow2FileSize), undefined);
});

test('host data extents: writes widen to file system blocks, zero writes punch whole blocks', () => {
  assert.equal(markHostData([], 0, 512, true), [[0, 4096]]);
  assert.equal(markHostData([[0, 4096]], M, M + 64 * K, true), [[0, 4096], [M, M + 64 * K]]);
  // a zero write over part of a block leaves it data
  assert.equal(markHostData([[0, 8192]], 100, 4096 + 100, false), [[0, 8192]]);
  assert.equal(markHostData([[0, 8192]], 4096, 8192, false), [[0, 4096]]);
});

test.run();
