// An abstract-level database whose durable copy is one subject of a replicated JetStream stream,
// so EventLog runs on it unchanged (the abstract-level habit: one log class and one conformance
// suite over every backend). Every write (a batch: records + head meta) is ONE message,
// published with `expect.lastSubjectSequence` = the last message this level has seen on the
// subject: JetStream's per-subject optimistic concurrency is the log's expected-seq check across
// processes, so two writers can never interleave a host's log. A message id derived from the
// subject, the record seqs and the frame's digest makes retries after a lost ack idempotent
// (the server answers `duplicate` within its window). A write is applied to the in-memory view
// only once the stream has acknowledged it, i.e. once it is replicated to a majority.
//
// Batches bigger than one message (max_payload) are sent as parts 1..n, each expecting the one
// before; a reader applies a batch only when its last part is there, so a writer that dies
// between parts leaves nothing visible (specs/store/jetstream-crashcut.spec.ts proves it).
//
// Reads are served from memory (memory-level's tree): opening folds the subject's messages in
// stream order. Memory is therefore O(store size); docs/fleet.md gives the figures.
import { createHash } from 'node:crypto';
import { MemoryLevel } from 'memory-level';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { BlockgraphError, LogConflictError, LogCorruptError } from '../../errors/index.js';
import { decodeMeta, sublevelsOf } from '../codec.js';
import { decodeFrame, encodeFrame, type FrameOp } from './frame.js';
import { ensureStream, isNotFound, isPlacementPending, STREAM } from './stream.js';

export interface JetStreamLevelOptions {
  /** Servers to connect to (ignored when `nc` is given). */
  servers?: string[];
  /** A connection to share; the level then does not close it. */
  nc?: NatsConnection;
  subject: string;
  stream?: string;
  /** Replicas when this level creates the stream. Default 3. */
  replicas?: number;
  /** Per publish attempt. Default 5000 ms. */
  publishTimeoutMs?: number;
  /** How long a write keeps retrying through elections and reconnects before BG_LOG_UNAVAILABLE. Default 20000 ms. */
  retryForMs?: number;
  /**
   * How long the open first waits for the cluster's meta leader and the stream's leader (an
   * election in progress) before its retry window starts, and how long a write whose retry
   * window ran out without a leader waits for one before a last window. Default 30000 ms.
   */
  leaderWaitMs?: number;
  /**
   * Client pings to its server (2 unanswered: the connection is stale and the client moves to
   * another server). Default 3000 ms.
   */
  pingIntervalMs?: number;
  /** Largest message payload; bigger batches go in parts. Default 512 KiB (under nats' 1 MiB max_payload). */
  maxPartBytes?: number;
  /**
   * 'all' (default): the view holds every key, so the log reads back. 'head': records are written
   * but not kept in memory (only the head meta and snapshots are), for a writer that never reads
   * its own history — the shipper: memory stays flat whatever the log's length. Open it with
   * verify 'none' (there is nothing to scan); reads see no records.
   */
  retain?: 'all' | 'head';
  /**
   * Read only, bounded memory: every batch read from the subject at open goes to `sink` (in
   * stream order, checked as any fold) and the view keeps the head meta alone. The subject is
   * read `sinkReadBytes` at a time (default 8 MiB). For a reader whose copy is on disk
   * (store/jetstream/read-copy.ts); writes through such a level are refused.
   */
  sink?: (ops: FrameOp[]) => Promise<void>;
  sinkReadBytes?: number;
}

type LevelOp = { type: 'put' | 'del'; key: unknown; value?: unknown };

const PART = 'Bg-Part';           // "i/n"
const BATCH = 'Bg-Batch';         // the batch's message id (parts share it)
const MSG_ID = 'Nats-Msg-Id';

const toBuf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), 'utf8'));
// memory-level's implementation methods are not in its typings; the view calls them directly.
interface MemoryImpl {
  _open(o: unknown): Promise<void>;
  _close(): Promise<void>;
  _get(key: unknown, o: unknown): Promise<unknown>;
  _batch(ops: unknown[], o: unknown): Promise<void>;
  _clear(o: unknown): Promise<void>;
}
const base = MemoryLevel.prototype as unknown as MemoryImpl;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isWrongLastSeq(e: unknown): boolean {
  const err = e as { message?: unknown; api_error?: { err_code?: number }; code?: unknown } | null;
  return /wrong last sequence/i.test(String(err?.message ?? '')) || err?.api_error?.err_code === 10071;
}

