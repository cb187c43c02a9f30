// change-backing-file (blockdev.c qmp_change_backing_file, 7.2): rewrites the backing file name
// (and format) in an image's header without touching the graph. The image node is flipped
// read-write for the write and back (bdrv_reopen_set_read_only), and the format written is the
// image node's own driver name, as QEMU passes it (image_bs->drv->format_name).
import { deviceOrNodeName } from '../graph/named-blk.js';
import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { imageBehind } from '../graph/images.js';
import { chainContains, findBase } from '../graph/jobs/chain.js';
import { setReadOnly } from '../graph/jobs/parts.js';
import { writeBackingHeader } from '../graph/jobs/backing.js';
import { qedBackingNameFits } from '../graph/qed.js';
import { writeRefusal } from '../graph/length.js';
import type { Proc } from '../graph/proc.js';
import { getRootBs } from './job-lookup.js';
import type { CommandDef } from './types.js';

/** The header write's bdrv_co_write_req_prepare down bs->file (graph/length.ts writeRefusal): an errno text, or a QemuAbortRefusal. */
function headerWriteRefusal(p: Proc, node: string): string | undefined {
  const via = p.fileChild(node);
  return via ? writeRefusal(p, via) : undefined;
}

/** bdrv_change_backing_file -> qcow2_change_backing_file; an errno name on failure. */
function changeBackingFile(p: Proc, node: string, backingFile: string, backingFmt: string): string | null {
  const n = p.node(node)!;
  // only qcow2 and qed (of the model's drivers) have .bdrv_change_backing_file
  if (n.driver !== 'qcow2' && n.driver !== 'qed') return 'Operation not supported';
  const file = p.fileChild(node)?.child;
  const img = file ? imageBehind(p, file) : undefined;
  if (n.driver === 'qed') {
    // bdrv_qed_change_backing_file: the header and the name must fit in the header cluster
    if (img && !qedBackingNameFits(img, backingFile)) return 'No space left on device';
    const refused = headerWriteRefusal(p, node);
    if (refused) return refused;
    writeBackingHeader(p, node, backingFile, backingFmt);
    return null;
  }
  // a backing file would make a raw external data file insufficient; the header holds 1023 bytes
  if (img?.dataFileRaw || backingFile.length > 1023) return 'Invalid argument';
  // qcow2_change_backing_file: backing_file and auto_backing_file alike, and the header on disk
  // (qcow2_update_header's bdrv_pwrite through bs->file: an inactive node's edge holds no write,
  // an inactivated file is itself inactive; QEMU 10.0 dies either way)
  const refused = headerWriteRefusal(p, node);
  if (refused) return refused;
  writeBackingHeader(p, node, backingFile, backingFmt);
  return null;
}

export const changeBackingFileCommand: CommandDef = {
  name: 'change-backing-file',
  mutates: true,
  run({ p, args }) {
    const device = String(args.device);
    const bs = getRootBs(p, device);
    const imageName = String(args['image-node-name']);
    // bdrv_lookup_bs(NULL, image_node_name)
    if (!p.node(imageName)) throw new QmpError(`Cannot find device='' nor node-name='${imageName}'`);
    if (findBase(p, imageName) === imageName) {
      throw new QmpError('not allowing backing file change on an image without a backing file');
    }
    // the ops of the whole chain are checked on bs, not on the image node
    const blocked = opBlocker(p, bs, 'change');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);
    if (!chainContains(p, bs, imageName)) throw new QmpError(`'${device}' and image file are not in the same chain`);
    const ro = p.node(imageName)!.ro;
    if (ro) setReadOnly(p, imageName, false);
    const failed = changeBackingFile(p, imageName, String(args['backing-file']), p.node(imageName)!.driver);
    // the open flags are restored even when the change failed
    if (ro) setReadOnly(p, imageName, true);
    if (failed) throw new QmpError(`Could not change backing file to '${String(args['backing-file'])}': ${failed}`);
    return {};
  },
};
