// bdrv_reopen_commit (per entry, run in reverse queue order: children before parents) and
// the cleanup of bdrv_reopen_multiple (old children unreferenced, closing them if unused).
import { unrefIfUnused } from '../ops.js';
import type { Proc } from '../proc.js';
import type { PreparedEntry } from './prepare.js';
import type { Flat } from './qdict.js';
import type { QueueEntry } from './queue.js';

export function commitEntry(p: Proc, entry: QueueEntry, prep: PreparedEntry): void {
  const n = p.node(entry.node)!;
  // bs->options = the reopen's options; child references are kept by name as open.ts does.
  const stored: Flat = { ...entry.options };
  delete stored.file;
  delete stored.backing;
  for (const e of p.childrenOf(n.name)) if (e.name === 'file' || e.name === 'backing') stored[e.name] = e.child;
  if ('backing' in entry.options && !p.backing(n.name)) stored.backing = null;
  const patch: Parameters<Proc['patchNode']>[1] = {
    ro: entry.ro,
    options: stored,
    extra: { ...(n.extra ?? {}), ...(prep.extra ?? {}), explicitOptions: entry.explicit },
  };
  p.patchNode(n.name, patch);
}

/** The references reopen held on replaced children are dropped: unused ones close. */
export function cleanupEntry(p: Proc, prep: PreparedEntry): void {
  if (prep.oldBacking) unrefIfUnused(p, prep.oldBacking);
  if (prep.oldFile) unrefIfUnused(p, prep.oldFile);
}
