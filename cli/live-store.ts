// The store as `blockgraph qmp --db DIR` holds it: the engine behind a backend that survives
// storage failures, and the read socket that lets read commands see the store meanwhile
// (store/live.ts).
//
// A full disk (or any I/O error) while a command is logged: LevelDB keeps a write error as its
// background error and refuses every later write until the database is reopened
// (leveldb/db/db_impl.cc RecordBackgroundError / MakeRoomForWrite), so the backend refuses the
// command with a GenericError, closes the store and opens it again (recovery finishes or rolls
// back the transaction that was cut, as after a crash), retrying the reopen before each later
// command until space is back. A reply is only ever sent for a decision that was synced
// (engine/engine.ts syncs txn.decided): if the failure came after that sync, the reopened log
// holds the decision and its recorded reply is the answer; otherwise the command is refused.
//
// While the store cannot be written, a command that only reads (query-named-block-nodes,
// query-version, query-block-jobs, …) is answered from the last durable state, the state at the
// failed log's head, as QSD answers it whatever its disk does: a query writes no record, so
// nothing is lost by answering it. A command the model refuses without changing the graph is
// answered with its error too; its command.rejected record cannot be written, and that loss is
// reported as a refusal of malformed input's is. Only a command that would change the graph is
// refused ("… was not carried out"): it cannot be made durable.
import type { ModelBackend } from '../commands/model-host.js';
import type { ExecResult } from '../commands/model.js';
import { Engine, loadFold } from '../engine/engine.js';
import { executeCommand } from '../commands/model.js';
import { isBlockgraphError } from '../errors/index.js';
import { procNameProblem } from '../graph/proc-name.js';
import type { State } from '../graph/types.js';
import { levelError, openClassic, serveStoreReads, type EventLog, type LiveServer } from '../store/index.js';
import type { OpenClassicOptions } from '../store/open.js';
import { isNatsUrl } from '../store/jetstream/url.js';
import { foldPendingIntent } from '../replay/intent-fold.js';

/** A LevelDB directory, or a host's log in the fleet stream (loaded only then: nats is heavy). */
async function openAt(location: string, opts: OpenClassicOptions = {}): Promise<EventLog> {
  if (!isNatsUrl(location)) return openClassic(location, opts);
  return (await import('../store/jetstream/location.js')).openStoreAt(location, opts);
}

export interface ServedStoreOptions {
  clock: () => string;
  snapshotEvery?: number;
  /** The engine's intentFirst (engine/engine.ts EngineOptions; default true, `false`: qmp --no-intent-first). */
  intentFirst?: boolean;
  /** Where to say what happened to the store (stderr). */
  warn?: (line: string) => void;
  /** The log's hold of a record after its intent (store/event-log.ts OpenOptions.holdMs; specs set it long). */
  holdMs?: number;
}

function isStorageError(e: unknown): boolean {
  const m = levelError(e, '');
  return isBlockgraphError(m) && (m.code === 'BG_STORAGE_IO' || m.code === 'BG_STORE_DAMAGED' || m.code === 'BG_LOG_CLOSED');
}

function why(e: unknown): string {
  const m = levelError(e, 'store');
  const info = isBlockgraphError(m) ? m.info.reason : undefined;
  return typeof info === 'string' ? info : String((m as Error)?.message ?? m);
}

export class ServedStore implements ModelBackend {
  #log: EventLog;
  #engine: Engine;
  /** Set while the store is not usable: the reason, until a reopen succeeds. */
  #broken: string | undefined;
  /** Refusal records of malformed input dropped while the store was not writable (reported when it is again). */
  #unlogged = 0;
  /** command.rejected records of commands refused (from the durable state) while the store was not writable. */
  #unloggedRefused = 0;
  /** While the store is not usable: the state at the failed log's head (what was made durable), if it could be read. */
  #durable: State | undefined;
  #reads: LiveServer | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;

  private constructor(readonly location: string, log: EventLog, engine: Engine, private readonly opts: ServedStoreOptions) {
    this.#log = log;
    this.#engine = engine;
  }

  static async open(location: string, opts: ServedStoreOptions): Promise<ServedStore> {
    // checked on a view first: a store refused at start keeps its files as they were
    const log = await openAt(location, { checkFirst: true, ...(opts.holdMs !== undefined ? { holdMs: opts.holdMs } : {}) });
    let engine: Engine;
    try {
      engine = await Engine.open(log, { clock: opts.clock, snapshotEvery: opts.snapshotEvery ?? 1000, intentFirst: opts.intentFirst !== false });
    } catch (e) {
      await log.close().catch(() => undefined);
      throw e;
    }
    const s = new ServedStore(location, log, engine, opts);
    // A fleet store is read from the stream itself; a LevelDB store only through this server.
    if (!isNatsUrl(location)) s.#reads = await serveStoreReads(() => s.#log, location);
    return s;
  }

