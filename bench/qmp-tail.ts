// What the slow 1% of durable sequential commands wait for (issue 15), stage by stage.
// `blockgraph qmp --socket` runs compiled, as the CLI ships (bench/built.ts), with
// bench/qmp-stages-preload.ts (an hrtime stamp per stage of each request) and
// bench/qmp-trace-preload.ts (GC pauses, LevelDB batches, anchor writes, on the same clock) while a
// sequential client stamps each request's send and reply. Every command in the slowest 1% is then
// told by its stage furthest over that stage's median, and matched with the GC pauses and batches
// inside its window. The disk's own synced-batch latencies are measured in the same run, in
// chunks interleaved with the server's commands, for the floor.
// node --import tsx bench/qmp-tail.ts [N=1000] [ROUNDS=1]
// BG_TAIL_NODE_FLAGS='--max-semi-space-size=…' passes flags to the server's node;
// BENCH_TAIL_TSX=1 runs the server from source under tsx.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtTree } from './built.js';
import { ClassicLevel } from 'classic-level';
import { Client } from './qmp-client.js';
import { STAGES } from './qmp-stages-names.js';
import { attachStrace, describe, parseStrace, split, wallMinusHr } from './strace-sync.js';

const ROOT = new URL('..', import.meta.url).pathname;
const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 1);
const now = process.hrtime.bigint;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const f = (x: number) => x.toFixed(2);

const BUILT = process.env.BENCH_TAIL_TSX ? undefined : builtTree();
const mod = (path: string) => (BUILT ? join(BUILT, path.replace(/\.ts$/, '.js')) : join(ROOT, path));

/** About the size of a command's batch (the raw floor's value, as bench/raw-sync.ts). */
const RAW_VALUE = 'x'.repeat(1000);
const load0 = loadavg()[0]!;
// The raw floor interleaved with the server's commands, a chunk of each in turn, so that both see
// the same moments of a shared disk (its synced-write tail moves with the neighbours' load).
const CHUNK = 250;
const rawDir = mkdtempSync(join(tmpdir(), 'bg-raw-'));
const rawDb = new ClassicLevel<string, string>(join(rawDir, 'db'));
await rawDb.open();
const rawAll: number[] = [];
/** The raw batches' [start on hrtime ms, duration ms], for strace's split. */
const rawTimed: [number, number][] = [];
let rawKey = 0;
const rawChunk = async () => {
  for (let i = 0; i < CHUNK; i++) {
    const t = now();
    await rawDb.batch([{ type: 'put', key: String(rawKey++).padStart(12, '0'), value: RAW_VALUE }], { sync: true });
    rawAll.push(Number(now() - t) / 1e6);
    rawTimed.push([Number(t) / 1e6, Number(now() - t) / 1e6]);
  }
};
const dir = mkdtempSync(join(tmpdir(), 'bg-qmp-tail-'));
const sock = join(dir, 'qmp.sock');
const traceOut = join(dir, 'trace.json');
const stagesOut = join(dir, 'stages.json');
const extra = (process.env.BG_TAIL_NODE_FLAGS ?? '').split(' ').filter(Boolean);
// BG_TAIL_POOL=N: libuv's pool size for the server only (UV_THREADPOOL_SIZE), not for this process
const serverPool = process.env.BG_TAIL_POOL ? { UV_THREADPOOL_SIZE: process.env.BG_TAIL_POOL } : {};
const child = spawn(process.execPath, [...extra, ...(BUILT ? [] : ['--import', 'tsx']), '--import', mod('bench/qmp-trace-preload.ts'), '--import', mod('bench/qmp-stages-preload.ts'), mod('cli/main.ts'), 'qmp', '--socket', sock, '--db', join(dir, 'db')],
  { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT, env: { ...process.env, ...serverPool, BG_TRACE_OUT: traceOut, BG_STAGES_OUT: stagesOut } });
