// bdrv_set_backing_hd and bdrv_change_backing_file, as the jobs use them at completion.
import { QmpError } from '../../errors/index.js';
import { attachChild, unrefIfUnused } from '../ops.js';
import { ROLE_COW, ROLE_FILTERED, ROLE_PRIMARY } from '../perm.js';
import type { Proc } from '../proc.js';
import { refreshPerms } from '../refresh.js';
import { HOST, type Image } from '../types.js';
import { isFilter } from './chain.js';
import { inheritsFromRecursive, unsetInheritsFrom } from '../inherits.js';
import { drained } from '../drain.js';
import { qcow2Image } from '../bitmaps.js';

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

/** bdrv_change_backing_file: the backing file name (and format) written into the image header. */
export function writeBackingHeader(p: Proc, node: string, backing: string | null, format: string | null): void {
  const n = p.node(node);
  if (!n || n.driver !== 'qcow2') return;
  const header = backing ? { backing, ...(format ? { backingFormat: format } : {}) } : {};
  p.patchNode(node, { header });
  // qcow2_change_backing_file rewrites the header through bs->file: the image behind the file
  // child (a qcow2 node's own `filename` is not set when it was added with an inline file)
  const img = (n.filename ? p.image(n.filename) : undefined) ?? qcow2Image(p, node);
  if (img) {
    const next: Image = { ...img };
    delete next.backing;
    delete next.backingFormat;
    if (backing) {
      next.backing = backing;
      if (format) next.backingFormat = format;
    }
    p.d.put(HOST, 'images', img.file, next);
  }
}
