#!/usr/bin/env node
// `npm test`: type-check, then run every uvu spec and end with the plain line
// "N passed, N failed" (uvu prints only its own Total/Passed block).
import { spawn, spawnSync } from 'node:child_process';

const filter = process.argv[2];
if (!filter) {
  const tc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
  if (tc.status !== 0) { console.log('typecheck: 0 passed, 1 failed'); process.exit(1); }
}
const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/run-specs.ts', ...(filter ? [filter] : [])], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});
let out = '';
// uvu prints each spec file's path as it starts it: the time between two is that file's, and the
// slowest are named at the end (npm test must stay under 15 minutes; this says where it goes)
const took = new Map();
let current, since = Date.now(), partial = '';
child.stdout.on('data', (b) => {
  out += b;
  process.stdout.write(b);
  const lines = (partial + b).split('\n');
  partial = lines.pop();
  for (const l of lines) {
    if (!/^[\w./-]+\.spec\.ts$/.test(l.trim())) continue;
    const now = Date.now();
    if (current) took.set(current, (took.get(current) ?? 0) + now - since);
    current = l.trim(); since = now;
  }
});
child.on('close', (code) => {
  if (current) took.set(current, (took.get(current) ?? 0) + Date.now() - since);
  const slow = [...took].sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (slow.length > 1) console.log(`slowest spec files: ${slow.map(([f, ms]) => `${f} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const failed = total - passed - skipped + (code !== 0 && total === passed + skipped ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code !== 0 || failed > 0 || total === 0 ? 1 : 0);
});
