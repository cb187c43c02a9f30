// A drive's snapshot=on (blockdev_init: BDRV_O_SNAPSHOT in blk_new_open's flags): bdrv_open_inherit
// opens the image as if it were a backing file (qdict_del(options, "read-only") then
// bdrv_inherited_options(BDRV_CHILD_COW): read-only), and then bdrv_append_temp_snapshot (block.c,
// 7.2 and 10.0 alike): a qcow2 of the image's length (bdrv_getlength) made in a temporary file
// (get_tmp_filename / create_tmp_file: $TMPDIR/vl.XXXXXX, /var/tmp without TMPDIR; the
// recorder gives qemu-system-x86_64 the scenario's directory and its oracle names every such file
// vl.XXXXXX), opened with bdrv_temp_snapshot_options (cache.direct off, cache.no-flush on, the
// parent's read-only and discard) and bdrv_append'ed over the image. Its header names no backing
// file: the image is its backing by the append only (bdrv_refresh_filename then gives the overlay
// a json: filename).
import { bdrvImgCreate } from '../commands/bdrv-img-create.js';
import { getLength } from './length.js';
import { openNodeWithFlags } from './open.js';
import type { Proc } from './proc.js';
import { appendNode } from './replace.js';

/** The temporary file's name: the template's six characters, unique in the process (mkstemp's are random). */
function tempName(p: Proc): string {
  return `vl.${String(p.nextSeq()).padStart(6, '0').slice(-6)}`;
}

/** bdrv_append_temp_snapshot over `bs`: returns the overlay, now where bs was. */
export function appendTempSnapshot(p: Proc, bs: string, parent: { readOnly: boolean; discard?: string }, inactive: boolean): string {
  const size = getLength(p, bs);
  const tmp = tempName(p);
  p.step(`temp snapshot ${tmp}`);
  bdrvImgCreate(p, { file: tmp, format: 'qcow2', size });
  const overlay = openNodeWithFlags(p, {
    driver: 'qcow2', file: { driver: 'file', filename: tmp },
    cache: { direct: false, 'no-flush': true }, 'read-only': parent.readOnly,
    ...(parent.discard !== undefined ? { discard: parent.discard } : {}),
  }, inactive);
  // BDRV_O_TEMPORARY (bdrv_temp_snapshot_options' child flags) reaches the file node, whose
  // raw_open_common unlinks the file once it is open: the node keeps its fd, nothing can open
  // the name again (a reopen that needs a new fd fails: graph/reopen/drivers.ts)
  const file = p.fileChild(overlay.name)?.child;
  if (file) p.patchNode(file, { unlinked: true });
  appendNode(p, overlay.name, bs);
  return overlay.name;
}
