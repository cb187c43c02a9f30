// The durable event log over any abstract-level database. Records live in the 'log' sublevel
// (fixed-width hex seq keys), snapshots in 'snap', the head (seq + hash) in 'meta'.
import { Observable, Subject } from 'rxjs';
import { BlockgraphError, LogClosedError, LogConflictError, LogCorruptError, SnapshotCorruptError } from '../errors/index.js';
import {
  type AnyLevel,
  decodeMeta,
  ChainReader,
  decodeRecord,
  decodeSnapshot,
  encodeMeta,
  encodeRecord,
  encodeSnapshot,
  HEAD_KEY,
  headerHash,
  keySeq,
  seqKey,
  type Sublevels,
  sublevelsOf,
  syncOption,
  TEXT,
} from './codec.js';
import { repairLog, type RepairResult } from './repair.js';
import type { AppendOptions, LogRecord, NewRecord, ReadRange, Snapshot, VerifyResult } from './types.js';
import { scanLog, scanSinceSnapshot } from './verify.js';

export type { RepairResult } from './repair.js';

export interface OpenOptions {
  /**
   * 'full' (default): check every record, the chain and the head meta; the first problem throws
   * LogCorruptError. 'since-snapshot': the same checks from the newest snapshot's record on
   * (open is O(records since the snapshot); `verify()` still checks the whole log). 'none': trust
   * the head meta (for repair, or when the caller verifies later).
   */
  verify?: 'full' | 'since-snapshot' | 'none';
  /**
   * Runs after every synced append, inside the writer's queue and before the append resolves
   * (store/anchor.ts keeps the last synced head outside the WAL with it). If it throws, the
   * append rejects: the records are in the log but not acknowledged.
   */
  onSynced?: (head: number, hash: string) => Promise<void>;
}

export interface SnapshotOptions {
  /**
   * Default false: a damaged snapshot (CRC, or `hash` not the hash of record `seq`) throws
   * SnapshotCorruptError. True: fall back to the newest older sound snapshot and list the
   * damaged ones in `skipped`. Either way nothing is skipped silently.
   */
  skipCorrupt?: boolean;
}

export interface SkippedSnapshot {
  seq: number;
  reason: string;
}

export type LatestSnapshot<S> = Snapshot<S> & { skipped: SkippedSnapshot[] };

type BatchOp = { type: 'put'; key: string; value: string };

const CHUNK = 1000;

export class EventLog {
  readonly #subs: Sublevels;
  #head: number;
  #headHash: string;
  #closed = false;
  #closing: Promise<void> | undefined;
  #onSynced: OpenOptions['onSynced'];
  // One writer: every mutation runs here in turn, so seqs are assigned and written in order.
  #queue: Promise<unknown> = Promise.resolve();
  readonly #appended = new Subject<LogRecord>();
  readonly appended$: Observable<LogRecord> = this.#appended.asObservable();

  private constructor(subs: Sublevels, head: number, headHash: string) {
    this.#subs = subs;
    this.#head = head;
    this.#headHash = headHash;
  }

  /**
   * Opens a log over `db` (opening the db if needed). The log takes ownership: close() closes db.
   * On a verification failure the db is left open so the caller can inspect or close it.
   */
  static async open(db: AnyLevel, opts: OpenOptions = {}): Promise<EventLog> {
    await db.open();
    const subs = sublevelsOf(db);
    const mode = opts.verify ?? 'full';
    if (mode !== 'none') {
      const { result, goodHash } = mode === 'full' ? await scanLog(subs) : await scanSinceSnapshot(subs);
      if (!result.ok) throw new LogCorruptError(result.firstBad, result.reason);
      return new EventLog(subs, result.head, goodHash).#hook(opts);
    }
    const { head, hash } = await trustedHead(subs);
    return new EventLog(subs, head, hash).#hook(opts);
  }

