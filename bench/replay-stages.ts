// Replay end to end on classic-level, stage by stage (issue 15): raw nextv iteration, then
// EventLog.feedChunks with each chunk's CRCs checked and nothing else, + the frame checks
// (ChainReader.frame3At), + the redo part's scan (store/redo-scan.ts), and replay() itself
// (the lazy fold), rounds interleaved in one process, CPU (process.cpuUsage: every thread) and
// wall, best of ROUNDS, per record; the load average printed. `node --import tsx
// bench/replay-stages.ts DBDIR [ROUNDS]` (a log bench/replay-lazy.ts built: add/del or edges).
import { loadavg } from 'node:os';
import { rawIterateLog } from './write.js';
import { replay } from '../replay/replay.js';
import { openClassic, type EventLog } from '../store/index.js';
import { newRedoScan, scanRedo } from '../store/redo-scan.js';
import { TABLE4 } from '../store/codec.js';

const dir = process.argv[2]!;
const rounds = Number(process.argv[3] ?? 9);
const r = newRedoScan();
let sink = 0;
let records = 0;
const withLog = async (fn: (log: EventLog) => Promise<void>) => {
  const log = await openClassic(dir, { anchor: false, verify: 'none' });
  try {
    await fn(log);
  } finally {
    await log.close();
  }
};
const kinds: Record<string, () => Promise<void>> = {
  raw: async () => { await rawIterateLog(dir); },
  'chunk CRCs': () => withLog(async (log) => { for await (const n of log.feedChunks({}, (c, v) => { c.advance(v); })) sink ^= n; }),
  '+ frame checks': () => withLog(async (log) => { for await (const n of log.feedChunks({}, (c, v, k) => { sink ^= c.frame3At(v, k); c.advance(v); })) sink ^= n; }),
  '+ redo scan': () => withLog(async (log) => {
    for await (const n of log.feedChunks({}, (c, v, k) => {
      const u = c.frame3At(v, k);
      sink ^= u > 0 && scanRedo(v, c.redoAt, u, r, c.version, TABLE4, c.entries) ? r.n : 0;
      c.advance(v);
    })) sink ^= n;
  }),
  'replay()': () => withLog(async (log) => { records = (await replay(log, { fromScratch: true })).seq; }),
};
console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '));
const cpu: Record<string, number> = {};
const wall: Record<string, number> = {};
for (let k = 0; k < rounds; k++) {
  for (const [name, fn] of Object.entries(kinds)) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    const d = process.cpuUsage(c);
    cpu[name] = Math.min(cpu[name] ?? Infinity, d.user + d.system);
    wall[name] = Math.min(wall[name] ?? Infinity, (performance.now() - t) * 1000);
  }
}
for (const name of Object.keys(kinds)) console.log(`${name.padEnd(16)} CPU ${(cpu[name]! / records).toFixed(2)} µs/record, wall ${(wall[name]! / records).toFixed(2)} (best of ${rounds})`);
console.log(`replay / raw: CPU ${(100 * cpu.raw! / cpu['replay()']!).toFixed(0)}%, wall ${(100 * wall.raw! / wall['replay()']!).toFixed(0)}%`);
console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '), sink === 0.5 ? '' : '');
