// The live writer: command -> model (decides, plans steps) -> log (one record holding txn.begun,
// its steps and the decision carrying the end, events/whole.ts; group-committed with the commands queued
// behind it) -> fold (the same reducer replay uses) -> committed records published on an rxjs
// Subject once durable. One engine per store; commands are serialized through one queue, so two
// callers never interleave a transaction.
import { redactSecrets } from './redact-secrets.js';
import { Subject } from 'rxjs';
import { BadProcessNameError, BlockgraphError, ModelCrashError } from '../errors/index.js';
import { procNameProblem } from '../graph/proc-name.js';
import { DigestCache, digestApply, digestApplySteps, digestHex, stateDigest } from '../graph/hash.js';
import type { State } from '../graph/types.js';
import type { ModelBackend } from '../commands/model-host.js';
import { executeCommand, type ExecResult } from '../commands/model.js';
import { jsonSafe } from '../commands/json-safe.js';
import { emptyFold, foldRaw, foldRecord, type Fold } from '../replay/fold.js';
import { LazyFold } from '../replay/fold-lazy.js';
import { planRecovery, type RecoveryPlan } from '../replay/recover.js';
import type { EventLog } from '../store/index.js';
import type { LogRecord, NewRecord } from '../store/types.js';
import { current, type TxnCompensated } from '../events/types.js';
import { stepsOf } from '../events/whole.js';
import { entityCount, PART_ENTITIES, SnapshotBuild } from './snapshot-build.js';
import { encodeIntent, intentEligible, pendingIntent, type Intent } from './intent.js';
import { rejectedRecordOf, wholeRecordOf } from './whole-record.js';

export interface EngineOptions {
  /** The injected clock: ISO time for each record. Machines never read a clock. */
  clock?: () => string;
  /**
   * Write a snapshot every N records (0: never; default DEFAULT_SNAPSHOT_EVERY). A read of a
   * store verifies from its latest snapshot, so a log written with none is checked from seq 1 by
   * every `show --at`, `log` or `diff`: the default is the CLI's own figure, not 0.
   */
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
  /**
   * The intent before the model (engine/intent.ts; docs/drills.md "Version 7"; default true since
   * stop 43, `false` turns it off: `qmp --no-intent-first`): a
   * command that may change the graph, arriving while the log writes nothing, is first put in the
   * intent slot in a synced batch handed to the database at once; the model, the digest and the
   * record run while it syncs, and the record follows unsynced (a later synced batch makes it
   * durable; a crash before then is recovered by running the intent again). The reply waits for
   * the intent's sync. Replies, records and states are the same as without it. The log's `head`
   * is then its decided head (store/event-log.ts): a replied command's record is in it even while
   * the record is held for the next intent's batch.
   */
  intentFirst?: boolean;
}

export const FIXED_CLOCK = () => '1970-01-01T00:00:00.000Z';

/** Records between two snapshots when EngineOptions.snapshotEvery is not given. */
export const DEFAULT_SNAPSHOT_EVERY = 1000;

export class Engine implements ModelBackend {
  readonly committed$ = new Subject<LogRecord>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls in the queue or running (0: the next one may start at once). */
  private pending = 0;
  /** Multiset hash of the state, kept up to date from each appended record's changes. */
  private digest = 0n;
  /** Each state image's digest, so that a before-image is not digested again (graph/hash.ts). */
  private readonly digests = new DigestCache();
  private lastSnapshot = 0;
  /** A snapshot being written in parts, a slice per command (engine/snapshot-build.ts). */
  private build: SnapshotBuild | undefined;
  /** Hash of the last folded record (it may still be in flight to the log). */
  private lastHash = '';
  lastRecovery: RecoveryPlan | null = null;
  /** The pending intent the last open ran again (engine/intent.ts), and whether it wrote a record. */
  lastIntent: { seq: number; op: string; wrote: boolean; head: number } | null = null;
  /** Set when a log write failed: the folded state is then ahead of the log. */
  private failed: BlockgraphError | undefined;

  private constructor(readonly log: EventLog, private fold: Fold, private readonly opts: EngineOptions) {}

  /** Opens on a log: latest snapshot, fold of the rest, then recovery of unfinished txns. */
  static async open(log: EventLog, opts: EngineOptions = {}): Promise<Engine> {
    const fold = await loadFold(log);
    const e = new Engine(log, fold, opts);
    e.digest = stateDigest(fold.state, e.digests); // once per open; then O(changes) per transaction
    e.lastSnapshot = fold.seq;
    e.lastHash = log.headHash;
    if (opts.recover !== false) {
      await e.completeIntent();
      await e.recover();
    }
    return e;
  }

