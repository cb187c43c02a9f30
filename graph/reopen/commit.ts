// bdrv_reopen_commit (per entry, run in reverse queue order: children before parents) and
// the cleanup of bdrv_reopen_multiple (old children unreferenced, closing them if unused).
import { driverInfo } from '../drivers.js';
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

/**
 * bdrv_refresh_filename for qcow2 nodes (QEMU recomputes it on every query): the image's name
 * only when the file child is a protocol node and the backing is not overridden
 * (bdrv_backing_overridden: a backing whose filename differs from the header's, or none while
 * the header names one); otherwise a json:{…} name, which the oracle reports as none.
 */
export function qcow2Filename(p: Proc, node: string): string {
  const f = p.fileChild(node);
  const fn = f ? p.node(f.child) : undefined;
  if (!fn || driverInfo(fn.driver)?.kind !== 'protocol') return '';
  const hdr = p.node(node)?.header?.backing;
  const b = p.backing(node);
  const overridden = b ? hdr !== p.node(b.child)?.filename : Boolean(hdr);
  return overridden ? '' : fn.filename;
}

/** Recomputes the filenames of qcow2 nodes among `nodes` and all their ancestors, children first. */
export function refreshFilenames(p: Proc, nodes: readonly string[]): void {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n) || !p.node(n)) return;
    seen.add(n);
    order.push(n);
    for (const e of p.parents(n)) if (e.parent.kind === 'node') visit(e.parent.node);
  };
  for (const n of nodes) visit(n);
  // A parent's name depends on its backing's: settle bottom-up (repeat until stable; chains are short).
  for (let round = 0; round < 64; round++) {
    let changed = false;
    for (const n of order) {
      const node = p.node(n)!;
      if (node.driver !== 'qcow2') continue;
      const fn = qcow2Filename(p, n);
      if (fn !== node.filename) { p.patchNode(n, { filename: fn }); changed = true; }
    }
    if (!changed) break;
  }
}

/** The references reopen held on replaced children are dropped: unused ones close. */
export function cleanupEntry(p: Proc, prep: PreparedEntry): void {
  if (prep.oldBacking) unrefIfUnused(p, prep.oldBacking);
  if (prep.oldFile) unrefIfUnused(p, prep.oldFile);
}
