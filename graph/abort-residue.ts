// A refusal that still changes the graph. QEMU's qmp_transaction runs every action's .abort in
// reverse order after a failed .prepare, the failed action's own included, and a few aborts do
// more than undo their prepare (block_dirty_bitmap_enable_abort disables a bitmap whose check
// failed: state->was_enabled is still 0; block_dirty_bitmap_remove's prepare has already taken
// the bitmap out of the image, which abort does not put back). The model rolls the whole Draft
// back (tran_abort) and then applies this residue on the pre-command state; the command is then
// logged as a transaction whose decided reply is QEMU's error.
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';

export class QmpErrorAfterAbort extends QmpError {
  constructor(desc: string, cls: string, readonly residue: (p: Proc) => void) {
    super(desc, cls);
    this.name = 'QmpErrorAfterAbort';
  }
}