  get state(): State { return this.fold.state; }
  get head(): number { return this.fold.seq; }
  get openTransactions(): string[] { return [...this.fold.open.keys()]; }
  private now(): string { return (this.opts.clock ?? FIXED_CLOCK)(); }

  /**
   * A pending intent (its synced request with no record after it: a crash came between them) is
   * run again by the same model on the state before it with its recorded inputs (time, seq,
   * causation), which gives the record the engine was writing, byte for byte, and the after-state
   * its reply announced; the record is appended (synced). A refusal appends its command.rejected
   * as the first run did; a model crash (ModelCrashError) was never answered with success: the
   * intent is left behind, stale once any record takes its seq.
   */
  private async completeIntent(): Promise<void> {
    const i = await pendingIntent(this.log);
    if (!i) return;
    let out: { r: ExecResult; durable: Promise<unknown> };
    try {
      out = this.runNow(i.stream, i.op, i.args, { causation: i.causation }, i);
    } catch (e) {
      if (e instanceof ModelCrashError) return void (this.lastIntent = { seq: i.seq, op: i.op, wrote: false, head: this.log.head });
      throw e;
    }
    await out.durable;
    this.lastIntent = { seq: i.seq, op: i.op, wrote: this.log.head >= i.seq, head: this.log.head };
  }

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
  execute(proc: string, command: string, args?: Record<string, unknown>, meta: { causation?: string; onTxn?: (txn: string) => void } = {}): Promise<ExecResult> {
    const bad = procNameProblem(proc);
    if (bad) return Promise.reject(new BadProcessNameError(proc, bad));
    // Nothing queued and no phased writes (specs' afterAppend hook): the command runs now and is
    // over when runNow returns (the model, the append and the fold are synchronous), so it takes
    // no place in the queue; its reply waits for its write alone. Before, each command also made
    // run()'s promise, the queue's and the hop from { r, durable } (issue 15: promises per
    // command are counted in specs/engine/command-promises.spec.ts).
    if (this.pending === 0 && !this.opts.afterAppend) {
      let out: { r: ExecResult; durable: Promise<unknown> };
      try {
        out = this.runNow(proc, command, args, meta);
      } catch (e) {
        return Promise.reject(e);
      }
      return out.durable.then(() => out.r);
    }
    return this.serial(() => this.run(proc, command, args, meta)).then(({ r, durable }) => durable.then(() => r));
  }

  /** The phased path (specs' afterAppend hook), or a command that waited in the queue. */
  private async run(proc: string, command: string, args: Record<string, unknown> | undefined, meta: { causation?: string; onTxn?: (txn: string) => void }): Promise<{ r: ExecResult; durable: Promise<unknown> }> {
    const hook = this.opts.afterAppend;
    if (!hook) return this.runNow(proc, command, args, meta);
    const d = this.decideNow(proc, command, args, meta);
    if ('durable' in d) return d;
    const { r, base } = d;
    const begun: NewRecord = { ...base, ...current('txn.begun'), data: { op: command, args: jsonSafe(redactSecrets(command, args) ?? {}), plan: r.steps.map((s) => s.name) } };
    const steps = r.steps.map((s): NewRecord => ({ ...base, ...current('txn.step'), data: { name: s.name, changes: s.changes } }));
    const decided: NewRecord = { ...base, ...current('txn.decided'), data: { outcome: 'commit', reply: r.reply, events: r.events } };
    // The protocol's phases as separate writes, so specs can cut the log between them.
    const written: LogRecord[] = [];
    written.push(...await this.append([begun, ...steps], false));
    await hook('steps', written);
    written.push(...await this.append([decided], true));
    await hook('decided', written);
    // The state hash after the txn lets `replay --verify` name the first diverging seq.
    written.push(...await this.append([{ ...base, ...current('txn.ended'), data: { stateHash: digestHex(this.digest) } }], false));
    await hook('ended', written);
    for (const rec of written) this.committed$.next(rec);
    await this.maybeSnapshot();
    return { r, durable: Promise.resolve() };
  }

