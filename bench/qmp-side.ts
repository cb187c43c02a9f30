// qemu-storage-daemon 7.2 and `blockgraph qmp --socket` side by side, driven by the same QMP
// client over a unix socket: sequential blockdev-add/del (each reply awaited) and pipelined
// (a window of requests in flight), durable on blockgraph's side (synced before the reply).
// Rounds alternate between the two servers so both see the same machine load.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { ClassicLevel } from 'classic-level';
import { join } from 'node:path';
import { findExecutable } from '../oracle/qsd.js';
import { builtTree } from './built.js';
import { Client } from './qmp-client.js';

const ROOT = new URL('..', import.meta.url).pathname;

async function waitFor(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 2400; i++) { // up to 60 s: a loaded machine starts tsx slowly
    if (existsSync(path)) return;
    if (child.exitCode !== null) throw new Error('server exited');
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no socket at ${path}`);
}

export interface Server { name: string; sock: string; child: ChildProcess; dir: string }

export async function startQsd(): Promise<Server | undefined> {
  const bin = findExecutable(process.env.BLOCKGRAPH_QSD ?? 'qemu-storage-daemon');
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bg-qsd-'));
  const sock = join(dir, 'qmp.sock');
  const child = spawn(bin, ['--chardev', `socket,id=m,path=${sock},server=on,wait=off`, '--monitor', 'chardev=m'], { stdio: 'ignore' });
  await waitFor(sock, child);
  return { name: 'qemu-storage-daemon', sock, child, dir };
}

/** `built`: a compiled tree (bench/built.ts) whose cli/main.js runs without tsx, as the CLI ships. */
export async function startBlockgraph(dbDir?: string, root = ROOT, name = 'blockgraph', built?: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-qmp-'));
  const sock = join(dir, 'qmp.sock');
  const main = built ? [join(built, 'cli/main.js')] : ['--import', 'tsx', join(root, 'cli/main.ts')];
  const child = spawn(process.execPath, [...main, 'qmp', '--socket', sock, '--db', dbDir ?? join(dir, 'db')], { stdio: 'ignore', cwd: root });
  await waitFor(sock, child);
  return { name, sock, child, dir };
}

export async function stop(s: Server): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
  rmSync(s.dir, { recursive: true, force: true });
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };

/** n blockdev-add then n blockdev-del, each awaited: ops/s and latency percentiles (ms). */
export async function sequential(path: string, n: number, tag: string): Promise<{ addPerSec: number; delPerSec: number; p50: number; p99: number; max: number }> {
  const c = await Client.open(path);
  const lat: number[] = [];
  const one = async (cmd: string, args: Record<string, unknown>) => {
    const t = performance.now();
    const r = await c.cmd(cmd, args);
    lat.push(performance.now() - t);
    if (r.error) throw new Error(`${cmd}: ${r.error.desc}`);
  };
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await one('blockdev-add', { driver: 'null-co', 'node-name': `${tag}${i}` });
  const addMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) await one('blockdev-del', { 'node-name': `${tag}${i}` });
  const delMs = performance.now() - t0;
  c.close();
  return { addPerSec: n / (addMs / 1000), delPerSec: n / (delMs / 1000), p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat) };
}

/**
 * The same with `window` requests in flight, spread over `conns` connections (group commit
 * across the in-flight requests of one connection, and across connections); latency of each
 * request from its write to its reply.
 */
export async function pipelined(path: string, n: number, tag: string, window = 32, conns = 1): Promise<{ addPerSec: number; delPerSec: number; p50: number; p99: number }> {
  const cs = await Promise.all(Array.from({ length: conns }, () => Client.open(path)));
  const lat: number[] = [];
  const run = async (make: (i: number) => [string, Record<string, unknown>]) => {
    const t0 = performance.now();
    let next = 0;
    const worker = async (w: number) => {
      const c = cs[w % conns]!;
      while (next < n) {
        const [cmd, args] = make(next++);
        const t = performance.now();
        const r = await c.cmd(cmd, args);
        lat.push(performance.now() - t);
        if (r.error) throw new Error(`${cmd}: ${r.error.desc}`);
      }
    };
    await Promise.all(Array.from({ length: window }, (_, w) => worker(w)));
    return n / ((performance.now() - t0) / 1000);
  };
  const addPerSec = await run((i) => ['blockdev-add', { driver: 'null-co', 'node-name': `${tag}${i}` }]);
  const delPerSec = await run((i) => ['blockdev-del', { 'node-name': `${tag}${i}` }]);
  for (const c of cs) c.close();
  return { addPerSec, delPerSec, p50: pct(lat, 50), p99: pct(lat, 99) };
}

/**
 * The raw limit of the moment: one synced classic-level batch (a ~1 KB value, about a command's
 * records) after another on the same disk, per second — what a durable sequential command can
 * reach at most.
 */
export async function rawSyncedBatches(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-raw-'));
  const db = new ClassicLevel<string, string>(join(dir, 'db'));
  await db.open();
  const value = 'x'.repeat(1000);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await db.batch([{ type: 'put', key: String(i).padStart(12, '0'), value }], { sync: true });
  const perSec = n / ((performance.now() - t0) / 1000);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return perSec;
}

/**
 * `npm run bench:qmp`: interleaved rounds, medians. BENCH_QMP_BASE=DIR (another checkout, e.g. a
 * `git worktree` of the commit before a change) adds its server to every round, for a before/after
 * at the same load. The blockgraph server runs as the CLI ships (compiled, bench/built.ts);
 * BENCH_QMP_TSX=1 adds the same server run from source under tsx (the figure before 2026-12-02
 * 20:00, which pays esbuild's keepNames per closure), BENCH_QMP_TSX=only runs just that one.
 */
async function main(): Promise<void> {
  const n = Number(process.env.BENCH_QMP_N ?? 500);
  const rounds = Number(process.env.BENCH_QMP_ROUNDS ?? 3);
  const q = await startQsd();
  if (!q) throw new Error('qemu-storage-daemon is not installed');
  const tsx = process.env.BENCH_QMP_TSX;
  const b = tsx === 'only' ? await startBlockgraph(undefined, ROOT, 'blockgraph (tsx)') : await startBlockgraph(undefined, ROOT, 'blockgraph', builtTree());
  // BENCH_QMP_BASE_BUILT=DIR: the base already compiled (bench/built.ts), run as the CLI ships
  const baseBuilt = process.env.BENCH_QMP_BASE_BUILT;
  const base = baseBuilt ? await startBlockgraph(undefined, process.env.BENCH_QMP_BASE ?? ROOT, 'blockgraph (base)', baseBuilt)
    : process.env.BENCH_QMP_BASE ? await startBlockgraph(undefined, process.env.BENCH_QMP_BASE, 'blockgraph (base)')
    : tsx === '1' ? await startBlockgraph(undefined, ROOT, 'blockgraph (tsx)') : undefined;
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const res: Record<string, Record<string, number[]>> = { [q.name]: {}, [b.name]: {}, ...(base ? { [base.name]: {} } : {}) };
  const put = (s: string, k: string, v: number) => ((res[s]![k] ??= []).push(v));
  const loads: number[] = [loadavg()[0]!];
  const raw: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      raw.push(await rawSyncedBatches(Math.min(n, 300)));
      const order = base ? [q, base, b] : [q, b];
      for (const s of r % 2 ? order.reverse() : order) {
        const seq = await sequential(s.sock, n, `s${r}_`);
        const pip = await pipelined(s.sock, n, `p${r}_`);
        for (const [k, v] of Object.entries(seq)) put(s.name, `seq ${k}`, v);
        for (const [k, v] of Object.entries(pip)) put(s.name, `pipelined ${k}`, v);
        // 4 clients with 8 requests in flight each: group commit across connections. A QSD
        // monitor chardev serves one client at a time, so QSD's row is its one pipelining client.
        const conc = s !== q ? await pipelined(s.sock, n, `c${r}_`, 32, 4) : pip;
        for (const [k, v] of Object.entries(conc)) put(s.name, `4 clients ${k}`, v);
      }
      loads.push(loadavg()[0]!);
    }
  } finally {
    await stop(q);
    await stop(b);
    if (base) await stop(base);
  }
  console.log(`${new Date().toISOString()}: load average (1 min) ${loads.map((x) => x.toFixed(1)).join(' → ')}; raw synced classic-level batches: ${raw.map((x) => x.toFixed(0)).join(', ')} /s (median ${med(raw).toFixed(0)})`);
  console.log(`| what (median of ${rounds} interleaved rounds, ${n} nodes) | qemu-storage-daemon |${base ? ` ${base.name} | ratio |` : ''} ${b.name} (synced) | ratio |`);
  console.log(base ? '|---|---|---|---|---|---|' : '|---|---|---|---|');
  for (const k of Object.keys(res[q.name]!)) {
    const a = med(res[q.name]![k]!);
    const lower = /p50|p99|max/.test(k);
    const cell = (c: number) => ` ${c.toFixed(lower ? 2 : 0)} | ${(lower ? a / c : c / a).toFixed(2)}x |`;
    console.log(`| ${k}${lower ? ' (ms)' : ' (/s)'} | ${a.toFixed(lower ? 2 : 0)} |${base ? cell(med(res[base.name]![k]!)) : ''}${cell(med(res[b.name]![k]!))}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
