// The live writer: command -> model (decides, plans steps) -> log (txn.begun, steps,
// txn.decided and txn.ended in one synced batch, group-committed with the commands queued
// behind it) -> fold (the same reducer replay uses) -> committed records published on an rxjs
// Subject once durable. One engine per store; commands are serialized through one queue, so two
// callers never interleave a transaction.
import { Subject } from 'rxjs';
import { BlockgraphError } from '../errors/index.js';
import { digestApply, digestHex, stateDigest } from '../graph/hash.js';
import type { State } from '../graph/types.js';
import type { ModelBackend } from '../commands/model-host.js';
import { executeCommand, type ExecResult } from '../commands/model.js';
import { jsonSafe } from '../commands/json-safe.js';
import { emptyFold, foldRecord, type Fold } from '../replay/fold.js';
import { planRecovery, type RecoveryPlan } from '../replay/recover.js';
import type { EventLog } from '../store/index.js';
import type { LogRecord, NewRecord } from '../store/types.js';
import type { TxnCompensated, TxnStep } from '../events/types.js';

export interface EngineOptions {
  /** The injected clock: ISO time for each record. Machines never read a clock. */
  clock?: () => string;
  /** Write a snapshot every N records (0: never). */
  snapshotEvery?: number;
  /** Log refused commands as command.rejected (default true). */
  logRejected?: boolean;
  /** Test hook: called after each append with the records written so far in this txn. */
  afterAppend?: (phase: 'steps' | 'decided' | 'ended', records: LogRecord[]) => void | Promise<void>;
  /** Recover unfinished transactions on open (default true). */
  recover?: boolean;
  /**
   * Jobs found unfinished at recovery. 'resume' (default): the log models the QEMU process,
   * and a crash of blockgraph is not a crash of QEMU, so the jobs stay as logged, their
   * frozen links held by them. 'cancel': model a QEMU crash, which loses every job: each is
   * cancelled as job-cancel does (links unfrozen, filters removed), as a logged transaction.
   */
  recoverJobs?: 'resume' | 'cancel';
}

export const FIXED_CLOCK = () => '1970-01-01T00:00:00.000Z';

export class Engine implements ModelBackend {
  readonly committed$ = new Subject<LogRecord>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Multiset hash of the state, kept up to date from each appended record's changes. */
  private digest = 0n;
  private lastSnapshot = 0;
  /** Hash of the last folded record (it may still be in flight to the log). */
  private lastHash = '';
  lastRecovery: RecoveryPlan | null = null;
  /** Set when a log write failed: the folded state is then ahead of the log. */
  private failed: BlockgraphError | undefined;

  private constructor(readonly log: EventLog, private fold: Fold, private readonly opts: EngineOptions) {}

  /** Opens on a log: latest snapshot, fold of the rest, then recovery of unfinished txns. */
  static async open(log: EventLog, opts: EngineOptions = {}): Promise<Engine> {
    const fold = await loadFold(log);
    const e = new Engine(log, fold, opts);
    e.digest = stateDigest(fold.state); // once per open; then O(changes) per transaction
    e.lastSnapshot = fold.seq;
    e.lastHash = log.headHash;
    if (opts.recover !== false) await e.recover();
    return e;
  }

  get state(): State { return this.fold.state; }
  get head(): number { return this.fold.seq; }
  get openTransactions(): string[] { return [...this.fold.open.keys()]; }
  private now(): string { return (this.opts.clock ?? FIXED_CLOCK)(); }

  async recover(): Promise<RecoveryPlan> {
    return this.serial(async () => {
      const plan = planRecovery(this.fold, this.now());
      for (const b of plan.batches) await this.append(b.records, b.sync);
      if (this.opts.recoverJobs === 'cancel') {
        for (const proc of Object.keys(this.fold.state).sort()) {
          const jobs = Object.values(this.fold.state[proc]?.jobs ?? {}) as { status: string }[];
          if (jobs.some((j) => !['concluded', 'null', 'undefined'].includes(j.status))) {
            await this.run(proc, 'x-blockgraph-cancel-orphaned-jobs', {}, { causation: 'recovery' });
            plan.cancelledJobsIn = [...(plan.cancelledJobsIn ?? []), proc];
          }
        }
      }
      this.lastRecovery = plan;
      return plan;
    });
  }

  /**
   * Runs one command. Commands run one at a time in call order, but a command does not wait for
   * the previous one's write: its records join the log's next group commit, and its reply
   * resolves once they are durable (a query's once everything before it is). Pipelined or
   * concurrent clients thus share one synced batch per group instead of one per command.
   */
  execute(proc: string, command: string, args?: Record<string, unknown>, meta: { causation?: string } = {}): Promise<ExecResult> {
    return this.serial(() => this.run(proc, command, args, meta)).then(({ r, durable }) => durable.then(() => r));
  }

