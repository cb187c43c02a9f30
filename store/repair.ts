// Explicit repair: never run automatically, because it throws records away. It keeps the longest
// verified prefix 1..firstBad-1 and deletes everything from the first bad seq on (plus snapshots
// that point past the new head), rewriting the head meta, all in one synced batch.
import { encodeMeta, HEAD_KEY, keySeq, type Sub, type Sublevels, syncOption } from './codec.js';
import { scanLog } from './verify.js';

export interface RepairResult {
  /** Record keys deleted (a truncated tail whose records are already gone drops 0). */
  dropped: number;
  /** Last seq kept. */
  head: number;
  headHash: string;
  /** Snapshots deleted because they were taken after the new head. */
  snapshotsDropped: number;
}

const CHUNK = 1000;

type BatchOp =
  | { type: 'del'; sublevel: Sub; key: string }
  | { type: 'put'; sublevel: Sub; key: string; value: string };

async function keysFrom(sub: Sub): Promise<string[]> {
  const out: string[] = [];
  const it = sub.keys();
  try {
    for (;;) {
      const chunk = await it.nextv(CHUNK);
      if (chunk.length === 0) break;
      for (const k of chunk) out.push(k);
    }
  } finally {
    await it.close();
  }
  return out;
}

export async function repairLog(subs: Sublevels): Promise<RepairResult> {
  const { result, goodHash } = await scanLog(subs);
  if (result.ok) return { dropped: 0, head: result.head, headHash: goodHash, snapshotsDropped: 0 };

  const keep = result.firstBad - 1;
  // Stray keys that are not seq keys can sort anywhere, so all keys are scanned, not a range.
  const logKeys = (await keysFrom(subs.log)).filter((k) => {
    const seq = keySeq(k);
    return Number.isNaN(seq) || seq > keep;
  });
  const snapKeys = (await keysFrom(subs.snap)).filter((k) => {
    const seq = keySeq(k);
    return Number.isNaN(seq) || seq > keep;
  });

  const ops: BatchOp[] = [];
  for (const key of logKeys) ops.push({ type: 'del', sublevel: subs.log, key });
  for (const key of snapKeys) ops.push({ type: 'del', sublevel: subs.snap, key });
  if (keep === 0) ops.push({ type: 'del', sublevel: subs.meta, key: HEAD_KEY });
  else ops.push({ type: 'put', sublevel: subs.meta, key: HEAD_KEY, value: encodeMeta({ seq: keep, hash: goodHash }) });
  await subs.root.batch(ops, syncOption(true));

  return { dropped: logKeys.length, head: keep, headHash: goodHash, snapshotsDropped: snapKeys.length };
}
