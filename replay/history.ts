// `blockgraph history NODE`: every logged step (or compensation) whose changes include the
// node or one of its edges, with the transaction and command it belonged to.
//
// Two ways to the same entries: `nodeHistory` over records (pure), and `historyFromLog`, which
// reads the log's secondary index (node -> seqs, written in the same batch as the records,
// events/node-keys.ts) for the range the index covers and scans only what it does not (logs
// written before the index existed). Both keep per-transaction context only while the
// transaction is open, so memory is bounded by open transactions, not by the log.
import type { Change } from '../graph/draft.js';
import { bbKeyPrefix, nodeKeyPrefix, txnKeyPrefix } from '../events/node-keys.js';
import type { EventLog } from '../store/index.js';
import type { LogRecord } from '../store/types.js';
import { changeLabel, changeTouchesNode } from './audit.js';
import { describeChange } from './diff.js';
import { endsTxn } from '../events/ends.js';
import { partsOf } from '../events/whole.js';
import { BbOwners, type BbNamer } from './names.js';

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

interface TxnInfo { proc: string; command: string; args: Record<string, unknown> }

/** What a step record needs from earlier records: its txn's command, a compensation's step name. */
class Context {
  readonly txns = new Map<string, TxnInfo & { steps: number[] }>();
  readonly stepNames = new Map<number, string>();
  /** Who owns each BlockBackend, so the views name it `blk(OWNER)` (replay/names.ts). */
  readonly owners = new BbOwners();

  learnOwners(rec: LogRecord): void {
    if (rec.type !== 'txn.step' && rec.type !== 'txn.compensated') return;
    for (const ch of ((rec.data as { changes?: Change[] } | null)?.changes ?? [])) if (ch.c === 'bbs') this.owners.learn(ch.s, ch.id, ch.after ?? ch.before);
  }

  feed(rec: LogRecord): void {
    if (!rec.txn) return;
    const d = (rec.data ?? {}) as Record<string, any>;
    this.learnOwners(rec);
    if (rec.type === 'txn.begun') {
      this.txns.set(rec.txn, { proc: rec.stream, command: String(d.op), args: (d.args ?? {}) as Record<string, unknown>, steps: [] });
    } else if (rec.type === 'txn.step') {
      this.stepNames.set(rec.seq, String(d.name));
      this.txns.get(rec.txn)?.steps.push(rec.seq);
    } else if (endsTxn(rec)) {
      // Nothing refers to a transaction after its end (recovery only finishes open ones).
      for (const s of this.txns.get(rec.txn)?.steps ?? []) this.stepNames.delete(s);
      this.txns.delete(rec.txn);
    }
  }
}

function entryOf(rec: LogRecord, node: string, proc: string | undefined, t: TxnInfo | undefined, undoneName: string | undefined, bbName: BbNamer): HistoryEntry | undefined {
  if ((rec.type !== 'txn.step' && rec.type !== 'txn.compensated') || !rec.txn) return undefined;
  const d = (rec.data ?? {}) as Record<string, any>;
  if (!Array.isArray(d.changes)) return undefined;
  const undo = rec.type === 'txn.compensated';
  const mine = (d.changes as Change[]).filter((ch) => changeTouchesNode(ch, node, proc));
  if (!mine.length) return undefined;
  const info = t ?? { proc: rec.stream, command: '?', args: {} };
  return {
    seq: rec.seq, at: rec.at, type: rec.type, proc: info.proc, txn: rec.txn, command: info.command, args: info.args,
    step: undo ? `undo ${undoneName ?? 'seq ' + d.undoes}` : String(d.name),
    // A compensation applies before-images: what the reader sees happen is after -> before.
    changes: mine.map((ch) => ({ entity: changeLabel(ch, bbName), what: describeChange(ch.c, undo ? ch.after : ch.before, undo ? ch.before : ch.after) })),
  };
}

/** The records as the phased protocol writes them: a whole transaction as its parts (events/whole.ts). */
function* wholeParts(records: Iterable<LogRecord>): Generator<LogRecord> {
  for (const rec of records) yield* partsOf(rec);
}

export function nodeHistory(records: Iterable<LogRecord>, node: string, proc?: string): HistoryEntry[] {
  const ctx = new Context();
  const out: HistoryEntry[] = [];
  for (const rec of wholeParts(records)) {
    ctx.feed(rec);
    const undoes = rec.type === 'txn.compensated' ? Number((rec.data as { undoes?: unknown } | null)?.undoes) : NaN;
    const e = entryOf(rec, node, proc, rec.txn ? ctx.txns.get(rec.txn) : undefined, ctx.stepNames.get(undoes), ctx.owners.name);
    if (e) out.push(e);
  }
  return out;
}

