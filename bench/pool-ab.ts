// Sequential durable commands against servers that differ only in their environment (wt-perf16:
// libuv's pool size, UV_THREADPOOL_SIZE, read by libuv once, when its pool starts), driven by one
// client in alternating chunks (A B C, C B A, ...) so that every server sees the same moments of
// the shared disk and CPUs; a raw synced classic-level batch (bench/raw-sync.ts's) runs in the
// same rotation as the floor. The compiled CLI (bench/built.ts) serves.
//   node --import tsx bench/pool-ab.ts [COMMANDS=2000] [CHUNK=50] [POOLS=4,1]
// A pool of '-' leaves UV_THREADPOOL_SIZE unset (libuv's default of 4).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { builtTree } from './built.js';
import { Client } from './qmp-client.js';

const ROOT = new URL('..', import.meta.url).pathname;
const total = Number(process.argv[2] ?? 2000);
const chunk = Number(process.argv[3] ?? 50);
const pools = (process.argv[4] ?? '4,1').split(',');
const BUILT = builtTree();
const now = process.hrtime.bigint;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const f = (x: number) => x.toFixed(2);

interface Srv { pool: string; dir: string; child: ChildProcess; c: Client; lat: number[]; next: number; live: number }
const load0 = loadavg()[0]!;
const servers: Srv[] = [];
for (const pool of pools) {
  const dir = mkdtempSync(join(tmpdir(), 'bg-pool-ab-'));
  const sock = join(dir, 'qmp.sock');
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  if (pool !== '-') env.UV_THREADPOOL_SIZE = pool;
  const child = spawn(process.execPath, [join(BUILT, 'cli/main.js'), 'qmp', '--socket', sock, '--db', join(dir, 'db')], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT, env });
  for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  servers.push({ pool, dir, child, c: await Client.open(sock), lat: [], next: 0, live: 0 });
}
const rawDir = mkdtempSync(join(tmpdir(), 'bg-raw-'));
const raw = new ClassicLevel<string, string>(join(rawDir, 'db'));
await raw.open();
const rawLat: number[] = [];
const VALUE = 'x'.repeat(1000);
let rawKey = 0;

/** One chunk on a server: adds while fewer than half its commands are done, then dels. */
const runChunk = async (s: Srv) => {
  for (let i = 0; i < chunk; i++) {
    const add = s.lat.length < total / 2;
    const t = now();
    const r = add
      ? await s.c.cmd('blockdev-add', { driver: 'null-co', 'node-name': `n${s.next++}` })
      : await s.c.cmd('blockdev-del', { 'node-name': `n${s.live++}` });
    s.lat.push(Number(now() - t) / 1e6);
    if (r.error) throw new Error(r.error.desc);
  }
};
const rawChunk = async () => {
  for (let i = 0; i < chunk; i++) {
    const t = now();
    await raw.batch([{ type: 'put', key: String(rawKey++).padStart(12, '0'), value: VALUE }], { sync: true });
    rawLat.push(Number(now() - t) / 1e6);
  }
};
for (let r = 0; servers[0]!.lat.length < total; r++) {
  const order: (Srv | undefined)[] = [...servers, undefined];
  if (r % 2) order.reverse();
  for (const s of order) await (s ? runChunk(s) : rawChunk());
}
for (const s of servers) {
  s.c.close();
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
  rmSync(s.dir, { recursive: true, force: true });
}
await raw.close();
rmSync(rawDir, { recursive: true, force: true });
console.log(`${new Date().toISOString()}: ${total} sequential add/del per server in chunks of ${chunk}, alternating; load ${f(load0)} → ${f(loadavg()[0]!)}`);
const line = (name: string, xs: number[]) => `${name.padEnd(34)} p50 ${f(pct(xs, 50))} p90 ${f(pct(xs, 90))} p99 ${f(pct(xs, 99))} max ${f(Math.max(...xs))} ms`;
console.log(line('raw synced batch', rawLat));
for (const s of servers) console.log(line(`server, UV_THREADPOOL_SIZE=${s.pool}`, s.lat) + `; p99 ${f(pct(s.lat, 99) / pct(rawLat, 99))}x the raw's, ${f(pct(s.lat, 99) / pct(servers[0]!.lat, 99))}x the first server's; p50 ${f(pct(s.lat, 50) / pct(servers[0]!.lat, 50))}x`);
