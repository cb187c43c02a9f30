// fuzz 3033561078 (stop 38 found it, stop 39 models it; QSD 7.2 and 10.0 die alike): a failed
// transaction runs its actions' .abort last first (tran_abort) and only then their .clean
// (tran_clean): the overlay a blockdev-snapshot-sync action opened is unref'd in
// external_snapshot_clean, so while the aborts run, its file node is still open and still holds
// its image lock bytes. An earlier action's external_snapshot_abort that gives a node of the same
// image back a permission its append had taken away (bdrv_replace_node(..., &error_abort) ->
// bdrv_refresh_perms -> raw_handle_perm_lock(RAW_PL_PREPARE): the node asks more than it holds,
// so raw_check_lock_bytes looks at every other open file description of the image) meets that
// overlay's lock: "Unexpected error in raw_check_lock_bytes(): Failed to get "write" lock", and
// QEMU dies. The model's rollback restores every lock at once and has already dropped the
// overlay, so the check is made here: each lock holder of the overlay's image in the rolled-back
// state that holds more than it did when the overlay was opened was given it back by an abort,
// and is checked against the overlay's lock as raw_check_lock_bytes does. Refused as the abort
// it is (QemuAbortRefusal); the transaction's other residues run as before.
import { QemuAbortRefusal } from './qemu-abort.js';
import { PERM_ALL, permBits, permNames } from './perm.js';
import type { Proc } from './proc.js';
import { lockKey } from './refresh.js';

/** The check external_snapshot_clean's late unref makes necessary, as a residue for the rolled-back state; undefined when the overlay holds no lock. */
export function heldOverlayLock(p: Proc, overlay: string): ((q: Proc) => void) | undefined {
  const fe = p.fileChild(overlay);
  const f = fe ? p.node(fe.child) : undefined;
  if (!f || f.driver !== 'file' || !f.lock || f.inactive) return undefined;
  const key = lockKey(p, f);
  if (key === null) return undefined;
  const held = { ...f.lock };
  // what the image's other holders of this process held when the overlay opened it
  const before = new Map<string, { perm: number; shared: number }>();
  for (const m of p.nodes()) if (m.name !== f.name && m.lock && lockKey(p, m) === key) before.set(m.name, { ...m.lock });
  return (q) => {
    for (const m of q.nodes()) {
      const was = before.get(m.name);
      if (!m.lock || !was || lockKey(q, m) !== key) continue;
      // raw_handle_perm_lock(RAW_PL_PREPARE): nothing to check when it asks no more than it holds
      if ((was.perm | m.lock.perm) === was.perm && (was.shared & m.lock.shared) === was.shared) continue;
      let text: string | undefined;
      for (const i of permBits(m.lock.perm)) if (!text && (PERM_ALL & ~held.shared) & (1 << i)) text = `Failed to get "${permNames(1 << i)}" lock`;
      for (const i of permBits(PERM_ALL & ~m.lock.shared)) if (!text && held.perm & (1 << i)) text = `Failed to get shared "${permNames(1 << i)}" lock`;
      if (!text) continue;
      throw new QemuAbortRefusal(
        `${text}: the transaction failed, and its abort gives node '${m.name}' back its lock on '${f.filename}' while overlay '${overlay}' ` +
        `(opened by a blockdev-snapshot-sync of the transaction, closed only in its clean phase) still holds it ` +
        '(QEMU aborts here: external_snapshot_abort -> bdrv_replace_node(..., &error_abort) -> raw_check_lock_bytes); refused by blockgraph',
        'external_snapshot_abort',
      );
    }
  };
}
