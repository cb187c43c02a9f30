// The disk's floor for a durable command: one synced classic-level batch of a 1,000-byte value,
// awaited k times in a fresh store (the raw peer the QMP benches compare against).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

/** Latency of each of k synced single-put batches, in nanoseconds. */
export async function rawSyncedLatencies(k: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-raw-'));
  const db = new ClassicLevel<string, string>(join(dir, 'db'));
  await db.open();
  const value = 'x'.repeat(1000);
  const lat: number[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const t = process.hrtime.bigint();
      await db.batch([{ type: 'put', key: String(i).padStart(12, '0'), value }], { sync: true });
      lat.push(Number(process.hrtime.bigint() - t));
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return lat;
}
