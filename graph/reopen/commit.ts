// bdrv_reopen_commit (per entry, run in reverse queue order: children before parents) and
// the cleanup of bdrv_reopen_multiple (old children unreferenced, closing them if unused).
import { reopenBitmapsRw } from '../bitmaps.js';
import { opensAsProtocol } from '../drivers.js';
import { unrefIfUnused } from '../ops.js';
import { filterChild } from '../jobs/chain.js';
import { getLength } from '../length.js';
import { hostFileLength } from '../open.js';
import { rule } from '../rules.js';
import { dropChildOptions } from '../options.js';
import type { Proc } from '../proc.js';
import type { PreparedEntry } from './prepare.js';
import { cloneShallow, type Flat } from './qdict.js';
import type { QueueEntry } from './queue.js';

const isUnmap = (v: unknown) => v === 'unmap' || v === 'on';

export function commitEntry(p: Proc, entry: QueueEntry, prep: PreparedEntry): void {
  const n = p.node(entry.node)!;
  // bdrv_reopen_commit: bs->options and bs->explicit_options become the entry's, without the
  // children's references (their sub-QDicts left in bdrv_reopen_queue_child) and `backing`.
  const kids = p.childrenOf(n.name).map((e) => e.name);
  const patch: Parameters<Proc['patchNode']>[1] = {
    ro: entry.ro,
    // bs->open_flags = reopen_state->flags: BDRV_O_UNMAP as bdrv_reopen_prepare parsed discard
    unmap: 'discard' in entry.options ? isUnmap(entry.options.discard) : entry.unmap,
    // ... and without BDRV_O_PROTOCOL, which bdrv_reopen_queue_child clears ("bdrv_open_inherit()
    // sets and clears some additional flags internally"): drive-backup's target reads it; only a
    // node opened as a protocol had it
    ...(opensAsProtocol(n.driver) ? { protocolCleared: true } : {}),
    // bdrv_reopen_prepare hands back orig_reopen_opts, its qdict_clone_shallow of the queued
    // options, as reopen_state->options: keys sharing a bucket are reversed, which is the order
    // the next reopen's bdrv_reset_options_allowed walks (fuzz 2432551078: blkdebug's
    // inject-error.0.event and .errno)
    options: dropChildOptions(cloneShallow(entry.options as Flat), kids),
    explicit: dropChildOptions({ ...entry.explicit } as Flat, kids),
    extra: { ...(n.extra ?? {}), ...(prep.extra ?? {}) },
    ...(prep.size !== undefined ? { size: prep.size } : {}),
  };
  p.patchNode(n.name, patch);
  // 10.0: bdrv_reopen_commit's bdrv_refresh_total_sectors (rule 'reopen-refreshes-length'); the
  // entries commit children first, so a parent's getlength sees its child's new length
  if (rule(p, 'reopen-refreshes-length')) {
    const fresh = refreshedLength(p, n.name);
    if (fresh !== undefined && fresh !== p.node(n.name)!.size) p.patchNode(n.name, { size: fresh });
  }
  // qcow2_reopen_commit_post to read-write: qcow2_reopen_bitmaps_rw
  if (n.driver === 'qcow2' && !entry.ro) reopenBitmapsRw(p, n.name);
}

/** The references reopen held on replaced children are dropped: unused ones close. */
export function cleanupEntry(p: Proc, prep: PreparedEntry): void {
  if (prep.oldBacking) unrefIfUnused(p, prep.oldBacking);
  if (prep.oldFile) unrefIfUnused(p, prep.oldFile);
}

/** Drivers whose .bdrv_getlength asks their file (filtered) child: raw_getlength (its slice), cor, throttle, compress, blkdebug, preallocate (while its data_end is not valid). */
const LENGTH_FROM_CHILD = new Set(['raw', 'copy-on-read', 'throttle', 'compress', 'blkdebug', 'preallocate']);

/**
 * bdrv_refresh_total_sectors's answer for `node`, where the driver has a .bdrv_getlength the model
 * follows: file-posix's raw_getlength (the host file's length now, whoever changed it), raw_getlength
 * (the slice of its file: [offset, offset + size) cut at the file's end) and the filters' (their
 * child's length). Undefined for drivers that keep total_sectors (qcow2 has no .bdrv_getlength).
 */
export function refreshedLength(p: Proc, node: string): number | undefined {
  const n = p.node(node);
  if (!n) return undefined;
  if (n.driver === 'file') {
    const img = n.filename !== undefined ? p.image(n.filename) : undefined;
    return img ? hostFileLength(img) : undefined;
  }
  // preallocate_co_getlength: s->data_end while it is valid (the filter could write and resize:
  // preallocHeld; the model keeps total_sectors for it), else bdrv_co_getlength(bs->file->bs)
  // (fuzz --qemu 10.0 1210373893: a filter reopened onto another file takes that file's length)
  if (n.driver === 'preallocate' && (n.extra as { preallocHeld?: boolean } | undefined)?.preallocHeld === true) return undefined;
  if (!LENGTH_FROM_CHILD.has(n.driver)) return undefined;
  const child = (n.driver === 'raw' ? p.fileChild(node) : filterChild(p, node))?.child;
  if (!child || !p.node(child)) return undefined;
  const len = getLength(p, child);
  if (n.driver !== 'raw') return len;
  const offset = Number(n.options.offset ?? 0) || 0;
  if (len < offset) return 0;
  return n.options.size !== undefined ? Math.min(Number(n.options.size), len - offset) : len - offset;
}