  /**
   * The model's decision, and what a refusal or a query answers with (`durable`: what its reply
   * waits for); for a command that changes the graph, its transaction's envelope.
   */
  private decideNow(proc: string, command: string, args: Record<string, unknown> | undefined, meta: { causation?: string; onTxn?: (txn: string) => void }, given?: string):
    { r: ExecResult; durable: Promise<unknown> } | { r: ExecResult; seq: number; base: { stream: string; at: string; txn: string; causation: string | undefined } } {
    if (this.failed) throw this.failed;
    const r = decide(this.fold.state, proc, command, args);
    const at = given ?? this.now();
    // an error that still changed the graph (a transaction's abort residue) is logged as a txn
    if ('error' in r.reply && !r.mutates) {
      if (this.opts.logRejected !== false && command !== 'qmp_capabilities') {
        return { r, durable: this.submit([rejectedRecordOf(command, args, r.reply.error, proc, at, meta.causation)], false) };
      }
      return { r, durable: this.log.whenWritten() };
    }
    // A query answers from state that includes earlier commands: not before they are durable.
    if (!r.mutates) return { r, durable: this.log.whenWritten() };
    const seq = this.fold.seq + 1;
    const txn = `t${seq}`;
    meta.onTxn?.(txn); // the caller can look for its decision if the write fails (cli/live-store.ts)
    return { r, seq, base: { stream: proc, at, txn, causation: meta.causation } };
  }

  /**
   * A command without the phased writes: decided, appended (its batch handed to the log) and
   * folded before this returns; `durable` settles with its write.
   */
  private runNow(proc: string, command: string, args: Record<string, unknown> | undefined, meta: { causation?: string; onTxn?: (txn: string) => void }, again?: Intent): { r: ExecResult; durable: Promise<unknown> } {
    // The intent first (engine/intent.ts): its synced batch is on the pool before the model runs.
    // `at` is taken for it, and the records take the same; `again`: a pending intent run again.
    let at = again?.at;
    let intent: Promise<void> | undefined;
    if (this.opts.intentFirst !== false && again === undefined && this.failed === undefined && intentEligible(command, args)) {
      const when = this.now();
      const v = encodeIntent({ seq: this.fold.seq + 1, prev: this.lastHash, stream: proc, at: when, causation: meta.causation, op: command, args: args ?? {} });
      intent = v === undefined ? undefined : this.log.putIntentNow(v);
      // (awaited below, or by the reply of a refusal through the log's queue; its rejection is
      // handled by the log's own whenWritten promise, so no catch is made here). The records take
      // the time read for it, put or not: one clock reading per command, as without the intent.
      at = when;
    }
    const d = this.decideNow(proc, command, args, meta, at);
    if ('durable' in d) return d;
    const { r, seq, base } = d;
    // One synced batch for the whole transaction. A LevelDB batch is atomic, so no crash can
    // cut between begun, the steps and the decision: recovery never has anything to do for it.
    // The end therefore needs no record of its own: the decision carries it (`ended`, with the
    // state hash after the txn; events/ends.ts), one record fewer per command. The phased path
    // (run) keeps txn.ended apart, as recovery and logs cut between the phases need.
    // And since nothing can come between them, the whole transaction is one record (format
    // version 4, events/whole.ts): begun holding its steps and that decision, without the
    // envelopes and frame headers of the separate records (issue 15). It is made as that one
    // record: the phased path's begun, step and decided records (their data as here) are not.
    // the net change of each entity: an image one step hands on to the next is not digested (graph/hash.ts)
    // (a before-image the state holds was digested when it came in: looked up, not computed)
    const digest = digestApplySteps(this.digest, r.steps, this.digests);
    // (built member by member: properties added after a spread go to a detached V8 map, a new
    // hidden class per command; issue 15)
    const whole = wholeRecordOf(r, command, args, base, digest);
    // The digest after the txn is the one just computed from the steps: folding the record
    // does not compute it a second time (two canonical encodings and hashes per changed entity).
    let durable: Promise<void>;
    try {
      // with an intent, unsynced: the intent makes the command durable, and the next synced
      // batch (an intent's, or a group's) makes the record so; the reply waits for the intent
      const { durable: written, decided } = this.submitWhole([whole], digest, intent === undefined);
      // with an intent, the reply waits for it: the log's decided head moves to the record once it
      // is synced (store/event-log.ts); the record's own write (`written`) never rejects then: a
      // failure of it stops the engine all the same (submitWhole)
      durable = intent ? (decided ?? intent.then(undefined, this.stop)) : written;
    } finally {
      // folded: the after-images just digested are the state's now (or nothing was appended)
      if (this.fold.seq === seq) this.digests.settle(this.fold.state);
      else this.digests.drop();
    }
    // Taken of the folded state now (putSnapshot encodes at once) and written after the group;
    // the async call only when one is due or being built (most commands: none)
    if (this.snapshotDue()) this.maybeSnapshot().catch(() => undefined);
    return { r, durable };
  }

