// One suite for every backend: each backend spec supplies a factory and this registers the tests.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, take, toArray } from 'rxjs';
import { LogConflictError, LogCorruptError, SnapshotCorruptError } from '../../errors/index.js';
import { EventLog, type OpenOptions } from '../../store/event-log.js';
import {
  type AnyLevel,
  decodeRecord,
  encodeMeta,
  encodeRecord,
  encodeSnapshot,
  HEAD_KEY,
  HEADER,
  seqKey,
  type Sublevels,
  sublevelsOf,
} from '../../store/codec.js';
import { crc32 } from 'node:zlib';
import type { LogRecord, NewRecord } from '../../store/types.js';

export interface Backend {
  /** Opens a log on this backend's store; the same data every time. */
  open(opts?: OpenOptions): Promise<EventLog>;
  /** The raw database, opened, with no log on it (for damage and wrappers). Caller closes it. */
  raw(): Promise<AnyLevel>;
  /** Closes anything still open and removes the store. */
  dispose(): Promise<void>;
}
export type BackendFactory = () => Promise<Backend>;

/** The version the suite's records are written at (it decides their frame: store/codec.ts). */
let V: number | undefined;

export const rec = (i: number, extra: Partial<NewRecord> = {}): NewRecord => ({
  ...(V !== undefined ? { v: V } : {}),
  stream: i % 2 ? 'A' : 'B',
  type: 'node.added',
  at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
  data: { i, name: `node-${i}`, opts: { z: true, a: [i, 'x'] } },
  ...extra,
});

const recs = (from: number, n: number): NewRecord[] => Array.from({ length: n }, (_, k) => rec(from + k));

async function seed(log: EventLog, n: number): Promise<void> {
  for (let i = 1; i <= n; i += 3) await log.append(recs(i, Math.min(3, n - i + 1)));
}

/** Opens the raw db of a closed log, runs `fn` on its sublevels, closes it again. */
async function damage(b: Backend, fn: (s: Sublevels) => Promise<void>): Promise<void> {
  const db = await b.raw();
  try {
    await fn(sublevelsOf(db));
  } finally {
    await db.close();
  }
}

async function logKeyCount(b: Backend): Promise<number> {
  let n = 0;
  await damage(b, async (s) => {
    n = (await s.log.keys().all()).length;
  });
  return n;
}

async function expectCorrupt(p: Promise<unknown>, seq: number, reason?: RegExp): Promise<LogCorruptError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, LogCorruptError);
    const err = e as LogCorruptError;
    assert.is(err.code, 'BG_LOG_CORRUPT');
    assert.is(err.seq, seq, `first bad seq (${err.message})`);
    if (reason) assert.match(err.message, reason);
    return err;
  }
  assert.unreachable(`expected LogCorruptError at ${seq}, nothing thrown`);
  throw new Error('unreachable');
}

