// Whole-log verification. LevelDB will happily open a store with a deleted key or a torn value,
// so on open (and on demand) every record is checked in seq order: key contiguity, CRC, the
// back-link to the previous record's hash, the record's own hash, and finally the head meta
// against the last record. The first problem wins; nothing is skipped.
import { decodeMeta, decodeSnapshot, frameProblem, HEAD_KEY, headerHash, keySeq, recordProblem, seqKey, type Sublevels, TEXT } from './codec.js';
import type { VerifyResult } from './types.js';

const CHUNK = 1000;

/** Records checked by scanLog since the counter was last reset (specs count the work an open does). */
export const scanWork = { records: 0 };

export interface Scan {
  result: VerifyResult;
  /** Hash of the last verified record ("" when none): what the head becomes after repair. */
  goodHash: string;
}

/**
 * `head` in the result is the last verified seq: the whole log when ok, else firstBad - 1
 * (exactly the prefix `repair` keeps).
 */
export async function scanLog(subs: Sublevels, from = 1, fromPrevHash = ''): Promise<Scan> {
  let expect = from;
  let prevHex = fromPrevHash;
  const fail = (firstBad: number, reason: string): Scan => ({
    result: { ok: false, head: firstBad - 1, firstBad, reason },
    goodHash: prevHex,
  });

  const it = subs.top.iterator<string, string>({ ...TEXT, gte: subs.logPrefix + seqKey(from), lt: subs.logEnd });
  const plen = subs.logPrefix.length;
  try {
    for (;;) {
      const chunk = await it.nextv(CHUNK);
      if (chunk.length === 0) break;
      for (const [key, value] of chunk) {
        const seq = keySeq(key.substring(plen));
        if (seq !== expect) {
          if (Number.isNaN(seq)) return fail(expect, `unexpected key ${JSON.stringify(key.substring(plen))} in the log`);
          return fail(expect, `record ${expect} is missing (next stored record is ${seq})`);
        }
        scanWork.records++;
        const problem = recordProblem(value, seq, prevHex);
        if (problem !== undefined) return fail(seq, problem);
        prevHex = headerHash(value);
        expect++;
      }
    }
  } finally {
    await it.close();
  }

  const last = expect - 1;
  const raw = await subs.meta.get(HEAD_KEY);
  if (raw === undefined) {
    // Appends write records and meta in one batch, so records without meta mean the meta was lost,
    // not the records: blame the position after the verified records (repair rewrites the meta).
    return last === 0 ? { result: { ok: true, head: 0 }, goodHash: '' } : fail(last + 1, 'head meta is missing');
  }
  const meta = decodeMeta(raw);
  if (typeof meta === 'string') return fail(last + 1, `head meta is unreadable: ${meta}`);
  if (meta.seq > last) return fail(last + 1, `truncated: head meta says ${meta.seq} but records end at ${last}`);
  if (meta.seq < last) {
    prevHex = await hashAt(subs, meta.seq);
    return fail(meta.seq + 1, `record ${meta.seq + 1} lies beyond the head (${meta.seq})`);
  }
  if (meta.hash !== prevHex) {
    prevHex = await hashAt(subs, last - 1);
    return fail(last, `head meta hash does not match record ${last}`);
  }
  return { result: { ok: true, head: last }, goodHash: prevHex };
}

/** Hash of an already verified record ("" for seq 0). */
async function hashAt(subs: Sublevels, seq: number): Promise<string> {
  if (seq === 0) return '';
  const v = await subs.log.get(seqKey(seq));
  return v === undefined ? '' : headerHash(v);
}

export async function verifyLog(subs: Sublevels): Promise<VerifyResult> {
  return (await scanLog(subs)).result;
}

/**
 * Verification from the newest snapshot on: the snapshot's record must be sound and carry the
 * snapshot's hash, then every later record is checked as a full scan would. Opening a long log
 * is then O(records since the snapshot); `verify()` still checks everything. Without a usable
 * snapshot this is the full scan.
 */
export async function scanSinceSnapshot(subs: Sublevels): Promise<Scan> {
  const it = subs.snap.iterator({ reverse: true, limit: 1 });
  let entry: [string, string] | undefined;
  try {
    entry = (await it.nextv(1))[0] as [string, string] | undefined;
  } finally {
    await it.close();
  }
  if (!entry) return scanLog(subs);
  const seq = keySeq(entry[0]);
  let snapHash: string;
  try {
    snapHash = decodeSnapshot(entry[1], seq).hash;
  } catch {
    return scanLog(subs);
  }
  const rec = await subs.log.get(seqKey(seq));
  if (rec === undefined || frameProblem(rec, seq, true) !== undefined || headerHash(rec) !== snapHash) return scanLog(subs);
  return scanLog(subs, seq + 1, snapHash);
}
