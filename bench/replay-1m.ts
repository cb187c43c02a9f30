// Replay of a long log against raw iteration of the same log (issue 15): `node --import tsx
// bench/replay-1m.ts DBDIR [RECORDS] [ROUNDS]` builds DBDIR with bench/build-log.ts (the
// engine's records for add x / add raw over x / del / del cycles next to a base graph, snapshot
// every 1000) if it is not there, then alternates raw nextv iteration and a replay from scratch,
// wall and CPU time (process.cpuUsage: every thread of this process) of each.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openClassic } from '../store/index.js';
import { buildLog } from './build-log.js';
import { replayVsRaw } from './write.js';

const dir = process.argv[2]!;
const records = Number(process.argv[3] ?? 1_000_000);
if (!existsSync(join(dir, 'CURRENT'))) {
  const log = await openClassic(dir, { anchor: false });
  const r = await buildLog(log, { records, onProgress: (h) => { if (h % 200_000 < 20_000) console.error(`  … ${h}`); } });
  await log.close();
  console.log(`built ${r.head} records, ${r.commands} commands in ${(r.ms / 1000).toFixed(1)} s`);
}
for (let i = 0; i < Number(process.argv[4] ?? 2); i++) {
  const { raw, rep } = await replayVsRaw(dir);
  console.log(`raw ${Math.round(raw.rate)} rec/s (cpu ${(raw.cpu / 1000).toFixed(0)} ms); replay ${Math.round(rep.rate)} rec/s (cpu ${(rep.cpu / 1000).toFixed(0)} ms); wall ${(100 * rep.rate / raw.rate).toFixed(0)}%, cpu ${(100 * raw.cpu / rep.cpu).toFixed(0)}%`);
}