for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
// BENCH_STRACE=DIR (wt-perf16): strace on the server and on this process (the raw loop), so
// that each synced batch's time in the kernel's fdatasync is told from the rest
const straceDir = process.env.BENCH_STRACE;
const traces = straceDir ? [await attachStrace(child.pid!, join(straceDir, 'server.strace')), await attachStrace(process.pid, join(straceDir, 'raw.strace'))] : [];
const c = await Client.open(sock);
const cmds: { what: string; t0: bigint; t1: bigint }[] = [];
const one = async (what: string, args: Record<string, unknown>) => {
  const t0 = now();
  const r = await c.cmd(what, args);
  cmds.push({ what, t0, t1: now() });
  if (r.error) throw new Error(`${what}: ${r.error.desc}`);
};
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < n; i++) {
    if (i % CHUNK === 0) await rawChunk();
    await one('blockdev-add', { driver: 'null-co', 'node-name': `r${r}n${i}` });
  }
  for (let i = 0; i < n; i++) {
    if (i % CHUNK === 0) await rawChunk();
    await one('blockdev-del', { 'node-name': `r${r}n${i}` });
  }
}
c.close();
await Promise.all(traces.map((t) => t.stop()));
await rawDb.close();
rmSync(rawDir, { recursive: true, force: true });
const exited = new Promise((r) => child.once('exit', r));
child.kill('SIGTERM');
await exited;
const ldbText: string[] = [];
/** Trace entries are [hrtime ms, duration ms, detail]. */
type Ev = [number, number, number];
const tr = JSON.parse(readFileSync(traceOut, 'utf8')) as { gc: Ev[]; batches: Ev[]; commands: Ev[]; anchors: Ev[]; fsyncs: Ev[]; snaps: Ev[]; unsynced: Ev[]; wallMinusHr: number };
// LevelDB's own events from its LOG (memtable flushes to level 0, compactions), wall-clock
// stamped to the microsecond: moved onto hrtime's clock by the server's offset.
const ldb: Ev[] = [];
for (const l of (existsSync(join(dir, 'db/LOG')) ? readFileSync(join(dir, 'db/LOG'), 'utf8') : '').split('\n')) {
  const m = /^(\d+)\/(\d+)\/(\d+)-(\d+):(\d+):(\d+)\.(\d+) \S+ (.*)$/.exec(l);
  if (!m || !/Level-0 table|Compact|compact/.test(m[8]!)) continue;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + Number(`0.${m[7]}`) * 1000 + new Date().getTimezoneOffset() * 60000;
  ldb.push([wall - tr.wallMinusHr, 0, 0]);
  ldbText.push(m[8]!);
}
const recs = (JSON.parse(readFileSync(stagesOut, 'utf8')) as (string | null)[][])
  .map((r) => r.map((x) => (x === null ? undefined : BigInt(x))))
  .filter((r) => r[STAGES.indexOf('engine')] !== undefined);
rmSync(dir, { recursive: true, force: true });

