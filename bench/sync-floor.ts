// The floor of a durable write on this disk, two ways: appending to a growing file + fdatasync
// (what LevelDB's WAL does for a synced batch: the size change is journalled too), and
// overwriting a preallocated, already synced file in place + fdatasync (data only). Tells
// whether a cheaper sync could bring sequential durable commands to QSD's rate (issue 15):
// `node --import tsx bench/sync-floor.ts [writes per round] [bytes]`.
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const n = Number(process.argv[2] ?? 1500);
const bytes = Number(process.argv[3] ?? 600);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bg-sync-floor-'));
const buf = Buffer.alloc(bytes, 7);
const quantiles = (a: number[]): string => {
  a.sort((x, y) => x - y);
  return `p50 ${a[a.length >> 1]!.toFixed(3)} ms, p99 ${a[Math.floor(a.length * 0.99)]!.toFixed(3)} ms`;
};
try {
  for (let round = 0; round < 3; round++) {
    const grow = openSync(join(dir, 'grow'), 'w');
    const tg: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(grow, buf);
      fdatasyncSync(grow);
      tg.push(performance.now() - t);
    }
    closeSync(grow);
    const pre = openSync(join(dir, 'pre'), 'w');
    writeSync(pre, Buffer.alloc(n * bytes + 4096));
    fsyncSync(pre);
    const tp: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(pre, buf, 0, bytes, i * bytes);
      fdatasyncSync(pre);
      tp.push(performance.now() - t);
    }
    closeSync(pre);
    console.log(`round ${round + 1}: append + fdatasync ${quantiles(tg)} | preallocated in place + fdatasync ${quantiles(tp)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
