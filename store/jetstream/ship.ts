// Shipping a host's log to the fleet stream. The fleet copy is itself an EventLog (on a
// JetStreamLevel), so shipping is appending the same records at the same seqs: the codec is
// canonical, so each shipped record gets the same bytes and hash as the local one, and the
// shipper checks that it did. Resume needs no state of its own: the fleet copy's head IS the
// resume point (whatever was acknowledged is there; whatever was not is not), and every append
// carries expectedSeq and goes out with `expect.lastSubjectSequence` and a message id of store id
// + seq range, so after a crash of either side nothing is skipped and nothing lands twice — a
// second shipper racing the first gets BG_LOG_CONFLICT instead of interleaving.
import { Observable } from 'rxjs';
import { BlockgraphError } from '../../errors/index.js';
import type { EventLog } from '../event-log.js';
import type { LogRecord, NewRecord } from '../types.js';

export interface ShipOptions {
  /** Records per append (one message, or parts of one batch). Default 500. */
  batch?: number;
  /** Called after each acknowledged batch with the fleet copy's new head. */
  onBatch?: (head: number) => void;
  /** Live source: stop with an error when this many records wait unshipped (bounded memory). Default 200000. */
  maxBacklog?: number;
}

export interface ShipResult {
  /** The fleet copy's head before this run (where it resumed). */
  resumedAt: number;
  shipped: number;
  head: number;
}

const toNew = (r: LogRecord): NewRecord => ({
  stream: r.stream, type: r.type, v: r.v, at: r.at, data: r.data,
  ...(r.txn !== undefined ? { txn: r.txn } : {}),
  ...(r.causation !== undefined ? { causation: r.causation } : {}),
});

function diverged(seq: number, why: string): BlockgraphError {
  return new BlockgraphError('BG_REPLAY_DIVERGED', `the fleet copy and the local log differ at seq ${seq}: ${why}; ship to a fresh host name or repair one side`, { seq });
}

/** Appends one run of records (contiguous, starting at remote.head + 1) and checks the hashes. */
async function shipRun(remote: EventLog, run: LogRecord[]): Promise<void> {
  const first = run[0]!;
  if (first.prevHash !== remote.headHash) throw diverged(first.seq, `record ${first.seq} follows hash ${first.prevHash.slice(0, 12) || '(none)'} but the fleet copy's head hash is ${remote.headHash.slice(0, 12) || '(none)'}`);
  const out = await remote.append(run.map(toNew), { expectedSeq: first.seq });
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.hash !== run[i]!.hash) throw diverged(run[i]!.seq, 'the shipped record hashes differently');
  }
}

/** Ships everything `local` has past the fleet copy's head. */
export async function shipLog(local: EventLog, remote: EventLog, opts: ShipOptions = {}): Promise<ShipResult> {
  const resumedAt = remote.head;
  if (local.head < resumedAt) throw diverged(local.head + 1, `the fleet copy has ${resumedAt} records, the local log only ${local.head}`);
  const batch = opts.batch ?? 500;
  let run: LogRecord[] = [];
  const flush = async () => {
    if (run.length === 0) return;
    await shipRun(remote, run);
    run = [];
    opts.onBatch?.(remote.head);
  };
  if (resumedAt > 0) {
    const [at] = await local.readAll({ gte: resumedAt, lte: resumedAt });
    if (at?.hash !== remote.headHash) throw diverged(resumedAt, 'record hashes differ');
  }
  for await (const chunk of local.readChunks({ gte: resumedAt + 1 })) {
    for (const r of chunk) {
      run.push(r);
      if (run.length >= batch) await flush();
    }
  }
  await flush();
  return { resumedAt, shipped: remote.head - resumedAt, head: remote.head };
}

/**
 * Ships a live feed (a log socket from `remote.head + 1` on) until it completes, batching what
 * arrived while the previous batch was in flight. Resolves when the feed ends and all is shipped.
 */
export function shipLive(feed: (from: number) => Observable<LogRecord>, remote: EventLog, opts: ShipOptions = {}): Promise<ShipResult> {
  const resumedAt = remote.head;
  const batch = opts.batch ?? 500;
  const maxBacklog = opts.maxBacklog ?? 200_000;
  return new Promise<ShipResult>((resolve, reject) => {
    const queue: LogRecord[] = [];
    let ended = false;
    let busy = false;
    let failed = false;
    // The feed's own failure (its server went away): what it sent is shipped first, then the
    // error is reported with the fleet copy's head (records received are sound: never dropped).
    let feedError: unknown;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      sub.unsubscribe();
      reject(e);
    };
    const pump = async () => {
      if (busy || failed) return;
      busy = true;
      try {
        while (queue.length > 0 && !failed) {
          const run = queue.splice(0, batch);
          await shipRun(remote, run);
          opts.onBatch?.(remote.head);
        }
      } catch (e) {
        fail(e);
        return;
      } finally {
        busy = false;
      }
      if (ended && queue.length === 0 && !failed) {
        if (feedError === undefined) resolve({ resumedAt, shipped: remote.head - resumedAt, head: remote.head });
        else {
          const e = feedError as { code?: unknown; message?: string };
          const why = `${e.message ?? String(feedError)}; shipped ${remote.head - resumedAt} record(s) first, the fleet copy's head is ${remote.head} (ship again to resume)`;
          fail(e instanceof BlockgraphError ? new BlockgraphError(e.code, why, e.info) : feedError);
        }
      }
    };
    const sub = feed(resumedAt + 1).subscribe({
      next: (r) => {
        queue.push(r);
        if (queue.length > maxBacklog) fail(new BlockgraphError('BG_LOG_UNAVAILABLE', `the shipper is ${queue.length} records behind the live log; stopped (run ship again: it resumes from the fleet copy's head)`));
        else void pump();
      },
      error: (e: unknown) => {
        feedError = e;
        ended = true;
        void pump();
      },
      complete: () => {
        ended = true;
        void pump();
      },
    });
  });
}
