// The durable event log over any abstract-level database. Records live in the 'log' sublevel
// (fixed-width hex seq keys), snapshots in 'snap', the head (seq + hash) in 'meta'.
// rxjs's package entry loads all of rxjs (~230 modules, ~70 ms): every read command opens a
// log, and a seek needs only these two classes (issue 15). The same modules the entry re-exports.
import { Observable } from 'rxjs/internal/Observable';
import { Subject } from 'rxjs/internal/Subject';
import { BlockgraphError, LogClosedError, LogConflictError, LogCorruptError, SnapshotCorruptError } from '../errors/index.js';
import {
  type AnyLevel,
  decodeMeta,
  ChainReader,
  decodeRecord,
  decodeSnapshot,
  frameProblem,
  storedPrevHash,
  encodeMeta,
  encodeFrame,
  encodeSnapshot,
  decodeIndexMeta,
  encodeIndexMeta,
  HEAD_KEY,
  INTENT_KEY,
  headerHash,
  type IndexMeta,
  NIDX_KEY,
  keySeq,
  seqKey,
  type RawRecord,
  type Sublevels,
  sublevelsOf,
  syncOption,
  TEXT,
} from './codec.js';
import { indexKeys } from '../events/node-keys.js';
import { crcsSound } from './crc-chunk.js';
import { repairLog, type RepairResult } from './repair.js';
import type { AppendOptions, LogRecord, NewRecord, ReadRange, Snapshot, VerifyResult } from './types.js';
import { scanLog, scanSinceSnapshot } from './verify.js';
import { refuseForeign } from './foreign.js';
import { assembleParts, encodeManifest, manifestOf, partKey, partsSublevel, type PartedManifest } from './snapshot-parts.js';

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
  /** How long a record after an intent waits for the next intent (ms; default HOLD_MS; specs set it long). */
  holdMs?: number;
  /**
   * Whether the log takes intents (putIntentNow; default true). A fleet host's log (JetStream)
   * does not: each intent would be one more stored message and acknowledgement per command, where
   * the command's own record is one (specs/fleet/command-cost.spec.ts).
   */
  intentSlot?: boolean;
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
/** Appends written together in one batch (group commit). */
/** `records`: for appended$, a record or the parse-back that makes it (appendRawNow: only if observed). */
interface Group { gen: number; ops: BatchOp[]; records: (LogRecord | (() => LogRecord))[]; count: number; lastHash: string; sync: boolean; first: number; done: Promise<void> }

const CHUNK = 1000;
/**
 * How long the group appended after an intent waits for the next intent to join it (ms) before
 * it is written on its own, unsynced (putIntentNow). A sequential client's next request comes
 * within it; nothing else waits for it (whenWritten, a synced append, close release it at once).
 */
const HOLD_MS = 2;
/** A group held after an intent (EventLog #hold): settled as its write settles. */
interface Held { g: Group; resolve: () => void; reject: (e: unknown) => void; timer: ReturnType<typeof setTimeout> | undefined }
// A group's batch options, made once: spreading TEXT and syncOption() per batch made a new hidden
// class per command (V8: properties added to a spread's detached map are never shared; issue 15)
const BATCH_SYNC = Object.freeze({ ...TEXT, ...syncOption(true) });
const BATCH_NOSYNC = Object.freeze({ ...TEXT, ...syncOption(false) });

export class EventLog {
  readonly #subs: Sublevels;
  #head: number;
  #headHash: string;
  #closed = false;
  #closing: Promise<void> | undefined;
  #onSynced: OpenOptions['onSynced'];
  // One writer: every mutation runs here in turn, so seqs are assigned and written in order.
  #queue: Promise<unknown> = Promise.resolve();
  /** Operations queued or running in #queue (0: a write can start at once). */
  #pending = 0;
  readonly #appended = new Subject<LogRecord>();
  // Assigned but maybe not yet written: appends encode at the tip at once (appendNow).
  #tip: number;
  #tipHash: string;
  #open: Group | undefined;
  #gen = 0;
  #failure: unknown;
  /** Set when a record failed to round-trip after its batch was handed over: no more appends. */
  #poisoned: unknown;
  #lastWrite: Promise<void> = Promise.resolve();
  #index: IndexMeta | undefined;
  /** The group appended after an intent, held for the next intent to join (putIntentNow). */
  #held: Held | undefined;
  #holdMs = HOLD_MS;
  /** The last intent handed to the database (putIntentNow): the seq its record takes, and its batch. */
  #intent: { seq: number; done: Promise<void> } | undefined;
  /**
   * The decided head (docs/drills.md "Version 7"): the last record appended after an intent whose
   * batch is synced, while that record may still be held (not yet in the database). 0 when the
   * written head is the head. Readers of `head` see it: a command whose reply went out is in the
   * log's head, and every read of this log's records writes a held record before it reads.
   */
  #decided = 0;
  #decidedHash = '';
  #noIntents = false;
  readonly appended$: Observable<LogRecord> = this.#appended.asObservable();