  private async run(proc: string, command: string, args: Record<string, unknown> | undefined, meta: { causation?: string }): Promise<{ r: ExecResult; durable: Promise<unknown> }> {
    if (this.failed) throw this.failed;
    const r = executeCommand(this.fold.state, proc, command, args);
    const at = this.now();
    // an error that still changed the graph (a transaction's abort residue) is logged as a txn
    if ('error' in r.reply && !r.mutates) {
      if (this.opts.logRejected !== false && command !== 'qmp_capabilities') {
        return { r, durable: this.submit([{ stream: proc, type: 'command.rejected', at, causation: meta.causation, data: { command, args: jsonSafe(args ?? {}), error: r.reply.error } }], false) };
      }
      return { r, durable: this.log.whenWritten() };
    }
    // A query answers from state that includes earlier commands: not before they are durable.
    if (!r.mutates) return { r, durable: this.log.whenWritten() };
    const txn = `t${this.fold.seq + 1}`;
    const base = { stream: proc, at, txn, causation: meta.causation };
    const begun: NewRecord = { ...base, type: 'txn.begun', data: { op: command, args: jsonSafe(args ?? {}), plan: r.steps.map((s) => s.name) } };
    const steps = r.steps.map((s): NewRecord => ({ ...base, type: 'txn.step', data: { name: s.name, changes: s.changes } }));
    const decided: NewRecord = { ...base, type: 'txn.decided', data: { outcome: 'commit', reply: r.reply, events: r.events } };
    const hook = this.opts.afterAppend;
    if (hook) {
      // The protocol's phases as separate writes, so specs can cut the log between them.
      const written: LogRecord[] = [];
      written.push(...await this.append([begun, ...steps], false));
      await hook('steps', written);
      written.push(...await this.append([decided], true));
      await hook('decided', written);
      // The state hash after the txn lets `replay --verify` name the first diverging seq.
      written.push(...await this.append([{ ...base, type: 'txn.ended', data: { stateHash: digestHex(this.digest) } }], false));
      await hook('ended', written);
      for (const rec of written) this.committed$.next(rec);
      await this.maybeSnapshot();
      return { r, durable: Promise.resolve() };
    }
    // One synced batch for the whole transaction. A LevelDB batch is atomic, so no crash can
    // cut between begun, the steps, the decision and the end: recovery never has anything to do
    // for it, and the log holds the same records the phased writes give (and old logs open).
    let digest = this.digest;
    for (const s of r.steps) digest = digestApply(digest, s.changes);
    const ended: NewRecord = { ...base, type: 'txn.ended', data: { stateHash: digestHex(digest) } };
    const durable = this.submit([begun, ...steps, decided, ended], true);
    // Taken of the folded state now (putSnapshot encodes at once) and written after the group.
    this.maybeSnapshot().catch(() => undefined);
    return { r, durable };
  }

  /**
   * Appends and folds at once (the log assigns seqs and hashes synchronously) and returns the
   * write's promise; committed records are published once durable. A failed write leaves the
   * folded state ahead of the log: the engine refuses everything after it (reopen to recover).
   */
  private submit(records: NewRecord[], sync: boolean): Promise<void> {
    const { records: out, durable } = this.log.appendNow(records, { expectedSeq: this.fold.seq + 1, sync });
    this.foldAll(out);
    return durable.then(
      () => { for (const rec of out) this.committed$.next(rec); },
      (e: unknown) => {
        this.failed ??= new BlockgraphError('BG_LOG_CLOSED', `a log write failed; the engine stops (reopen the store to recover): ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
  }

  /** Audit record for input refused before it became a command (malformed QMP). */
  reject(proc: string, data: Record<string, unknown> | Record<string, unknown>[]): Promise<void> {
    // several refusals (one read of garbage can hold thousands) go in one append
    const all = Array.isArray(data) ? data : [data];
    if (!all.length) return Promise.resolve();
    return this.serial(async () => {
      const at = this.now();
      await this.append(all.map((d) => ({ stream: proc, type: 'command.rejected', at, data: d })), false);
    });
  }

  private async append(records: NewRecord[], sync: boolean): Promise<LogRecord[]> {
    if (this.failed) throw this.failed;
    const out = await this.log.append(records, { expectedSeq: this.fold.seq + 1, sync });
    this.foldAll(out);
    return out;
  }

  private foldAll(out: LogRecord[]): void {
    if (out.length) this.lastHash = out[out.length - 1]!.hash;
    for (const rec of out) {
      foldRecord(this.fold, rec);
      if (rec.type === 'txn.step') this.digest = digestApply(this.digest, (rec.data as TxnStep).changes);
      else if (rec.type === 'txn.compensated') this.digest = digestApply(this.digest, (rec.data as TxnCompensated).changes, 'undo');
    }
  }

  private async maybeSnapshot() {
    const n = this.opts.snapshotEvery ?? 0;
    // Between transactions only. A snapshot of records still in flight is encoded now and
    // stored after them (the log's queue); if their write fails it is refused with them.
    if (!n || this.fold.seq - this.lastSnapshot < n || this.fold.open.size) return;
    this.lastSnapshot = this.fold.seq;
    await this.log.putSnapshot({ seq: this.fold.seq, hash: this.lastHash, stateHash: digestHex(this.digest), state: this.fold.state });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}

/** Latest usable snapshot plus every record after it. */
export async function loadFold(log: EventLog, upTo?: number): Promise<Fold> {
  const fold = emptyFold();
  let anchor = '';
  const snap = await log.latestSnapshot<State>(upTo, { skipCorrupt: true }); // a damaged snapshot: an older one, or a full fold
  if (snap && snap.seq > 0) {
    // A snapshot is taken only between transactions, so no txn is open at its seq.
    fold.state = structuredClone(snap.state);
    fold.seq = snap.seq;
    anchor = snap.hash;
  }
  // The first record after the snapshot must link to it (an anchored range read).
  for await (const chunk of log.readChunks({ gte: fold.seq + 1, prevHash: anchor, ...(upTo !== undefined ? { lte: upTo } : {}) })) {
    for (const rec of chunk) foldRecord(fold, rec);
  }
  return fold;
}