  get state(): State { return this.#engine.state; }
  get log(): EventLog { return this.#log; }
  get engine(): Engine { return this.#engine; }

  /** In call order; with nothing queued `fn` starts now, without a microtask hop (as Engine's serial). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    let run: Promise<T>;
    // (no caller runs serial() from inside its fn: nothing here nests)
    if (this.#pending++ === 0) {
      try { run = fn(); } catch (e) { run = Promise.reject(e); }
    } else {
      run = this.#queue.then(fn, fn);
    }
    const done = () => { this.#pending--; };
    this.#queue = run.then(done, done); // settles when run does, never rejects
    return run;
  }

  async #reopen(): Promise<boolean> {
    await this.#log.close().catch(() => undefined);
    try {
      const log = await openAt(this.location, { verify: 'since-snapshot', ...(this.opts.holdMs !== undefined ? { holdMs: this.opts.holdMs } : {}) });
      try {
        this.#engine = await Engine.open(log, { clock: this.opts.clock, snapshotEvery: this.opts.snapshotEvery ?? 1000, intentFirst: this.opts.intentFirst !== false });
      } catch (e) {
        await log.close().catch(() => undefined);
        throw e;
      }
      this.#log = log;
      if (this.#broken) {
        const parts = [
          ...(this.#unlogged ? [`${this.#unlogged} refusal record(s) of malformed input`] : []),
          ...(this.#unloggedRefused ? [`${this.#unloggedRefused} record(s) of refused commands`] : []),
        ];
        const lost = parts.length ? `; ${parts.join(' and ')} were not logged meanwhile` : '';
        this.opts.warn?.(`blockgraph: store ${this.location} is writable again${lost}`);
      }
      this.#unlogged = 0;
      this.#unloggedRefused = 0;
      this.#broken = undefined;
      this.#durable = undefined;
      return true;
    } catch (e) {
      this.#broken = why(e);
      return false;
    }
  }

  /**
   * The state the failed `log` made durable: its head's (the head moves only once a batch is
   * written), folded from its latest snapshot as an open does. The engine's own state cannot
   * serve: it folded the failed batch already. Read before the log is closed for the reopen;
   * undefined when even reading fails (then every command is refused, as before).
   */
  async #keepDurable(log: EventLog): Promise<void> {
    if (this.#durable !== undefined || log.closed) return;
    try {
      // (the written head: a record held after its intent, whose write failed, is not in it; its
      // intent, synced and acknowledged, is folded next)
      const f = await loadFold(log, log.writtenHead);
      // a pending intent was acknowledged on its own sync: its command is durable too (replay/intent-fold.ts)
      await foldPendingIntent(log, f);
      this.#durable = f.state;
    } catch {
      this.#durable = undefined;
    }
  }

  /** Once per episode: the first record lost while the store cannot be written is reported. */
  #reportLoss(what: string): void {
    if (this.#unlogged + this.#unloggedRefused === 0) {
      this.opts.warn?.(`blockgraph: store ${this.location}: ${this.#broken}; ${what} are answered but not logged until it is writable again`);
    }
  }

  /**
   * A command while the store cannot be written: a read is answered from the durable state, a
   * refusal with its error (its record's loss counted), anything that changes the graph refused.
   */
  #whileBroken(proc: string, command: string, args: Record<string, unknown> | undefined): ExecResult {
    const reason = this.#broken ?? 'unknown';
    const state = this.#durable;
    if (state === undefined || procNameProblem(proc)) return this.#refusal(command, reason);
    let r: ExecResult;
    try {
      r = executeCommand(state, proc, command, args); // runs on a Draft: the state is not changed
    } catch {
      return this.#refusal(command, reason);
    }
    if (r.mutates) return this.#refusal(command, reason);
    // a refusal the engine would have logged as command.rejected (engine/engine.ts decideNow)
    if ('error' in r.reply && command !== 'qmp_capabilities') {
      this.#reportLoss('refusals of commands and of malformed input');
      this.#unloggedRefused++;
    }
    return r;
  }

  #refusal(command: string, reason: string): ExecResult {
    const desc = `blockgraph: the store could not be written (${reason}); '${command}' was not carried out`;
    return { reply: { error: { class: 'GenericError', desc } }, mutates: false, steps: [], events: [], state: this.state } as ExecResult;
  }

