// qmp_transaction (blockdev.c, 7.2): every action's .prepare in order; the first error aborts
// all of them (tran_abort: the model's Draft drops every change at once) and is the reply;
// otherwise every .commit in order, then every .clean (10.0: both last action first). blockdev-snapshot and
// blockdev-snapshot-sync run through here with one action each (blockdev_do_action).
// New actions (bitmaps, backups) register in ACTIONS with their own prepare.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { rule } from '../graph/rules.js';
import { externalSnapshotPrepare, type SnapshotAction } from './external-snapshot.js';
import type { CommandDef } from './types.js';
import { blockdevBackupPrepare } from './blockdev-backup.js';
import { BITMAP_ACTIONS } from './bitmap-actions.js';
import { internalSnapshotPrepare } from './internal-snapshot.js';
import { driveBackupPrepare } from './drive-backup.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { drainAll } from '../graph/drain.js';
import { QemuAbortRefusal, QemuHangRefusal } from '../graph/qemu-abort.js';

export interface PreparedAction {
  commit?(): void; clean?(): void; /** the job a backup action created */ job?: string;
  /** what the action's job does once qmp_transaction has returned (its coroutine, job_exit's bottom half) */
  after?(): void;
}
export interface ActionCtx {
  p: Proc;
  completionMode: string;
  checkCompletionMode(kind: string): void;
  /**
   * What this action's .abort does beyond undoing its prepare, registered before the prepare
   * can fail (QEMU aborts the failed action too). Run in reverse order on the rolled-back state.
   */
  onAbortResidue(fn: (p: Proc) => void): void;
  emit(event: string, data: Record<string, unknown>): void;
  /** the JobTxn shared by the actions' jobs when completion-mode is not individual */
  txn?: string;
}

/**
 * A transaction refused after some actions created jobs: the reply is the error and the events
 * are what QEMU sent meanwhile (a job's 'created', and job_cancel_sync of each one created in
 * .abort: never started, so aborting, concluded, null without BLOCK_JOB_CANCELLED).
 */
export class TransactionAbort extends QmpError {
  constructor(e: QmpError, readonly failEvents: { event: string; data: Record<string, unknown> }[]) {
    super(e.desc, e.cls);
  }
}
export type ActionDef = (ctx: ActionCtx, data: Record<string, any>, kind: string) => PreparedAction;

/** action_check_completion_mode: actions without job support refuse 'grouped'. */
function checkCompletionMode(ctx: ActionCtx, kind: string): void {
  if (ctx.completionMode !== 'individual') {
    throw new QmpError(`Action '${kind}' does not support ${rule(ctx.p, 'transaction-completion-mode-text')} property completion-mode = ${ctx.completionMode}`);
  }
}

function snapshotSyncAction(d: Record<string, any>): SnapshotAction {
  return {
    kind: 'blockdev-snapshot-sync', device: d.device, nodeName: d['node-name'], snapshotFile: String(d['snapshot-file']),
    snapshotNodeName: d['snapshot-node-name'], format: d.format, mode: d.mode,
  };
}

const ACTIONS = new Map<string, ActionDef>([
  // abort_prepare
  ['abort', () => { throw new QmpError('Transaction aborted using Abort action'); }],
  ['blockdev-snapshot', (ctx, d, kind) => {
    checkCompletionMode(ctx, kind);
    return externalSnapshotPrepare(ctx.p, { kind: 'blockdev-snapshot', node: String(d.node), overlay: String(d.overlay) }, ctx.onAbortResidue);
  }],
  ['blockdev-snapshot-sync', (ctx, d, kind) => {
    checkCompletionMode(ctx, kind);
    return externalSnapshotPrepare(ctx.p, snapshotSyncAction(d), ctx.onAbortResidue);
  }],
  // blockdev_backup_prepare: jobs support every completion mode
  ['blockdev-backup', (ctx, d) => blockdevBackupPrepare(ctx, d)],
  ['drive-backup', (ctx, d) => driveBackupPrepare(ctx, d)],
  ['blockdev-snapshot-internal-sync', (ctx, d, kind) => internalSnapshotPrepare(ctx, d, kind)],
  ...BITMAP_ACTIONS,
]);

