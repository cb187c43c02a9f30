// bdrv_reopen_commit (per entry, run in reverse queue order: children before parents) and
// the cleanup of bdrv_reopen_multiple (old children unreferenced, closing them if unused).
import { reopenBitmapsRw } from '../bitmaps.js';
import { opensAsProtocol } from '../drivers.js';
import { unrefIfUnused } from '../ops.js';
import { dropChildOptions } from '../options.js';
import type { Proc } from '../proc.js';
import type { PreparedEntry } from './prepare.js';
import type { Flat } from './qdict.js';
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
    options: dropChildOptions({ ...entry.options } as Flat, kids),
    explicit: dropChildOptions({ ...entry.explicit } as Flat, kids),
    extra: { ...(n.extra ?? {}), ...(prep.extra ?? {}) },
    ...(prep.size !== undefined ? { size: prep.size } : {}),
  };
  p.patchNode(n.name, patch);
  // qcow2_reopen_commit_post to read-write: qcow2_reopen_bitmaps_rw
  if (n.driver === 'qcow2' && !entry.ro) reopenBitmapsRw(p, n.name);
}

/** The references reopen held on replaced children are dropped: unused ones close. */
export function cleanupEntry(p: Proc, prep: PreparedEntry): void {
  if (prep.oldBacking) unrefIfUnused(p, prep.oldBacking);
  if (prep.oldFile) unrefIfUnused(p, prep.oldFile);
}
