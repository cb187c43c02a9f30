import { ImageCache, runCase, loadKnown, matchKnown } from '../oracle/fuzz/index.js';
const seed = Number(process.argv[2]);
const len = Number(process.argv[3] ?? 25);
const images = new ImageCache();
const known = loadKnown();
const r = await runCase(seed, len, { images, waitTimeoutMs: 5000 }, (f) => matchKnown(f, known) !== undefined);
for (const [i, s] of r.scenario.steps.entries()) {
  const out = r.qsd?.steps[i];
  const res = out && !('wait' in out) ? (out.result.ok ? 'ok' : out.result.desc) : '';
  console.log(i, JSON.stringify(s), '=>', res);
}
console.log('finding', r.finding, 'passed', r.passed);
await images.dispose();
