// The whole-store check behind `verify`: what LevelDB can read, every record (verify.ts), the
// anchor of the last synced head (anchor.ts) and every snapshot. Reports, never throws for
// damage it can name; it only reads.
import { assembleParts, manifestOf } from './snapshot-parts.js';
import { decodeSnapshot, headerHash, keySeq, seqKey, type Sublevels } from './codec.js';
import type { Anchor } from './anchor.js';
import { scanLog } from './verify.js';

export interface SnapshotDamage {
  seq: number;
  /** The stored key when it is not a seq key. */
  key?: string;
  reason: string;
}

export interface StoreCheck {
  ok: boolean;
  /** Last verified seq: the prefix repair keeps. */
  head: number;
  headHash: string;
  /** First seq that failed (records, or the anchor's seq when the log was cut short). */
  firstBad?: number;
  reason?: string;
  /** The anchor file, when there is one ("unreadable: …" when garbled). */
  anchor?: Anchor | string;
  /** Acknowledged records (seq <= anchor) not in the verified log. */
  missingAcknowledged: number;
  snapshots: { checked: number; damaged: SnapshotDamage[] };
}

/** Every snapshot: its frame and CRC, and that its hash is the hash of record `seq`. */
export async function checkSnapshots(subs: Sublevels): Promise<{ checked: number; damaged: SnapshotDamage[] }> {
  const damaged: SnapshotDamage[] = [];
  let checked = 0;
  const it = subs.snap.iterator();
  try {
    for (;;) {
      const chunk = await it.nextv(16);
      if (chunk.length === 0) break;
      for (const [key, value] of chunk as [string, string][]) {
        checked++;
        const seq = keySeq(key);
        if (Number.isNaN(seq)) {
          damaged.push({ seq: 0, key, reason: `unexpected key ${JSON.stringify(key)}` });
          continue;
        }
        try {
          const snap = decodeSnapshot(value, seq);
          const rec = await subs.log.get(seqKey(seq));
          if (rec === undefined) damaged.push({ seq, reason: `record ${seq} is not in the log` });
          else if (headerHash(rec) !== snap.hash) damaged.push({ seq, reason: `hash does not match record ${seq}` });
          else {
            // A snapshot in parts (snapshot-parts.ts): every part present, framed and counted.
            const m = manifestOf(snap);
            if (m) await assembleParts(subs.root, m);
          }
        } catch (e) {
          damaged.push({ seq, reason: String((e as { info?: { reason?: unknown } }).info?.reason ?? (e as Error).message) });
        }
      }
    }
  } finally {
    await it.close();
  }
  return { checked, damaged };
}

/**
 * The anchor against a verified log ending at `head` (hash `headHash`): the log must reach
 * the anchor's seq and hold the anchored hash there. Returns the problem, if any.
 */
export async function anchorProblem(subs: Sublevels, anchor: Anchor, head: number): Promise<{ firstBad: number; missing: number; reason: string } | undefined> {
  if (anchor.seq > head) {
    const missing = anchor.seq - head;
    return { firstBad: head + 1, missing, reason: `the log ends at seq ${head} but seq ${anchor.seq} was acknowledged: ${missing} acknowledged record(s) are missing` };
  }
  if (anchor.seq === 0) return undefined;
  const rec = await subs.log.get(seqKey(anchor.seq));
  if (rec === undefined || headerHash(rec) !== anchor.hash) {
    return { firstBad: anchor.seq, missing: 1, reason: `record ${anchor.seq} is not the one acknowledged (the anchor holds another hash)` };
  }
  return undefined;
}

export async function checkStore(subs: Sublevels, anchor: Anchor | string | undefined): Promise<StoreCheck> {
  const { result, goodHash } = await scanLog(subs);
  const snapshots = await checkSnapshots(subs);
  const out: StoreCheck = { ok: result.ok, head: result.head, headHash: goodHash, missingAcknowledged: 0, snapshots };
  if (anchor !== undefined) out.anchor = anchor;
  if (!result.ok) {
    out.firstBad = result.firstBad;
    out.reason = result.reason;
  }
  if (typeof anchor === 'string') {
    // A garbled anchor is damage too, but the records may all be there: say so, lose nothing.
    if (out.ok) { out.ok = false; out.firstBad = result.head + 1; out.reason = `anchor: ${anchor}`; }
  } else if (anchor !== undefined) {
    const p = await anchorProblem(subs, anchor, result.head);
    if (p) {
      out.missingAcknowledged = p.missing;
      if (out.ok) { out.ok = false; out.firstBad = p.firstBad; out.reason = p.reason; }
    }
  }
  if (out.ok && snapshots.damaged.length > 0) {
    const d = snapshots.damaged[0]!;
    out.ok = false;
    out.reason = `snapshot at seq ${d.seq} is damaged: ${d.reason}${snapshots.damaged.length > 1 ? ` (and ${snapshots.damaged.length - 1} more)` : ''}`;
  }
  return out;
}