  #hook(opts: OpenOptions): this {
    this.#onSynced = opts.onSynced;
    return this;
  }

  /** Last seq, 0 when empty. */
  get head(): number {
    return this.#head;
  }

  /** Hash of the last record, "" when empty. */
  get headHash(): string {
    return this.#headHash;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying database (tests, tooling). */
  get db(): AnyLevel {
    return this.#subs.root;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new LogClosedError();
      return fn();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Appends `records` as seqs head+1.. in one atomic batch together with the new head meta.
   * `expectedSeq` (the seq the first record must get) guards against stale writers.
   * LogConflictError from that check is thrown as `new LogConflictError(expectedSeq, actualNextSeq)`.
   */
  append(records: NewRecord[], opts: AppendOptions = {}): Promise<LogRecord[]> {
    return this.#serial(async () => {
      const first = this.#head + 1;
      if (opts.expectedSeq !== undefined && opts.expectedSeq !== first) {
        throw new LogConflictError(opts.expectedSeq, first);
      }
      if (records.length === 0) return [];
      const out: LogRecord[] = new Array(records.length);
      const ops: BatchOp[] = new Array(records.length + 1);
      const { logPrefix, metaHeadKey, top } = this.#subs;
      let prev = this.#headHash;
      for (let i = 0; i < records.length; i++) {
        const seq = first + i;
        const { record, value } = encodeRecord(seq, records[i]!, prev);
        out[i] = record;
        ops[i] = { type: 'put', key: logPrefix + seqKey(seq), value };
        prev = record.hash;
      }
      const head = first + records.length - 1;
      ops[records.length] = { type: 'put', key: metaHeadKey, value: encodeMeta({ seq: head, hash: prev }) };
      await top.batch(ops, { ...TEXT, ...syncOption(opts.sync === true) });
      this.#head = head;
      this.#headHash = prev;
      for (const r of out) this.#appended.next(r);
      if (opts.sync === true && this.#onSynced) await this.#onSynced(head, prev);
      return out;
    });
  }

  /**
   * Records in seq order. Each is CRC-checked and must be the next seq and link to the previous
   * record's hash; otherwise LogCorruptError(seq) is thrown at that point.
   */
  read(range: ReadRange = {}): AsyncIterableIterator<LogRecord> {
    return new RecordIterator(this.readChunks(range));
  }

  /** As read(), a chunk at a time: the fast path for bulk consumers (fold, replay). */
  async *readChunks(range: ReadRange = {}): AsyncGenerator<LogRecord[], void, undefined> {
    if (this.#closed) throw new LogClosedError();
    const gte = Math.max(1, range.gte ?? 1);
    if (range.lte !== undefined && range.lte < gte) return;
    if (range.limit !== undefined && range.limit <= 0) return;
    const { top, logPrefix, logEnd } = this.#subs;
    const it = top.values<string, string>({
      ...TEXT,
      gte: logPrefix + seqKey(gte),
      ...(range.lte !== undefined ? { lte: logPrefix + seqKey(range.lte) } : { lt: logEnd }),
      ...(range.limit !== undefined ? { limit: range.limit } : {}),
    });
    const chain = new ChainReader(gte);
    try {
      for (;;) {
        const values = await it.nextv(CHUNK);
        if (values.length === 0) return;
        const out: LogRecord[] = new Array(values.length);
        for (let i = 0; i < values.length; i++) out[i] = chain.next(values[i]!);
        yield out;
      }
    } finally {
      await it.close();
    }
  }

  async readAll(range: ReadRange = {}): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    for await (const chunk of this.readChunks(range)) for (const r of chunk) out.push(r);
    return out;
  }

  /**
   * History from `fromSeq`, then live appends, with no gap and no duplicate: live appends that
   * arrive during catch-up are buffered and dropped if the catch-up read already emitted them.
   * Completes when the log closes; errors with LogCorruptError if history is damaged.
   */
  tail(fromSeq = 1): Observable<LogRecord> {
    return new Observable<LogRecord>((sub) => {
      let last = Math.max(1, fromSeq) - 1;
      let live = false;
      let stopped = false;
      const pending: LogRecord[] = [];

      const emit = (r: LogRecord): void => {
        if (r.seq <= last) return;
        if (r.seq !== last + 1) {
          sub.error(new LogCorruptError(last + 1, `tail saw seq ${r.seq} after ${last}`));
          return;
        }
        last = r.seq;
        sub.next(r);
      };

      const liveSub = this.#appended.subscribe({
        next: (r) => (live ? emit(r) : pending.push(r)),
        error: (e: unknown) => sub.error(e),
        complete: () => sub.complete(),
      });

      void (async () => {
        try {
          // Loop because appends may land while we read; stop once we have reached the head.
          // From the final check until `live = true` there is no await, so nothing slips between.
          while (!stopped && last < this.#head && !this.#closed) {
            for await (const chunk of this.readChunks({ gte: last + 1 })) {
              for (const r of chunk) {
                if (stopped) return;
                emit(r);
              }
            }
          }
          if (stopped) return;
          for (const r of pending) emit(r);
          pending.length = 0;
          live = true;
        } catch (e) {
          if (!stopped) sub.error(e);
        }
      })();

      return () => {
        stopped = true;
        liveSub.unsubscribe();
      };
    });
  }

  /**
   * Stores a snapshot under its seq. It must belong to this log: `seq` within 1..head and
   * `hash` equal to the hash of record `seq` (else BG_BAD_INPUT, nothing written).
   */
  putSnapshot<S>(snap: Snapshot<S>, opts: { sync?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      if (!Number.isInteger(snap.seq) || snap.seq < 1 || snap.seq > this.#head) {
        throw new BlockgraphError('BG_BAD_INPUT', `snapshot seq ${snap.seq} is outside the log (head ${this.#head})`);
      }
      const hash = await this.#recordHash(snap.seq);
      if (hash !== snap.hash) {
        throw new BlockgraphError('BG_BAD_INPUT', `snapshot hash does not match record ${snap.seq}`);
      }
      await this.#subs.snap.put(seqKey(snap.seq), encodeSnapshot(snap), syncOption(opts.sync === true));
    });
  }

  /**
   * The newest snapshot at or before `atOrBefore` (default: head), checked against its CRC and
   * the chain. See SnapshotOptions for what happens with a damaged one.
   */
  async latestSnapshot<S = unknown>(atOrBefore?: number, opts: SnapshotOptions = {}): Promise<LatestSnapshot<S> | undefined> {
    if (this.#closed) throw new LogClosedError();
    const lte = Math.min(atOrBefore ?? this.#head, this.#head);
    if (lte < 1) return undefined;
    const skipped: SkippedSnapshot[] = [];
    const it = this.#subs.snap.iterator({ lte: seqKey(lte), reverse: true });
    try {
      for (;;) {
        const entries = await it.nextv(16);
        if (entries.length === 0) return undefined;
        for (const [key, value] of entries) {
          const seq = keySeq(key);
          try {
            if (Number.isNaN(seq)) throw new SnapshotCorruptError(0, `unexpected key ${JSON.stringify(key)}`);
            const snap = decodeSnapshot<S>(value, seq);
            const hash = await this.#recordHash(seq);
            if (hash !== snap.hash) throw new SnapshotCorruptError(seq, `hash does not match record ${seq}`);
            return { ...snap, skipped };
          } catch (e) {
            if (!(e instanceof SnapshotCorruptError) || !opts.skipCorrupt) throw e;
            skipped.push({ seq: e.seq, reason: String(e.info.reason) });
          }
        }
      }
    } finally {
      await it.close();
    }
  }

  async #recordHash(seq: number): Promise<string | undefined> {
    const v = await this.#subs.log.get(seqKey(seq));
    return v === undefined ? undefined : decodeRecord(v, seq).hash;
  }

  /** Full verification, reported rather than thrown. Waits for pending appends. */
  verify(): Promise<VerifyResult> {
    return this.#serial(async () => (await scanLog(this.#subs)).result);
  }

  /**
   * Truncates to the longest verified prefix: deletes records from the first bad seq on and
   * snapshots past the new head, and rewrites the head meta. Explicit only; open never repairs.
   */
  repair(): Promise<RepairResult> {
    return this.#serial(async () => {
      const r = await repairLog(this.#subs);
      this.#head = r.head;
      this.#headHash = r.headHash;
      return r;
    });
  }

  /** Runs after every write already queued, completes tails and appended$, closes the database. */
  async close(): Promise<void> {
    if (this.#closing === undefined) {
      const closing = this.#queue.then(async () => {
        this.#closed = true;
        this.#appended.complete();
        await this.#subs.root.close();
      });
      this.#queue = closing.catch(() => undefined);
      this.#closing = closing;
    }
    return this.#closing;
  }
}