const BYTES = { valueEncoding: 'buffer' } as const;
/** The stored bytes of a value, for damage at byte level. */
const getBytes = async (sub: Sublevels['log'], key: string): Promise<Buffer> => (await sub.get<string, Buffer>(key, BYTES))!;
const putBytes = (sub: Sublevels['log'], key: string, v: Buffer): Promise<void> => sub.put<string, Buffer>(key, v, BYTES);

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A tail that loses a record never completes; fail with a message instead of hanging. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `v`: write the suite's records at this version (2: frame 2), default 1 (frame 1). */
export function storeConformance(name: string, factory: BackendFactory, opts: { v?: number } = {}): void {
  const with_ = (fn: (b: Backend) => Promise<void>) => async () => {
    V = opts.v;
    const b = await factory();
    try {
      await fn(b);
    } finally {
      await b.dispose();
    }
  };

  // -------------------------------------------------------------------------------------------
  const basics = suite(`store/${name}: append and read`);

  basics('assigns contiguous seqs from 1, v defaults to 1, chains hashes', with_(async (b) => {
    const log = await b.open();
    assert.is(log.head, 0);
    assert.is(log.headHash, '');
    const a = await log.append(recs(1, 2));
    const c = await log.append([rec(3, { v: 2, txn: 't1', causation: 'cmd-1' })]);
    assert.equal([...a, ...c].map((r) => r.seq), [1, 2, 3]);
    assert.equal([...a, ...c].map((r) => r.v), [V ?? 1, V ?? 1, 2]);
    assert.is(a[0]!.prevHash, '');
    assert.is(a[1]!.prevHash, a[0]!.hash);
    assert.is(c[0]!.prevHash, a[1]!.hash);
    assert.is(c[0]!.txn, 't1');
    assert.is(c[0]!.causation, 'cmd-1');
    assert.is(log.head, 3);
    assert.is(log.headHash, c[0]!.hash);
    assert.equal(await log.readAll(), [...a, ...c], 'returned records are what a read gives back');
  }));

  basics('ranged reads: gte, lte, limit, empty ranges', with_(async (b) => {
    const log = await b.open();
    await seed(log, 25);
    const seqs = async (r: Parameters<EventLog['readAll']>[0]) => (await log.readAll(r)).map((x) => x.seq);
    assert.equal(await seqs({ gte: 5, lte: 8 }), [5, 6, 7, 8]);
    assert.equal(await seqs({ gte: 20 }), [20, 21, 22, 23, 24, 25]);
    assert.equal(await seqs({ lte: 3 }), [1, 2, 3]);
    assert.equal(await seqs({ gte: 10, limit: 2 }), [10, 11]);
    assert.equal(await seqs({ gte: 26 }), []);
    assert.equal(await seqs({ gte: 9, lte: 8 }), []);
    const it: number[] = [];
    for await (const r of log.read({ gte: 16, lte: 18 })) it.push(r.seq);
    assert.equal(it, [16, 17, 18]);
    assert.is((await log.readAll()).length, 25);
  }));

  basics('reads across many iterator chunks', with_(async (b) => {
    const log = await b.open();
    for (let i = 0; i < 5; i++) await log.append(recs(i * 500 + 1, 500));
    const all = await log.readAll();
    assert.is(all.length, 2500);
    assert.ok(all.every((r, i) => r.seq === i + 1 && (i === 0 || r.prevHash === all[i - 1]!.hash)));
  }));

  basics('expectedSeq mismatch throws LogConflictError and writes nothing', with_(async (b) => {
    const log = await b.open();
    await log.append(recs(1, 2), { expectedSeq: 1 });
    try {
      await log.append(recs(3, 2), { expectedSeq: 2 });
      assert.unreachable('should conflict');
    } catch (e) {
      assert.instance(e, LogConflictError);
      assert.is((e as LogConflictError).code, 'BG_LOG_CONFLICT');
      assert.equal((e as LogConflictError).info, { expected: 2, actual: 3 });
    }
    assert.is(log.head, 2);
    assert.is((await log.readAll()).length, 2);
    const ok = await log.append(recs(3, 1), { expectedSeq: 3 });
    assert.is(ok[0]!.seq, 3);
  }));

  basics('a failing batch leaves nothing visible (records and head are one batch)', with_(async (b) => {
    const db = await b.raw();
    const log = await EventLog.open(db);
    await log.append(recs(1, 2));
    // Only batches fail; single puts still work, so a log that wrote records one by one would leak them.
    const patched = db as unknown as Record<string, unknown>;
    const origBatch = patched._batch;
    const origChained = patched._chainedBatch;
    patched._batch = async () => {
      throw new Error('simulated disk failure');
    };
    patched._chainedBatch = () => {
      throw new Error('simulated disk failure');
    };
    try {
      await log.append(recs(3, 3));
      assert.unreachable('append should fail');
    } catch (e) {
      assert.match((e as Error).message, /simulated disk failure/);
    } finally {
      patched._batch = origBatch;
      patched._chainedBatch = origChained;
    }
    assert.is(log.head, 2);
    assert.equal((await log.readAll()).map((r) => r.seq), [1, 2]);
    assert.equal(await log.verify(), { ok: true, head: 2 });
    const next = await log.append(recs(3, 1));
    assert.is(next[0]!.seq, 3, 'the failed append consumed no seq');
    await log.close();
    assert.is(await logKeyCount(b), 3);
  }));

  basics('the sync option reaches the one batch an append writes', with_(async (b) => {
    const db = await b.raw();
    const patched = db as unknown as Record<string, unknown>;
    const orig = patched._batch as (ops: unknown[], o: { sync?: boolean }) => Promise<void>;
    const seen: Array<{ ops: number; sync: unknown }> = [];
    patched._batch = function (this: unknown, ops: unknown[], o: { sync?: boolean }) {
      seen.push({ ops: ops.length, sync: o?.sync });
      return orig.call(this, ops, o);
    };
    try {
      const log = await EventLog.open(db);
      await log.append(recs(1, 3), { sync: true });
      await log.append(recs(4, 1));
      await log.append(recs(5, 2), { sync: false });
      await log.close();
    } finally {
      patched._batch = orig;
    }
    // records + head meta + index coverage meta in each batch (these records touch no node: no index entries)
    assert.equal(seen, [{ ops: 5, sync: true }, { ops: 3, sync: false }, { ops: 4, sync: false }]);
  }));

  basics('invalid input is rejected before anything is written', with_(async (b) => {
    const log = await b.open();
    await log.append(recs(1, 1));
    for (const bad of [
      [rec(2), { ...rec(3), data: { x: NaN } }],
      [{ ...rec(2), stream: '' }],
      [{ ...rec(2), data: undefined }],
      [{ ...rec(2), data: { n: 1n } }],
    ]) {
      try {
        await log.append(bad as NewRecord[]);
        assert.unreachable('should reject');
      } catch (e) {
        assert.is((e as { code?: string }).code, 'BG_BAD_INPUT');
      }
    }
    assert.is(log.head, 1);
    assert.is((await log.readAll()).length, 1);
  }));

  basics('concurrent appends are serialized: no interleaving, no reused seq', with_(async (b) => {
    const log = await b.open();
    const calls = Array.from({ length: 30 }, (_, k) => log.append(recs(k * 10, (k % 4) + 1)));
    const results = await Promise.all(calls);
    const seen = new Set<number>();
    for (const batch of results) {
      for (let i = 1; i < batch.length; i++) assert.is(batch[i]!.seq, batch[i - 1]!.seq + 1, 'one call, one contiguous run');
      for (const r of batch) {
        assert.not.ok(seen.has(r.seq), `seq ${r.seq} reused`);
        seen.add(r.seq);
      }
    }
    // Issued in order, so they are written in order.
    const firsts = results.map((r) => r[0]!.seq);
    assert.equal(firsts, [...firsts].sort((x, y) => x - y));
    const total = results.reduce((n, r) => n + r.length, 0);
    assert.is(log.head, total);
    const all = await log.readAll();
    assert.equal(all, results.flat());
    assert.equal(await log.verify(), { ok: true, head: total });
  }));

  basics('two concurrent writers with the same expectedSeq: one wins, one conflicts', with_(async (b) => {
    const log = await b.open();
    const [x, y] = await Promise.allSettled([
      log.append(recs(1, 2), { expectedSeq: 1 }),
      log.append(recs(10, 2), { expectedSeq: 1 }),
    ]);
    assert.is(x.status, 'fulfilled');
    assert.is(y.status, 'rejected');
    assert.instance((y as PromiseRejectedResult).reason, LogConflictError);
    assert.is(log.head, 2);
  }));

  basics('reopen keeps records, head and chain; appends continue the chain', with_(async (b) => {
    let log = await b.open();
    await seed(log, 7);
    const before = await log.readAll();
    const hash = log.headHash;
    await log.close();
    log = await b.open();
    assert.is(log.head, 7);
    assert.is(log.headHash, hash);
    assert.equal(await log.readAll(), before);
    const [r8] = await log.append([rec(8)], { sync: true, expectedSeq: 8 });
    assert.is(r8!.prevHash, hash);
    await log.close();
    log = await b.open();
    assert.is(log.head, 8);
    assert.equal(await log.verify(), { ok: true, head: 8 });
  }));

  basics('close: later appends fail with BG_LOG_CLOSED; queued appends finish first', with_(async (b) => {
    const log = await b.open();
    const pending = log.append(recs(1, 3));
    const closing = log.close();
    await pending;
    await closing;
    try {
      await log.append(recs(4, 1));
      assert.unreachable('closed');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'BG_LOG_CLOSED');
    }
    const again = await b.open();
    assert.is(again.head, 3);
  }));

  // -------------------------------------------------------------------------------------------
  const live = suite(`store/${name}: tail and appended$`);

  live('appended$ emits live appends in seq order', with_(async (b) => {
    const log = await b.open();
    await seed(log, 3);
    const got = firstValueFrom(log.appended$.pipe(take(4), toArray()));
    await log.append(recs(4, 2));
    await log.append(recs(6, 2));
    assert.equal((await within(10_000, got, 'tail')).map((r) => r.seq), [4, 5, 6, 7]);
  }));

  live('tail replays history then goes live', with_(async (b) => {
    const log = await b.open();
    await seed(log, 5);
    const got = firstValueFrom(log.tail(3).pipe(take(6), toArray()));
    await tick();
    await log.append(recs(6, 3));
    assert.equal((await within(10_000, got, 'tail')).map((r) => r.seq), [3, 4, 5, 6, 7, 8]);
  }));

  live('tail beyond the head waits for the records it asked for', with_(async (b) => {
    const log = await b.open();
    await seed(log, 2);
    const got = firstValueFrom(log.tail(5).pipe(take(2), toArray()));
    await log.append(recs(3, 5));
    assert.equal((await within(10_000, got, 'tail')).map((r) => r.seq), [5, 6]);
  }));

  live('tail with a concurrent writer: no gap, no duplicate', with_(async (b) => {
    const log = await b.open();
    // Enough history that catch-up spans several chunks and several event-loop turns.
    for (let i = 0; i < 3; i++) await log.append(recs(i * 1000 + 1, 1000));
    const total = 3000 + 400;
    // A tail from `from` that collects seqs until it has seen the last record the writer will append.
    const follow = (from: number) => {
      const seen: number[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const s = log.tail(from).subscribe({
          next: (r) => {
            seen.push(r.seq);
            if (r.seq === total) {
              s.unsubscribe();
              resolve();
            }
          },
          error: reject,
        });
      });
      done.catch(() => undefined); // awaited below; keep an early error from crashing the run
      return { from, seen, done };
    };
    const tails = [1, 1, 500, 2999].map(follow);
    // The writer runs while the tails are catching up, one append per turn, some in flight as tails subscribe.
    const late: typeof tails = [];
    for (let k = 0; k < 100; k++) {
      const p = log.append(recs(3001 + k * 4, 4));
      if (k === 10 || k === 50) late.push(follow(1));
      await p;
      await tick();
    }
    for (const t of [...tails, ...late]) {
      const err = await within(10_000, t.done, `tail(${t.from})`).then(() => undefined, (e: Error) => e);
      if (err) assert.unreachable(`tail(${t.from}): ${err.message}; got ${t.seen.length} records`);
      assert.is(t.seen.length, total - t.from + 1, `tail(${t.from}) count`);
      assert.ok(t.seen.every((s, i) => s === t.from + i), `tail(${t.from}) contiguous and without duplicates`);
    }
  }));

  live('tail completes when the log closes', with_(async (b) => {
    const log = await b.open();
    await seed(log, 2);
    const got = firstValueFrom(log.tail(1).pipe(toArray()));
    await log.append(recs(3, 1));
    await new Promise((r) => setTimeout(r, 5));
    await log.close();
    assert.equal((await within(10_000, got, 'tail')).map((r) => r.seq), [1, 2, 3]);
  }));

  // -------------------------------------------------------------------------------------------
  const snaps = suite(`store/${name}: snapshots`);

  const snapAt = (r: LogRecord, state: unknown) => ({ seq: r.seq, hash: r.hash, stateHash: `sh-${r.seq}`, state });

  snaps('put and find the latest at or before a seq; persists across reopen', with_(async (b) => {
    let log = await b.open();
    await seed(log, 9);
    const all = await log.readAll();
    assert.is(await log.latestSnapshot(), undefined);
    await log.putSnapshot(snapAt(all[2]!, { nodes: ['a'] }));
    await log.putSnapshot(snapAt(all[5]!, { nodes: ['a', 'b'] }), { sync: true });
    assert.equal(await log.latestSnapshot(), { ...snapAt(all[5]!, { nodes: ['a', 'b'] }), skipped: [] });
    assert.is((await log.latestSnapshot(5))!.seq, 3);
    assert.is((await log.latestSnapshot(6))!.seq, 6);
    assert.is(await log.latestSnapshot(2), undefined);
    await log.close();
    log = await b.open();
    assert.is((await log.latestSnapshot())!.seq, 6);
  }));

  snaps('rejects snapshots that do not belong to the chain', with_(async (b) => {
    const log = await b.open();
    await seed(log, 4);
    const all = await log.readAll();
    for (const bad of [
      { ...snapAt(all[2]!, {}), hash: all[1]!.hash },
      { ...snapAt(all[2]!, {}), seq: 9 },
      { ...snapAt(all[2]!, {}), seq: 0 },
    ]) {
      try {
        await log.putSnapshot(bad);
        assert.unreachable('should reject');
      } catch (e) {
        assert.is((e as { code?: string }).code, 'BG_BAD_INPUT');
      }
    }
    assert.is(await log.latestSnapshot(), undefined);
  }));

  snaps('a damaged snapshot is reported (BG_SNAPSHOT_CORRUPT), or skipped for an older one with a flag', with_(async (b) => {
    let log = await b.open();
    await seed(log, 9);
    const all = await log.readAll();
    await log.putSnapshot(snapAt(all[2]!, 'three'));
    await log.putSnapshot(snapAt(all[5]!, 'six'));
    await log.putSnapshot(snapAt(all[7]!, 'eight'));
    await log.close();
    await damage(b, async (s) => {
      const v = await getBytes(s.snap, seqKey(6));
      v[v.length - 3] ^= 0x01;
      await putBytes(s.snap, seqKey(6), v);
      // Valid CRC, but tied to the wrong record.
      await s.snap.put(seqKey(8), encodeSnapshot({ ...snapAt(all[7]!, 'eight'), hash: all[6]!.hash }));
    });
    log = await b.open();
    for (const [at, seq, reason] of [[undefined, 8, /hash does not match/], [7, 6, /crc/]] as const) {
      try {
        await log.latestSnapshot(at);
        assert.unreachable('should report');
      } catch (e) {
        assert.instance(e, SnapshotCorruptError);
        assert.is((e as SnapshotCorruptError).code, 'BG_SNAPSHOT_CORRUPT');
        assert.is((e as SnapshotCorruptError).seq, seq);
        assert.match((e as Error).message, reason);
      }
    }
    const s = await log.latestSnapshot(undefined, { skipCorrupt: true });
    assert.is(s!.seq, 3);
    assert.is(s!.state, 'three');
    assert.equal(s!.skipped.map((x) => x.seq), [8, 6]);
  }));

  // -------------------------------------------------------------------------------------------
  const damaged = suite(`store/${name}: damaged logs`);

  interface Case {
    title: string;
    hurt: (s: Sublevels, all: LogRecord[]) => Promise<void>;
    firstBad: number;
    reason: RegExp;
    dropped: number;
    /** Whether read() (CRC + links, no hash recompute) also trips over it, and where. */
    readSeq?: number;
  }
  const N = 10;
  const cases: Case[] = [
    {
      title: 'truncated tail (meta says 10, records stop at 7)',
      hurt: async (s) => {
        for (const q of [8, 9, 10]) await s.log.del(seqKey(q));
      },
      firstBad: 8, reason: /truncated/, dropped: 0,
    },
    {
      title: 'records beyond the head meta',
      hurt: async (s, all) => s.meta.put(HEAD_KEY, encodeMeta({ seq: 7, hash: all[6]!.hash })),
      firstBad: 8, reason: /beyond the head/, dropped: 3,
    },
    {
      title: 'zeroed hole (a value replaced by zero bytes)',
      hurt: async (s) => {
        const v = await getBytes(s.log, seqKey(5));
        await putBytes(s.log, seqKey(5), Buffer.alloc(v.length));
      },
      firstBad: 5, reason: /crc/, dropped: 6, readSeq: 5,
    },
    {
      title: 'flipped byte in a body',
      hurt: async (s) => {
        const v = await getBytes(s.log, seqKey(6));
        v[HEADER + 10] ^= 0x20;
        await putBytes(s.log, seqKey(6), v);
      },
      firstBad: 6, reason: /crc/, dropped: 5, readSeq: 6,
    },
    {
      title: 'broken chain (record rewritten with a valid CRC but a wrong prevHash)',
      hurt: async (s, all) => {
        const forged = encodeRecord(4, rec(4), all[1]!.hash).value;
        assert.is(decodeRecord(forged, 4, all[1]!.hash).seq, 4, 'the forgery passes the CRC');
        await s.log.put(seqKey(4), forged);
      },
      firstBad: 4, reason: /broken chain/, dropped: 7, readSeq: 4,
    },
    {
      title: 'body altered and CRC recomputed (hash no longer matches)',
      hurt: async (s) => {
        const v = (await s.log.get(seqKey(9)))!;
        const rest = v.substring(8).replace('node-9', 'node-X');
        assert.is.not(rest, v.substring(8));
        await s.log.put(seqKey(9), crc32(rest).toString(16).padStart(8, '0') + rest);
      },
      firstBad: 9, reason: /hash mismatch/, dropped: 2,
    },
    {
      title: 'missing key in the middle',
      hurt: async (s) => s.log.del(seqKey(3)),
      firstBad: 3, reason: /record 3 is missing/, dropped: 7, readSeq: 3,
    },
    {
      title: 'missing first record',
      hurt: async (s) => s.log.del(seqKey(1)),
      firstBad: 1, reason: /record 1 is missing/, dropped: 9, readSeq: 1,
    },
    {
      title: 'head meta lost',
      hurt: async (s) => s.meta.del(HEAD_KEY),
      firstBad: 11, reason: /head meta is missing/, dropped: 0,
    },
    {
      title: 'value moved to another key',
      hurt: async (s) => s.log.put(seqKey(7), (await s.log.get(seqKey(8)))!),
      firstBad: 7, reason: /holds seq 8/, dropped: 4, readSeq: 7,
    },
  ];

  for (const c of cases) {
    damaged(`${c.title}: open reports seq ${c.firstBad}; repair drops ${c.dropped}`, with_(async (b) => {
      let log = await b.open();
      await seed(log, N);
      const all = await log.readAll();
      await log.close();
      await damage(b, (s) => c.hurt(s, all));
      const keysBefore = await logKeyCount(b);

      await expectCorrupt(b.open(), c.firstBad, c.reason);
      await expectCorrupt(b.open({ verify: 'full' }), c.firstBad, c.reason);
      assert.is(await logKeyCount(b), keysBefore, 'a failed open changes nothing (no automatic repair)');

      log = await b.open({ verify: 'none' });
      const v = await log.verify();
      assert.is(v.ok, false);
      assert.equal(
        { firstBad: (v as { firstBad: number }).firstBad, head: v.head },
        { firstBad: c.firstBad, head: c.firstBad - 1 },
      );
      assert.match((v as { reason: string }).reason, c.reason);
      if (c.readSeq !== undefined) await expectCorrupt(log.readAll(), c.readSeq);

      const r = await log.repair();
      assert.is(r.dropped, c.dropped, 'dropped');
      assert.is(r.head, c.firstBad - 1);
      assert.is(log.head, c.firstBad - 1);
      assert.is(log.headHash, c.firstBad > 1 ? all[c.firstBad - 2]!.hash : '');
      assert.equal(await log.verify(), { ok: true, head: c.firstBad - 1 });
      assert.equal(await log.repair(), { dropped: 0, head: c.firstBad - 1, headHash: log.headHash, snapshotsDropped: 0 });
      await log.close();

      log = await b.open();
      assert.is(log.head, c.firstBad - 1);
      assert.equal(await log.readAll(), all.slice(0, c.firstBad - 1));
      const [next] = await log.append([rec(99)]);
      assert.is(next!.seq, c.firstBad);
      assert.equal(await log.verify(), { ok: true, head: c.firstBad });
    }));
  }

  damaged('repair removes snapshots past the new head and keeps older ones', with_(async (b) => {
    let log = await b.open();
    await seed(log, N);
    const all = await log.readAll();
    await log.putSnapshot(snapAt(all[2]!, 3));
    await log.putSnapshot(snapAt(all[7]!, 8));
    await log.close();
    await damage(b, (s) => s.log.del(seqKey(6)));
    log = await b.open({ verify: 'none' });
    const r = await log.repair();
    assert.equal(r, { dropped: 4, head: 5, headHash: all[4]!.hash, snapshotsDropped: 1 });
    assert.is((await log.latestSnapshot())!.seq, 3);
  }));

  damaged('open with verify none does not scan; read still checks every record', with_(async (b) => {
    let log = await b.open();
    await seed(log, 4);
    await log.close();
    await damage(b, async (s) => {
      const v = await getBytes(s.log, seqKey(2));
      v[v.length - 2] ^= 0xff;
      await putBytes(s.log, seqKey(2), v);
    });
    log = await b.open({ verify: 'none' });
    assert.is(log.head, 4);
    assert.equal((await log.readAll({ lte: 1 })).map((r) => r.seq), [1]);
    await expectCorrupt(log.readAll(), 2, /crc/);
    const err = await firstValueFrom(log.tail(1).pipe(toArray())).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, LogCorruptError);
    assert.is((err as LogCorruptError).seq, 2);
  }));

  for (const s of [basics, live, snaps, damaged]) s.run();
}
