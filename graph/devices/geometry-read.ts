// hd_geometry_guess (hw/block/hd-geometry.c): a disk realized without cyls/heads/secs
// (blkconf_geometry: virtio-blk, ide-hd, scsi-hd) guesses them from its first sector,
// guess_disk_lchs → blk_pread(blk, 0, BDRV_SECTOR_SIZE). The read changes nothing unless the
// root node copies on read: a drive's copy-on-read=on (blockdev_init's BDRV_O_COPY_ON_READ →
// bdrv_enable_copy_on_read: a flag on the node, no filter) makes bdrv_co_preadv_part add
// BDRV_REQ_COPY_ON_READ, and bdrv_aligned_preadv, for a range the node does not hold itself,
// calls bdrv_co_do_copy_on_readv: the request rounded out to the node's cluster, read from the
// backing (zeroes where there is none), written back into the node at the driver level — a
// buffer of zeroes as bdrv_co_do_pwrite_zeroes (BDRV_REQ_WRITE_UNCHANGED), which on a qcow2
// allocates the L2 table the zero flag goes in (the file grows by a cluster at start-up).
import { layerStatus } from '../jobs/allocation.js';
import { writeGuestData, zeroGuestData } from '../jobs/guest-write.js';
import { cowChild } from '../jobs/chain.js';
import { metadataView } from '../guest-image.js';
import { readFill } from '../qcow2-compress.js';
import type { Proc } from '../proc.js';

const SECTOR = 512;

export function geometryGuessRead(p: Proc, bb: string): void {
  const root = p.children({ kind: 'bb', bb })[0]?.child;
  const n = root ? p.node(root) : undefined;
  if (!root || !n) return;
  if (!n.copyOnRead) return;
  // skip_write: an inactive image is only read; the model follows a qcow2's clusters only
  if (n.inactive || n.driver !== 'qcow2') return;
  // bdrv_round_to_subclusters: [0, 512) widened to the node's first cluster
  const cs = metadataView(p, root)?.img.clusterSize ?? 65536;
  const st = layerStatus(p, root, 0, Math.min(cs, Math.max(SECTOR, n.size)));
  if (st.alloc || st.n === 0) return;
  if (readFill(p, root, 0, st.n) === 0) zeroGuestData(p, root, 0, st.n, false, true);
  else writeGuestData(p, root, 0, st.n, cowChild(p, root)?.child, true);
}