/** Head for verify: 'none': the meta if readable, else the last stored record, unverified. */
async function trustedHead(subs: Sublevels): Promise<{ head: number; hash: string }> {
  const raw = await subs.meta.get(HEAD_KEY);
  if (raw !== undefined) {
    const m = decodeMeta(raw);
    if (typeof m !== 'string') return { head: m.seq, hash: m.hash };
  }
  const last = await subs.log.iterator({ reverse: true, limit: 1 }).all();
  if (last.length === 0) return { head: 0, hash: '' };
  const [key, value] = last[0]!;
  const seq = keySeq(key);
  return Number.isNaN(seq) ? { head: 0, hash: '' } : { head: seq, hash: headerHash(value) };
}

// A plain iterator over chunks: an async generator yielding record by record costs a good part
// of a record's decode time in promise machinery; this resolves straight from the current chunk.
class RecordIterator implements AsyncIterableIterator<LogRecord> {
  readonly #chunks: AsyncGenerator<LogRecord[], void, undefined>;
  #chunk: LogRecord[] = [];
  #i = 0;

  constructor(chunks: AsyncGenerator<LogRecord[], void, undefined>) {
    this.#chunks = chunks;
  }

  next(): Promise<IteratorResult<LogRecord, undefined>> {
    if (this.#i < this.#chunk.length) return Promise.resolve({ value: this.#chunk[this.#i++]!, done: false });
    return this.#pull();
  }

  async #pull(): Promise<IteratorResult<LogRecord, undefined>> {
    for (;;) {
      const r = await this.#chunks.next();
      if (r.done) return { value: undefined, done: true };
      if (r.value.length > 0) {
        this.#chunk = r.value;
        this.#i = 1;
        return { value: r.value[0]!, done: false };
      }
    }
  }

  async return(): Promise<IteratorResult<LogRecord, undefined>> {
    this.#chunk = [];
    await this.#chunks.return(undefined);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
