// Replay lazily (replay/fold-lazy.ts, what replay() does) against the eager fold of the stored
// form (readRawChunks + foldRaw: replay() before the lazy fold) and raw nextv iteration of the
// same log, rounds interleaved in one process: `node --import tsx bench/replay-lazy.ts DBDIR
// [COMMANDS] [ROUNDS] [adddel|edges]` (builds bench/write.ts's add/del log, or its workload with
// edges: chains, reopens, stream jobs, in DBDIR first if it is not there).
// Wall and CPU (process.cpuUsage: every thread) per record, median and best; the load average
// printed before and after (figures at load are not idle figures).
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { emptyFold, foldRaw } from '../replay/fold.js';
import { replay } from '../replay/replay.js';
import { openClassic } from '../store/index.js';
import { benchLogSize, rawIterateLog, WORKLOADS, type WorkloadName } from './write.js';

const dir = process.argv[2]!;
const n = Number(process.argv[3] ?? 40000);
const rounds = Number(process.argv[4] ?? 7);
const kind = (process.argv[5] ?? 'adddel') as WorkloadName;
if (!(kind in WORKLOADS)) throw new Error(`workload: one of ${Object.keys(WORKLOADS).join(', ')}`);
if (!existsSync(join(dir, 'CURRENT'))) {
  const s = await benchLogSize(dir, n, kind);
  console.log('built', s.records, kind, 'records,', (s.logValueBytes / s.commands).toFixed(0), 'B of log values per command,', (s.logValueBytes / s.qmpBytes).toFixed(1), 'x the QMP text');
}
console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '));

async function timed(fn: () => Promise<number>): Promise<{ wall: number; cpu: number; records: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  const records = await fn();
  const d = process.cpuUsage(c);
  return { wall: performance.now() - t, cpu: (d.user + d.system) / 1000, records };
}

const kinds: Record<string, () => Promise<number>> = {
  raw: async () => {
    const rate = await rawIterateLog(dir);
    return rate; // records/s; converted below
  },
  eager: async () => {
    const log = await openClassic(dir, { anchor: false, verify: 'none' });
    try {
      const f = emptyFold();
      for await (const chunk of log.readRawChunks({})) for (const r of chunk) foldRaw(f, r);
      return f.seq;
    } finally {
      await log.close();
    }
  },
  lazy: async () => {
    const log = await openClassic(dir, { anchor: false, verify: 'none' });
    try {
      return (await replay(log, { fromScratch: true })).seq;
    } finally {
      await log.close();
    }
  },
};
const res: Record<string, { wall: number[]; cpu: number[] }> = {};
let records = 0;
for (let r = 0; r < rounds; r++) {
  for (const [k, fn] of Object.entries(kinds)) {
    const x = await timed(fn);
    if (k !== 'raw') records = x.records;
    (res[k] ??= { wall: [], cpu: [] }).wall.push(x.wall);
    res[k]!.cpu.push(x.cpu);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]) => Math.min(...xs);
const us = (ms: number) => (1000 * ms / records).toFixed(2);
for (const [k, v] of Object.entries(res)) {
  console.log(`${k.padEnd(6)} wall µs/record median ${us(med(v.wall))} best ${us(min(v.wall))}; CPU µs/record median ${us(med(v.cpu))} best ${us(min(v.cpu))}`);
}
// raw's time includes its own open and close, as the others' do
const ratio = (a: string) => `${a}: wall ${(100 * min(res.raw!.wall) / min(res[a]!.wall)).toFixed(0)}% of raw (best), ${(100 * med(res.raw!.wall) / med(res[a]!.wall)).toFixed(0)}% (median); CPU ${(100 * min(res.raw!.cpu) / min(res[a]!.cpu)).toFixed(0)}% (best)`;
console.log(ratio('eager'));
console.log(ratio('lazy'));
console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '));