/** A batch's digest: its subject, the subject seq its writer expected before it, its frame. */
function batchDigest(subject: string, after: number, frame: Buffer): string {
  return createHash('sha256').update(subject).update(String(after)).update(frame).digest('hex').slice(0, 24);
}

/** A message on the subject that no writer of this store put there (see #collect). */
class StreamDamage extends Error {}

/** The subject's last message is a second copy of this level's last one, at `seq`. */
class OwnDuplicate extends Error {
  constructor(readonly seq: number) {
    super(`own message stored again at ${seq}`);
  }
}

export class JetStreamLevel extends MemoryLevel<string, string> {
  readonly subject: string;
  readonly stream: string;
  readonly #opts: JetStreamLevelOptions;
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  /** Stream seq of the last message on the subject that the view includes (0: none). */
  #last = 0;
  /** A write whose outcome is unknown (no ack before the deadline): resolved before the next write. */
  #inDoubt: { msgId: string; after: number } | undefined;
  /** Another writer got in first: this view is stale and every write is refused; reopen. */
  #stale: LogConflictError | undefined;
  #prefixes: { log: string; head: string } | undefined;
  /** Message id of the last message this level published (a server duplicate of it is no conflict). */
  #lastId: string | undefined;

  constructor(opts: JetStreamLevelOptions) {
    super({ storeEncoding: 'buffer', keyEncoding: 'utf8', valueEncoding: 'utf8' });
    this.#opts = opts;
    this.subject = opts.subject;
    this.stream = opts.stream ?? STREAM;
  }

