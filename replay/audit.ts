// Who did what, when: the log regrouped per transaction and per refused command, for
// `blockgraph audit`. Pure over records (no store access), so the CLI, the report page and
// specs all read one shape. A transaction's rows come from its txn.* records; recovery's
// records (stream "log") are folded into the transaction they finish and also listed as
// their own row, so a reader sees both "this command was undone" and "recovery ran at T".
import { changeNodes } from '../events/node-keys.js';
import type { Change } from '../graph/draft.js';
import type { Edge, ParentRef } from '../graph/types.js';
import type { LogRecord } from '../store/types.js';

export type AuditOutcome = 'committed' | 'aborted' | 'rolled-back' | 'rolled-forward' | 'open' | 'rejected';

export interface AuditRow {
  kind: 'transaction' | 'rejected' | 'recovery';
  seq: number;                 // first record of the row
  seqs: number[];              // every record the row stands for
  at: string;
  proc: string;
  txn?: string;
  command: string;
  args: Record<string, unknown>;
  outcome: AuditOutcome;
  error?: { class?: string; desc?: string };
  steps: string[];             // step names (transactions) or "undo <step>" (recovery)
  touched: string[];           // readable entity labels: "A node top", "A edge top -[file]-> topf"
  nodes: string[];             // "<scope>:<node>" for every node whose entity or edge changed
  types: string[];             // record types the row is made of
  recovery?: { action: 'rolled-back' | 'rolled-forward' | 'ended'; at: string; seq: number };
  recovers?: string;           // recovery rows: the transaction finished
}

export interface AuditFilter {
  node?: string;
  proc?: string;
  txn?: string;
  /** Record types (txn.step, command.rejected, …) or row kinds (transaction, rejected, recovery). */
  types?: string[];
  since?: string;              // ISO, inclusive
  until?: string;              // ISO, inclusive
}

const parentLabel = (p: ParentRef | undefined): string =>
  !p ? '?' : p.kind === 'node' ? p.node : p.kind === 'bb' ? `bb:${p.bb}` : `job:${p.job}`;

export function edgeLabel(e: Edge): string {
  return `${parentLabel(e.parent)} -[${e.name}]-> ${e.child}`;
}

const singular: Record<string, string> = { nodes: 'node', edges: 'edge', bbs: 'bb', jobs: 'job', objects: 'object', exports: 'export', images: 'image', meta: 'meta' };

/** A readable name for the entity one change is about. */
export function changeLabel(ch: Change): string {
  const img = (ch.after ?? ch.before) as Record<string, unknown> | null;
  const what = ch.c === 'edges' && img ? edgeLabel(img as unknown as Edge) : ch.id;
  return `${ch.s} ${singular[ch.c] ?? ch.c} ${what}`;
}

/** Node names (scope-qualified) a change is about: one definition, shared with the log's index. */
export { changeNodes };

export function changeTouchesNode(ch: Change, node: string, scope?: string): boolean {
  return changeNodes(ch).some((k) => (scope ? k === `${scope}:${node}` : k.slice(k.indexOf(':') + 1) === node));
}

const uniq = (xs: string[]) => [...new Set(xs)];

/** Groups records into audit rows, in the order each row began. */
export function auditRows(records: Iterable<LogRecord>): AuditRow[] {
  const a = new AuditStream();
  const rows: AuditRow[] = [];
  for (const rec of records) for (const r of a.push(rec)) rows.push(r);
  for (const r of a.end()) rows.push(r);
  return rows;
}

/**
 * auditRows one record at a time, for logs too long to hold: push() returns the rows that are
 * final (a refusal at once; a transaction and its recovery row at its txn.ended), in the order
 * the rows began. Only rows still open, and the rows queued behind them, are kept.
 */
export class AuditStream {
  readonly #queue: AuditRow[] = [];
  #head = 0;
  readonly #byTxn = new Map<string, AuditRow>();
  readonly #recoveryOf = new Map<string, AuditRow>();
  readonly #stepNames = new Map<number, string>();
  readonly #final = new Set<AuditRow>();

  /** Rows made final by this record (possibly none). */
  push(rec: LogRecord): AuditRow[] {
    this.#feed(rec);
    return this.#drain(false);
  }

  /** The rows still held (open transactions and what follows them): the end of the log. */
  end(): AuditRow[] {
    return this.#drain(true);
  }

  #drain(all: boolean): AuditRow[] {
    const out: AuditRow[] = [];
    while (this.#head < this.#queue.length && (all || this.#final.has(this.#queue[this.#head]!))) {
      const r = this.#queue[this.#head++]!;
      this.#final.delete(r);
      out.push(r);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return out;
  }