  /**
   * Appends and folds at once (the log assigns seqs and hashes synchronously) and returns the
   * write's promise; committed records are published once durable. A failed write leaves the
   * folded state ahead of the log: the engine refuses everything after it (reopen to recover).
   */
  private submit(records: NewRecord[], sync: boolean, digestAfter?: bigint): Promise<void> {
    if (digestAfter !== undefined) return this.submitWhole(records, digestAfter).durable;
    // the records come from the model: parsed back while the batch is written (store/types.ts)
    const { records: out, durable } = this.log.appendNow(records, { expectedSeq: this.fold.seq + 1, sync, parseAfterHandOff: true });
    this.foldAll(out, digestAfter);
    return durable.then(
      () => { for (const rec of out) this.committed$.next(rec); },
      (e: unknown) => this.writeFailed(e),
    );
  }

  /** writeFailed, made once (the intent's failure handler, handed to the log per command). */
  private readonly stop = (e: unknown): never => this.writeFailed(e);

  private writeFailed(e: unknown): never {
    this.failed ??= new BlockgraphError('BG_LOG_CLOSED', `a log write failed; the engine stops (reopen the store to recover): ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }

  /**
   * A whole transaction (synced, its digest after known), folded as replay folds it: from the
   * stored form parsed back (replay/fold.ts foldRaw: the redo part, the after-images), so the
   * engine's state is the one a replay of the log computes by the same code (issue 15). The full
   * record (its undo part expanded: before-images, args, decision) is made only for a listener
   * of committed$ or appended$; before, every command decoded it in full to fold it.
   */
  private submitWhole(records: NewRecord[], digestAfter: bigint, sync = true): { durable: Promise<void>; decided: Promise<void> | undefined } {
    const { raws, record, durable, decided } = this.log.appendRawNow(records, { expectedSeq: this.fold.seq + 1, sync, afterIntent: !sync, intentFailed: this.stop });
    try {
      for (let i = 0; i < raws.length; i++) {
        // A snapshot in the making keeps the values of its seq before they change: the entities
        // the record changes are those of its steps as the model made them.
        if (this.build) for (const s of stepsOf(records[i] as LogRecord)) this.build.note(this.fold.state, s.changes);
        foldRaw(this.fold, raws[i]!);
      }
    } catch (e) {
      // the stored form of the engine's own record did not fold (a codec bug): the state may be
      // part way through it, so nothing more is taken (reopen to recover; verify reports it)
      this.writeFailed(e);
    }
    if (raws.length) this.lastHash = raws[raws.length - 1]!.hash;
    this.digest = digestAfter;
    return {
      durable: durable.then(
        () => { if (this.committed$.observed) for (let i = 0; i < raws.length; i++) this.committed$.next(record(i)); },
        // unsynced after an intent: nobody waits for this write (the reply waits for the intent),
        // so its failure stops the engine without rejecting (no unhandled rejection, no catch)
        sync ? (e: unknown) => this.writeFailed(e) : (e: unknown) => { try { this.writeFailed(e); } catch { /* stopped */ } },
      ),
      decided,
    };
  }

  /** Audit record for input refused before it became a command (malformed QMP). */
  reject(proc: string, data: Record<string, unknown> | Record<string, unknown>[]): Promise<void> {
    // several refusals (one read of garbage can hold thousands) go in one append
    const all = Array.isArray(data) ? data : [data];
    if (!all.length) return Promise.resolve();
    const bad = procNameProblem(proc);
    if (bad) return Promise.reject(new BadProcessNameError(proc, bad));
    return this.serial(async () => {
      const at = this.now();
      await this.append(all.map((d) => ({ stream: proc, ...current('command.rejected'), at, data: d })), false);
    });
  }

  private async append(records: NewRecord[], sync: boolean): Promise<LogRecord[]> {
    if (this.failed) throw this.failed;
    const out = await this.log.append(records, { expectedSeq: this.fold.seq + 1, sync });
    this.foldAll(out);
    return out;
  }

  /** Folds appended records; `digestAfter`: the state digest after them, when already known. */
  private foldAll(out: LogRecord[], digestAfter?: bigint): void {
    if (out.length) this.lastHash = out[out.length - 1]!.hash;
    for (const rec of out) {
      // A snapshot in the making keeps the values of its seq before they change.
      if (this.build) {
        // a whole transaction's steps, all before it is folded: note keeps the first value seen
        if (rec.type === 'txn.compensated') this.build.note(this.fold.state, (rec.data as TxnCompensated).changes);
        else for (const s of stepsOf(rec)) this.build.note(this.fold.state, s.changes);
      }
      foldRecord(this.fold, rec);
      if (digestAfter !== undefined) continue;
      for (const s of stepsOf(rec)) this.digest = digestApply(this.digest, s.changes);
      if (rec.type === 'txn.compensated') this.digest = digestApply(this.digest, (rec.data as TxnCompensated).changes, 'undo');
    }
    if (digestAfter !== undefined) this.digest = digestAfter;
  }

  /** Whether maybeSnapshot has anything to do now (a build in progress, or one due). */
  private snapshotDue(): boolean {
    const n = this.opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    return n > 0 && (this.build !== undefined || (this.fold.seq - this.lastSnapshot >= n && this.fold.open.size === 0));
  }

  private async maybeSnapshot(): Promise<void> {
    const n = this.opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    if (!n) return;
    // A build in progress: one more slice per command; the manifest once every part is
    // written (a part that failed to write leaves no manifest: no snapshot, never a damaged
    // one). Writes queue behind the records of the snapshot's seq. Decided synchronously:
    // commands do not wait for each other's snapshot writes.
    if (this.build) {
      const b = this.build;
      const p = b.nextPart(this.fold.state);
      if (p) b.writes.push(this.log.putSnapshotPart(b.seq, p.part, p.value));
      if (!b.done) return void (await b.writes[b.writes.length - 1]);
      this.build = undefined;
      await Promise.all(b.writes);
      await this.log.putPartedSnapshot(b.manifest());
      return;
    }
    // Between transactions only. A snapshot of records still in flight is encoded now and
    // stored after them (the log's queue); if their write fails it is refused with them.
    if (this.fold.seq - this.lastSnapshot < n || this.fold.open.size) return;
    this.lastSnapshot = this.fold.seq;
    // A small state in one piece, as always; a big one in parts, PART_ENTITIES per command, so
    // that no command waits for the whole state to be encoded.
    if (entityCount(this.fold.state) <= PART_ENTITIES) {
      await this.log.putSnapshot({ seq: this.fold.seq, hash: this.lastHash, stateHash: digestHex(this.digest), state: this.fold.state });
      return;
    }
    this.build = new SnapshotBuild(this.fold.state, this.fold.seq, this.lastHash, digestHex(this.digest));
    return this.maybeSnapshot();
  }

  /**
   * Runs `fn` after everything queued before it. With nothing queued it starts now, inside the
   * caller's turn: a command read from a socket reaches the model and the log's batch without a
   * microtask hop (issue 15); otherwise it chains on the queue.
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    // (no caller runs serial() from inside its fn: nothing here nests)
    if (this.pending++ === 0) {
      try { p = fn(); } catch (e) { p = Promise.reject(e); }
    } else {
      p = this.queue.then(fn, fn);
    }
    // settles when p does, never rejects (one promise: catch + finally made four)
    const done = () => { this.pending--; };
    this.queue = p.then(done, done);
    return p;
  }
}

/**
 * The model's decision. It runs on a Draft and writes nothing, so an exception that is not a
 * refusal (a bug in the model) leaves the state and the log as they were: it is turned into a
 * ModelCrashError naming the command, and the engine stays usable for the next one.
 */
function decide(state: State, proc: string, command: string, args: Record<string, unknown> | undefined): ExecResult {
  try {
    return executeCommand(state, proc, command, args);
  } catch (e) {
    if (e instanceof BlockgraphError) throw e;
    throw new ModelCrashError(command, e);
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
  // The first record after the snapshot must link to it (an anchored range read). The same lazy
  // fold as replay's (replay/fold-lazy.ts, issue 15): records of format version 5 unparsed, only
  // the entities that survive to the end built; the state is then fresh to the engine's indexes.
  const lazy = new LazyFold(fold);
  for await (const _ of log.feedChunks({ gte: fold.seq + 1, prevHash: anchor, ...(upTo !== undefined ? { lte: upTo } : {}) }, (c, v, k) => lazy.feed(c, v, k))) { /* fed */ }
  return lazy.materialize();
}
