// qcow2's refcount blocks as allocations grow the image (block/qcow2-refcount.c, 7.2 and 10.0 alike).
// qcow2_co_create writes one refcount block (cluster 2), which covers the first
// refcount_block_size = cluster_size * 8 / refcount_bits clusters. qcow2_alloc_clusters takes a
// run from alloc_clusters_noref and then update_refcount walks it: at the first cluster whose
// refcount table entry is empty, alloc_refcount_block puts a new block in the first free cluster
// (alloc_clusters_noref again: past the run, which is not yet counted but already passed by
// s->free_cluster_index), hooks it into the table and returns -EAGAIN; update_refcount undoes the
// run's partial increments and lowers free_cluster_index to the run's start, so
// qcow2_alloc_clusters finds the same run again and the block stays right after it. A block
// that lands in the range it covers describes itself (in_same_refcount_block); one that lands in
// another uncovered range gets a block of its own first, the same way.
// Not followed: a refcount table that outgrows its cluster(s) (the refcount table's move in
// alloc_refcount_block / qcow2_refcount_area): cluster_size / 8 entries cover
// cluster_size^2 / 8 * 8 / refcount_bits host clusters, 8 MiB of 512-byte clusters at 16 bits.
import type { Image } from './types.js';

/** refcount_block_size: the clusters one refcount block covers. */
export function refblockCoverage(img: Pick<Image, 'clusterSize' | 'refcountBits'>): number {
  const cs = img.clusterSize ?? 65536;
  return (cs * 8) / (img.refcountBits ?? 16);
}

/** The refcount table entries that hold a block: qcow2_co_create's first one, then what runs added. */
export class RefblockGrowth {
  private readonly covered = new Set<number>([0]);
  constructor(private readonly perBlock: number) {}

  /**
   * A run of `n` clusters from `first` was allocated, the next free cluster being `next`: the
   * refcount blocks update_refcount needs for it go at `next` on, in the order the run reaches
   * them. Returns how many clusters they take.
   */
  afterRun(first: number, n: number, next: number): number {
    let taken = 0;
    for (let i = Math.floor(first / this.perBlock); i <= Math.floor((first + n - 1) / this.perBlock); i++) {
      if (this.covered.has(i)) continue;
      // alloc_refcount_block for table index i: the block in the first free cluster; one outside
      // range i is counted by update_refcount first, which may need a block for its own range
      this.covered.add(i);
      for (let b = next + taken++, g = 0; g < 64; g++) {
        const j = Math.floor(b / this.perBlock);
        if (this.covered.has(j)) break;
        this.covered.add(j);
        b = next + taken++;
      }
    }
    return taken;
  }
}
