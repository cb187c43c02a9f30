// qmp_transaction (blockdev.c, 7.2): every action's .prepare in order; the first error aborts
// all of them (tran_abort: the model's Draft drops every change at once) and is the reply;
// otherwise every .commit in order, then every .clean. blockdev-snapshot and
// blockdev-snapshot-sync run through here with one action each (blockdev_do_action).
// New actions (bitmaps, backups) register in ACTIONS with their own prepare.
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { rule } from '../graph/rules.js';
import { externalSnapshotPrepare, type SnapshotAction } from './external-snapshot.js';
import type { CommandDef } from './types.js';

export interface PreparedAction { commit?(): void; clean?(): void }
export interface ActionCtx { p: Proc; completionMode: string }
type ActionDef = (ctx: ActionCtx, data: Record<string, any>, kind: string) => PreparedAction;

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
    return externalSnapshotPrepare(ctx.p, { kind: 'blockdev-snapshot', node: String(d.node), overlay: String(d.overlay) });
  }],
  ['blockdev-snapshot-sync', (ctx, d, kind) => {
    checkCompletionMode(ctx, kind);
    return externalSnapshotPrepare(ctx.p, snapshotSyncAction(d));
  }],
]);

/** Runs a list of (already schema-validated) actions as one QEMU transaction. */
export function runTransaction(p: Proc, actions: readonly { type: string; data: Record<string, any> }[], completionMode = 'individual'): void {
  const ctx: ActionCtx = { p, completionMode };
  const prepared: PreparedAction[] = [];
  for (const a of actions) {
    const def = ACTIONS.get(a.type);
    // the schema accepts them; the model has no dirty bitmaps, backup jobs or internal snapshots
    if (!def) throw new QmpError(`blockgraph does not model the transaction action '${a.type}'`);
    prepared.push(def(ctx, a.data ?? {}, a.type));
  }
  p.step('transaction commit');
  for (const s of prepared) s.commit?.();
  p.step('transaction clean');
  for (const s of prepared) s.clean?.();
}

export const transaction: CommandDef = {
  name: 'transaction',
  mutates: true,
  run({ p, args }) {
    const mode = String(args.properties?.['completion-mode'] ?? 'individual');
    runTransaction(p, (args.actions ?? []) as { type: string; data: Record<string, any> }[], mode);
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
