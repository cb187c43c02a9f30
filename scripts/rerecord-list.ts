// Re-records the transcripts named (paths under oracle/transcripts, or a file listing them with
// --from FILE) on the QEMU each was recorded on, two at a time, three tries each, and says which
// differ: the check a set gets before it lands, on the machine as it is now.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTranscript, printTranscript, runScenario, scenarioOf } from '../oracle/index.js';
import { onHostOf, recordingRoot } from '../oracle/image-root.js';
import { makeOwnedDirSync, removeOwnedSync } from '../oracle/temp-dirs.js';
import { createImagesWithQemuImg, spawnQsd } from '../oracle/qsd.js';
import { spawnVm } from '../oracle/qemu-vm.js';
import { findQemuBinaries } from '../oracle/qemu-bins.js';
import { sameUpToWaitBoundaries } from '../specs/oracle/rerecord-match.js';

const argv = process.argv.slice(2);
const from = argv.indexOf('--from');
const files = from >= 0 ? readFileSync(argv[from + 1]!, 'utf8').split('\n').filter(Boolean) : argv;
const ATTEMPTS = 3;

async function one(path: string): Promise<string | undefined> {
  const text = readFileSync(path, 'utf8');
  const scenario = scenarioOf(parseTranscript(text));
  const v = path.includes('qemu-10.0/') ? '10.0' : '7.2';
  const bins = findQemuBinaries(v)!;
  const misses: string[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const root = scenario.vm ? tmpdir() : recordingRoot(scenario);
    const dir = scenario.vm ? mkdtempSync(join(root, 'bg-vm-')) : makeOwnedDirSync(root, 'bg-oracle');
    try {
      await createImagesWithQemuImg(scenario, dir, bins);
      const t = scenario.vm
        ? await runScenario(scenario, (proc) => spawnVm(dir, scenario.vm!, { label: proc, bins }), { dir })
        : await runScenario(onHostOf(scenario, root), (proc) => spawnQsd(dir, { label: proc, bin: bins.qsd }), { dir });
      const out = printTranscript(t);
      if (out === text || sameUpToWaitBoundaries(text, out)) return misses.length ? undefined : undefined;
      const a = text.split('\n'), b = out.split('\n');
      const i = a.findIndex((l, k) => l !== b[k]);
      misses.push(`line ${i + 1}: - ${a[i]?.trim()} + ${b[i]?.trim()}`);
    } catch (e) {
      misses.push(`error: ${(e as Error).message.slice(0, 200)}`);
    } finally {
      if (scenario.vm) rmSync(dir, { recursive: true, force: true }); else removeOwnedSync(dir);
    }
  }
  return misses.join(' | ');
}

let next = 0, bad = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const f = files[next++]!;
    const r = await one(f);
    if (r) { bad++; console.log(`DIFF ${f}: ${r}`); } else console.log(`ok ${f}`);
  }
}
await Promise.all([worker(), worker()]);
console.log(`${files.length - bad} of ${files.length} re-recorded the same`);
process.exitCode = bad ? 1 : 0;
