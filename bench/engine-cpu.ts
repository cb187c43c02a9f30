// Main-thread time and GC per durable command, in one process (no QMP, no socket): the engine on
// a classic-level store as `blockgraph qmp` opens it (anchor on, snapshot every 1000 records),
// N blockdev-add then N blockdev-del, each awaited. Main-thread busy time comes from the event
// loop's utilization (idle time excluded: the fsync runs on libuv's pool), so it is less
// inflated by a loaded machine than a wall-clock latency; scavenges per 1000 commands stand for
// the allocation rate (issue 15, wt-cmd2). node --import tsx bench/engine-cpu.ts [N] [ROUNDS]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { Engine } from '../engine/engine.js';
import { openClassic } from '../store/index.js';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 3);
let scavenges = 0, scavengeMs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 1) { scavenges++; scavengeMs += e.duration; } }).observe({ entryTypes: ['gc'] });
const res: { busyUs: number; scav: number; scavMs: number; p50: number; p99: number }[] = [];
for (let r = 0; r < rounds; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-ecpu-'));
  const log = await openClassic(join(dir, 'db'));
  const e = await Engine.open(log, { clock: () => new Date(0).toISOString(), snapshotEvery: 1000 });
  for (let i = 0; i < 50; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `w${i}` }); // warm-up
  const lat: number[] = [];
  const s0 = scavenges, m0 = scavengeMs;
  const u0 = performance.eventLoopUtilization();
  for (const cmd of ['blockdev-add', 'blockdev-del']) {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const x = await e.execute('A', cmd, cmd === 'blockdev-add' ? { driver: 'null-co', 'node-name': `n${i}` } : { 'node-name': `n${i}` });
      lat.push(performance.now() - t);
      if ('error' in x.reply) throw new Error(JSON.stringify(x.reply));
    }
  }
  const u = performance.eventLoopUtilization(u0);
  lat.sort((a, b) => a - b);
  res.push({ busyUs: (u.active * 1000) / (2 * n), scav: ((scavenges - s0) * 1000) / (2 * n), scavMs: (scavengeMs - m0) / Math.max(1, scavenges - s0), p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.floor(lat.length * 0.99)]! });
  await log.close();
  rmSync(dir, { recursive: true, force: true });
}
const med = (k: keyof (typeof res)[0]) => [...res.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(res.length / 2)]!;
console.log(`load ${loadavg()[0]!.toFixed(1)}; ${2 * n} commands x ${rounds}: main thread ${med('busyUs').toFixed(0)} µs/command (rounds ${res.map((x) => x.busyUs.toFixed(0)).join(', ')}); scavenges ${med('scav').toFixed(1)} per 1000 commands, ${med('scavMs').toFixed(2)} ms each; latency p50 ${med('p50').toFixed(2)} p99 ${med('p99').toFixed(2)} ms`);
