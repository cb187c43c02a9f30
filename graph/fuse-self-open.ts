// A host path this daemon serves itself: the mountpoint of one of its own FUSE exports whose
// AioContext is the main loop. fuse_export_create registers the session's fd with
// aio_set_fd_handler in the export's AioContext (exp->common.ctx, the node's), and the kernel
// answers every open(2), stat(2) and read(2) of the mounted path with a FUSE request to that fd.
// A QMP command that opens or creates the path runs in the main loop too (raw_open_common's
// qemu_open, raw_co_create's qemu_create), so the request waits for a handler only that same
// thread would run: the daemon sits in request_wait_answer for ever (live on QSD 7.2.22 and
// 10.0.2: a raw node on the path of a main-loop export, 308-o-export-of-export-file as first
// written). An export in an iothread answers from there, and the open succeeds (live on 7.2.22).
// Paths are compared as the strings the commands name (fuse_export_create's exports table does
// the same: "There already is a FUSE export on …").
import { MAIN_CONTEXT } from './aio.js';
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';

/** Refuses an open or create of `filename` when this daemon's main loop serves it through FUSE. */
export function refuseOwnFuseMount(p: Proc, filename: string, qemuFn: 'raw_open_common' | 'raw_co_create'): void {
  const exp = p.exports().find((x) => x.type === 'fuse' && x.mountpoint === filename && (p.node(x.node)?.aio ?? MAIN_CONTEXT) === MAIN_CONTEXT);
  if (!exp) return;
  throw new QemuHangRefusal(
    `'${filename}' is the mountpoint of this daemon's FUSE export '${exp.id}' in the main loop (QEMU hangs here: ${qemuFn}'s ` +
    "open(2) waits for a FUSE reply the export's handler in the same main loop would send); refused by blockgraph: " +
    'export it in an iothread, or open it from another process',
    qemuFn);
}
