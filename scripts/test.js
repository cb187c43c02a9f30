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
child.stdout.on('data', (b) => { out += b; process.stdout.write(b); });
child.on('close', (code) => {
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const failed = total - passed - skipped + (code !== 0 && total === passed + skipped ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code !== 0 || failed > 0 || total === 0 ? 1 : 0);
});