/** Runs a list of (already schema-validated) actions as one QEMU transaction. */
export function runTransaction(
  p: Proc, actions: readonly { type: string; data: Record<string, any> }[], completionMode = 'individual',
  emit: ActionCtx['emit'] = () => {},
): void {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const residues: ((p: Proc) => void)[] = [];
  const ctx: ActionCtx = {
    p, completionMode, checkCompletionMode: (kind) => checkCompletionMode(ctx, kind), onAbortResidue: (fn) => residues.push(fn),
    emit: (event, data) => { events.push({ event, data }); emit(event, data); },
    // qmp_transaction: job_txn_new() unless every job completes on its own
    ...(completionMode !== 'individual' ? { txn: `txn${p.nextSeq()}` } : {}),
  };
  // qmp_transaction on 10.0 refuses 'grouped' for every action but the backups before any action
  // runs; 7.2 leaves it to each action's prepare (action_check_completion_mode), in list order,
  // and its abort action never asks (rule 'transaction-completion-mode-check')
  if (completionMode !== 'individual' && rule(p, 'transaction-completion-mode-check') === 'upfront') {
    const other = actions.find((a) => a.type !== 'blockdev-backup' && a.type !== 'drive-backup');
    if (other) checkCompletionMode(ctx, other.type);
  }
  const prepared: PreparedAction[] = [];
  // qmp_transaction: "drain all i/o before any operations" (bdrv_drain_all): every job running
  // before the transaction is paused and resumed, a wake-up even when an action then fails
  if (rule(p, 'transaction-drain-all-wakes-jobs')) drainAll(p);
  try {
    for (const a of actions) {
      const def = ACTIONS.get(a.type);
      // the schema accepts every action type; all are modelled, this is a guard
      if (!def) throw new QmpError(`blockgraph does not model the transaction action '${a.type}'`);
      prepared.push(def(ctx, a.data ?? {}, a.type));
    }
  } catch (e) {
    // QEMU dies in this transaction's abort handlers: nothing of it happens (graph/qemu-abort.ts)
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    const made = new Set(prepared.map((s) => s.job).filter((j): j is string => j !== undefined));
    // A grouped transaction that fails after two of its jobs were created hangs QEMU (7.2 and
    // 10.0, fuzz 2030445139): the jobs start only in .commit, so the first .abort's
    // job_cancel_sync -> job_completed_txn_abort_locked -> job_finish_sync_locked waits for the
    // other job of the JobTxn, which job_enter never starts (job_enter_cond returns for a job not
    // started): it never completes. One job has no other to wait for; 'individual' has no JobTxn.
    if (ctx.txn !== undefined && made.size >= 2) {
      throw new QemuHangRefusal(
        `The grouped transaction fails after creating ${made.size} jobs (${[...made].map((j) => `'${j}'`).join(', ')}): QEMU hangs ` +
        'in job_completed_txn_abort_locked -> job_finish_sync_locked, waiting for a job of the group that was never started; ' +
        "refused by blockgraph: use completion-mode 'individual', or one job per grouped transaction",
        'job_finish_sync_locked');
    }
    const out: { event: string; data: Record<string, unknown> }[] = [];
    for (const ev of events) {
      if (ev.event !== 'JOB_STATUS_CHANGE' || ev.data.status !== 'created') continue;
      out.push(ev);
      // the failing action's own job: job_early_fail
      if (!made.has(String(ev.data.id))) out.push({ event: 'JOB_STATUS_CHANGE', data: { status: 'null', id: ev.data.id } });
    }
    // delete_and_fail: each action's .abort, last first (job_cancel_sync of a created job);
    // the Draft's rollback is their undo, residues are what some aborts do beyond it
    for (const s of [...prepared].reverse()) {
      if (s.job === undefined) continue;
      for (const status of ['aborting', 'concluded', 'null']) out.push({ event: 'JOB_STATUS_CHANGE', data: { status, id: s.job } });
    }
    if (residues.length) {
      const r = new QmpErrorAfterAbort(e.desc, e.cls, (q) => { for (const f of residues.reverse()) f(q); });
      if (made.size) Object.assign(r, { failEvents: out });
      throw r;
    }
    if (made.size === 0) throw e;
    throw new TransactionAbort(e, out);
  }
  // 7.2 commits (and cleans) in action order; 10.0's tran_commit runs them last action first
  // (tran_add inserts at the head of the list: rule 'transaction-commit-order')
  const order = rule(p, 'transaction-commit-order') === 'reverse' ? [...prepared].reverse() : prepared;
  p.step('transaction commit');
  for (const s of order) s.commit?.();
  p.step('transaction clean');
  for (const s of order) s.clean?.();
  // the jobs the commits started run on after the reply, in the order job_start entered them
  p.step('transaction after');
  for (const s of order) s.after?.();
}

export const transaction: CommandDef = {
  name: 'transaction',
  mutates: true,
  run({ p, args, emit }) {
    const mode = String(args.properties?.['completion-mode'] ?? 'individual');
    runTransaction(p, (args.actions ?? []) as { type: string; data: Record<string, any> }[], mode, emit);
    return {};
  },
};

/** qmp_blockdev_snapshot_sync: one blockdev-snapshot-sync action. */
export const blockdevSnapshotSync: CommandDef = {
  name: 'blockdev-snapshot-sync',
  mutates: true,
  run({ p, args }) {
    runTransaction(p, [{ type: 'blockdev-snapshot-sync', data: args }]);
    return {};
  },
};
