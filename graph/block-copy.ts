// block/block-copy.c: block_copy_calculate_cluster_size (the granularity of the copy-before-write
// bitmaps and the backup's cluster size).
import { infoClusterSize } from './bitmaps.js';
import type { Proc } from './proc.js';

/** BLOCK_COPY_CLUSTER_SIZE_DEFAULT */
export const CLUSTER_DEFAULT = 65536;

/** The target's cluster size (bdrv_get_info), at least 64 KiB; the default where it has none. */
export function blockCopyClusterSize(p: Proc, target: string): number {
  // bdrv_get_info(target): qcow2_get_info and bdrv_qed_get_info the header's cluster size, the
  // other formats their block or grain size, through raw_get_info and filters to the node that
  // answers; -ENOTSUP (parallels, null, nbd...) the default
  return Math.max(CLUSTER_DEFAULT, infoClusterSize(p, target) ?? CLUSTER_DEFAULT);
}

/**
 * The cluster size a copy-before-write filter's block-copy state took (block_copy_cluster_size):
 * the target's, or 10.0's min-cluster-size when larger (block_copy_calculate_cluster_size's
 * MAX(min_cluster_size, …); kept on the filter as `bcsCluster` only then).
 */
export function cbwClusterSize(p: Proc, cbw: string | null | undefined, target: string): number {
  const own = cbw ? (p.node(cbw)?.extra as { bcsCluster?: number } | undefined)?.bcsCluster : undefined;
  return own ?? blockCopyClusterSize(p, target);
}