  /** Stream seq of the last message folded into the view. */
  get lastSubjectSeq(): number {
    return this.#last;
  }

  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  async _open(options: object): Promise<void> {
    await base._open.call(this, options);
    await base._clear.call(this, { limit: -1 } as never); // a reopen refolds from the stream
    this.#last = 0;
    this.#stale = undefined;
    this.#inDoubt = undefined;
    this.#lastId = undefined;
    if (this.#opts.nc) this.#nc = this.#opts.nc;
    else {
      try {
        // A server that stops answering without closing its sockets (SIGSTOP, a partition) is
        // noticed only by pings: at nats' default (2 min, 2 out) a writer connected to it timed
        // out every retry of its 20 s window while the other two went on (specs/fleet/faults.spec.ts).
        this.#nc = await connect({
          servers: this.#opts.servers ?? [], timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: `blockgraph ${this.subject}`,
          pingInterval: this.#opts.pingIntervalMs ?? 3000, maxPingOut: 2,
        });
      } catch (e) {
        throw new BlockgraphError('BG_LOG_UNAVAILABLE', `cannot reach NATS at ${(this.#opts.servers ?? []).join(',')}: ${(e as Error).message}`, { servers: this.#opts.servers });
      }
    }
    try {
      const timeout = this.#opts.publishTimeoutMs ?? 5000;
      this.#js = jetstream(this.#nc, { timeout });
      // An election (meta or stream) can outlast the retry window on a loaded machine: the
      // window starts once both leaders are there, or once this bounded wait has run out.
      const leaderUntil = performance.now() + (this.#opts.leaderWaitMs ?? 30_000);
      await this.#awaitLeaders(Math.min(timeout, 2000), leaderUntil);
      // Through an election or a server restart the API answers late or not at all: retry, bounded.
      let until = performance.now() + (this.#opts.retryForMs ?? 20_000);
      let step = '';
      for (let attempt = 0; ; attempt++) {
        try {
          step = 'the JetStream API';
          this.#jsm = await jetstreamManager(this.#nc, { timeout });
          step = 'the stream\'s info';
          await ensureStream(this.#jsm, this.stream, this.#opts.replicas ?? 3);
          await base._clear.call(this, { limit: -1 });
          step = 'reading the subject';
          await this.#fold();
          break;
        } catch (e) {
          if (e instanceof BlockgraphError || this.#nc.isClosed()) throw e;
          // A stream its cluster cannot place yet has no leader: that waits as an election does,
          // to `leaderWaitMs` (two of three servers down had this open give up at its 1 s window).
          const placing = isPlacementPending(e) && performance.now() < leaderUntil;
          if (performance.now() >= until && !placing) throw new Error(`${step}: ${(e as Error).message}`);
          // A leader lost inside the window (an election after the first wait) waits again,
          // within what is left of the leader wait; the window restarts after it.
          if (await this.#awaitLeaders(Math.min(timeout, 2000), leaderUntil)) until = Math.max(until, performance.now() + (this.#opts.retryForMs ?? 20_000));
          else await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
        }
      }
    } catch (e) {
      if (!this.#opts.nc) await this.#nc.close().catch(() => undefined);
      this.#nc = undefined;
      if (e instanceof BlockgraphError) throw e;
      throw new BlockgraphError('BG_LOG_UNAVAILABLE', `JetStream stream ${this.stream} is not available: ${(e as Error).message}`, { subject: this.subject });
    }
  }

  /**
   * Waits, bounded by `leaderWaitMs`, until the cluster has a meta leader (account info is
   * answered by it) and the stream, if it exists, has a leader (its info names one). Without a
   * meta leader JetStream's API times out or answers 503; without a stream leader a read or
   * publish times out: both only mean "not yet" during an election. Gives up silently at the
   * bound: the retry window that follows then reports what is still wrong. True when it had to
   * wait (a leader was missing).
   */
  async #awaitLeaders(timeout: number, until: number): Promise<boolean> {
    for (let attempt = 0; performance.now() < until && !this.#nc!.isClosed(); attempt++) {
      try {
        const jsm = await jetstreamManager(this.#nc!, { timeout });
        await jsm.getAccountInfo();
        try {
          const info = await jsm.streams.info(this.stream);
          // a single server has no cluster info; a replicated stream names its leader once elected
          if (!info.cluster || info.cluster.leader) return attempt > 0;
        } catch (e) {
          if (isNotFound(e)) return attempt > 0; // ensureStream creates it
          throw e;
        }
      } catch {
        // no meta leader yet, or the request went unanswered: wait and ask again
      }
      await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
    }
    return false;
  }

  async _close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc && !this.#opts.nc) await nc.drain().catch(() => nc.close());
    await base._close.call(this);
  }

  /** The subject's last stream seq on the server (0: no message). */
  async #serverLast(): Promise<{ seq: number; msgId: string | undefined }> {
    const m = await this.#jsm!.streams.getMessage(this.stream, { last_by_subj: this.subject });
    if (!m) return { seq: 0, msgId: undefined };
    return { seq: m.seq, msgId: m.header?.get(MSG_ID) || undefined };
  }

  /** Messages on the subject after `after`, in order, up to the subject's current last one. */
  async *#messages(after: number, upTo: number): AsyncGenerator<JsMsg> {
    if (upTo <= after) return;
    const c = await this.#js!.consumers.get(this.stream, {
      filter_subjects: this.subject,
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : {}),
    });
    // A sink's reader holds a bounded number of bytes, not of messages (a shipped batch is up
    // to 512 KiB: 512 of them were 256 MiB).
    const it = await c.consume(this.#opts.sink ? { max_bytes: this.#opts.sinkReadBytes ?? 8 * 2 ** 20 } : { max_messages: 512 });
    try {
      for await (const m of it) {
        yield m;
        if (m.seq >= upTo) break;
        // pending 0 before `upTo`: the consumer's count can lag the stream (seen right after a
        // leader's restart: a read stopped one message short, the view claiming the last seq),
        // so the server says whether anything is left; `upTo` deleted meanwhile ends the read.
        if (m.info.pending === 0 && (await this.#serverLast()).seq <= m.seq) break;
      }
    } finally {
      await it.close().catch(() => undefined);
      await c.delete().catch(() => undefined);
    }
  }

  /**
   * Folds a run of messages into ops, holding back an incomplete multi-part batch, and checks
   * that each batch is one this store's writers made where it stands. A writer's message id is
   * `<subject>:<seqs>:<digest>`, the digest over the subject, the stream seq it expected as the
   * subject's last (the server refuses it anywhere else: `expect.lastSubjectSequence`) and the
   * frame; so a genuine batch's digest recomputes from the message before it on the subject. A
   * message without such an id (a foreign publisher's), a batch of another subject copied here,
   * a batch replayed or duplicated after another, altered or truncated bytes, or a part k > 1
   * not right after part k-1 (each part expects the one before) is damage: `StreamDamage`, which
   * the fold reports as the log damaged at the view's head + 1 (BG_LOG_CORRUPT), as a damaged
   * LevelDB record is reported. Parts 1..k of a batch whose writer died are no damage: they were
   * never complete, and nothing of them is applied.
   */
  static #collect(subject: string, after: number): { add: (m: JsMsg) => FrameOp[] | undefined } {
    let parts: Buffer[] = [];
    let batch = '';
    let batchAfter = 0;
    let prev = after; // stream seq of the message before this one on the subject
    let prevMsg: { id: string; data: Buffer } | undefined;
    const checkId = (id: string | undefined, afterSeq: number, frame: Buffer, what: string): void => {
      if (!id) throw new StreamDamage(`${what} has no message id: not written by a blockgraph writer`);
      if (!id.startsWith(`${subject}:`)) {
        const other = id.slice(0, id.indexOf(':'));
        throw new StreamDamage(other.startsWith('blockgraph.') ? `${what} is a batch of ${other}, not of this store` : `${what} has a foreign message id ${JSON.stringify(id.slice(0, 80))}`);
      }
      if (!id.endsWith(`:${batchDigest(subject, afterSeq, frame)}`)) {
        throw new StreamDamage(`${what} does not follow stream seq ${afterSeq} as written (a replayed or duplicated batch, or altered bytes)`);
      }
    };
    const decode = (frame: Buffer): FrameOp[] => {
      try {
        return decodeFrame(frame, 'frame');
      } catch (e) {
        throw new StreamDamage(e instanceof LogCorruptError ? String(e.info.reason ?? e.message).replace(/^frame: /, '') : (e as Error).message);
      }
    };
    return {
      add(m) {
        const before = prev;
        prev = m.seq;
        const id = m.headers?.get(MSG_ID) || undefined;
        const part = m.headers?.get(PART);
        const data = Buffer.from(m.data);
        // The same message (id and bytes) twice in a row is the server's duplicate, not damage:
        // nats-server 2.9 stored a publish and its retry both across a stream leader's
        // SIGSTOP (the retry passed the expected-seq and duplicate checks while the first was
        // still being replicated; 1 of 3 fault runs). Applying it again changes nothing; the
        // writer's next batch expects whichever of the two it was acknowledged, and the server
        // refused it unless that was the second.
        const same = id !== undefined && prevMsg?.id === id && prevMsg.data.equals(data);
        prevMsg = id === undefined ? undefined : { id, data };
        if (same) return undefined;
        if (!part) {
          parts = [];
          const ops = decode(data); // malformed bytes named as such before who wrote them
          checkId(id, before, data, 'the message');
          return ops;
        }
        const [i, n] = part.split('/').map(Number) as [number, number];
        const bid = m.headers?.get(BATCH) ?? '';
        if (!(Number.isInteger(i) && Number.isInteger(n) && i >= 1 && i <= n)) throw new StreamDamage(`bad part header ${JSON.stringify(part)}`);
        if (id !== `${bid}/${i}`) throw new StreamDamage(`part ${i}/${n} has message id ${JSON.stringify(id ?? '')}, not its batch's`);
        if (i === 1) {
          // a new batch; whatever was pending was abandoned by its writer
          parts = [];
          batch = bid;
          batchAfter = before;
        } else if (bid !== batch || parts.length !== i - 1) {
          throw new StreamDamage(`part ${i}/${n} of ${bid} without part ${i - 1} before it`);
        }
        parts.push(data);
        if (i < n) return undefined;
        const whole = Buffer.concat(parts);
        parts = [];
        const ops = decode(whole);
        checkId(batch, batchAfter, whole, `the batch of ${n} parts`);
        return ops;
      },
    };
  }

  /** The fold's damage, reported as the log damaged at the record after the view's head. */
  async #damaged(e: StreamDamage, seq: number): Promise<LogCorruptError> {
    return new LogCorruptError((await this.#viewHead()) + 1, `${this.subject} message ${seq}: ${e.message}`);
  }

  async #fold(): Promise<void> {
    const { seq: last } = await this.#serverLast();
    const collect = JetStreamLevel.#collect(this.subject, 0);
    for await (const m of this.#messages(0, last)) {
      let ops: FrameOp[] | undefined;
      try {
        ops = collect.add(m);
      } catch (e) {
        if (e instanceof StreamDamage) throw await this.#damaged(e, m.seq);
        throw e;
      }
      if (!ops) continue;
      if (this.#opts.sink) {
        await this.#opts.sink(ops);
        const { head } = this.#keys();
        await base._batch.call(this, ops.filter((op) => op.key.toString('utf8') === head), {});
      } else await base._batch.call(this, this.#retained(ops), {});
    }
    this.#last = last;
  }

  #retained(ops: FrameOp[]): FrameOp[] {
    if (this.#opts.retain !== 'head') return ops;
    const { log } = this.#keys();
    return ops.filter((op) => !op.key.toString('utf8').startsWith(log));
  }

  #keys(): { log: string; head: string } {
    if (!this.#prefixes) {
      const s = sublevelsOf(this as never);
      this.#prefixes = { log: s.logPrefix, head: s.metaHeadKey };
    }
    return this.#prefixes;
  }

  /** The seq range of records a batch puts (for the message id and conflict errors). */
  #recordSeqs(ops: FrameOp[]): { first: number; last: number } | undefined {
    const { log } = this.#keys();
    let first = Infinity;
    let last = -Infinity;
    for (const op of ops) {
      const k = op.key.toString('utf8');
      if (op.type === 'put' && k.startsWith(log)) {
        const seq = parseInt(k.slice(log.length), 16);
        if (Number.isFinite(seq)) {
          first = Math.min(first, seq);
          last = Math.max(last, seq);
        }
      }
    }
    return Number.isFinite(first) ? { first, last } : undefined;
  }

  async #viewHead(): Promise<number> {
    const raw = await base._get.call(this, Buffer.from(this.#keys().head) as never, { keyEncoding: 'buffer', valueEncoding: 'buffer' } as never);
    if (raw === undefined) return 0;
    const m = decodeMeta(toBuf(raw).toString('utf8'));
    return typeof m === 'string' ? 0 : m.seq;
  }

  /** The head seq as another writer left it: the newest head meta among messages after ours. */
  async #remoteHead(upTo: number): Promise<number> {
    let head = await this.#viewHead();
    const collect = JetStreamLevel.#collect(this.subject, this.#last);
    const { head: headKey } = this.#keys();
    for await (const m of this.#messages(this.#last, upTo)) {
      const ops = collect.add(m) ?? [];
      for (const op of ops) {
        if (op.key.toString('utf8') !== headKey) continue;
        if (op.type === 'del') head = 0;
        else {
          const meta = decodeMeta(op.value.toString('utf8'));
          if (typeof meta !== 'string') head = meta.seq;
        }
      }
    }
    return head;
  }

  async #conflict(ops: FrameOp[], upTo: number): Promise<LogConflictError> {
    const seqs = this.#recordSeqs(ops);
    const mine = (await this.#viewHead()) + 1;
    const err = new LogConflictError(seqs?.first ?? mine, (await this.#remoteHead(upTo).catch(() => mine - 1)) + 1);
    err.message += ` (another writer appended to ${this.subject}; reopen the store)`;
    this.#stale = err;
    return err;
  }

  /** Settles a write whose ack never came: did it land? */
  async #resolveDoubt(ops: FrameOp[]): Promise<void> {
    const doubt = this.#inDoubt!;
    const { seq, msgId } = await this.#serverLast();
    if (seq === doubt.after) {
      this.#inDoubt = undefined; // it never landed; ours goes next with the same expectation
      return;
    }
    // Something landed after our view (our unacknowledged batch, or another writer's): the
    // caller's idea of the head is stale either way, so the store must be reopened.
    void msgId;
    throw await this.#conflict(ops, seq);
  }

  async #write(levelOps: LevelOp[], sync: boolean): Promise<void> {
    void sync; // every acknowledged message is on a majority of replicas' disks already
    if (!this.#js) throw new BlockgraphError('BG_LOG_CLOSED', `store ${this.subject} is not connected`);
    if (this.#opts.sink) throw new BlockgraphError('BG_LOG_CLOSED', `store ${this.subject} was opened to be read: it takes no writes`);
    if (this.#stale) throw this.#stale;
    const ops: FrameOp[] = levelOps.map((op) => (op.type === 'put' ? { type: 'put', key: toBuf(op.key), value: toBuf(op.value) } : { type: 'del', key: toBuf(op.key) }));
    if (ops.length === 0) return;
    if (this.#inDoubt) await this.#resolveDoubt(ops);
    const frame = encodeFrame(ops);
    const seqs = this.#recordSeqs(ops);
    for (let again = 0; ; again++) {
      const digest = batchDigest(this.subject, this.#last, frame);
      // Store id + seq range + digest: a retry of this batch is recognised; another batch never is.
      const msgId = `${this.subject}:${seqs ? `${seqs.first}-${seqs.last}` : `@${this.#last}`}:${digest}`;
      const max = this.#opts.maxPartBytes ?? 512 * 1024;
      const n = Math.max(1, Math.ceil(frame.length / max));
      let last = this.#last;
      try {
        for (let i = 1; i <= n; i++) {
          const body = n === 1 ? frame : frame.subarray((i - 1) * max, i * max);
          const id = n === 1 ? msgId : `${msgId}/${i}`;
          last = await this.#publish(body, id, last, n === 1 ? undefined : { part: `${i}/${n}`, batch: msgId }, ops);
          this.#lastId = id;
        }
      } catch (e) {
        // Our previous message stored twice by the server: this batch follows the second copy
        // (its digest names the seq it follows, so it is made again).
        if (!(e instanceof OwnDuplicate) || again >= 3) throw e instanceof OwnDuplicate ? await this.#conflict(ops, e.seq) : e;
        this.#last = e.seq;
        continue;
      }
      await base._batch.call(this, this.#retained(ops), {});
      this.#last = last;
      return;
    }
  }

  /** Publishes one message expecting `after` as the subject's last seq; returns its seq. */
  async #publish(body: Buffer, msgId: string, after: number, part: { part: string; batch: string } | undefined, ops: FrameOp[]): Promise<number> {
    const timeout = this.#opts.publishTimeoutMs ?? 5000;
    const retryFor = this.#opts.retryForMs ?? 20_000;
    let until = performance.now() + retryFor;
    let leaderUntil: number | undefined;
    let lastErr: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        const h = part ? natsHeaders() : undefined;
        if (h && part) {
          h.set(PART, part.part);
          h.set(BATCH, part.batch);
        }
        const ack = await this.#js!.publish(this.subject, body, { msgID: msgId, expect: { lastSubjectSequence: after }, timeout, ...(h ? { headers: h } : {}) });
        return ack.seq;
      } catch (e) {
        if (isWrongLastSeq(e)) {
          // Ours may have landed on an earlier attempt whose ack was lost, past the dedupe window.
          const now = await this.#serverLast().catch(() => undefined);
          if (attempt > 0 && now?.msgId === msgId) return now.seq;
          // The subject's last message is our own previous one again, stored twice by the server
          // (see #collect): nobody else wrote; the batch is made again to follow it.
          if (now && after === this.#last && this.#lastId !== undefined && now.msgId === this.#lastId && now.seq > after) throw new OwnDuplicate(now.seq);
          throw await this.#conflict(ops, now?.seq ?? after);
        }
        lastErr = e;
        if (this.#nc?.isClosed()) break;
        if (performance.now() >= until) {
          // The window ran out while the stream had no leader: an election, after a leader's
          // SIGKILL, outlasted the 20 s window (the last error a 503, no leader subscribed; one
          // of two fault runs, specs/fleet/faults.spec.ts). The open's rule: wait for the
          // leaders, bounded by leaderWaitMs from here, then a fresh window. A client cannot
          // tell a long election from a lost quorum, so without a quorum the refusal comes at
          // that bound.
          leaderUntil ??= performance.now() + (this.#opts.leaderWaitMs ?? 30_000);
          if (await this.#awaitLeaders(Math.min(timeout, 2000), leaderUntil)) {
            until = performance.now() + retryFor;
            continue;
          }
          break;
        }
        await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
    this.#inDoubt = { msgId, after: this.#last };
    throw new BlockgraphError(
      'BG_LOG_UNAVAILABLE',
      `JetStream did not acknowledge the append to ${this.subject} (${(lastErr as Error)?.message ?? 'no answer'}): the stream has no quorum or no server is reachable; nothing was acknowledged, retry when the cluster is back`,
      { subject: this.subject },
    );
  }

  async _put(key: unknown, value: unknown, options: { sync?: boolean }): Promise<void> {
    await this.#write([{ type: 'put', key, value }], options?.sync === true);
  }

  async _del(key: unknown, options: { sync?: boolean }): Promise<void> {
    await this.#write([{ type: 'del', key }], options?.sync === true);
  }

  async _batch(operations: LevelOp[], options: { sync?: boolean }): Promise<void> {
    await this.#write(operations, options?.sync === true);
  }

  async _clear(options: Record<string, unknown>): Promise<void> {
    const { keyEncoding: _k, valueEncoding: _v, ...range } = options;
    const keys = await this.keys({ ...range, keyEncoding: 'buffer' } as never).all();
    await this.#write(keys.map((key) => ({ type: 'del' as const, key })), false);
  }
}
