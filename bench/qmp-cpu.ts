// CPU per sequential durable command at the server, this tree against another (a `git archive`
// of an earlier commit), each compiled as the CLI ships (bench/built.ts), in interleaved rounds:
// the main thread's CPU time (utime + stime of the server's main thread, /proc) and the whole
// process's (with LevelDB's and libuv's threads). CPU time is far less inflated by a loaded
// machine than wall time, so a before/after holds where bench:qmp's wall ratios are noise.
// Per tree: the QMP session over a backend answering at once (bench/qmp-floor-server.ts
// session), and `blockgraph qmp --socket` itself.
// CPU time from /proc/PID/task/TID/schedstat (nanoseconds on the CPU), not stat's 10 ms ticks.
// node --import tsx bench/qmp-cpu.ts BASE_DIR [N=2000] [ROUNDS=3]
// (BENCH_BUILT_BASE=DIR: the base tree already compiled; BENCH_BUILT=DIR: this one)
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtTree } from './built.js';
import { sequential, stop, type Server } from './qmp-side.js';

const ROOT = new URL('..', import.meta.url).pathname;
const [baseDir, nArg = '2000', roundsArg = '3'] = process.argv.slice(2);
if (!baseDir) throw new Error('usage: qmp-cpu.ts BASE_DIR [N] [ROUNDS]');
const n = Number(nArg);
const rounds = Number(roundsArg);
// the base tree may predate the floor server: it only needs listenQmp, which every tree has
if (!existsSync(join(baseDir, 'bench/qmp-floor-server.ts'))) copyFileSync(join(ROOT, 'bench/qmp-floor-server.ts'), join(baseDir, 'bench/qmp-floor-server.ts'));
if (!existsSync(join(baseDir, 'bench/built.ts'))) copyFileSync(join(ROOT, 'bench/built.ts'), join(baseDir, 'bench/built.ts'));
if (!existsSync(join(baseDir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(baseDir, 'node_modules'));
// BENCH_BUILT: an already compiled tree of this checkout
const builtBase = process.env.BENCH_BUILT_BASE;
const trees = { this: builtTree(), base: builtBase ? builtBase : (delete process.env.BENCH_BUILT, builtTree(baseDir)) };

async function start(name: string, args: string[]): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-qmp-cpu-'));
  const sock = join(dir, 'qmp.sock');
  const child = spawn(process.execPath, args.map((a) => a.replace('$SOCK', sock).replace('$DIR', dir)), { stdio: 'ignore' });
  for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  return { name, sock, child, dir };
}
/** CPU seconds of the main thread and of the whole process (every thread's schedstat, in ns). */
const cpuOf = (pid: number): [number, number] => {
  const ns = (tid: string) => { try { return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9; } catch { return 0; } };
  let all = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) all += ns(t);
  return [ns(String(pid)), all];
};

const servers: Server[] = [];
for (const [tree, dir] of Object.entries(trees)) {
  servers.push(await start(`${tree}: session floor`, [join(dir, 'bench/qmp-floor-server.js'), 'session', '$SOCK']));
  servers.push(await start(`${tree}: blockgraph qmp`, [join(dir, 'cli/main.js'), 'qmp', '--socket', '$SOCK', '--db', '$DIR/db']));
}
const load0 = loadavg()[0]!;
const res = new Map<string, { main: number[]; all: number[]; p50: number[] }>(servers.map((s) => [s.name, { main: [], all: [], p50: [] }]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const c0 = cpuOf(s.child.pid!);
      const x = await sequential(s.sock, n, `r${r}_`);
      const c1 = cpuOf(s.child.pid!);
      const e = res.get(s.name)!;
      e.main.push(((c1[0] - c0[0]) / (2 * n)) * 1e6);
      e.all.push(((c1[1] - c0[1]) / (2 * n)) * 1e6);
      e.p50.push(x.p50);
    }
  }
} finally {
  for (const s of servers) await stop(s);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${new Date().toISOString()}: load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; ${rounds} interleaved rounds of ${n} add + ${n} del per server; base ${baseDir}`);
console.log('| server | main thread CPU µs / command (median; rounds) | whole process | wall p50 ms |');
console.log('|---|---|---|---|');
for (const [k, v] of res) console.log(`| ${k} | ${med(v.main).toFixed(0)} (${v.main.map((x) => x.toFixed(0)).join(', ')}) | ${med(v.all).toFixed(0)} | ${med(v.p50).toFixed(2)} |`);
