// Op blockers, derived from the graph instead of stored: a backing edge blocks most
// operations on its child (bdrv_backing_attach), a job edge blocks all of them
// (block_job_add_bdrv). QEMU lists blockers newest first; the first one is reported.
import type { Proc } from './proc.js';
import { ROLE_COW } from './perm.js';

export type BlockOp =
  | 'drive-del' | 'commit-source' | 'commit-target' | 'stream' | 'mirror-source' | 'mirror-target'
  | 'backup-source' | 'backup-target' | 'resize' | 'external-snapshot' | 'internal-snapshot' | 'internal-snapshot-delete'
  | 'change' | 'dataplane' | 'replace' | 'eject';

const BACKING_UNBLOCKED: BlockOp[] = ['commit-target', 'stream', 'backup-source', 'backup-target'];

/** The blocker message for `op` on `node`, or null when the op is allowed. */
export function opBlocker(p: Proc, node: string, op: BlockOp): string | null {
  for (const e of p.parents(node)) {
    if (e.parent.kind === 'node' && e.role & ROLE_COW && e.name === 'backing') {
      if (!BACKING_UNBLOCKED.includes(op)) return `node is used as backing hd of '${e.parent.node}'`;
    } else if (e.parent.kind === 'job') {
      const j = p.job(e.parent.job);
      const unblocked = ((j?.data.unblock as Record<string, BlockOp[]> | undefined) ?? {})[node] ?? [];
      if (j && !unblocked.includes(op)) return `block device is in use by block job: ${j.type}`;
    }
  }
  return null;
}
