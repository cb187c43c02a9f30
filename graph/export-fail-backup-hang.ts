// fuzz 2265673556 (QEMU 10.0 hangs, 7.2 answers): a block-export-add that fails after
// blk_insert_bs (nbd_export_create: a missing bitmap, a duplicate or too long name) on a node in an
// iothread, under a copying, rate-limited backup job, never answers on 10.0.2. blk_exp_add's fail
// path blk_unref's the export's BlockBackend: blk_remove_bs → blk_drain / bdrv_drained_begin of
// the node, which waits for the backup job copying in that iothread (the drain family of
// graph/snapshot-abort-backup-hang.ts; read from the source, not traced). Probed live on 10.0: the
// same failure in the main loop, in an iothread with no job, or a successful export over the job
// in the iothread all answer (oracle/transcripts/abort-22-*-survives). graph/rules.ts
// 'export-fail-iothread-backup-hangs'.
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { rule } from './rules.js';
import { MAIN_CONTEXT } from './aio.js';
import { copyingBackupThrough } from './snapshot-abort-backup-hang.js';
import { ancestors } from './stream-reopen-backup-hang.js';

/** blk_exp_add's fail path after blk_insert_bs of `node` (in AioContext `ctx`) would hang: refuse the command whole. */
export function refuseExportFailHang(p: Proc, node: string, ctx: string, why: string): void {
  if (!rule(p, 'export-fail-iothread-backup-hangs') || ctx === MAIN_CONTEXT) return;
  const job = copyingBackupThrough(p, ancestors(p, node));
  if (job === undefined) return;
  throw new QemuHangRefusal(
    `block-export-add of '${node}' fails (${why}) in iothread '${ctx}' under copying backup job '${job}': QEMU 10.0 hangs here ` +
    "(blk_exp_add's fail path: blk_unref → blk_remove_bs drains the node and waits for the job for ever); refused by blockgraph: " +
    'pause the job, let it finish copying, or fix the export first',
    'blk_remove_bs');
}
