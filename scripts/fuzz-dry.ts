// Dry run of the fuzz grammar against the model alone (no QEMU): which commands a seed draws and
// how the model answers them, to check a new production before spending QEMU time on it. The
// model stands in for QEMU's answers here, so nothing it prints is a finding.
// Usage: node --import tsx scripts/fuzz-dry.ts SEED [CASES] [--vm] [--qemu 10.0] [--grep WORD]
import { FUZZ_IMAGES, Generator, Rng, World } from '../oracle/fuzz/index.js';
import { FUZZ_VM, VmGenerator } from '../oracle/fuzz/grammar-vm.js';
import { caseSeed } from '../oracle/fuzz/rng.js';
import { isWaitStep, type Scenario } from '../oracle/format.js';
import { modelRecorder } from '../oracle/run-model.js';
const args = process.argv.slice(2);
const vm = args.includes('--vm');
const qemu = args.includes('--qemu') ? args[args.indexOf('--qemu') + 1] as '10.0' : '7.2';
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined;
const [seed, cases] = [Number(args[0] ?? 1), Number(args[1] ?? 5)];
for (let c = 0; c < cases; c++) {
  const s = caseSeed(seed, c);
  const world = new World();
  const gen = vm ? new VmGenerator(new Rng(s), world, qemu) : new Generator(new Rng(s), world);
  const scenario: Scenario = { name: `dry-${s}`, description: '', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), ...(vm ? { vm: FUZZ_VM, 'hmp-text': true as const } : {}), replies: true, steps: [] };
  const model = await modelRecorder(scenario, undefined, { qemuVersion: qemu, replies: true, ...(vm ? { hmpText: true as const } : {}) });
  for (let i = 0, sent = 0; sent < 25; i++) {
    const step = gen.next();
    if (!step) break;
    if (!isWaitStep(step)) sent++;
    let out;
    try { out = await model.record(i, step); } catch (e) { console.log(s, i, 'MODEL THREW', JSON.stringify(step), String(e).slice(0, 200)); break; }
    world.observe(step, out);
    gen.followUp(step, isWaitStep(out) || out.result.ok);
    const line = isWaitStep(step) ? `wait ${JSON.stringify(step.wait)}` : `${step.execute} ${JSON.stringify(step.arguments)}`;
    const res = isWaitStep(out) ? '' : out.result.ok ? (typeof out.result.return === 'string' ? JSON.stringify(out.result.return).slice(0, 120) : 'ok') : out.result.desc.slice(0, 120);
    if (!grep || line.includes(grep)) console.log(s, i, line.slice(0, 200), '=>', res);
  }
  await model.close();
}
