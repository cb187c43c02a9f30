// bdrv_img_create (block.c) as drive-backup, drive-mirror and blockdev-snapshot-sync reach it: one
// function, so the three create their target the same way.
import { BlockgraphError, QmpError } from '../errors/index.js';
import { consumeAutoNames, creationOpens } from '../graph/id-counter.js';
import { createImage } from '../graph/images.js';
import { imgCreateChecks } from '../graph/img-create.js';
import { checkCreateBacking, openNode } from '../graph/open.js';
import type { Proc } from '../graph/proc.js';
import { rawCreateLocks } from './blockdev-create.js';

export interface ImgCreate {
  /** the new image's file name (a "file:" prefix allowed) */
  file: string;
  /** the format asked for (the source's when none is given) */
  format: string;
  /** bdrv_getlength of the source (graph/length.ts getLength) */
  size: number;
  /** the backing file name and format written into the header (empty name: none) */
  backing?: { name: string; format: string };
  /** flags without BDRV_O_NO_BACKING (drive-backup with a backing): the backing file is opened first */
  openBacking?: boolean;
}

/**
 * bdrv_img_create: its checks (graph/img-create.ts), the backing file's open when the flags lack
 * BDRV_O_NO_BACKING, bdrv_create's raw_co_create locks, then the image; the nodes
 * qcow2_co_create_opts opens take #block names (graph/id-counter.ts).
 */
export function bdrvImgCreate(p: Proc, c: ImgCreate): void {
  const backing = c.backing?.name ? c.backing : undefined;
  const kind = imgCreateChecks(c.format, backing?.name ?? null, c.file);
  if (backing && c.openBacking) checkCreateBacking(p, backing.name, backing.format);
  if (kind === 'vmdk' && backing) {
    // vmdk_co_create_opts: a backing format other than vmdk is refused before anything is made
    if (backing.format !== 'vmdk') throw new QmpError('backing_file must be a vmdk image');
    // vmdk_co_do_create: extent_fn makes the new image file first (bdrv_co_create_file's
    // raw_co_create locks, then its sparse header), then opens the backing for its CID:
    // blk_co_new_open(full_backing, NULL, NULL, BDRV_O_NO_BACKING), read-only and without
    // force-share, so its file node, under the vmdk node, shares neither write nor resize
    // (bdrv_default_perms_for_storage): a node of that image file holding write refuses it
    // (raw_check_lock_bytes: 'Failed to get shared "write" lock'; fuzz --qemu 10.0 1322613542,
    // a drive-backup of a read-write vmdk node with sync none). A backing that opens (its CID,
    // the descriptor's parentFileNameHint) is not followed, nor one that is no vmdk image.
    // (a backing named by a pseudo-protocol, e.g. `blkdebug::FILE` after the source's file
    // became a blkdebug node, is no catalogue path: opened all the same, as QEMU opens it; fuzz
    // --qemu 10.0 3041504994)
    const backingImg = p.image(backing.name.replace(/^file:/, ''));
    if (!backingImg || backingImg.format === 'vmdk') {
      rawCreateLocks(p, c.file.replace(/^file:/, ''));
      // vmdk_co_create_opts_cb (extent_fn): blk_co_new_open of the new extent (BDRV_O_PROTOCOL)
      // names its node before the backing open below (fuzz --qemu 10.0 3733265360: the next
      // anonymous node's #block number)
      consumeAutoNames(p, creationOpens('vmdk', 'img-create'));
      try {
        p.d.trial(() => openNode(p, { driver: 'vmdk' }, { parent: '', role: 'child', parentOptions: { 'read-only': 'on' }, filename: backing.name }));
      } catch (e) {
        // the extent made before stays (its descriptor not written: taken as a plain vmdk image)
        if (e instanceof QmpError) createImage(p.d, { file: c.file, format: 'vmdk', size: c.size } as never);
        throw e;
      }
    }
    throw new QmpError('blockgraph does not model bdrv_img_create of a vmdk image over a vmdk backing file (qemu-storage-daemon has it; see docs/fidelity.md)');
  }
  rawCreateLocks(p, c.file.replace(/^file:/, ''));
  try {
    createImage(p.d, {
      // bdrv_qed_co_create_opts: "Silently round up size" to whole sectors
      file: c.file, format: kind, size: kind === 'qed' ? Math.ceil(c.size / 512) * 512 : c.size,
      ...(backing ? { backing: backing.name, 'backing-format': backing.format } : {}),
    } as never);
    consumeAutoNames(p, creationOpens(c.format, 'img-create'));
  } catch (e) {
    if (e instanceof BlockgraphError && e.code === 'BG_BAD_INPUT') throw new QmpError(e.message);
    throw e;
  }
}
