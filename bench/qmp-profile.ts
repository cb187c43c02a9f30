// Profiles `blockgraph qmp --socket` under the bench:qmp workload (issue 15): the server runs with
// --cpu-prof, driven by `sequential` or `pipelined` from bench/qmp-side.ts; the profile's self
// time is then summed by file and by function (bench/profile-summary.ts).
// node --import tsx bench/qmp-profile.ts seq|pipe N OUTDIR
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelined, sequential } from './qmp-side.js';

const ROOT = new URL('..', import.meta.url).pathname;
const [mode = 'seq', nArg = '3000', out = join(tmpdir(), 'bg-prof')] = process.argv.slice(2);
const n = Number(nArg);
const dir = mkdtempSync(join(tmpdir(), 'bg-qmp-prof-'));
const sock = join(dir, 'qmp.sock');
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', out, '--import', 'tsx', join(ROOT, 'cli/main.ts'), 'qmp', '--socket', sock, '--db', join(dir, 'db')], { stdio: 'inherit', cwd: ROOT });
for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
const t0 = performance.now();
const r = mode === 'seq' ? await sequential(sock, n, 'n') : await pipelined(sock, n, 'n');
console.log(mode, n, JSON.stringify(r), `${(performance.now() - t0).toFixed(0)} ms`);
const exited = new Promise((res) => child.once('exit', res));
child.kill('SIGTERM');
await exited;
rmSync(dir, { recursive: true, force: true });
