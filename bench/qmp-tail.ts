// What the slow 1% of durable sequential commands wait for (issue 15): `blockgraph qmp --socket`
// runs with bench/qmp-trace-preload.ts (GC pauses, LevelDB batches, engine commands, in absolute
// ms) while bench:qmp's sequential client times each request; every command in the slowest 1% is
// then matched with the GC pauses and batches inside its window. Also the disk's own synced-batch
// latencies measured alone just before, for the floor.
// node --import tsx bench/qmp-tail.ts [N=1000] [ROUNDS=1]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSyncedLatencies } from './raw-sync.js';
import { Client } from './qmp-client.js';

const ROOT = new URL('..', import.meta.url).pathname;
const n = Number(process.argv[2] ?? 1000);
const abs = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const f = (x: number) => x.toFixed(2);

const load0 = loadavg()[0]!;
const raw = (await rawSyncedLatencies(2 * n)).map((ns) => ns / 1e6);
const dir = mkdtempSync(join(tmpdir(), 'bg-qmp-tail-'));
const sock = join(dir, 'qmp.sock');
const out = join(dir, 'trace.json');
const extra = (process.env.BG_TAIL_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...extra, '--import', 'tsx', '--import', join(ROOT, 'bench/qmp-trace-preload.ts'), join(ROOT, 'cli/main.ts'), 'qmp', '--socket', sock, '--db', join(dir, 'db')],
  { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT, env: { ...process.env, BG_TRACE_OUT: out } });
for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
const c = await Client.open(sock);
const cmds: { what: string; t: number; ms: number }[] = [];
const one = async (what: string, args: Record<string, unknown>) => {
  const t = abs();
  const r = await c.cmd(what, args);
  cmds.push({ what, t, ms: abs() - t });
  if (r.error) throw new Error(`${what}: ${r.error.desc}`);
};
for (let i = 0; i < n; i++) await one('blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
for (let i = 0; i < n; i++) await one('blockdev-del', { 'node-name': `n${i}` });
c.close();
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
await exited;
const tr = JSON.parse(readFileSync(out, 'utf8')) as { gc: [number, number, number][]; batches: [number, number, number][]; commands: [number, number, number][]; anchors: [number, number, number][] };
rmSync(dir, { recursive: true, force: true });

const lat = cmds.map((x) => x.ms);
const bl = tr.batches.filter(([t]) => t >= cmds[0]!.t).map(([, d]) => d);
const inWin = <T extends [number, number, number]>(xs: T[], t0: number, t1: number) => xs.filter(([t, d]) => t < t1 && t + d > t0);
const gcIn = (t0: number, t1: number) => inWin(tr.gc, t0, t1).reduce((a, [, d]) => a + d, 0);
console.log(`load ${f(load0)} → ${f(loadavg()[0]!)}; ${2 * n} commands`);
console.log(`raw synced batch alone (ms): p50 ${f(pct(raw, 50))} p90 ${f(pct(raw, 90))} p99 ${f(pct(raw, 99))} max ${f(Math.max(...raw))}`);
console.log(`server's batches (ms):       p50 ${f(pct(bl, 50))} p90 ${f(pct(bl, 90))} p99 ${f(pct(bl, 99))} max ${f(Math.max(...bl))} (${bl.length})`);
const an = tr.anchors.map(([, d]) => d);
console.log(`anchor slot writes (ms):     p50 ${f(pct(an, 50))} p90 ${f(pct(an, 90))} p99 ${f(pct(an, 99))} max ${f(Math.max(...an))} (${an.length})`);
console.log(`commands at the client (ms): p50 ${f(pct(lat, 50))} p90 ${f(pct(lat, 90))} p99 ${f(pct(lat, 99))} max ${f(Math.max(...lat))}`);
const gcs = tr.gc.filter(([t]) => t >= cmds[0]!.t);
const kinds = new Map<number, number[]>();
for (const [, d, k] of gcs) (kinds.get(k) ?? kinds.set(k, []).get(k)!).push(d);
console.log(`GC during the run: ${[...kinds].map(([k, ds]) => `kind ${k}: ${ds.length} pauses, p50 ${f(pct(ds, 50))} max ${f(Math.max(...ds))} ms`).join('; ')}`);
const p99 = pct(lat, 99);
const slow = cmds.filter((x) => x.ms >= p99);
let withGc = 0, withSlowBatch = 0, neither = 0;
const rows: string[] = [];
for (const s of slow) {
  const t1 = s.t + s.ms;
  const g = gcIn(s.t, t1);
  const b = inWin(tr.batches, s.t, t1);
  const bMax = Math.max(0, ...b.map(([, d]) => d));
  const e = inWin(tr.commands, s.t, t1);
  if (g > 0.3) withGc++;
  if (bMax > 0.5 * s.ms) withSlowBatch++;
  if (g <= 0.3 && bMax <= 0.5 * s.ms) neither++;
  const a = inWin(tr.anchors, s.t, t1).reduce((x, [, d]) => x + d, 0);
  rows.push(`  ${s.what} ${f(s.ms)} ms: GC ${f(g)} ms; anchor ${f(a)} ms; batches ${b.map(([, d, k]) => `${f(d)} ms/${k} ops`).join(', ') || 'none'}; engine ${e.map(([, d]) => f(d)).join(', ')} ms`);
}
console.log(`slowest 1% (>= ${f(p99)} ms, ${slow.length}): with a GC pause > 0.3 ms ${withGc}, with a batch over half the command ${withSlowBatch}, neither ${neither}`);
console.log(rows.join('\n'));
