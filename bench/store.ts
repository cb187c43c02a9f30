// Store benchmarks: what the log costs over raw classic-level with the same record shapes.
// Each function takes a directory of its own (created if missing; a write bench wants it empty)
// and returns records per second. The iterate/read benches read what the matching write bench left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { seqKey } from '../store/codec.js';
import { openClassic } from '../store/open.js';
import type { NewRecord } from '../store/types.js';

const CHUNK = 1000;

/** A record with a ~200-byte payload, as graph events look. */
export function benchRecord(i: number): NewRecord {
  return {
    stream: 'A',
    type: 'node.added',
    at: '2024-01-01T00:00:00.000Z',
    txn: `txn-${i >> 3}`,
    data: {
      node: `#block${i}`,
      driver: 'qcow2',
      file: `/var/lib/images/disk-${i}.qcow2`,
      perm: ['consistent-read', 'write'],
      shared: ['consistent-read', 'write-unchanged', 'resize'],
      aio: 'threads',
      cache: { direct: true, 'no-flush': false },
    },
  };
}

const perSec = (n: number, t0: bigint): number => n / (Number(process.hrtime.bigint() - t0) / 1e9);

/** classic-level batch puts (sync) of JSON records keyed by fixed-width seq. */
export async function benchRawBatch(dir: string, n: number, batchSize: number): Promise<number> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 1; i <= n; i += batchSize) {
      const ops: Array<{ type: 'put'; key: string; value: string }> = [];
      for (let seq = i; seq < i + batchSize && seq <= n; seq++) {
        ops.push({ type: 'put', key: seqKey(seq), value: JSON.stringify({ seq, ...benchRecord(seq) }) });
      }
      await db.batch(ops, { sync: true } as object);
    }
    return perSec(n, t0);
  } finally {
    await db.close();
  }
}

/** EventLog.append (sync) of the same records. */
export async function benchLogAppend(dir: string, n: number, batchSize: number): Promise<number> {
  const log = await openClassic(dir);
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 1; i <= n; i += batchSize) {
      const recs: NewRecord[] = [];
      for (let seq = i; seq < i + batchSize && seq <= n; seq++) recs.push(benchRecord(seq));
      await log.append(recs, { sync: true });
    }
    return perSec(n, t0);
  } finally {
    await log.close();
  }
}

/**
 * nextv over everything benchRawBatch wrote. `parse` (default true) JSON-parses each value, the
 * least any consumer does with a record; false measures bare iteration.
 */
export async function benchRawIterate(dir: string, parse = true): Promise<number> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const t0 = process.hrtime.bigint();
    let n = 0;
    const it = db.values();
    for (;;) {
      const values = await it.nextv(CHUNK);
      if (values.length === 0) break;
      if (parse) for (const v of values) JSON.parse(v);
      n += values.length;
    }
    await it.close();
    return perSec(n, t0);
  } finally {
    await db.close();
  }
}

/** EventLog.read (record by record, CRC and back-links checked) over what benchLogAppend wrote. */
export async function benchLogRead(dir: string): Promise<number> {
  const log = await openClassic(dir, { verify: 'none' });
  try {
    const t0 = process.hrtime.bigint();
    let n = 0;
    for await (const _ of log.read()) n++;
    return perSec(n, t0);
  } finally {
    await log.close();
  }
}

/** Open with full verification (CRC + sha256 chain for every record) over what benchLogAppend wrote. */
export async function benchLogVerifyOpen(dir: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const log = await openClassic(dir, { verify: 'full' });
  const r = perSec(log.head, t0);
  await log.close();
  return r;
}

/** Runs the set in fresh temp dirs and prints a table; `node --import tsx bench/store.ts [n]`. */
export async function runStoreBench(n = 20_000, batchSizes = [1, 10, 100]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bg-bench-store-'));
  try {
    const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(10);
    for (const bs of batchSizes) {
      const count = bs === 1 ? Math.min(n, 2000) : n;
      const raw = join(root, `raw-${bs}`);
      const log = join(root, `log-${bs}`);
      const rawW = await benchRawBatch(raw, count, bs);
      const logW = await benchLogAppend(log, count, bs);
      console.log(`append  batch ${String(bs).padStart(3)} n=${count}: raw ${fmt(rawW)}/s  log ${fmt(logW)}/s  ${((100 * logW) / rawW).toFixed(0)}%`);
    }
    const dirRaw = join(root, `raw-${batchSizes[batchSizes.length - 1]}`);
    const dirLog = join(root, `log-${batchSizes[batchSizes.length - 1]}`);
    for (let round = 0; round < 3; round++) {
      const rawBare = await benchRawIterate(dirRaw, false);
      const rawR = await benchRawIterate(dirRaw);
      const logR = await benchLogRead(dirLog);
      const ver = await benchLogVerifyOpen(dirLog);
      console.log(
        `read    round ${round}: raw bare ${fmt(rawBare)}/s  raw+parse ${fmt(rawR)}/s  log ${fmt(logR)}/s ` +
          `(${((100 * logR) / rawR).toFixed(0)}% of raw+parse, ${((100 * logR) / rawBare).toFixed(0)}% of bare)  verify-open ${fmt(ver)}/s`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runStoreBench(Number(process.argv[2] ?? 20_000));
}
