// Replay against raw iteration of one log, wall and CPU time, for bench/RESULTS.md: `node --import
// tsx bench/replay-vs-raw.ts DBDIR [COMMANDS] [ROUNDS]` (builds the add/del log of bench/write.ts
// in DBDIR first if it is not there). CPU time (process.cpuUsage: every thread of this process)
// is the figure that holds on a shared machine; wall time is bench/write.ts's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchLogSize, replayVsRaw } from './write.js';

const dir = process.argv[2]!;
const n = Number(process.argv[3] ?? 4000);
if (!existsSync(join(dir, 'CURRENT'))) console.log('built', (await benchLogSize(dir, n)).records);
for (let i = 0; i < Number(process.argv[4] ?? 3); i++) {
  const { raw, rep } = await replayVsRaw(dir);
  console.log(`raw ${Math.round(raw.rate)}/s cpu ${raw.cpu} µs; replay ${Math.round(rep.rate)}/s cpu ${rep.cpu} µs; wall ${(100 * rep.rate / raw.rate).toFixed(0)}% cpu ${(100 * raw.cpu / rep.cpu).toFixed(0)}%`);
}