const k = Math.min(recs.length, cmds.length);
const names = ['send', ...STAGES, 'receive'];
const rows = Array.from({ length: k }, (_, i) => {
  const c = cmds[cmds.length - k + i]!;
  return { what: c.what, stamps: [c.t0, ...recs[recs.length - k + i]!, c.t1] };
});
/** Stage j's duration (ms) from the last stamp before it that was taken. */
const stageMs = (s: (bigint | undefined)[], j: number): number | undefined => {
  let p = j - 1;
  while (p >= 0 && s[p] === undefined) p--;
  return s[j] === undefined || p < 0 ? undefined : Number(s[j]! - s[p]!) / 1e6;
};
const inWin0 = (xs: Ev[], a: number, b: number) => xs.filter(([t, d]) => t < b && t + d > a);
const inWin = inWin0;
const med = names.map((_, j) => { const d = rows.map((r) => stageMs(r.stamps, j)).filter((x): x is number => x !== undefined); return d.length ? pct(d, 50) : 0; });
const lat = rows.map((r) => Number(r.stamps[r.stamps.length - 1]! - r.stamps[0]!) / 1e6);
const bl = tr.batches.map(([, d]) => d);
const an = tr.anchors.map(([, d]) => d);
const line = (what: string, xs: number[]) => `${what.padEnd(30)} p50 ${f(pct(xs, 50))} p90 ${f(pct(xs, 90))} p99 ${f(pct(xs, 99))} max ${f(Math.max(...xs))} (${xs.length})`;
console.log(`${new Date().toISOString()}: load ${f(load0)} → ${f(loadavg()[0]!)}; ${k} commands; server ${BUILT ? 'compiled' : 'under tsx'}${extra.length ? ` with ${extra.join(' ')}` : ''}${process.env.BG_TAIL_POOL ? `, UV_THREADPOOL_SIZE=${process.env.BG_TAIL_POOL}` : ''}`);
console.log(line('raw synced batch, interleaved:', rawAll));
console.log(line("server's batches (ms):", bl));
console.log(line('anchor slot writes (ms):', an));
console.log(line('commands at the client (ms):', lat));
console.log(`p99 ratio to the raw synced batch's, same run: ${(pct(lat, 99) / pct(rawAll, 99)).toFixed(2)}x (p50 ${(pct(lat, 50) / pct(rawAll, 50)).toFixed(2)}x)`);
console.log(line('fdatasyncs via node:fs (ms):', tr.fsyncs.map(([, d]) => d)));
if (tr.snaps.length) console.log(line('snapshot steps, main thread (ms):', tr.snaps.filter(([, , kk]) => kk === 2).map(([, d]) => d)));
console.log(`unsynced batches (a held record written alone): ${tr.unsynced.length}`);
console.log(`LevelDB LOG events during the run: ${ldb.length} (${[...new Set(ldbText.map((x) => x.replace(/[#\d].*$/, '').trim()))].join('; ')})`);
if (straceDir) {
  console.log(describe("server's batches, strace", split(tr.batches.map(([t, d]) => [t, d]), tr.wallMinusHr, parseStrace(join(straceDir, 'server.strace')))));
  console.log(describe('raw batches, strace', split(rawTimed, wallMinusHr(), parseStrace(join(straceDir, 'raw.strace')))));
}
const hand = rows.map((r) => stageMs(r.stamps, names.indexOf('synced'))).filter((x): x is number => x !== undefined);
console.log(line('handed → synced (ms):', hand));
const kinds = new Map<number, number[]>();
for (const [, d, kk] of tr.gc) (kinds.get(kk) ?? kinds.set(kk, []).get(kk)!).push(d);
console.log(`GC: ${[...kinds].map(([kk, ds]) => `kind ${kk}: ${ds.length} pauses, p50 ${f(pct(ds, 50))} max ${f(Math.max(...ds))} ms`).join('; ')} (1 scavenge, 2 mark-compact, 4 incremental, 8 weak callbacks)`);
{
  const w = rows.map((r, i) => ({ ms: lat[i]!, a: Number(r.stamps[0]!) / 1e6, b: Number(r.stamps[r.stamps.length - 1]!) / 1e6 }));
  const withF = w.filter((x) => inWin0(tr.fsyncs, x.a, x.b).length > 0).map((x) => x.ms);
  const withGc = w.filter((x) => inWin0(tr.gc, x.a, x.b).length > 0).map((x) => x.ms);
  if (withF.length) console.log(line('commands overlapping fdatasync:', withF));
  if (withGc.length) console.log(line('commands overlapping a GC:', withGc));
}
const p99 = pct(lat, 99);
const slow = rows.map((r, i) => ({ ...r, ms: lat[i]! })).filter((x) => x.ms >= p99);
const blame = new Map<string, number>();
const out: string[] = [];
for (const s of slow) {
  const a = Number(s.stamps[0]!) / 1e6, b = Number(s.stamps[s.stamps.length - 1]!) / 1e6;
  const g = inWin(tr.gc, a, b);
  let worst = '', over = -Infinity;
  const parts: string[] = [];
  for (let j = 1; j < names.length; j++) {
    const d = stageMs(s.stamps, j);
    if (d === undefined) continue;
    if (d - med[j]! > over) { over = d - med[j]!; worst = names[j]!; }
    if (d > 0.2) parts.push(`${names[j]} ${f(d)}`);
  }
  const fs = inWin(tr.fsyncs, a, b);
  const lv = ldb.filter(([t]) => t > a - 5 && t < b);
  if (fs.length) parts.push(`anchor fdatasync ${fs.map(([, d]) => f(d)).join(' ')}`);
  const sn = inWin(tr.snaps, a, b).filter(([, , kk]) => kk === 2);
  if (sn.length) parts.push(`snapshot steps ${sn.map(([, d]) => f(d)).join(' ')}`);
  const un = tr.unsynced.filter(([t]) => t >= a && t < b);
  if (un.length) parts.push(`unsynced batches ${un.length}`);
  if (lv.length) parts.push(`LevelDB LOG events ${lv.length}`);
  const gcMs = g.reduce((x, [, d]) => x + d, 0);
  const cause = `${gcMs > 0.3 * (over > 0 ? over : 1) ? `${worst}+gc` : worst}${sn.length ? '+snapshot' : ''}`;
  blame.set(cause, (blame.get(cause) ?? 0) + 1);
  out.push(`  ${s.what} ${f(s.ms)} ms: worst stage → ${worst} (+${f(over)} over its p50); GC ${g.map(([, d, kk]) => `${f(d)}/k${kk}`).join(' ') || 'none'}; ${parts.join(', ')}`);
}
console.log(`slowest 1% (>= ${f(p99)} ms, ${slow.length}), by the stage furthest over its median (+gc: a GC pause in the window ≥ 30% of that excess): ${[...blame].sort((x, y) => y[1] - x[1]).map(([kk, v]) => `${kk} ${v}`).join(', ')}`);
console.log(out.join('\n'));
console.log(`\nstage p50s (ms): ${names.slice(1).map((nm, j) => `${nm} ${(med[j + 1]! * 1000).toFixed(0)}µs`).join(', ')}`);
