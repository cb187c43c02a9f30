// bdrv_set_backing_hd and bdrv_change_backing_file, as the jobs use them at completion.
import { backingFormatField } from '../backing-format.js';
import { QmpError } from '../../errors/index.js';
import { attachChild, unrefIfUnused } from '../ops.js';
import { ROLE_COW, ROLE_FILTERED, ROLE_PRIMARY } from '../perm.js';
import type { Proc } from '../proc.js';
import { refreshPerms } from '../refresh.js';
import { HOST, type Image } from '../types.js';
import { isFilter } from './chain.js';
import { driverInfo } from '../drivers.js';
import { inheritsFromRecursive, unsetInheritsFrom } from '../inherits.js';
import { drained } from '../drain.js';
import { imageBehind } from '../images.js';
import { noteWritePath } from '../wr-highest.js';

/**
 * bdrv_set_backing_hd: one transaction (remove the old link, attach the new one, refresh).
 * bdrv_set_file_or_backing_noperm keeps inherits_from: a new backing that inherited from `node`
 * through the nodes in between (a stream dropping intermediates) now inherits from `node`
 * directly, so a later blockdev-reopen of `node` passes it "backing.*" options.
 */
export function setBackingHd(p: Proc, node: string, backing: string | null): void {
  const old = p.backing(node);
  if ((old?.child ?? null) === backing) return;
  let oldChild: string | undefined;
  // bdrv_set_backing_hd: bdrv_drained_begin(bs)
  drained(p, [node], false, () => p.d.atomically(() => {
    const updateInherits = backing !== null && inheritsFromRecursive(p, backing, node);
    if (old?.frozen) throw new QmpError(`Cannot change frozen '${old.name}' link from '${node}' to '${old.child}'`);
    // bdrv_set_file_or_backing_noperm: a driver that is no filter and has no backing support
    // refuses a backing (drive-backup sync none onto a raw or protocol target)
    const n = p.node(node)!;
    const info = driverInfo(n.driver);
    if (info && info.kind !== 'filter' && !info.supportsBacking) {
      throw new QmpError(`Driver '${n.driver}' of node '${node}' does not support backing files`);
    }
    if (old) {
      oldChild = old.child;
      unsetInheritsFrom(p, node, old);
      p.delEdge(old.id);
    }
    if (backing) {
      const role = isFilter(p, node) ? ROLE_FILTERED | ROLE_PRIMARY : ROLE_COW;
      attachChild(p, { kind: 'node', node }, backing, 'backing', role, undefined, { refresh: false });
      if (updateInherits) p.patchNode(backing, { inheritsFrom: node });
    }
    refreshPerms(p, [node, ...(oldChild && p.node(oldChild) ? [oldChild] : [])]);
  }));
  if (oldChild) unrefIfUnused(p, oldChild);
}

/** Whether the node's driver has .bdrv_change_backing_file (qcow2_change_backing_file, bdrv_qed_change_backing_file). */
export function hasChangeBackingFile(p: Proc, node: string): boolean {
  const d = p.node(node)?.driver;
  return d === 'qcow2' || d === 'qed';
}

/** bdrv_change_backing_file: the backing file name (and format) written into the image header. */
export function writeBackingHeader(p: Proc, node: string, backing: string | null, format: string | null): void {
  const n = p.node(node);
  if (!n || (n.driver !== 'qcow2' && n.driver !== 'qed')) return;
  // (bdrv_change_backing_file sets bs->backing_format to the format given, for qed too)
  // (bs->backing_format holds at most 15 characters: graph/backing-format.ts)
  if (format) format = backingFormatField(format);
  const header = backing ? { backing, ...(format ? { backingFormat: format } : {}) } : {};
  p.patchNode(node, { header });
  // qcow2_change_backing_file -> qcow2_update_header: bdrv_pwrite(bs->file, 0, …), the image
  // behind the file child; not the one the node's reported name names (none when that name is
  // a json: one, e.g. while the backing is overridden: seed 4051832118)
  const f = p.fileChild(node);
  const img = f ? imageBehind(p, f.child) : undefined;
  if (img) {
    const next: Image = { ...img };
    delete next.backing;
    delete next.backingFormat;
    if (backing) {
      next.backing = backing;
      // bdrv_qed_change_backing_file keeps only QED_F_BACKING_FORMAT_NO_PROBE (qed_fmt_is_raw)
      if (format && (n.driver !== 'qed' || format === 'raw')) next.backingFormat = format;
    }
    p.d.put(HOST, 'images', img.file, next);
  }
  // the header write's request on the file child (bdrv_co_write_req_finish: wr_highest_offset):
  // qcow2_update_header writes the whole header cluster (bdrv_pwrite(bs->file, 0,
  // s->cluster_size, …)); bdrv_qed_change_backing_file writes the QEDHeader (64 bytes) and the
  // backing file name after it (bdrv_pwrite_sync(bs->file, 0, buffer_len, …))
  if (f) {
    const bytes = n.driver === 'qcow2' ? img?.clusterSize ?? 65536 : 64 + (backing ? Buffer.byteLength(backing) : 0);
    noteWritePath(p, f.child, 0, bytes);
  }
}
