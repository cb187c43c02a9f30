// qcow2HostOffset and walkQcow2Layout number clusters a region's run at a time (an L2 table
// before the first data cluster of each region, then the data clusters in extent order, and the
// refcount blocks the runs need after them: graph/qcow2-refblocks.ts); the reference here numbers
// them cluster by cluster, as walkQcow2Layout did before the runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { qcow2HostOffset, walkQcow2Layout } from '../../graph/open.js';
import type { Image } from '../../graph/types.js';

/**
 * [guest cluster, host cluster, l2 table or undefined] in walk order, one cluster at a time.
 * Refcount blocks (alloc_refcount_block): after each qcow2_alloc_clusters run (an L2 table, or a
 * region's run of data clusters) that reaches clusters whose refcount block does not exist yet,
 * each such block takes the next cluster (and one that lands in another uncovered range gets a
 * block of its own first), refcount_block_size = cluster_size * 8 / 16 clusters each.
 */
function reference(img: Image): [number, number, number | undefined][] {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const per = (cs * 8) / 16;
  let next = 3 + Math.ceil((8 * Math.ceil(img.size / l2Span)) / cs);
  const covered = new Set<number>([0]);
  const blocksFor = (first: number, n: number) => {
    for (let h = first; h < first + n; h++) {
      if (covered.has(Math.floor(h / per))) continue;
      covered.add(Math.floor(h / per));
      let b = next++;
      while (!covered.has(Math.floor(b / per))) { covered.add(Math.floor(b / per)); b = next++; }
    }
  };
  const seen = new Set<number>();
  const out: [number, number, number | undefined][] = [];
  for (const [s, e] of img.data ?? []) {
    let runStart = -1, runLen = 0, runRegion = -1;
    const flush = () => { if (runLen) blocksFor(runStart, runLen); runLen = 0; };
    for (let c = Math.floor(s / cs); c * cs < e; c++) {
      const region = Math.floor((c * cs) / l2Span);
      if (region !== runRegion) { flush(); runRegion = region; }
      let table: number | undefined;
      if (!seen.has(region)) {
        seen.add(region);
        table = next++;
        blocksFor(table, 1);
      }
      if (!runLen) runStart = next;
      out.push([c, next++, table]);
      runLen++;
    }
    flush();
  }
  return out;
}
const byReference = (img: Image, guest: number): number | undefined => {
  const cs = img.clusterSize ?? 65536;
  const hit = reference(img).find(([c]) => guest >= c * cs && guest < (c + 1) * cs);
  return hit ? hit[1] * cs + (guest - hit[0] * cs) : undefined;
};

// 512-byte clusters: a region (one L2 table) spans 64 clusters, so extents cross regions
const images: Image[] = [
  { file: 'a', format: 'qcow2', size: 1 << 20, clusterSize: 512, data: [] },
  { file: 'b', format: 'qcow2', size: 1 << 20, clusterSize: 512, data: [[0, 512]] },
  { file: 'c', format: 'qcow2', size: 1 << 20, clusterSize: 512, data: [[1000, 70_000], [200_000, 200_100], [32_768, 40_000]] },
  { file: 'd', format: 'qcow2', size: 1 << 20, clusterSize: 512, data: [[33_000, 33_100], [33_050, 65_600], [0, 1 << 20]] },
  { file: 'e', format: 'qcow2', size: 1 << 30, clusterSize: 65536, data: [[0, 5 << 20], [600 << 20, 601 << 20], [100 << 20, 101 << 20]] },
];

test('walkQcow2Layout visits every cluster as the reference numbers it', () => {
  for (const img of images) {
    const seen: [number, number, number | undefined][] = [];
    walkQcow2Layout(img, (c, host, l2) => { seen.push([c, host, l2]); return undefined; });
    assert.equal(seen, reference(img), img.file);
  }
});

test('every guest offset maps where the reference puts it', () => {
  let checked = 0;
  for (const img of images) {
    const cs = img.clusterSize!;
    const probes = new Set<number>();
    for (const [s, e] of img.data ?? []) for (const x of [s, s + 1, e - 1, e, Math.floor((s + e) / 2), s - cs, e + cs]) if (x >= 0) probes.add(x);
    for (let x = 0; x < Math.min(img.size, 1 << 20); x += 4099) probes.add(x);
    for (const g of probes) {
      assert.is(qcow2HostOffset(img, g), byReference(img, g), `${img.file} @${g}`);
      checked++;
    }
  }
  assert.ok(checked > 1000);
});

test.run();
