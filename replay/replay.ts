// Rebuild, seek and verify. All of them are folds of the log (replay/fold.ts): from the
// latest snapshot at or before the target, then record by record.
import { BlockgraphError } from '../errors/index.js';
import { digestApply, digestHex, stateDigest } from '../graph/hash.js';
import type { Change } from '../graph/draft.js';
import type { State } from '../graph/types.js';
import type { EventLog } from '../store/index.js';
import { recordedStateHash } from '../events/ends.js';
import { stepsOf } from '../events/whole.js';
import { emptyFold, foldRecord, type Fold } from './fold.js';
import { LazyFold } from './fold-lazy.js';
import { foldPendingIntent } from './intent-fold.js';

export interface ReplayOptions {
  /** Last seq to apply (inclusive); default: the head. */
  upTo?: number;
  /** Ignore snapshots and fold from seq 1. */
  fromScratch?: boolean;
  /**
   * At the head (no upTo, or upTo past the head): fold a pending intent's record in memory
   * (replay/intent-fold.ts), as the writer's next open will append it. Default true; false: the
   * records alone (replay --verify, the drills' comparisons of what is stored).
   */
  intent?: boolean;
  onProgress?: (seq: number, head: number) => void;
}

export async function replay(log: EventLog, opts: ReplayOptions = {}): Promise<Fold> {
  // a record this log holds after an intent (EventLog.putIntentNow) is written first, so the head
  // read next is the one the replies announced (read your writes; at once when nothing is held)
  await log.whenWritten();
  const upTo = Math.min(opts.upTo ?? log.head, log.head);
  const fold = emptyFold();
  // Seek: the nearest snapshot at or before upTo (its hash checked against its record), then the
  // records after it, the first of which must link to that hash: the range read is anchored.
  let anchor = '';
  if (!opts.fromScratch) {
    const snap = await log.latestSnapshot<State>(upTo, { skipCorrupt: true }); // a damaged snapshot: an older one, or a full fold
    if (snap && snap.seq > 0) {
      fold.state = structuredClone(snap.state);
      fold.seq = snap.seq;
      anchor = snap.hash;
    }
  }
  let n = 0;
  // a lazy fold (replay/fold-lazy.ts): only the entities that survive to upTo are built, at the end
  const lazy = new LazyFold(fold);
  for await (const fed of log.feedChunks({ gte: fold.seq + 1, lte: upTo, prevHash: anchor }, (c, v, k) => lazy.feed(c, v, k))) {
    n += fed;
    if (opts.onProgress && n % 8192 < fed) opts.onProgress(fold.seq, upTo);
  }
  lazy.materialize();
  if (opts.intent !== false && (opts.upTo === undefined || opts.upTo > log.head)) await foldPendingIntent(log, fold);
  opts.onProgress?.(fold.seq, upTo);
  return fold;
}

/** Records read by the last seqAtTime call (specs count the work: O(log n), not a scan). */
export const seqAtTimeWork = { reads: 0 };

/**
 * The state "as of" a time: the seq before the first record whose time is after `iso` (0 when
 * the first record already is). A binary search over seqs (O(log n) reads of single records,
 * not a scan), which relies on record times not going backwards: the engine stamps records in
 * seq order from one clock. Where a clock was stepped back, the seq found is still one where
 * the log's time passes `iso`, possibly not the first such.
 */
export async function seqAtTime(log: EventLog, iso: string): Promise<number> {
  seqAtTimeWork.reads = 0;
  // Invariant: at(lo) <= iso (lo = 0 stands for "before the log"), at(hi + 1) > iso (hi = head: past the log).
  let lo = 0;
  let hi = log.head;
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    const rec = await log.recordAt(mid);
    seqAtTimeWork.reads++;
    if (rec !== undefined && rec.at <= iso) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;          // state hashes compared
  head: number;
  firstDiverging?: number;  // seq whose recorded hash differs from the recomputed one
  expected?: string;
  actual?: string;
}

/**
 * Folds the whole log from scratch and compares every recorded state hash (the end of each
 * transaction, events/ends.ts, and snapshots) with the recomputed one.
 */
export async function verifyReplay(log: EventLog, onProgress?: (seq: number, head: number) => void): Promise<VerifyReport> {
  await log.whenWritten(); // (as replay: a held record first)
  const snaps = new Map<number, string>();
  for (let s = await log.latestSnapshot<State>(undefined, { skipCorrupt: true }); s; s = s.seq > 1 ? await log.latestSnapshot<State>(s.seq - 1, { skipCorrupt: true }) : undefined) {
    snaps.set(s.seq, s.stateHash);
    if (snaps.size > 10_000) break;
  }
  const fold = emptyFold();
  // The digest follows the records (O(changes) each); at the end it must also equal the digest
  // of the folded state computed from scratch, which ties the two ways of hashing together.
  let digest = 0n;
  let checked = 0;
  const check = (seq: number, want: string, got: string): VerifyReport | undefined => {
    checked++;
    return got === want ? undefined : { ok: false, checked, head: log.head, firstDiverging: seq, expected: want, actual: got };
  };
  for await (const chunk of log.readChunks({})) {
    for (const rec of chunk) {
      foldRecord(fold, rec);
      for (const s of stepsOf(rec)) digest = digestApply(digest, s.changes); // a step's, or a whole transaction's
      if (rec.type === 'txn.compensated') digest = digestApply(digest, (rec.data as { changes: Change[] }).changes, 'undo');
      const recorded = recordedStateHash(rec);
      for (const want of [recorded, snaps.get(rec.seq)]) {
        if (!want) continue;
        const bad = check(rec.seq, want, digestHex(digest));
        if (bad) return bad;
      }
    }
    onProgress?.(fold.seq, log.head);
  }
  const bad = check(fold.seq, digestHex(digest), digestHex(stateDigest(fold.state as never)));
  if (bad) return bad;
  return { ok: true, checked, head: log.head };
}

export function assertSeq(log: EventLog, seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > log.head) {
    throw new BlockgraphError('BG_BAD_INPUT', `seq ${seq} is outside the log (0..${log.head})`);
  }
}
