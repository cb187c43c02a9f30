// commit_start and commit_active_start reopen a read-only base read-write before building the job,
// and their fail paths (commit_start's `fail:`, commit_active_start's `error_restore_flags`) reopen
// it read-only again, ignoring errors. The round trip is not a no-op: qcow2_reopen_prepare runs
// qcow2_reopen_bitmaps_ro while the base is still writable, which stores a persistent bitmap added
// to the read-only base at runtime into the image and makes it read-only; a later read-only reopen
// queueing that base then no longer fails "No write access" (fuzz seed 1605010615). The model
// rolls the failed command back whole, then replays the round trip as the refusal's residue.
import { QmpError } from '../../errors/index.js';
import { QmpErrorAfterAbort } from '../abort-residue.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import type { Proc } from '../proc.js';
import { setReadOnly } from './parts.js';

/** Runs `start` with the base read-write (when it was read-only); a refusal keeps the round trip. */
export function withBaseReadWrite<T>(p: Proc, base: string, start: (baseReadOnly: boolean) => T): T {
  const baseReadOnly = p.node(base)!.ro;
  // a failed read-write reopen returns at once (commit_active_start) or reaches `fail:` with the
  // base still read-only (commit_start): nothing was stored, a plain refusal
  if (!baseReadOnly) return start(false);
  setReadOnly(p, base, false);
  try {
    return start(true);
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    const inner = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
    throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => {
      setReadOnly(q, base, false);
      inner?.(q);
      // bdrv_reopen_set_read_only(base, true, NULL)
      if (q.node(base)) setReadOnly(q, base, true, { ignoreErrors: true });
    });
  }
}
