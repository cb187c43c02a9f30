// Triage helper for qemu-abort fuzz findings (issue 12): regenerates a fuzz case from its seed,
// shrinks it (ddmin over the steps, the death at the last kept step being the finding) and prints
// the minimal sequence with the daemon's last words (stderr: assertion text or signal).
//   node --import tsx scripts/abort-probe.ts SEED [--qemu 10.0] [--no-shrink]
//   node --import tsx scripts/abort-probe.ts --file SCENARIO.json [--qemu 10.0]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../oracle/format.js';
import { isWaitStep } from '../oracle/format.js';
import { runScenario } from '../oracle/harness.js';
import { createImagesWithQemuImg, spawnQsd, type QsdConnection } from '../oracle/qsd.js';
import { requireQemuBinaries } from '../oracle/qemu-bins.js';
import { ImageCache, runCase, loadKnown, matchKnown } from '../oracle/fuzz/index.js';
import { closeDependencies } from '../oracle/fuzz/shrink.js';

const argv = process.argv.slice(2);
const qAt = argv.indexOf('--qemu');
const version = (qAt >= 0 ? argv[qAt + 1] : '7.2') as '7.2' | '10.0';
const bins = requireQemuBinaries(version);

interface Death { step: number; stderr: string; message: string }
async function run(s: Scenario): Promise<{ death?: Death; results: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'bg-abort-probe-'));
  const conns: QsdConnection[] = [];
  let done = 0;
  const results: string[] = [];
  try {
    await createImagesWithQemuImg(s, dir, bins);
    await runScenario(s, async (proc) => { const c = await spawnQsd(dir, { label: proc, bin: bins.qsd }); conns.push(c); return c; },
      { dir, waitTimeoutMs: 8000, onStep: (i, t) => { done = i + 1; results.push(isWaitStep(t) ? 'wait' : t.result.ok ? 'ok' : `error: ${t.result.desc}`); } });
    return { results };
  } catch (e) {
    await new Promise((r) => setTimeout(r, 300));
    const msg = (e as Error).message;
    if (!/ died \(| died$| exited \(| closed the connection/.test(msg)) return { results: [...results, `harness: ${msg.slice(0, 300)}`] };
    return { results, death: { step: done, stderr: conns.map((c) => c.stderr()).join('\n').trim().slice(-800), message: msg.split(dir).join('.').slice(0, 300) } };
  } finally {
    for (const c of conns) await c.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

let scenario: Scenario;
const fAt = argv.indexOf('--file');
if (fAt >= 0) scenario = JSON.parse(readFileSync(argv[fAt + 1]!, 'utf8')) as Scenario;
else {
  const images = new ImageCache();
  const known = loadKnown();
  const r = await runCase(Number(argv[0]), 25, { images, waitTimeoutMs: 5000 }, (f) => matchKnown(f, known) !== undefined);
  await images.dispose();
  console.log('finding', r.finding);
  scenario = r.scenario;
}
let steps = scenario.steps;
const last = steps.length - 1;
const dies = async (cand: typeof steps): Promise<boolean> => {
  const r = await run({ ...scenario, steps: cand });
  return r.death !== undefined && r.death.step === cand.length - 1;
};
if (fAt < 0 && !argv.includes('--no-shrink')) {
  steps = closeDependencies(steps.slice(0, last + 1));
  let n = 2;
  while (steps.length >= 2) {
    const size = Math.ceil(steps.length / n);
    let reduced = false;
    for (let i = 0; i < n; i++) {
      const lo = i * size, hi = Math.min(steps.length - 1, (i + 1) * size);
      if (lo >= hi) continue;
      const cand = closeDependencies([...steps.slice(0, lo), ...steps.slice(hi)]);
      if (cand.length < steps.length && await dies(cand)) { steps = cand; n = Math.max(n - 1, 2); reduced = true; process.stderr.write(`shrunk to ${steps.length}\n`); break; }
    }
    if (!reduced) { if (n >= steps.length) break; n = Math.min(steps.length, n * 2); }
  }
}
const r = await run({ ...scenario, steps });
for (const [i, s] of steps.entries()) console.log(i, JSON.stringify(s), '=>', r.results[i] ?? (r.death?.step === i ? 'DIES' : '-'));
console.log(version, r.death ? `DIES at ${r.death.step}: ${r.death.message}\nstderr: ${r.death.stderr}` : 'survives');
console.log(JSON.stringify(steps));
process.exit(0);
