// Who did what, when: the log regrouped per transaction and per refused command, for
// `blockgraph audit`. Pure over records (no store access), so the CLI, the report page and
// specs all read one shape. A transaction's rows come from its txn.* records; recovery's
// records (stream "log") are folded into the transaction they finish and also listed as
// their own row, so a reader sees both "this command was undone" and "recovery ran at T".
import { endsTxn } from '../events/ends.js';
import { isWhole, partsOf } from '../events/whole.js';
import { changeNodes } from '../events/node-keys.js';
import type { Change } from '../graph/draft.js';
import type { Edge, ParentRef } from '../graph/types.js';
import type { LogRecord } from '../store/types.js';
import { BbOwners, parentName, plainNamer, type BbNamer } from './names.js';

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
  /** Rejected rows of a run of parse errors logged as one record: the refusals it stands for (absent: 1). */
  count?: number;
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

/** An edge as every view prints it: `parent -[name]-> child`, BlockBackends named by names.ts. */
export function edgeLabel(e: Edge, scope = '', bb: BbNamer = plainNamer): string {
  return `${parentName(scope, e.parent as ParentRef, bb)} -[${e.name}]-> ${e.child}`;
}

const singular: Record<string, string> = { nodes: 'node', edges: 'edge', bbs: 'bb', jobs: 'job', objects: 'object', exports: 'export', images: 'image', meta: 'meta', devices: 'device', buses: 'bus' };

/** A readable name for the entity one change is about. */
export function changeLabel(ch: Change, bb: BbNamer = plainNamer): string {
  const img = (ch.after ?? ch.before) as Record<string, unknown> | null;
  const what = ch.c === 'edges' && img ? edgeLabel(img as unknown as Edge, ch.s, bb) : ch.c === 'bbs' ? bb(ch.s, ch.id) : ch.id;
  return `${ch.s} ${singular[ch.c] ?? ch.c} ${what}`;
}

/** Node names (scope-qualified) a change is about: one definition, shared with the log's index. */
export { changeNodes };

export function changeTouchesNode(ch: Change, node: string, scope?: string): boolean {
  return changeNodes(ch).some((k) => (scope ? k === `${scope}:${node}` : k.slice(k.indexOf(':') + 1) === node));
}

const uniq = (xs: string[]) => [...new Set(xs)];

/**
 * Groups records into audit rows as they stream by, holding only what is still open: a row is
 * handed out when it is complete (a refusal at once; a transaction, and its recovery row, at
 * its end: txn.ended, or a txn.decided that ends it), so a 1M-record log is grouped in memory bounded by the open transactions.
 */
export class AuditGrouper {
  private readonly byTxn = new Map<string, AuditRow>();
  private readonly recoveryOf = new Map<string, AuditRow>();
  private readonly stepNames = new Map<string, Map<number, string>>();
  private readonly owners = new BbOwners();

  private add(row: AuditRow, rec: LogRecord, changes?: Change[]): void {
    if (row.seqs[row.seqs.length - 1] !== rec.seq) row.seqs.push(rec.seq); // a whole transaction's parts share one
    if (!row.types.includes(rec.type)) row.types.push(rec.type);
    if (changes) {
      for (const ch of changes) if (ch.c === 'bbs') this.owners.learn(ch.s, ch.id, ch.after ?? ch.before);
      // The per-process id counters (meta) change with nearly every command: named only when alone.
      const named = changes.filter((ch) => ch.c !== 'meta');
      row.touched = uniq([...row.touched, ...(named.length || row.touched.length ? named : changes).map((ch) => changeLabel(ch, this.owners.name))]);
      row.nodes = uniq([...row.nodes, ...changes.flatMap(changeNodes)]);
    }
  }

  /** Feeds one record; returns the rows it completed, in the order they began. */
  push(rec: LogRecord): AuditRow[] {
    if (!isWhole(rec)) return this.pushPart(rec);
    // a whole transaction (events/whole.ts): its parts in protocol order, one seq
    const out: AuditRow[] = [];
    for (const part of partsOf(rec)) out.push(...this.pushPart(part));
    return out;
  }