  /**
   * The reply recorded for transaction `txn` (`t<seq of its txn.begun>`) if its commit decision
   * reached `log`. On the log that failed, only up to its head: the head moves only after a
   * batch was written (and, for the decision, fsynced), so what lies beyond it was never durable.
   */
  async #decided(txn: string, log: EventLog = this.#log): Promise<ExecResult | undefined> {
    if (log.closed) return undefined;
    const begun = Number(/^t(\d+)$/.exec(txn)?.[1]);
    if (!Number.isSafeInteger(begun) || begun > log.head) return undefined;
    for await (const r of log.read({ gte: begun, lte: log.head })) {
      // a whole transaction (events/whole.ts) holds its decision in its begun record
      const decision = r.txn !== txn ? undefined : r.type === 'txn.decided' ? r.data : r.type === 'txn.begun' ? (r.data as { decided?: unknown }).decided : undefined;
      if (decision) {
        const d = decision as { outcome?: string; reply?: unknown; events?: unknown };
        if (d.outcome !== 'commit') return undefined;
        return { reply: d.reply, events: Array.isArray(d.events) ? d.events : [], mutates: true, steps: [], state: this.state } as unknown as ExecResult;
      }
    }
    return undefined;
  }

  /**
   * Hands the command to the engine in call order, without waiting for the commands before it to
   * be durable: the engine runs them one at a time and group-commits their records, and each
   * reply resolves once its own records are synced (pipelined and concurrent clients share
   * fsyncs). A storage failure is handled in the same order: the first command that meets it
   * reopens the store; each failed command is answered from its recorded decision if that
   * reached the log, and refused otherwise.
   */
  execute(proc: string, command: string, args?: Record<string, unknown>): Promise<ExecResult> {
    if (this.#pending === 0 && this.#broken === undefined) {
      // Nothing queued (no reopen, no failure being answered) and the store writable: handed to
      // the engine now, without a place in the queue (the hand-off is synchronous); a failure is
      // answered as below. Before, each command made the queue's promises and an async hop
      // (issue 15: promises per command counted in specs/engine/command-promises.spec.ts).
      const engine = this.#engine;
      const log = this.#log;
      let txn: string | undefined;
      return engine.execute(proc, command, args, { onTxn: (t) => { txn = t; } })
        .then(undefined, (e: unknown) => this.#failed(e, engine, log, txn, command));
    }
    type Handed = { refused: ExecResult } | { result: Promise<ExecResult>; engine: Engine; log: EventLog; txn: () => string | undefined };
    return this.#serial(async (): Promise<Handed> => {
      if (this.#broken !== undefined && !(await this.#reopen())) return { refused: this.#whileBroken(proc, command, args) };
      const engine = this.#engine;
      const log = this.#log;
      let txn: string | undefined;
      const result = engine.execute(proc, command, args, { onTxn: (t) => { txn = t; } });
      result.catch(() => undefined); // handled below, in order
      return { result, engine, log, txn: () => txn };
    }).then(async (h): Promise<ExecResult> => {
      if ('refused' in h) return h.refused;
      try {
        return await h.result;
      } catch (e) {
        return this.#failed(e, h.engine, h.log, h.txn(), command);
      }
    });
  }

  /** A command the engine refused by throwing: a storage failure is answered in order, anything else as a GenericError. */
  #failed(e: unknown, engine: Engine, log: EventLog, txn: string | undefined, command: string): Promise<ExecResult> | ExecResult {
    if (!isStorageError(e)) {
      const desc = isBlockgraphError(e) ? e.message : String((e as Error)?.message ?? e);
      return { reply: { error: { class: 'GenericError', desc } }, mutates: false, steps: [], events: [], state: this.state } as ExecResult;
    }
    return this.#serial(() => this.#afterFailure(e, engine, log, txn, command));
  }

  /** A command whose write failed: its recorded reply if the decision is durable, else a refusal. */
  async #afterFailure(e: unknown, engine: Engine, log: EventLog, txn: string | undefined, command: string): Promise<ExecResult> {
    // The decision may be durable although a later write failed (the anchor, a snapshot): then
    // the command was carried out, and its recorded reply is the answer.
    const durable = txn ? await this.#decided(txn, log).catch(() => undefined) : undefined;
    let reason = this.#broken;
    if (this.#engine === engine) {
      // the first failed command of this engine: the store is reopened (recovery runs)
      reason = this.#broken = why(e);
      this.opts.warn?.(`blockgraph: store ${this.location}: ${reason}; refusing '${command}' and reopening the store`);
      await this.#keepDurable(log);
      await this.#reopen();
    }
    if (durable) return durable;
    if (txn && this.#broken === undefined) {
      const done = await this.#decided(txn).catch(() => undefined);
      if (done) return done;
    }
    return this.#refusal(command, reason ?? why(e));
  }

  /** The audit record of malformed input: never worth dying for. */
  reject(proc: string, data: Record<string, unknown> | Record<string, unknown>[]): Promise<void> {
    const count = Array.isArray(data) ? data.length : 1;
    return this.#serial(async () => {
      // A store that could not be written is tried again (as a command does); while it still
      // cannot be, the refusal is answered unlogged and the loss reported: once per episode on
      // stderr, then counted in the "writable again" line (a flood of garbage on a full disk
      // must not flood stderr). Before, it was dropped without a word.
      if (this.#broken !== undefined && !(await this.#reopen())) {
        this.#reportLoss('refusals of malformed input');
        this.#unlogged += count;
        return;
      }
      const log = this.#log;
      try {
        await this.#engine.reject(proc, data);
      } catch (e) {
        this.#broken = why(e);
        this.opts.warn?.(`blockgraph: store ${this.location}: ${this.#broken}; a refusal of malformed input was not logged`);
        this.#unlogged += count;
        await this.#keepDurable(log);
        await this.#reopen();
      }
    });
  }

  async close(): Promise<void> {
    this.#reads?.close();
    await this.#serial(async () => { await this.#log.close().catch(() => undefined); });
  }
}