  private constructor(subs: Sublevels, head: number, headHash: string, index: IndexMeta | undefined) {
    this.#subs = subs;
    this.#head = this.#tip = head;
    this.#headHash = this.#tipHash = headHash;
    this.#index = index;
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
      if (result.head === 0) await refuseForeign(db);
      return new EventLog(subs, result.head, goodHash, await indexMeta(subs)).#hook(opts);
    }
    const { head, hash } = await trustedHead(subs);
    if (head === 0) await refuseForeign(db);
    return new EventLog(subs, head, hash, await indexMeta(subs)).#hook(opts);
  }

  #hook(opts: OpenOptions): this {
    this.#onSynced = opts.onSynced;
    if (opts.holdMs !== undefined) this.#holdMs = opts.holdMs;
    if (opts.intentSlot === false) this.#noIntents = true;
    return this;
  }

  /**
   * Last seq, 0 when empty: the decided head. A record appended after an intent is decided once
   * the intent's batch is synced (its command's reply goes out then; a crash before the record is
   * written is recovered by running the intent again, engine/engine.ts completeIntent), though it
   * may still be held for the next intent's batch; every read of this log's records (read,
   * readChunks, recordAt, indexSeqs, tail, replay) writes it first. `writtenHead` is what the
   * database holds now.
   */
  get head(): number {
    return this.#decided > this.#head ? this.#decided : this.#head;
  }

  /** Hash of the last record (the decided head's), "" when empty. */
  get headHash(): string {
    return this.#decided > this.#head ? this.#decidedHash : this.#headHash;
  }

  /** The last seq written to the database (its batch returned): `head` but for a held record. */
  get writtenHead(): number {
    return this.#head;
  }

  /** The hash of record `writtenHead`. */
  get writtenHeadHash(): string {
    return this.#headHash;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying database (tests, tooling). */
  get db(): AnyLevel {
    return this.#subs.root;
  }

  /** A queued write settled (one promise per write: catch + finally made four). */
  readonly #done = (): void => { this.#pending--; };

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    // a held group (#hold) is outside the queue: it goes first, in the order of the writes
    if (this.#held !== undefined) this.#releaseHeld();
    this.#pending++;
    const run = this.#queue.then(() => {
      if (this.#closed) throw new LogClosedError();
      return fn();
    });
    this.#queue = run.then(this.#done, this.#done); // settles when run does, never rejects
    return run;
  }

  /** As #serial, for a queue known to be idle: `fn` starts now, not a microtask later. */
  #serialNow<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    let run: Promise<T>;
    try {
      run = fn();
    } catch (e) {
      run = Promise.reject(e);
    }
    this.#queue = run.then(this.#done, this.#done); // settles when run does, never rejects
    return run;
  }

  /**
   * Appends `records` as seqs head+1.. in one atomic batch together with the new head meta and
   * their secondary-index entries (events/node-keys.ts). Resolves once the batch is written
   * (synced when `sync`). `expectedSeq` (the seq the first record must get) guards against stale
   * writers: LogConflictError(expectedSeq, actualNextSeq), nothing written.
   */
  append(records: NewRecord[], opts: AppendOptions = {}): Promise<LogRecord[]> {
    try {
      const { records: out, durable } = this.appendNow(records, opts);
      return durable.then(() => out);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * As append(), but the records are encoded (seq and hash assigned) before this returns, so a
   * writer can fold them and go on while the write is in flight. Group commit: appends made while
   * a batch is being written join the next one, so N pipelined commands cost one synced write
   * instead of N. Throws (writing nothing) for bad input, a seq conflict or a closed log. If a
   * write fails, `durable` rejects for it and for every append queued after it (their records
   * chain onto the lost ones) and the log reverts to its durable head.
   */
  appendNow(records: NewRecord[], opts: AppendOptions = {}): { records: LogRecord[]; durable: Promise<void> } {
    const { frames, g } = this.#encodeNow(records, opts);
    if (frames.length === 0) return { records: [], durable: this.#lastWrite };
    const out: LogRecord[] = new Array(frames.length);
    // The engine's own records are parsed back from their stored bodies (what a read will see)
    // now that the batch is on its way: this runs while LevelDB writes and syncs, not before
    // the write starts (issue 15).
    try {
      for (let i = 0; i < frames.length; i++) out[i] = frames[i]!.parsed ?? frames[i]!.record();
    } catch (e) {
      // A body that does not round-trip is a codec bug, found after the batch was handed over:
      // nothing more is appended and the record is never acknowledged; a reopen reports it
      // (LogCorruptError) for `repair`.
      this.#poisoned = e;
      throw e;
    }
    for (const r of out) g!.records.push(r);
    return { records: out, durable: g!.done };
  }

  /**
   * As appendNow with parseAfterHandOff, for a writer that folds the stored form (the engine,
   * replay/fold.ts foldRaw; issue 15): each record is parsed back as a reader parses it — the
   * redo part of a whole transaction alone — and the full record is made only if asked for
   * (`record(i)`, or a subscriber of appended$), not on every command. A redo part that does
   * not parse poisons the log as appendNow's parse-back does.
   */
  appendRawNow(records: NewRecord[], opts: AppendOptions = {}): { raws: RawRecord[]; record: (i: number) => LogRecord; durable: Promise<void>; decided?: Promise<void> } {
    const intent = opts.afterIntent === true && opts.sync !== true ? this.#intent : undefined;
    const { frames, g } = this.#encodeNow(records, opts, true);
    if (frames.length === 0) return { raws: [], record: () => { throw new RangeError('no record'); }, durable: this.#lastWrite };
    const raws: RawRecord[] = new Array(frames.length);
    try {
      for (let i = 0; i < frames.length; i++) raws[i] = frames[i]!.raw();
    } catch (e) {
      this.#poisoned = e;
      throw e;
    }
    const made: (LogRecord | undefined)[] = new Array(frames.length);
    const record = (i: number): LogRecord => (made[i] ??= frames[i]!.record());
    for (let i = 0; i < frames.length; i++) g!.records.push(() => record(i));
    // `decided`: the records stand for the intent whose batch was just handed over (its seq is
    // theirs): they are decided once it is synced, written or held (the decided head)
    if (intent === undefined || intent.seq !== this.#tip - frames.length + 1) return { raws, record, durable: g!.done };
    const gen = g!.gen;
    const last = intent.seq + frames.length - 1;
    const hash = frames[frames.length - 1]!.hash;
    return { raws, record, durable: g!.done, decided: intent.done.then(() => this.#decide(gen, last, hash), opts.intentFailed) };
  }

  /** The decided head moves to `seq` (a record after a synced intent), unless a write failed since. */
  #decide(gen: number, seq: number, hash: string): void {
    // the hold's time runs from here, the reply's moment: the next command of a sequential client
    // comes within it however long the intent's fsync took (from the append, a slow disk's fsync
    // used the whole hold and the record went alone, the next command without an intent)
    const h = this.#held;
    if (h !== undefined && h.timer === undefined) h.timer = setTimeout(this.#releaseHeld, this.#holdMs);
    if (gen !== this.#gen || seq <= this.#decided || seq <= this.#head) return;
    this.#decided = seq;
    this.#decidedHash = hash;
  }

  /**
   * Encodes `records` at the tip and puts them in the open group (handing it to the database
   * when nothing is being written); parses nothing back unless told to parse before the hand-off.
   */
  #encodeNow(records: NewRecord[], opts: AppendOptions, parseAfterHandOff = opts.parseAfterHandOff === true): { frames: (ReturnType<typeof encodeFrame> & { parsed?: LogRecord })[]; g: Group | undefined } {
    if (this.#closed || this.#closing !== undefined) throw new LogClosedError();
    const first = this.#tip + 1;
    if (opts.expectedSeq !== undefined && opts.expectedSeq !== first) throw new LogConflictError(opts.expectedSeq, first);
    if (records.length === 0) return { frames: [], g: undefined };
    if (this.#poisoned) throw this.#poisoned;
    const frames: (ReturnType<typeof encodeFrame> & { parsed?: LogRecord })[] = new Array(records.length);
    const ops: BatchOp[] = [];
    const { logPrefix, nidxPrefix } = this.#subs;
    let prev = this.#tipHash;
    for (let i = 0; i < records.length; i++) {
      const seq = first + i;
      const f = encodeFrame(seq, records[i]!, prev); // throws BG_BAD_INPUT before anything changes
      frames[i] = f;
      const sk = seqKey(seq);
      ops.push({ type: 'put', key: logPrefix + sk, value: f.value });
      // The index keys of the record as given: the same members (type, txn, the steps' changes)
      // the parsed-back record has, so the same keys, without waiting for the parse-back.
      for (const k of indexKeys(records[i] as unknown as LogRecord)) ops.push({ type: 'put', key: nidxPrefix + k + sk, value: '' });
      prev = f.hash;
    }
    const deferred = parseAfterHandOff;
    if (!deferred) for (let i = 0; i < frames.length; i++) frames[i]!.parsed = frames[i]!.record(); // throws before anything changes
    this.#tip = first + records.length - 1;
    this.#tipHash = prev;
    let g = this.#open;
    const fresh = !g || g.gen !== this.#gen;
    if (fresh) {
      g = { gen: this.#gen, ops: [], records: [], count: 0, lastHash: '', sync: false, first, done: undefined as unknown as Promise<void> };
      this.#open = g;
    }
    for (const op of ops) g!.ops.push(op);
    g!.count += records.length;
    g!.lastHash = prev;
    g!.sync ||= opts.sync === true;
    if (fresh) {
      const group = g!;
      // Nothing being written: the batch goes to the database now, before this returns, so
      // the fsync runs while the caller folds the records and builds its reply (issue 15).
      // Otherwise the group waits for the write in flight, and appends meanwhile join it.
      if (this.#pending === 0) {
        group.done = this.#serialNow(() => this.#writeGroup(group));
      } else if (opts.afterIntent === true && opts.sync !== true && this.#held === undefined) {
        // the record of the command whose intent is syncing (unsynced: the intent covers it):
        // held for the next intent to join
        group.done = this.#hold(group, this.#intent === undefined || this.#intent.seq !== first);
      } else {
        group.done = this.#serial(() => this.#writeGroup(group));
      }
      this.#lastWrite = group.done.catch(() => undefined);
    } else if (opts.sync === true) {
      const held = this.#held;
      if (held !== undefined && held.g === g) this.#releaseHeld(); // a synced append (a command without an intent) does not wait for one
    }
    return { frames, g };
  }

  /**
   * The intent slot (engine/intent.ts; docs/drills.md "Version 7"): puts `value` under the meta
   * key `intent` in a synced batch handed to the database before this returns, so its fsync runs
   * while the caller computes the record it stands for. That record, appended next (unsynced: the
   * intent covers it), is held (#hold) for the next intent to join: the next batch is that record
   * and the next command's intent, synced, and a sequential client makes one batch per command.
   * Only when nothing is being written or waiting to be but such a held group (undefined
   * otherwise, and nothing is put): a batch that cannot start at once gains nothing by going
   * first, since the record appended next joins the same waiting group. An intent alone holds no
   * record and moves no head; its sync makes every record written before it durable, so the
   * anchor (onSynced) is advanced to the head as after any synced batch.
   */
  putIntentNow(value: string): Promise<void> | undefined {
    if (this.#noIntents || this.#closed || this.#closing !== undefined || this.#poisoned) return undefined;
    const op: BatchOp = { type: 'put', key: this.#subs.meta.prefix + INTENT_KEY, value };
    const held = this.#held;
    if (held !== undefined && this.#open === held.g && this.#pending === 0 && held.g.gen === this.#gen) {
      // The group held since the last intent (its command's record, unsynced) is the only write
      // waiting, and nothing is being written: the intent joins it and it goes now, synced. One
      // batch per sequential command, and the log never busy with the record when the next
      // command comes. (#open is cleared at once: the record appended next starts a group.)
      const g = held.g;
      g.ops.push(op);
      g.sync = true;
      this.#held = undefined;
      clearTimeout(held.timer);
      this.#serialNow(() => this.#writeGroup(g, held));
      this.#intent = { seq: this.#tip + 1, done: g.done };
      return g.done;
    }
    if (this.#pending !== 0 || this.#open !== undefined) return undefined;
    const g: Group = { gen: this.#gen, ops: [op], records: [], count: 0, lastHash: this.#tipHash, sync: true, first: this.#tip + 1, done: undefined as unknown as Promise<void> };
    g.done = this.#serialNow(() => this.#writeGroup(g));
    this.#lastWrite = g.done.catch(() => undefined);
    this.#intent = { seq: this.#tip + 1, done: g.done };
    return g.done;
  }

  /** The intent slot's stored value (engine/intent.ts pendingIntent says whether it is pending). */
  async readIntent(): Promise<string | undefined> {
    if (this.#closed) throw new LogClosedError();
    return this.#subs.meta.get(INTENT_KEY);
  }

  /** Resolves once everything appended so far is written (or its write has failed). */
  whenWritten(): Promise<void> {
    if (this.#held !== undefined) this.#releaseHeld(); // whoever waits for the writes does not wait for the next intent
    return this.#lastWrite;
  }

  /**
   * Holds `g` (a record appended after an intent whose batch is in flight) outside the queue, for
   * the next intent to join (putIntentNow); written on its own, in the queue, once released:
   * HOLD_MS passed, someone waits for the writes (whenWritten, a read, close), a synced append
   * joined it, or anything else is queued (#serial: the order of the writes is kept). Returns
   * the group's `done`. (No placeholder in the queue: one promise, not six, per command.)
   */
  #hold(g: Group, undecided: boolean): Promise<void> {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    // The timer starts once the intent is synced (#decide, which the record's `decided` runs);
    // a record appended after an intent without that (no caller of `decided`) starts it now.
    // (not unref'd: the record is written while the process lives, whoever waits or not)
    this.#held = { g, resolve, reject, timer: undecided ? setTimeout(this.#releaseHeld, this.#holdMs) : undefined };
    return done;
  }

  /** Queues the held group's write (unsynced unless a synced append joined it). */
  readonly #releaseHeld = (): void => {
    const h = this.#held;
    if (h === undefined) return;
    this.#held = undefined;
    clearTimeout(h.timer);
    // (settled after the queue's own bookkeeping of the write: whoever awaits it finds the log idle)
    this.#serial(() => this.#writeGroup(h.g)).then(h.resolve, h.reject);
  };

  /** Writes `g`; `held`: the held group's own promise, settled with it (no promise more per command). */
  async #writeGroup(g: Group, held?: Held): Promise<void> {
    try {
      if (this.#open === g) this.#open = undefined; // later appends start the next group
      if (g.gen !== this.#gen) throw this.#failure ?? new LogClosedError();
      // records are parsed back after the batch is handed over: their count and last hash are known before
      const head = g.first + g.count - 1;
      const hash = g.lastHash;
      const { metaHeadKey, metaNidxKey, top } = this.#subs;
      // The index covers from..head when it covered everything before this batch (or from here on).
      const idx = this.#index;
      const from = idx && idx.from <= g.first && idx.to >= g.first - 1 ? idx.from : g.first;
      // (an intent's batch, putIntentNow, holds no record: the head and the index stay as they are)
      if (g.count > 0) {
        g.ops.push({ type: 'put', key: metaHeadKey, value: encodeMeta({ seq: head, hash }) });
        g.ops.push({ type: 'put', key: metaNidxKey, value: encodeIndexMeta({ from, to: head, hash }) });
      }
      try {
        await top.batch(g.ops, g.sync ? BATCH_SYNC : BATCH_NOSYNC);
      } catch (e) {
        // Nothing of this group is stored; appends encoded after it chain onto it: drop them too.
        this.#gen++;
        this.#failure = e;
        this.#open = undefined;
        // (the decided head stays: a held record whose write failed is still decided by its synced
        // intent, which the writer's next open runs again; the engine stops on the failure)
        this.#tip = this.#head;
        this.#tipHash = this.#headHash;
        throw e;
      }
      this.#head = head;
      this.#headHash = hash;
      if (g.count > 0) this.#index = { from, to: head, hash };
      // (a record parsed back only for this: made only when someone listens)
      if (this.#appended.observed) {
        for (const r of g.records) {
          let rec: LogRecord;
          try {
            rec = typeof r === 'function' ? r() : r;
          } catch (e) {
            this.#poisoned ??= e; // a codec bug (appendNow's parse-back would have thrown): no more appends
            continue;
          }
          this.#appended.next(rec);
        }
      }
      // the anchor of the last synced head (store/anchor.ts), outside the WAL
      if (g.sync && this.#onSynced) await this.#onSynced(head, hash);
    } catch (e) {
      held?.reject(e);
      throw e;
    }
    held?.resolve();
  }

  /**
   * The seq range the secondary index covers, if its claim holds (the hash it names is the hash
   * of record `to`); records outside it must be scanned. A read: nothing is written.
   */
  async indexCoverage(): Promise<{ from: number; to: number } | undefined> {
    if (this.#closed) throw new LogClosedError();
    const raw = await this.#subs.meta.get(NIDX_KEY);
    const m = raw === undefined ? undefined : decodeIndexMeta(raw);
    if (!m || m.to > this.#head || m.from < 1 || m.from > m.to) return undefined;
    const hash = await this.#recordHash(m.to).catch(() => undefined);
    return hash === m.hash ? { from: m.from, to: m.to } : undefined;
  }

  /** Seqs (ascending) of the index entries under `prefix` (events/node-keys.ts), up to the durable head. */
  async indexSeqs(prefix: string): Promise<number[]> {
    if (this.#closed) throw new LogClosedError();
    if (this.#held) await this.whenWritten(); // a held record's index entries are this log's to read
    const { top, nidxPrefix } = this.#subs;
    const gte = nidxPrefix + prefix;
    const it = top.keys<string>({ ...TEXT, gte, lt: gte + '\uffff' });
    const out: number[] = [];
    try {
      for (;;) {
        const keys = await it.nextv(CHUNK);
        if (keys.length === 0) break;
        for (const k of keys) {
          const seq = keySeq(k.substring(k.length - 16));
          if (!Number.isNaN(seq) && seq <= this.#head) out.push(seq);
        }
      }
    } finally {
      await it.close();
    }
    return out.sort((a, b) => a - b);
  }

  /** One record by seq (CRC- and seq-checked, as read() does), or undefined past the head. */
  async recordAt(seq: number): Promise<LogRecord | undefined> {
    if (this.#closed) throw new LogClosedError();
    if (this.#held) await this.whenWritten(); // a record held after an intent is this log's to read (read your writes)
    if (!Number.isInteger(seq) || seq < 1 || seq > this.#head) return undefined;
    const v = await this.#subs.log.get(seqKey(seq));
    if (v === undefined) throw new LogCorruptError(seq, `record ${seq} is missing`);
    return decodeRecord(v, seq, await this.#prevHashOf(seq, v));
  }

  /**
   * Records in seq order. Each is CRC-checked and must be the next seq and link to the previous
   * record's hash; otherwise LogCorruptError(seq) is thrown at that point.
   */
  read(range: ReadRange = {}): AsyncIterableIterator<LogRecord> {
    return new RecordIterator(this.readChunks(range));
  }

  /** As read(), a chunk at a time: the fast path for bulk consumers (fold, audit, history). */
  readChunks(range: ReadRange = {}): AsyncGenerator<LogRecord[], void, undefined> {
    return this.#chunks(range, (c, v) => c.next(v));
  }

  /**
   * As readChunks(), with the same checks (CRC, seq, link), but each record parsed and not yet
   * expanded (store/codec.ts RawRecord): for replay's fold of the stored form (replay/fold.ts foldRaw).
   */
  readRawChunks(range: ReadRange = {}): AsyncGenerator<RawRecord[], void, undefined> {
    return this.#chunks(range, (c, v) => c.nextRaw(v));
  }

  /**
   * As readRawChunks(), but each stored value is handed to `feed` with the reader that checks it
   * (CRC, seq, link: ChainReader.frame3At / nextRaw), not parsed here: for replay's lazy fold
   * (replay/fold-lazy.ts, issue 15), which reads a record's redo part without JSON.parse. Yields
   * the number of values fed, a chunk at a time. The CRCs of a chunk's values are checked
   * together first (store/crc-chunk.ts): `crcChecked` tells `feed` that the value's is sound; when
   * the chunk's check fails, each value's is checked on its own, which names the damaged one.
   */
  async *feedChunks(range: ReadRange, feed: (c: ChainReader, value: string, crcChecked: boolean) => void): AsyncGenerator<number, void, undefined> {
    for await (const chunk of this.#chunks(range, feed, true)) yield chunk.length;
  }

  async *#chunks<R>(range: ReadRange, decode: (c: ChainReader, value: string, crcChecked: boolean) => R, crcFirst = false): AsyncGenerator<R[], void, undefined> {
    if (this.#closed) throw new LogClosedError();
    // a record held after an intent (putIntentNow) is written before this log reads its own records
    if (this.#held) await this.whenWritten();
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
    // Read-ahead: the next chunk is requested before this one is decoded, so LevelDB's thread
    // reads while this one parses (and the consumer folds) instead of both waiting in turn.
    let ahead: Promise<string[]> = it.nextv(CHUNK);
    let chain: ChainReader | undefined;
    try {
      for (;;) {
        const values = await ahead;
        if (values.length === 0) return;
        chain ??= new ChainReader(gte, range.prevHash ?? await this.#prevHashOf(gte, values[0]));
        ahead = it.nextv(CHUNK);
        ahead.catch(() => undefined); // surfaced by the next await; not unhandled if we stop first
        const sound = crcFirst && crcsSound(values);
        const out: R[] = new Array(values.length);
        for (let i = 0; i < values.length; i++) out[i] = decode(chain, values[i]!, sound);
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
    // Encoded now, not when its turn comes: the caller's state may move on meanwhile.
    let value: string;
    try {
      value = encodeSnapshot(snap);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(async () => {
      if (!Number.isInteger(snap.seq) || snap.seq < 1 || snap.seq > this.#head) {
        throw new BlockgraphError('BG_BAD_INPUT', `snapshot seq ${snap.seq} is outside the log (head ${this.#head})`);
      }
      const hash = await this.#recordHash(snap.seq);
      if (hash !== snap.hash) {
        throw new BlockgraphError('BG_BAD_INPUT', `snapshot hash does not match record ${snap.seq}`);
      }
      await this.#subs.snap.put(seqKey(snap.seq), value, syncOption(opts.sync === true));
    });
  }

  /**
   * Stores one part of a snapshot being built (store/snapshot-parts.ts), unsynced, after every
   * write queued before it. Its manifest (putPartedSnapshot) is what makes it a snapshot.
   */
  putSnapshotPart(seq: number, part: number, value: string): Promise<void> {
    return this.#serial(async () => {
      await partsSublevel(this.#subs.root).put(partKey(seq, part), value);
    });
  }

  /** Stores the manifest of a snapshot whose parts are written: checked as putSnapshot checks a snapshot. */
  putPartedSnapshot(m: PartedManifest, opts: { sync?: boolean } = {}): Promise<void> {
    const value = encodeManifest(m);
    return this.#serial(async () => {
      if (!Number.isInteger(m.seq) || m.seq < 1 || m.seq > this.#head) {
        throw new BlockgraphError('BG_BAD_INPUT', `snapshot seq ${m.seq} is outside the log (head ${this.#head})`);
      }
      if ((await this.#recordHash(m.seq)) !== m.hash) throw new BlockgraphError('BG_BAD_INPUT', `snapshot hash does not match record ${m.seq}`);
      await this.#subs.snap.put(seqKey(m.seq), value, syncOption(opts.sync === true));
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
            const m = manifestOf(snap);
            if (m) return { seq: m.seq, hash: m.hash, stateHash: m.stateHash, state: (await assembleParts(this.#subs.root, m)) as S, skipped };
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
    if (v === undefined) return undefined;
    const problem = frameProblem(v, seq, true);
    if (problem !== undefined) throw new LogCorruptError(seq, problem);
    return headerHash(v);
  }

  /**
   * The full hash of record seq-1 for a read that starts at `seq` (a frame-2 record stores only
   * a link to it, which the reader then checks): "" for seq 1, the frame-1 record's own copy, or
   * the header of record seq-1.
   */
  async #prevHashOf(seq: number, value?: string): Promise<string | undefined> {
    if (seq <= 1) return '';
    const own = value === undefined ? undefined : storedPrevHash(value);
    if (own !== undefined) return own;
    return this.#recordHash(seq - 1).catch(() => undefined);
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
      this.#decided = 0;
      this.#head = this.#tip = r.head;
      this.#headHash = this.#tipHash = r.headHash;
      return r;
    });
  }

  /** Runs after every write already queued, completes tails and appended$, closes the database. */
  async close(): Promise<void> {
    if (this.#held !== undefined) this.#releaseHeld();
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

/** The stored index coverage claim (checked when read by indexCoverage, trusted for writing). */
async function indexMeta(subs: Sublevels): Promise<IndexMeta | undefined> {
  const raw = await subs.meta.get(NIDX_KEY);
  return raw === undefined ? undefined : decodeIndexMeta(raw);
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

