// Fault injection for crash drills and specs, in the style of SQLite's crash VFS: a journal of
// every write the log makes to its database (with its sync flag), from which the image a crash
// would leave behind is rebuilt, losing, reordering or tearing the writes that were not synced.
// Also an EventLog-level cut: write only a prefix of one append (a torn batch) and stop there.
// Test and drill tooling: nothing in the engine depends on it.
import { MemoryLevel } from 'memory-level';
import type { AnyLevel } from './codec.js';
import type { EventLog } from './event-log.js';
import type { AppendOptions, LogRecord, NewRecord } from './types.js';

/**
 * Makes `log` write nothing past seq `afterSeq`: the append that would cross it writes only its
 * records up to `afterSeq` (one batch, with a matching head, as a batch torn at that record boundary
 * leaves it), then `onCut` runs instead of returning (a drill child SIGKILLs itself there).
 */
export function cutAfterSeq(log: EventLog, afterSeq: number, onCut: () => void): void {
  const append = log.append.bind(log);
  log.append = async (records: NewRecord[], opts: AppendOptions = {}): Promise<LogRecord[]> => {
    const first = log.head + 1;
    const last = first + records.length - 1;
    if (records.length > 0 && first <= afterSeq && afterSeq <= last) {
      const out = await append(records.slice(0, afterSeq - first + 1), opts);
      onCut();
      return out;
    }
    return append(records, opts);
  };
  // The engine's path (encode now, group commit): the cut keeps records up to afterSeq, and
  // onCut runs once they are written.
  const appendNow = log.appendNow.bind(log);
  log.appendNow = (records: NewRecord[], opts: AppendOptions = {}) => {
    const first = (opts.expectedSeq ?? log.head + 1);
    const last = first + records.length - 1;
    if (records.length > 0 && first <= afterSeq && afterSeq <= last) {
      const r = appendNow(records.slice(0, afterSeq - first + 1), opts);
      return { records: r.records, durable: r.durable.then(() => onCut()) };
    }
    return appendNow(records, opts);
  };
  // ... and its whole transactions, folded from their stored form (EventLog.appendRawNow)
  const appendRawNow = log.appendRawNow.bind(log);
  log.appendRawNow = (records: NewRecord[], opts: AppendOptions = {}) => {
    const first = (opts.expectedSeq ?? log.head + 1);
    const last = first + records.length - 1;
    if (records.length > 0 && first <= afterSeq && afterSeq <= last) {
      const r = appendRawNow(records.slice(0, afterSeq - first + 1), opts);
      return { ...r, durable: r.durable.then(() => onCut()) };
    }
    return appendRawNow(records, opts);
  };
}

export interface JournalOp { type: 'put' | 'del'; key: string; value?: string }
export interface JournalWrite { ops: JournalOp[]; sync: boolean }

/**
 * What survives a crash, for the writes after the last synced one (a sync is a barrier: it and
 * everything before it is on disk, as LevelDB's fsync of its write-ahead log makes it):
 * - lose-unsynced: none of them;
 * - keep: exactly these (indices into the unsynced writes, applied in the order given, so a later
 *   write can land without an earlier one, as unordered page writeback allows);
 * - torn: the first `writes` of them whole, then the first `ops` operations of the next one.
 */
export type CrashFault =
  | { kind: 'lose-unsynced' }
  | { kind: 'keep'; order: number[] }
  | { kind: 'torn'; writes: number; ops: number };

type Op = { type: 'put' | 'del'; key: unknown; value?: unknown; sublevel?: { prefix: string } };

/** Records every write to `db` (puts, dels and batches, from the db and its sublevels). */
export class CrashJournal {
  readonly writes: JournalWrite[] = [];

  private constructor() {}

  static attach(db: AnyLevel): CrashJournal {
    const j = new CrashJournal();
    // Sublevels forward their writes to the root's public methods with prefixed keys, so
    // wrapping these three on the root instance sees every write the log makes.
    const d = db as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const put = d.put!.bind(db), del = d.del!.bind(db), batch = d.batch!.bind(db);
    const sync = (o: unknown) => (o as { sync?: boolean } | undefined)?.sync === true;
    d.put = async (key, value, opts) => { await put(key, value, opts); j.writes.push({ ops: [{ type: 'put', key: String(key), value: String(value) }], sync: sync(opts) }); };
    d.del = async (key, opts) => { await del(key, opts); j.writes.push({ ops: [{ type: 'del', key: String(key) }], sync: sync(opts) }); };
    d.batch = async (ops, opts) => {
      await batch(ops, opts);
      j.writes.push({
        ops: (ops as Op[]).map((o) => {
          const key = (o.sublevel ? o.sublevel.prefix : '') + String(o.key);
          return o.type === 'put' ? { type: 'put', key, value: String(o.value) } : { type: 'del', key };
        }),
        sync: sync(opts),
      });
    };
    return j;
  }

  /** Index of the first write that a crash may lose (after the last synced write). */
  get durable(): number {
    for (let i = this.writes.length - 1; i >= 0; i--) if (this.writes[i]!.sync) return i + 1;
    return 0;
  }

  /** Writes after the last sync: what a crash may lose, reorder or tear. */
  get unsynced(): JournalWrite[] {
    return this.writes.slice(this.durable);
  }

  /** A fresh database holding what the disk would hold after a crash now, under `fault`. */
  async crashImage(fault: CrashFault): Promise<MemoryLevel<string, string>> {
    const img = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await img.open();
    const apply = async (ops: JournalOp[]) => {
      if (ops.length) await img.batch(ops.map((o) => (o.type === 'put' ? { type: 'put' as const, key: o.key, value: o.value! } : { type: 'del' as const, key: o.key })));
    };
    const durable = this.durable;
    for (const w of this.writes.slice(0, durable)) await apply(w.ops);
    const rest = this.writes.slice(durable);
    if (fault.kind === 'keep') for (const i of fault.order) await apply(rest[i]?.ops ?? []);
    if (fault.kind === 'torn') {
      for (const w of rest.slice(0, fault.writes)) await apply(w.ops);
      await apply(rest[fault.writes]?.ops.slice(0, fault.ops) ?? []);
    }
    return img;
  }
}