  private pushPart(rec: LogRecord): AuditRow[] {
    const d = (rec.data ?? {}) as Record<string, any>;
    if (rec.type === 'command.rejected') {
      const row: AuditRow = {
        kind: 'rejected', seq: rec.seq, seqs: [], at: rec.at, proc: rec.stream,
        command: String(d.command ?? '(malformed input)'), args: (d.args ?? {}) as Record<string, unknown>,
        outcome: 'rejected', error: d.error, steps: [], touched: [], nodes: [], types: [],
      };
      if (typeof d.count === 'number' && d.count > 1) row.count = d.count;
      this.add(row, rec);
      return [row];
    }
    if (!rec.txn || !rec.type.startsWith('txn.')) return [];
    if (rec.type === 'txn.begun') {
      const row: AuditRow = {
        kind: 'transaction', seq: rec.seq, seqs: [], at: rec.at, proc: rec.stream, txn: rec.txn,
        command: String(d.op), args: (d.args ?? {}) as Record<string, unknown>,
        outcome: 'open', steps: [], touched: [], nodes: [], types: [],
      };
      this.add(row, rec);
      this.byTxn.set(rec.txn, row);
      return [];
    }
    const row = this.byTxn.get(rec.txn);
    if (!row) return []; // a log cut before its begin (never written by the engine)
    // Recovery writes its records under stream "log", or with a later time than the txn's own.
    const isRecovery = rec.type === 'txn.compensated' || (rec.type === 'txn.decided' && d.reason === 'recovery') || (rec.type === 'txn.ended' && d.recovered);
    let rrow: AuditRow | undefined;
    if (isRecovery) {
      rrow = this.recoveryOf.get(rec.txn);
      if (!rrow) {
        rrow = {
          kind: 'recovery', seq: rec.seq, seqs: [], at: rec.at, proc: row.proc, txn: rec.txn, recovers: rec.txn,
          command: row.command, args: row.args, outcome: 'open', steps: [], touched: [], nodes: [], types: [],
        };
        this.recoveryOf.set(rec.txn, rrow);
      }
    }
    switch (rec.type) {
      case 'txn.step': {
        let names = this.stepNames.get(rec.txn);
        if (!names) this.stepNames.set(rec.txn, (names = new Map()));
        names.set(rec.seq, String(d.name));
        row.steps.push(String(d.name));
        this.add(row, rec, d.changes as Change[]);
        break;
      }
      case 'txn.compensated':
        rrow!.steps.push(`undo ${this.stepNames.get(rec.txn)?.get(Number(d.undoes)) ?? 'seq ' + d.undoes}`);
        this.add(rrow!, rec, d.changes as Change[]);
        this.add(row, rec);
        break;
      case 'txn.decided':
        row.outcome = d.outcome === 'commit' ? 'committed' : 'aborted';
        if (d.outcome !== 'commit' && d.reason !== 'recovery' && d.reason) row.error = { desc: String(d.reason) };
        // QEMU refused, but its abort handlers left changes (graph/abort-residue.ts)
        if (d.outcome === 'commit' && (d.reply as { error?: { desc?: string } } | undefined)?.error) row.error = { desc: String((d.reply as { error: { desc?: string } }).error.desc ?? '') };
        this.add(rrow ?? row, rec);
        if (rrow) this.add(row, rec);
        if (!endsTxn(rec)) break;
        // decided and ended in one record (events/ends.ts): the rows are complete
        return this.complete(rec.txn, row);
      case 'txn.ended': {
        if (d.recovered) {
          const action = d.recovered as 'rolled-back' | 'rolled-forward' | 'ended';
          row.recovery = { action, at: rec.at, seq: rec.seq };
          if (action !== 'ended') row.outcome = action;
          rrow!.outcome = row.outcome;
          this.add(rrow!, rec);
        }
        this.add(row, rec);
        // Nothing follows a txn.ended for this transaction: the rows are complete.
        return this.complete(rec.txn, row);
      }
    }
    return [];
  }

