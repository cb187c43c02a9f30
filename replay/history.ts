// `blockgraph history NODE`: every logged step (or compensation) whose changes include the
// node or one of its edges, with the transaction and command it belonged to. Pure over records.
import type { Change } from '../graph/draft.js';
import type { LogRecord } from '../store/types.js';
import { changeLabel, changeTouchesNode } from './audit.js';
import { describeChange } from './diff.js';
import { BbOwners } from './names.js';

export interface HistoryEntry {
  seq: number;
  at: string;
  type: 'txn.step' | 'txn.compensated';
  proc: string;
  txn: string;
  command: string;
  args: Record<string, unknown>;
  step: string;                 // step name, or "undo <step>" for a compensation
  changes: { entity: string; what: string[] }[];
}

export function nodeHistory(records: Iterable<LogRecord>, node: string, proc?: string): HistoryEntry[] {
  const txns = new Map<string, { proc: string; command: string; args: Record<string, unknown> }>();
  const steps = new Map<number, string>();
  const out: HistoryEntry[] = [];
  const owners = new BbOwners();
  for (const rec of records) {
    const d = (rec.data ?? {}) as Record<string, any>;
    if (rec.type === 'txn.step' || rec.type === 'txn.compensated') {
      for (const ch of (d.changes ?? []) as Change[]) if (ch.c === 'bbs') owners.learn(ch.s, ch.id, ch.after ?? ch.before);
    }
    if (rec.type === 'txn.begun' && rec.txn) {
      txns.set(rec.txn, { proc: rec.stream, command: String(d.op), args: (d.args ?? {}) as Record<string, unknown> });
      continue;
    }
    if ((rec.type !== 'txn.step' && rec.type !== 'txn.compensated') || !rec.txn) continue;
    if (rec.type === 'txn.step') steps.set(rec.seq, String(d.name));
    const undo = rec.type === 'txn.compensated';
    const mine = (d.changes as Change[]).filter((ch) => changeTouchesNode(ch, node, proc));
    if (!mine.length) continue;
    const t = txns.get(rec.txn) ?? { proc: rec.stream, command: '?', args: {} };
    out.push({
      seq: rec.seq, at: rec.at, type: rec.type, proc: t.proc, txn: rec.txn, command: t.command, args: t.args,
      step: undo ? `undo ${steps.get(Number(d.undoes)) ?? 'seq ' + d.undoes}` : String(d.name),
      // A compensation applies before-images: what the reader sees happen is after -> before.
      changes: mine.map((ch) => ({ entity: changeLabel(ch, owners.name), what: describeChange(ch.c, undo ? ch.after : ch.before, undo ? ch.before : ch.after) })),
    });
  }
  return out;
}
