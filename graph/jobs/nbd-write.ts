// A write into an NBD client node lands in the export it is connected to: nbd_client_co_pwritev
// sends NBD_CMD_WRITE, the server's nbd_handle_request writes the payload through the export's
// BlockBackend (blk_co_pwrite); nbd_client_co_pwrite_zeroes sends NBD_CMD_WRITE_ZEROES (without
// NBD_CMD_FLAG_NO_HOLE when BDRV_REQ_MAY_UNMAP), which the server turns into blk_co_pwrite_zeroes
// (BDRV_REQ_MAY_UNMAP unless NO_HOLE). So the export's node, in whichever process serves it,
// gets the same request at the same offset, with its bitmaps, allocation and wr_highest_offset.
// The bytes cross a socket: the serving side does not follow what they were.
import type { Proc } from '../proc.js';

/** The export node an nbd client node `node` writes into, and the process that serves it. */
export function nbdServed(p: Proc, node: string): { q: Proc; node: string } | undefined {
  const c = (p.node(node)?.extra as { nbd?: { proc: string; export: string } } | undefined)?.nbd;
  if (!c) return undefined;
  const q = [p, ...p.others()].find((x) => x.name === c.proc);
  const exp = q?.export(c.export);
  return q && exp && q.node(exp.node) ? { q, node: exp.node } : undefined;
}
