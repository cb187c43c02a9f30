// fuzz --qemu 10.0 2838488303 (stop 39; 7.2 dies the same, probed by hand): block-stream of a
// blklogwrites node. stream_run -> stream_populate reads through the copy-on-read filter inserted
// above the device; bdrv_co_do_copy_on_readv writes what it read back into the device with
// bdrv_driver_pwritev(bs, ..., BDRV_REQ_WRITE_UNCHANGED), and each filter below passes that flag
// on only when its supported_write_flags hold it (bdrv_driver_pwritev: `flags &
// bs->supported_write_flags`). blklogwrites sets none (blk_log_writes_open; every other filter
// sets BDRV_REQ_WRITE_UNCHANGED), so blk_log_writes_co_do_file writes its `file` and
// blk_log_writes_co_do_log its `log` as plain writes, and bdrv_co_write_req_prepare asserts
// `child->perm & BLK_PERM_WRITE` for a link that holds only what its parents asked: the
// copy-on-read filter asks WRITE_UNCHANGED (cor_child_perm), and blk_log_writes_child_perm
// passes that down the file link (bdrv_default_perms, a FILTERED child). A writer above the
// node (its file link holding write) keeps QEMU alive. Its first copy runs right after the
// command (job_start enters the loop; the limit sleeps only after a copy): the model refuses the
// command that starts it when any stretch the loop would copy reaches such a link.
import { PERM_W } from '../perm.js';
import type { Proc } from '../proc.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { filterChild, isFilter } from './chain.js';

/** Filters whose driver keeps no BDRV_REQ_WRITE_UNCHANGED in supported_write_flags (block/blklogwrites.c). */
const DROPS_UNCHANGED = new Set(['blklogwrites']);

/** The link below `device` that an unchanged write would hit without write permission, if any. */
export function unchangedWriteWithoutPerm(p: Proc, device: string): { node: string; link: string } | undefined {
  for (let it: string | null = device, i = 0; it && i < 1000 && isFilter(p, it); it = filterChild(p, it)?.child ?? null, i++) {
    const n = p.node(it);
    if (!n || !DROPS_UNCHANGED.has(n.driver)) continue;
    // blk_log_writes_co_log: the file write first, then the log entry
    for (const e of [p.fileChild(it), ...p.childrenOf(it).filter((c) => c.name === 'log')]) {
      if (e && !(e.perm & PERM_W)) return { node: it, link: e.name };
    }
  }
  return undefined;
}

/** Refuses (QemuAbortRefusal) a stream of `device` whose copy-on-read write would reach a link without write. */
export function refuseUnchangedWriteDropped(p: Proc, jobId: string, device: string): void {
  const bad = unchangedWriteWithoutPerm(p, device);
  if (!bad) return;
  throw new QemuAbortRefusal(
    `Stream job '${jobId}' copies into '${device}' with unchanged writes, which blklogwrites node '${bad.node}' passes to its ` +
    `'${bad.link}' link as plain writes while that link holds no write permission (nothing above writes it) ` +
    "(QEMU aborts here: bdrv_co_do_copy_on_readv -> blk_log_writes_co_pwritev -> bdrv_co_write_req_prepare: Assertion " +
    "`child->perm & BLK_PERM_WRITE' failed); refused by blockgraph: stream the node below the blklogwrites filter, or add a writer above it",
    'bdrv_co_write_req_prepare',
  );
}
