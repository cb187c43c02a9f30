// Snapshot stall at a big graph: commands next to a chain of BENCH_STALL_NODES nodes (default
// 50k, seeded through a snapshot), the engine snapshotting every 200 records. Before, the
// command that crossed the interval encoded the whole state synchronously; now a snapshot is
// written in parts, PART_ENTITIES per command (engine/snapshot-build.ts). Prints per-command
// wall times (median, p99, max) over the commands of at least one whole build, next to one full
// encodeSnapshot of the same state in the same run (what the stall was).
// `node --import tsx bench/snapshot-stall.ts`; figures go to bench/RESULTS.md by hand.
import { loadavg } from 'node:os';
import { Engine } from '../engine/engine.js';
import { buildAioGraph } from './aio.js';
import { digestHex, stateDigest } from '../graph/hash.js';
import { encodeSnapshot } from '../store/codec.js';
import { openMemory } from '../store/index.js';
import { partedSnapshotsOf } from './snapshot-stall-helpers.js';

async function main(): Promise<void> {
  const size = Number(process.env.BENCH_STALL_NODES ?? 50_000);
  const state = buildAioGraph(size, 'chain');
  const log = await openMemory();
  await log.append([{ stream: 'log', type: 'log.seeded', at: '1970-01-01T00:00:00.000Z', data: null }]);
  await log.putSnapshot({ seq: 1, hash: log.headHash, stateHash: digestHex(stateDigest(state)), state });
  const e = await Engine.open(log, { snapshotEvery: 200 });
  const times: number[] = [];
  // CPU time of the process per command (process.cpuUsage: user + system, every thread): what a
  // command costs when it has a core; on a loaded machine the wall time adds the waits for one.
  const cpu: number[] = [];
  const cycle = async (i: number) => {
    for (const [cmd, args] of [
      ['blockdev-add', { driver: 'null-co', 'node-name': `x${i}` }],
      ['blockdev-add', { driver: 'raw', 'node-name': `r${i}`, file: `x${i}` }],
      ['blockdev-del', { 'node-name': `r${i}` }],
      ['blockdev-del', { 'node-name': `x${i}` }],
    ] as const) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await e.execute('A', cmd, args as Record<string, unknown>);
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  };
  await cycle(0); // builds the indexes kept with the state (once)
  times.length = 0;
  cpu.length = 0;
  const cycles = Number(process.env.BENCH_STALL_CYCLES ?? 150);
  for (let i = 1; i <= cycles; i++) await cycle(i);
  await log.whenWritten();
  const t0 = performance.now();
  encodeSnapshot({ seq: 1, hash: '', stateHash: '', state: e.state });
  const fullMs = performance.now() - t0;
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const cpuSorted = [...cpu].sort((a, b) => a - b);
  const cq = (p: number) => +cpuSorted[Math.min(cpuSorted.length - 1, Math.floor(p * cpuSorted.length))]!.toFixed(1);
  const slowest = times.map((t, i) => ({ i, wall: +t.toFixed(1), cpu: +cpu[i]!.toFixed(1) })).sort((a, b) => b.wall - a.wall).slice(0, 5);
  const parted = await partedSnapshotsOf(log);
  console.log(JSON.stringify({ nodes: size, commands: times.length, partedSnapshots: parted, medianMs: +q(0.5).toFixed(1), p99Ms: +q(0.99).toFixed(1), maxMs: +sorted[sorted.length - 1]!.toFixed(1), fullEncodeMs: +fullMs.toFixed(0), maxOverFull: +(sorted[sorted.length - 1]! / fullMs).toFixed(3), cpuMedianMs: cq(0.5), cpuP99Ms: cq(0.99), cpuMaxMs: cq(1), slowest, load: loadavg().map((x) => +x.toFixed(1)) }));
  await log.close();
}

await main();