/**
 * The same entries as nodeHistory over the whole log, in seq order, read through the index where
 * it covers the log (a range read plus one get per entry) and by a streaming scan elsewhere.
 */
export async function* historyFromLog(log: EventLog, node: string, proc?: string): AsyncGenerator<HistoryEntry, void, undefined> {
  const head = log.head;
  const cov = await log.indexCoverage();
  const ctx = new Context();
  const txnInfo = async (txn: string): Promise<TxnInfo | undefined> => {
    const known = ctx.txns.get(txn);
    if (known) return known;
    const [seq] = await log.indexSeqs(txnKeyPrefix(txn));
    const begun = seq === undefined ? undefined : await log.recordAt(seq);
    if (!begun || begun.type !== 'txn.begun' || begun.txn !== txn) return undefined;
    const d = (begun.data ?? {}) as Record<string, any>;
    return { proc: begun.stream, command: String(d.op), args: (d.args ?? {}) as Record<string, unknown> };
  };
  const undoneName = async (rec: LogRecord): Promise<string | undefined> => {
    if (rec.type !== 'txn.compensated') return undefined;
    const undoes = Number((rec.data as { undoes?: unknown } | null)?.undoes);
    const known = ctx.stepNames.get(undoes);
    if (known !== undefined) return known;
    const step = Number.isInteger(undoes) && undoes < rec.seq ? await log.recordAt(undoes) : undefined;
    return step?.type === 'txn.step' ? String((step.data as { name?: unknown }).name) : undefined;
  };
  // A BlockBackend is created by a step the node's index need not list (an earlier transaction,
  // or an earlier step of this one): its owner is found through the BlockBackend's own index
  // entries, so the views name it `blk(OWNER)` as the scan does.
  const learnTxnOwners = async (rec: LogRecord): Promise<void> => {
    ctx.learnOwners(rec);
    for (const ch of ((rec.data as { changes?: Change[] } | null)?.changes ?? [])) {
      if (ch.c !== 'edges') continue;
      for (const img of [ch.before, ch.after] as ({ parent?: { kind: string; bb?: string } } | null)[]) {
        const bb = img?.parent?.kind === 'bb' ? img.parent.bb : undefined;
        if (bb === undefined || ctx.owners.knows(ch.s, bb)) continue;
        for (const seq of await log.indexSeqs(bbKeyPrefix(bb, ch.s))) {
          if (seq >= rec.seq) break;
          const r = await log.recordAt(seq);
          if (r) ctx.learnOwners(r);
          if (ctx.owners.knows(ch.s, bb)) break;
        }
      }
    }
  };
  async function* scan(gte: number, lte: number, prevHash?: string): AsyncGenerator<HistoryEntry, void, undefined> {
    if (lte < gte) return;
    for await (const chunk of log.readChunks({ gte, lte, ...(prevHash !== undefined ? { prevHash } : {}) })) {
      for (const rec of wholeParts(chunk)) {
        ctx.feed(rec);
        if (rec.type !== 'txn.step' && rec.type !== 'txn.compensated') continue;
        if (!((rec.data as { changes?: Change[] } | null)?.changes ?? []).some((ch) => changeTouchesNode(ch, node, proc))) continue;
        const e = entryOf(rec, node, proc, rec.txn ? await txnInfo(rec.txn) : undefined, await undoneName(rec), ctx.owners.name);
        if (e) yield e;
      }
    }
  }
  if (!cov) {
    yield* scan(1, head, '');
    return;
  }
  yield* scan(1, cov.from - 1, '');
  for (const seq of await log.indexSeqs(nodeKeyPrefix(node, proc))) {
    if (seq < cov.from || seq > cov.to) continue;
    // Index entries of records a repair dropped may name a seq now holding another record: the
    // record itself decides. A whole transaction (events/whole.ts) is looked at step by step.
    for (const rec of partsOf((await log.recordAt(seq))!)) {
      await learnTxnOwners(rec);
      const e = entryOf(rec, node, proc, rec.txn ? await txnInfo(rec.txn) : undefined, await undoneName(rec), ctx.owners.name);
      if (e) yield e;
    }
  }
  yield* scan(cov.to + 1, head);
}
