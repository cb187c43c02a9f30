// `npm run record:transcripts`: re-records every transcript in oracle/transcripts/ on the live
// qemu-storage-daemon with `blockgraph qmp record` (run in-process through the CLI's own
// main(), so it is exactly the command a user runs). Each transcript's scenario is the
// transcript minus its results (oracle/format.ts scenarioOf).
//
//   node --import tsx scripts/record-transcripts.ts           record into a temp dir and report
//                                                              which files differ (exit 1 if any)
//   node --import tsx scripts/record-transcripts.ts --write   overwrite oracle/transcripts/
//   … [substring]                                             only transcripts whose name has it
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { parseTranscript, printJson as printOracleJson, scenarioOf } from '../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../oracle/paths.js';
import { qsdAvailable } from '../oracle/qsd.js';

const write = process.argv.includes('--write');
const filter = process.argv.slice(2).find((a) => !a.startsWith('--'));
if (!qsdAvailable()) {
  console.error('record-transcripts: qemu-storage-daemon not found (apt-get install qemu-utils qemu-system-common)');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'blockgraph-record-'));
const differ: string[] = [];
const files = readdirSync(TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json') && (!filter || f.includes(filter))).sort();
const t0 = performance.now();
for (const f of files) {
  const old = readFileSync(join(TRANSCRIPTS_DIR, f), 'utf8');
  const scen = join(tmp, `scenario-${f}`);
  writeFileSync(scen, printOracleJson(scenarioOf(parseTranscript(old, f))));
  const out = join(tmp, f);
  const code = await main(['qmp', 'record', scen, '--out', out]);
  if (code !== 0) { console.log(`FAIL ${f}: blockgraph qmp record exited ${code}`); differ.push(f); continue; }
  const fresh = readFileSync(out, 'utf8');
  const same = fresh === old;
  if (!same) differ.push(f);
  if (write && !same) writeFileSync(join(TRANSCRIPTS_DIR, f), fresh);
  console.log(`${same ? 'same   ' : write ? 'updated' : 'DIFFERS'} ${f}`);
}
console.log(`${files.length} transcripts recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${files.length - differ.length} byte-identical, ${differ.length} ${write ? 'rewritten' : 'different'}${differ.length && !write ? ` (kept in ${tmp})` : ''}`);
if (!differ.length || write) rmSync(tmp, { recursive: true, force: true });
process.exitCode = differ.length && !write ? 1 : 0;