  #feed(rec: LogRecord): void {
  const rows = this.#queue;
  const byTxn = this.#byTxn;
  const recoveryOf = this.#recoveryOf;
  const stepNames = this.#stepNames;
  const final = this.#final;
  const add = (row: AuditRow, rec: LogRecord, changes?: Change[]) => {
    row.seqs.push(rec.seq);
    if (!row.types.includes(rec.type)) row.types.push(rec.type);
    if (changes) {
      // The per-process id counters (meta) change with nearly every command: named only when alone.
      const named = changes.filter((ch) => ch.c !== 'meta');
      row.touched = uniq([...row.touched, ...(named.length || row.touched.length ? named : changes).map(changeLabel)]);
      row.nodes = uniq([...row.nodes, ...changes.flatMap(changeNodes)]);
    }
  };
  {
    const d = (rec.data ?? {}) as Record<string, any>;
    if (rec.type === 'command.rejected') {
      const row: AuditRow = {
        kind: 'rejected', seq: rec.seq, seqs: [], at: rec.at, proc: rec.stream,
        command: String(d.command ?? '(malformed input)'), args: (d.args ?? {}) as Record<string, unknown>,
        outcome: 'rejected', error: d.error, steps: [], touched: [], nodes: [], types: [],
      };
      add(row, rec);
      rows.push(row);
      final.add(row);
      return;
    }
    if (!rec.txn || !rec.type.startsWith('txn.')) return;
    if (rec.type === 'txn.begun') {
      const row: AuditRow = {
        kind: 'transaction', seq: rec.seq, seqs: [], at: rec.at, proc: rec.stream, txn: rec.txn,
        command: String(d.op), args: (d.args ?? {}) as Record<string, unknown>,
        outcome: 'open', steps: [], touched: [], nodes: [], types: [],
      };
      add(row, rec);
      byTxn.set(rec.txn, row);
      rows.push(row);
      return;
    }
    const row = byTxn.get(rec.txn);
    if (!row) return; // a log cut before its begin (never written by the engine)
    // Recovery writes its records under stream "log", or with a later time than the txn's own.
    const isRecovery = rec.type === 'txn.compensated' || (rec.type === 'txn.decided' && d.reason === 'recovery') || (rec.type === 'txn.ended' && d.recovered);
    let rrow: AuditRow | undefined;
    if (isRecovery) {
      rrow = recoveryOf.get(rec.txn);
      if (!rrow) {
        rrow = {
          kind: 'recovery', seq: rec.seq, seqs: [], at: rec.at, proc: row.proc, txn: rec.txn, recovers: rec.txn,
          command: row.command, args: row.args, outcome: 'open', steps: [], touched: [], nodes: [], types: [],
        };
        recoveryOf.set(rec.txn, rrow);
        rows.push(rrow);
      }
    }
    switch (rec.type) {
      case 'txn.step':
        stepNames.set(rec.seq, String(d.name));
        row.steps.push(String(d.name));
        add(row, rec, d.changes as Change[]);
        break;
      case 'txn.compensated':
        rrow!.steps.push(`undo ${stepNames.get(Number(d.undoes)) ?? 'seq ' + d.undoes}`);
        add(rrow!, rec, d.changes as Change[]);
        add(row, rec);
        break;
      case 'txn.decided':
        row.outcome = d.outcome === 'commit' ? 'committed' : 'aborted';
        if (d.outcome !== 'commit' && d.reason !== 'recovery' && d.reason) row.error = { desc: String(d.reason) };
        add(rrow ?? row, rec);
        if (rrow) add(row, rec);
        break;
      case 'txn.ended':
        if (d.recovered) {
          const action = d.recovered as 'rolled-back' | 'rolled-forward' | 'ended';
          row.recovery = { action, at: rec.at, seq: rec.seq };
          if (action !== 'ended') row.outcome = action;
          rrow!.outcome = row.outcome;
          add(rrow!, rec);
        }
        add(row, rec);
        // Nothing refers to an ended transaction again: its rows are final, its context dropped.
        final.add(row);
        if (rrow) final.add(rrow);
        for (const s of row.seqs) stepNames.delete(s);
        byTxn.delete(rec.txn);
        recoveryOf.delete(rec.txn);
        break;
    }
  }
  }
}

/** Normalises a --since/--until value: an ISO time (any form Date parses) to toISOString. */
export function isoBound(v: string): string | undefined {
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export function filterAudit(rows: AuditRow[], f: AuditFilter): AuditRow[] {
  return rows.filter(auditFilter(f));
}

/** The filter as a predicate on one row (streaming callers). */
export function auditFilter(f: AuditFilter): (r: AuditRow) => boolean {
  return (r) => {
    if (f.proc && r.proc !== f.proc) return false;
    if (f.txn && r.txn !== f.txn) return false;
    if (f.since && r.at < f.since) return false;
    if (f.until && r.at > f.until) return false;
    if (f.types?.length && !f.types.some((t) => t === r.kind || r.types.includes(t))) return false;
    if (f.node) {
      const want = f.proc ? [`${f.proc}:${f.node}`] : undefined;
      if (!r.nodes.some((k) => (want ? want.includes(k) : k.slice(k.indexOf(':') + 1) === f.node))) return false;
    }
    return true;
  };
}

/** One line of args for a table cell. */
export function argsText(args: Record<string, unknown>, max = 80): string {
  const s = JSON.stringify(args);
  return s === '{}' ? '' : s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function outcomeText(r: AuditRow): string {
  if (r.kind === 'rejected') return `rejected: ${r.error?.desc ?? ''}`;
  if (r.kind === 'recovery') return `recovery ${r.outcome} ${r.recovers}`;
  if (r.recovery) return `${r.outcome} by recovery at ${r.recovery.at.slice(11, 23)} (seq ${r.recovery.seq})`;
  return r.outcome;
}
