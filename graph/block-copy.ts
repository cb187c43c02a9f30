// block/block-copy.c: block_copy_calculate_cluster_size (the granularity of the copy-before-write
// bitmaps and the backup's cluster size).
import { imageBehind } from './images.js';
import type { Proc } from './proc.js';

/** BLOCK_COPY_CLUSTER_SIZE_DEFAULT */
export const CLUSTER_DEFAULT = 65536;

/** The target's cluster size (bdrv_get_info), at least 64 KiB; the default where it has none. */
export function blockCopyClusterSize(p: Proc, target: string): number {
  const n = p.node(target);
  // (qcow2_get_info, bdrv_qed_get_info: the header's cluster size)
  if (n?.driver !== 'qcow2' && n?.driver !== 'qed') return CLUSTER_DEFAULT;
  const fe = p.fileChild(target);
  const img = fe ? imageBehind(p, fe.child) : undefined;
  return Math.max(CLUSTER_DEFAULT, img?.clusterSize ?? CLUSTER_DEFAULT);
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
