// fuzz --against vm 1394297969 (QEMU 7.2 abort): a preallocate filter that has preallocated past
// the data written, in an iothread, loses its write/resize permissions in a reopen.
import { MAIN_CONTEXT } from './aio.js';
import { alignment } from './refresh.js';
import { PERM_W, PERM_Z } from './perm.js';
import type { Proc } from './proc.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import { rule } from './rules.js';

type PreallocExtra = { preallocHeld?: boolean; preallocated?: boolean };

/** The preallocate filters on the path from qcow2 node `q` down to its host file (bs->file writes). */
function preallocatesBelow(p: Proc, q: string): string[] {
  const out: string[] = [];
  let cur = p.fileChild(q)?.child;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) break;
    const via = (name: string) => p.childrenOf(cur!).find((e) => e.name === name)?.child;
    if (n.driver === 'preallocate') out.push(cur);
    if (n.driver === 'blkdebug') cur = via('image');
    else if (['throttle', 'copy-on-read', 'compress', 'preallocate'].includes(n.driver)) cur = via('file');
    else break;
  }
  return out;
}

/**
 * block/preallocate.c handle_write: a write through the filter ending past s->data_end (valid only
 * while the filter holds write and resize on its file: has_prealloc_perms, the model's
 * preallocHeld) and past s->file_end preallocates up to
 * ALIGN_UP(end + prealloc-size, MAX(prealloc-align, the file's request alignment)), so the file
 * ends past the data (s->data_end < s->file_end). `before`/`grown`: the file's length before and
 * after qcow2 node `q`'s metadata writes (qcow2_snapshot_create's L1 copy and table).
 */
export function notePreallocation(p: Proc, q: string, before: number, grown: number): void {
  if (grown <= before) return;
  for (const name of preallocatesBelow(p, q)) {
    const n = p.node(name)!;
    const extra = (n.extra ?? {}) as PreallocExtra;
    if (extra.preallocHeld !== true || extra.preallocated === true) continue;
    const o = n.options ?? {};
    const size = o['prealloc-size'] !== undefined ? Number(o['prealloc-size']) : 128 * 1024 * 1024;
    const file = p.childrenOf(name).find((e) => e.name === 'file')?.child;
    const align = Math.max(o['prealloc-align'] !== undefined ? Number(o['prealloc-align']) : 1024 * 1024, file && p.node(file) ? alignment(p, p.node(file)!) : 1);
    if (Math.ceil((grown + size) / align) * align <= grown) continue;
    p.patchNode(name, { extra: { ...extra, preallocated: true } });
  }
}

/**
 * 7.2: bdrv_reopen (external_snapshot_commit's and the jobs' bdrv_reopen_set_read_only) releases
 * the node's AioContext lock before bdrv_reopen_multiple, and qmp_blockdev_reopen holds none
 * around it; its bdrv_list_refresh_perms runs preallocate_check_perm, which on losing write or
 * resize with s->data_end < s->file_end drops the preallocation: bdrv_truncate -> bdrv_poll_co ->
 * BDRV_POLL_WHILE in the filter's iothread releases a lock the main thread does not hold
 * (qemu_mutex_unlock_impl: Operation not permitted). In the main loop, or with nothing
 * preallocated, the truncate is not polled across threads / not needed (recorded surviving:
 * vm/abort-35-vm-snapshot-preallocate-*-survives). 10.0 has no AioContext lock
 * (rule 'aio-context-lock-aborts'). `nodes`: the filters whose parents the reopen changed.
 */
export function refuseUnlockedPreallocTruncate(p: Proc, nodes: Iterable<string>): void {
  if (!rule(p, 'aio-context-lock-aborts')) return;
  for (const name of nodes) {
    const n = p.node(name);
    if (!n || n.driver !== 'preallocate' || n.aio === MAIN_CONTEXT) continue;
    if ((n.extra as PreallocExtra | undefined)?.preallocated !== true) continue;
    let perm = 0;
    for (const e of p.parents(name)) perm |= e.perm;
    if ((perm & PERM_W) !== 0 && (perm & PERM_Z) !== 0) continue;
    throw new QemuAbortRefusal(
      `Preallocate filter '${name}' in iothread '${n.aio}' has preallocated past its data and loses write or resize in a reopen: ` +
      'its truncate is polled there without that iothread\'s lock (QEMU 7.2 aborts here: bdrv_reopen_multiple -> ' +
      'preallocate_check_perm -> bdrv_truncate: qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
      'preallocate_check_perm',
    );
  }
}
