// bdrv_insert_node (block.c) opens a job's filter (backup's copy-before-write, stream's
// copy-on-read) with bdrv_new_open_driver_opts: the new node starts in the main context (bdrv_new)
// and its driver's first attach (bdrv_open_file_child -> bdrv_attach_child_common) reconciles the
// contexts child side first (graph/open.ts attachOpened). A source in an iothread that nothing pins
// there (x-blockdev-set-iothread, no fixed-iothread export) is thereby moved, with its component,
// into the main loop: 7.2 carries the job out there (recorded: aio-backup-cbw-pulls-movable-source,
// aio-stream-cor-pulls-movable-source), 10.0 asserts that the source kept its context
// (graph/rules.ts 'insert-node-context-asserts'). The move stays even when the open fails later
// (bdrv_unref of the half-open filter only detaches), so the check follows the open either way.
import { rule } from '../rules.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import type { Proc } from '../proc.js';

export function openInsertedNode<T>(p: Proc, source: string, open: () => T): T {
  const ctx = p.node(source)?.aio;
  const check = () => {
    const now = p.node(source)?.aio;
    if (ctx === undefined || now === undefined || now === ctx || !rule(p, 'insert-node-context-asserts')) return;
    throw new QemuAbortRefusal(
      `Node '${source}' is in iothread '${ctx}' and the job's filter would move it to the main loop ` +
      "(QEMU 10.0 aborts here: bdrv_insert_node: Assertion `bdrv_get_aio_context(bs) == ctx' failed); " +
      'refused by blockgraph: move it back to the main loop first, or pin it with a fixed-iothread export',
      'bdrv_insert_node',
    );
  };
  let out: T;
  try {
    out = open();
  } catch (e) {
    check();
    throw e;
  }
  check();
  return out;
}
