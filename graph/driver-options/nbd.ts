// The NBD client's reopen check (block/nbd.c nbd_client_reopen_prepare, 7.2 and 10.0 alike).
import { QmpError } from '../../errors/index.js';
import type { BdsNode } from '../types.js';

/** What graph/open.ts keeps of an nbd node's connection (its `extra.nbd`). */
export interface NbdClientState {
  proc: string;
  export: string;
  /**
   * s->info.flags & NBD_FLAG_READ_ONLY as the handshake negotiated it (nbd_open): the server's
   * export was not writable. Kept from the open: the flags are not asked again at reopen.
   */
  readOnly?: true;
}

/**
 * nbd_client_reopen_prepare: a reopen that leaves the node read-write (state->flags &
 * BDRV_O_RDWR) over an export the server announced read-only is refused, -EACCES.
 */
export function nbdClientReopenPrepare(n: BdsNode, readOnly: boolean): void {
  const c = (n.extra as { nbd?: NbdClientState } | undefined)?.nbd;
  if (!readOnly && c?.readOnly) throw new QmpError("Can't reopen read-only NBD mount as read/write");
}
