// `npm run record:transcripts`: re-records every transcript in oracle/transcripts/ on the live
// qemu-storage-daemon with `blockgraph qmp record` (run in-process through the CLI's own
// main(), so it is exactly the command a user runs). Each transcript's scenario is the
// transcript minus its results (oracle/format.ts scenarioOf).
//
//   node --import tsx scripts/record-transcripts.ts           record into a temp dir and report
//                                                              which files differ (exit 1 if any)
//   node --import tsx scripts/record-transcripts.ts --write   overwrite oracle/transcripts/
//   … [substring]                                             only transcripts whose name has it
//   … --qemu 10.0                                             the same scenarios on qemu-storage-daemon 10.0
//                                                              (scripts/fetch-qemu-10.sh), into oracle/transcripts/qemu-10.0/
//   … --vm                                                     the vm target's set (oracle/transcripts/vm) on
//                                                              qemu-system-x86_64 of that version (10.0: into
//                                                              oracle/transcripts/qemu-10.0/vm/)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { parseTranscript, printJson as printOracleJson, scenarioOf } from '../oracle/format.js';
import { TRANSCRIPTS_DIR as QSD_DIR, transcriptsDir, vmTranscriptsDir, VM_TRANSCRIPTS_DIR } from '../oracle/paths.js';
import { findQemuBinaries, vmMissing } from '../oracle/qemu-bins.js';
import { qsdAvailable } from '../oracle/qsd.js';

const write = process.argv.includes('--write');
const qAt = process.argv.indexOf('--qemu');
const qemu = qAt >= 0 ? process.argv[qAt + 1] : '7.2';
if (qemu !== '7.2' && qemu !== '10.0') { console.error(`record-transcripts: --qemu 7.2 or 10.0, not ${qemu}`); process.exit(2); }
const filter = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--qemu');
const vm = process.argv.includes('--vm');
const DIR = vm ? vmTranscriptsDir(qemu) : transcriptsDir(qemu);
const TRANSCRIPTS_DIR = vm ? VM_TRANSCRIPTS_DIR : QSD_DIR;
if (vm && vmMissing(qemu)) { console.error(`record-transcripts: ${vmMissing(qemu)}`); process.exit(2); }
if (qemu === '10.0' && !findQemuBinaries('10.0')) { console.error('record-transcripts: QEMU 10.0 not found (scripts/fetch-qemu-10.sh, or BLOCKGRAPH_QEMU_10_0_DIR)'); process.exit(2); }
if (qemu === '7.2' && !qsdAvailable()) {
  console.error('record-transcripts: qemu-storage-daemon not found (apt-get install qemu-utils qemu-system-common)');
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), 'blockgraph-record-'));
const differ: string[] = [];
// the scenarios are always the 7.2 set's (a 10.0 file may not exist yet)
const files = readdirSync(TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json') && (!filter || f.includes(filter))).sort();
const t0 = performance.now();
for (const f of files) {
  const src = readFileSync(join(TRANSCRIPTS_DIR, f), 'utf8');
  const old = existsSync(join(DIR, f)) ? readFileSync(join(DIR, f), 'utf8') : '';
  const scen = join(tmp, `scenario-${f}`);
  writeFileSync(scen, printOracleJson(scenarioOf(parseTranscript(src, f))));
  const out = join(tmp, f);
  const code = await main(['qmp', 'record', scen, '--out', out, '--qemu', qemu]);
  if (code !== 0) { console.log(`FAIL ${f}: blockgraph qmp record exited ${code}`); differ.push(f); continue; }
  const fresh = readFileSync(out, 'utf8');
  const same = fresh === old;
  if (!same) differ.push(f);
  if (write && !same) { mkdirSync(DIR, { recursive: true }); writeFileSync(join(DIR, f), fresh); }
  console.log(`${same ? 'same   ' : write ? 'updated' : 'DIFFERS'} ${f}`);
}
console.log(`${files.length} transcripts recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${files.length - differ.length} byte-identical, ${differ.length} ${write ? 'rewritten' : 'different'}${differ.length && !write ? ` (kept in ${tmp})` : ''}`);
if (!differ.length || write) rmSync(tmp, { recursive: true, force: true });
process.exitCode = differ.length && !write ? 1 : 0;