  private complete(txn: string, row: AuditRow): AuditRow[] {
    const done = [row, ...(this.recoveryOf.has(txn) ? [this.recoveryOf.get(txn)!] : [])];
    this.byTxn.delete(txn);
    this.recoveryOf.delete(txn);
    this.stepNames.delete(txn);
    return done;
  }

  /**
   * The smallest seq of a row still open (undefined when none): every row handed out later
   * starts after it or at a later record, so rows below it can be released in seq order.
   * Maps keep insertion order and rows are inserted as they begin: the first entry is the oldest.
   */
  oldestOpen(): number | undefined {
    const a = this.byTxn.values().next();
    const b = this.recoveryOf.values().next();
    if (a.done) return b.done ? undefined : b.value.seq;
    return b.done ? a.value.seq : Math.min(a.value.seq, b.value.seq);
  }

  /** Rows still open (transactions and recoveries not yet ended). */
  openCount(): number {
    return this.byTxn.size + this.recoveryOf.size;
  }

  /** The rows still open at the end of the log (a transaction cut by a crash, not yet recovered). */
  flush(): AuditRow[] {
    const out = [...this.byTxn.values(), ...this.recoveryOf.values()].sort((a, b) => a.seq - b.seq);
    this.byTxn.clear();
    this.recoveryOf.clear();
    this.stepNames.clear();
    return out;
  }
}

/** Groups records into audit rows, in the order each row began. */
export function auditRows(records: Iterable<LogRecord>): AuditRow[] {
  const g = new AuditGrouper();
  const rows: AuditRow[] = [];
  for (const rec of records) rows.push(...g.push(rec));
  rows.push(...g.flush());
  return rows.sort((a, b) => a.seq - b.seq);
}

/** Rows held at once by the last auditStream (open + waiting): specs count it, it must not grow with the log. */
export const auditStreamWork = { maxHeld: 0 };

/**
 * Audit rows of a stream of record chunks, filtered, in seq order, as they complete: memory
 * holds the open transactions and the completed rows waiting for an older open one (both
 * bounded by the transactions in flight), never the log or all rows.
 */
export async function* auditStream(chunks: AsyncIterable<LogRecord[]>, filter: AuditFilter = {}): AsyncGenerator<AuditRow, void, undefined> {
  const g = new AuditGrouper();
  const keep = auditFilter(filter);
  auditStreamWork.maxHeld = 0;
  // Completed rows not yet released, sorted by seq (insertion from the back: they nearly always come in order).
  const waiting: AuditRow[] = [];
  const hold = (r: AuditRow) => {
    if (!keep(r)) return;
    let i = waiting.length;
    while (i > 0 && waiting[i - 1]!.seq > r.seq) i--;
    waiting.splice(i, 0, r);
  };
  for await (const chunk of chunks) {
    for (const rec of chunk) {
      const done = g.push(rec);
      if (done.length === 0) continue;
      for (const r of done) hold(r);
      const held = waiting.length + g.openCount();
      if (held > auditStreamWork.maxHeld) auditStreamWork.maxHeld = held;
      const oldest = g.oldestOpen();
      let n = 0;
      while (n < waiting.length && (oldest === undefined || waiting[n]!.seq < oldest)) n++;
      if (n) yield* waiting.splice(0, n);
    }
  }
  for (const r of g.flush()) hold(r);
  yield* waiting.splice(0);
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
  if (r.kind === 'rejected') return `rejected${r.count ? ` ×${r.count}` : ''}: ${r.error?.desc ?? ''}`;
  if (r.kind === 'recovery') return `recovery ${r.outcome} ${r.recovers}`;
  if (r.recovery) return `${r.outcome} by recovery at ${r.recovery.at.slice(11, 23)} (seq ${r.recovery.seq})`;
  if (r.outcome === 'committed' && r.error) return `error, abort residue committed: ${r.error.desc}`;
  return r.outcome;
}
