// Replays one fuzz case (by its case seed) and prints each step with QEMU's answer, then the finding.
// Usage: node --import tsx scripts/fuzz-case.ts CASE_SEED [LENGTH] [--qemu 10.0] [--vm [--machine pc]] [--scenario FILE]
// --scenario FILE: also write the case as a scenario (blockgraph-oracle/1), to record with
// `blockgraph qmp record FILE` and compare step by step with `blockgraph conformance DIR`.
import { writeFileSync } from 'node:fs';
import { ImageCache, runCase, loadKnown, matchKnown } from '../oracle/fuzz/index.js';
import { requireQemuBinaries, requireQemuVm } from '../oracle/qemu-bins.js';
const args = process.argv.slice(2);
const flag = (f: string) => { const i = args.indexOf(f); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const vm = args.includes('--vm');
if (vm) args.splice(args.indexOf('--vm'), 1);
const qemu = flag('--qemu');
const scenarioOut = flag('--scenario');
const machine = flag('--machine');
if (machine !== undefined && machine !== 'q35' && machine !== 'pc') throw new Error(`--machine takes q35 or pc, got '${machine}'`);
const seed = Number(args[0]);
const len = Number(args[1] ?? 25);
const images = new ImageCache(qemu === '10.0' ? (vm ? requireQemuVm('10.0') : requireQemuBinaries('10.0')) : undefined);
const known = loadKnown();
const r = await runCase(seed, len, { images, waitTimeoutMs: 5000, ...(vm ? { target: 'vm' as const, ...(machine ? { machine } : {}) } : {}) }, (f) => matchKnown(f, known) !== undefined);
for (const [i, s] of r.scenario.steps.entries()) {
  const out = r.qsd?.steps[i];
  const res = out && !('wait' in out) ? (out.result.ok ? 'ok' : out.result.desc) : '';
  console.log(i, JSON.stringify(s), '=>', res);
}
if (scenarioOut) {
  writeFileSync(scenarioOut, `${JSON.stringify({ format: 'blockgraph-oracle/1', ...r.scenario }, null, 2)}\n`);
}
console.log('finding', r.finding, 'passed', r.passed, ...(r.inconclusive ? ['inconclusive', r.inconclusive] : []));
await images.dispose();
