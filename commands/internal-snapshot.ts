// blockdev-snapshot-internal-sync (a transaction action and a command: blockdev_do_action) and
// blockdev-snapshot-delete-internal-sync (blockdev.c, 7.2). The snapshot table lives in the qcow2
// image (graph/internal-snapshot.ts); a transaction that fails is rolled back with the Draft,
// which is internal_snapshot_abort's bdrv_snapshot_delete of a snapshot it created.
import { deviceOrNodeName } from '../graph/named-blk.js';
import { QmpError } from '../errors/index.js';
import { opBlocker } from '../graph/blockers.js';
import { drained } from '../graph/drain.js';
import { abortCreatedSnapshot, canSnapshot, createSnapshot, deleteSnapshot, findSnapshot, type SnapshotTxnImages } from '../graph/internal-snapshot.js';
import type { Proc } from '../graph/proc.js';
import { getRootBs } from './job-lookup.js';
import type { ActionCtx, PreparedAction } from './transaction.js';
import type { CommandDef } from './types.js';

/** The images this transaction's internal snapshots wrote, for their aborts (SnapshotTxnImages). */
const txnImages = new WeakMap<ActionCtx, SnapshotTxnImages>();

/** internal_snapshot_prepare */
export function internalSnapshotPrepare(ctx: ActionCtx, d: Record<string, unknown>, kind: string): PreparedAction {
  const { p } = ctx;
  let txn = txnImages.get(ctx);
  if (!txn) txnImages.set(ctx, (txn = new Map()));
  const device = String(d.device);
  const name = String(d.name);
  ctx.checkCompletionMode(kind);
  const bs = getRootBs(p, device);
  // bdrv_drained_begin(bs), paired with .clean
  drained(p, [bs], false, () => {
    const blocked = opBlocker(p, bs, 'internal-snapshot');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);
    if (p.node(bs)!.ro) throw new QmpError(`Device '${device}' is read only`);
    if (!canSnapshot(p, bs)) {
      throw new QmpError(`Block format '${p.node(bs)!.driver}' used by device '${device}' does not support internal snapshots`);
    }
    if (!name.length) throw new QmpError('Name is empty');
    if (findSnapshot(p, bs, null, name)) throw new QmpError(`Snapshot with name '${name}' already exists on device '${device}'`);
    // pstrcpy(sn->name, sizeof(sn->name), name): QEMUSnapshotInfo.name is char[256], so the
    // table keeps the first 255 bytes (a name cut inside a UTF-8 sequence is not modelled)
    const made = createSnapshot(p, bs, Buffer.from(name).subarray(0, 255).toString(), txn);
    // internal_snapshot_prepare: bdrv_snapshot_create's errno (qcow2_snapshot_create's writes)
    if ('error' in made) {
      // what the failed writes left on the image stays (qcow2_snapshot_create's fail path)
      ctx.onAbortResidue(made.residue);
      throw new QmpError(`Failed to create snapshot '${name}' on device '${device}': ${made.error}`);
    }
    // internal_snapshot_abort deletes it again if the transaction fails: what that rewrite
    // leaves on the image stays (graph/internal-snapshot.ts abortCreatedSnapshot)
    ctx.onAbortResidue((r) => abortCreatedSnapshot(r, made, txn));
  });
  return {};
}

/** qmp_blockdev_snapshot_delete_internal_sync */
function deleteInternal(p: Proc, args: Record<string, unknown>): Record<string, unknown> {
  const device = String(args.device);
  const bs = getRootBs(p, device);
  const id = args.id === undefined ? null : String(args.id);
  const name = args.name === undefined ? null : String(args.name);
  if (id === null && name === null) throw new QmpError('Name or id must be provided');
  const blocked = opBlocker(p, bs, 'internal-snapshot-delete');
  if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);
  const sn = findSnapshot(p, bs, id, name);
  if (!sn) {
    throw new QmpError(`Snapshot with id '${id ?? 'null'}' and name '${name ?? 'null'}' does not exist on device '${device}'`);
  }
  // bdrv_snapshot_delete drains bs around the driver's delete
  drained(p, [bs], false, () => deleteSnapshot(p, bs, id, name));
  // SnapshotInfo: the model keeps no sizes, dates or clocks
  return { id: sn.id, name: sn.name, 'vm-state-size': 0, 'date-sec': 0, 'date-nsec': 0, 'vm-clock-sec': 0, 'vm-clock-nsec': 0 };
}

export const blockdevSnapshotDeleteInternalSync: CommandDef = {
  name: 'blockdev-snapshot-delete-internal-sync',
  mutates: true,
  run({ p, args }) { return deleteInternal(p, args); },
};
