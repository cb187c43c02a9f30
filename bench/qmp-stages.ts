// The wall path of one sequential durable command, stage by stage, and the floors under it
// (issue 15). `blockgraph qmp --socket` runs with bench/qmp-stages-preload.ts (an hrtime stamp
// per stage of each request); the client stamps each request's send and its reply's arrival on
// the same clock. Against it, in interleaved rounds and with the same client: the floors of
// bench/qmp-floor-server.ts (a bare node echo server, the QMP session alone, the engine without
// LevelDB, the engine without the fsync), qemu-storage-daemon, and a raw synced classic-level
// batch alone.
// Also each server's CPU per command (main thread, and the whole process: LevelDB's threads).
// The servers run compiled, as the CLI ships (bench/built.ts); BENCH_STAGES_TSX=1 runs them from
// source under tsx.
// node --import tsx bench/qmp-stages.ts [N=1000] [ROUNDS=2]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtTree } from './built.js';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSyncedLatencies } from './raw-sync.js';
import { Client } from './qmp-client.js';
import { startQsd, stop as stopServer, type Server } from './qmp-side.js';
import { STAGES } from './qmp-stages-names.js';

const ROOT = new URL('..', import.meta.url).pathname;
const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 2);
const now = process.hrtime.bigint;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const ms = (x: number) => (x / 1e6).toFixed(3);

async function waitFor(path: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (existsSync(path)) return;
    if (child.exitCode !== null) throw new Error('server exited');
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no socket at ${path}`);
}

const BUILT = process.env.BENCH_STAGES_TSX ? undefined : builtTree();
/** A module of the tree the servers run: compiled (BUILT) or the source under tsx. */
const mod = (path: string) => (BUILT ? join(BUILT, path.replace(/\.ts$/, '.js')) : join(ROOT, path));

async function start(name: string, args: string[], env: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-stages-'));
  const sock = join(dir, 'qmp.sock');
  const child = spawn(process.execPath, [...(BUILT ? [] : ['--import', 'tsx']), ...args.map((a) => a.replace('$SOCK', sock).replace('$DIR', dir))], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT, env: { ...process.env, ...env } });
  await waitFor(sock, child);
  return { name, sock, child, dir };
}

/** n adds then n dels, each awaited; [send, receive] hrtime stamps per request. */
async function sequential(path: string, tag: string): Promise<[bigint, bigint][]> {
  const c = await Client.open(path);
  const out: [bigint, bigint][] = [];
  const one = async (cmd: string, args: Record<string, unknown>) => {
    const t = now();
    const r = await c.cmd(cmd, args);
    out.push([t, now()]);
    if (r.error) throw new Error(`${cmd}: ${r.error.desc}`);
  };
  for (let i = 0; i < n; i++) await one('blockdev-add', { driver: 'null-co', 'node-name': `${tag}${i}` });
  for (let i = 0; i < n; i++) await one('blockdev-del', { 'node-name': `${tag}${i}` });
  c.close();
  return out;
}

const load0 = loadavg()[0]!;
const raw = await rawSyncedLatencies(n);
const traceOut = join(mkdtempSync(join(tmpdir(), 'bg-stages-trace-')), 'stages.json');
const servers: Server[] = [];
const qsd = await startQsd();
if (qsd) servers.push(qsd);
for (const m of ['echo', 'session', 'memory', 'nosync']) servers.push(await start(`floor: ${m}`, [mod('bench/qmp-floor-server.ts'), m, '$SOCK']));
// (stop 43: the intent first is the default; the record first is `--no-intent-first`)
const full = await start('blockgraph (synced, --no-intent-first)', ['--import', mod('bench/qmp-stages-preload.ts'), mod('cli/main.ts'), 'qmp', '--socket', '$SOCK', '--db', '$DIR/db', '--no-intent-first'], { BG_STAGES_OUT: traceOut });
servers.push(full);
// stop 42: the same server with the intent before the model (engine/intent.ts), interleaved
const intentOut = join(traceOut, '..', 'stages-intent.json');
const intent = await start('blockgraph (synced, intent first: the default)', ['--import', mod('bench/qmp-stages-preload.ts'), mod('cli/main.ts'), 'qmp', '--socket', '$SOCK', '--db', '$DIR/db'], { BG_STAGES_OUT: intentOut });
servers.push(intent);
const intentStamps: [bigint, bigint][] = [];
const lat = new Map<string, number[]>(servers.map((s) => [s.name, []]));
/** CPU seconds of a process's main thread and of the whole process (utime + stime, 10 ms ticks). */
const cpuOf = (pid: number): [number, number] => {
  const ticks = (f: string) => { const x = readFileSync(f, 'utf8'); const v = x.slice(x.lastIndexOf(')') + 2).split(' '); return (Number(v[11]) + Number(v[12])) / 100; };
  return [ticks(`/proc/${pid}/task/${pid}/stat`), ticks(`/proc/${pid}/stat`)];
};
const cpu = new Map<string, [number, number]>(servers.map((s) => [s.name, [0, 0]]));
const fullStamps: [bigint, bigint][] = [];
try {
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const c0 = cpuOf(s.child.pid!);
      const st = await sequential(s.sock, `r${r}_`);
      const c1 = cpuOf(s.child.pid!);
      const acc = cpu.get(s.name)!;
      acc[0] += c1[0] - c0[0]; acc[1] += c1[1] - c0[1];
      for (const [a, b] of st) lat.get(s.name)!.push(Number(b - a));
      if (s === full) fullStamps.push(...st);
      if (s === intent) intentStamps.push(...st);
    }
  }
} finally {
  for (const s of servers) await stopServer(s);
}
const load1 = loadavg()[0]!;

console.log(`${new Date().toISOString()}: load average (1 min) ${load0.toFixed(2)} → ${load1.toFixed(2)}; ${rounds} interleaved rounds of ${n} sequential blockdev-add then ${n} blockdev-del per server; servers ${BUILT ? 'compiled (as the CLI ships)' : 'under tsx'}`);
console.log('\n| server (same client, sequential) | p50 ms | p90 ms | p99 ms | mean ms | CPU µs / command: main thread | whole process |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| raw synced classic-level batch alone (~1 KB) | ${ms(pct(raw, 50))} | ${ms(pct(raw, 90))} | ${ms(pct(raw, 99))} | ${ms(raw.reduce((a, b) => a + b, 0) / raw.length)} | | |`);
for (const s of servers) {
  const l = lat.get(s.name)!;
  const [main, all] = cpu.get(s.name)!;
  console.log(`| ${s.name} | ${ms(pct(l, 50))} | ${ms(pct(l, 90))} | ${ms(pct(l, 99))} | ${ms(l.reduce((a, b) => a + b, 0) / l.length)} | ${(main / l.length * 1e6).toFixed(0)} | ${(all / l.length * 1e6).toFixed(0)} |`);
}

// The full server's stages: each request's server stamps paired with the client's, in order.
const stampsOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as (string | null)[][])
  .map((r) => r.map((x) => (x === null ? undefined : BigInt(x))))
  .filter((r) => r[STAGES.indexOf('engine')] !== undefined);
const recs = stampsOf(traceOut);
const intentRecs = stampsOf(intentOut);
rmSync(join(traceOut, '..'), { recursive: true, force: true });

// Stop 42: the main thread's µs from a request's arrival (the socket's data) to the first batch's
// hand-off (the fsync starts: the record's batch, or with --intent-first the intent's), to the end
// of the engine's synchronous work, to the fsync's completion seen on the main thread, and to the
// reply; the two servers in the same interleaved rounds.
const at = (name: (typeof STAGES)[number]) => STAGES.indexOf(name);
console.log('\n| server (stop 42) | data → fsync handed off µs p50 / p90 | data → engine done p50 | data → fsync done p50 | data → reply p50 / p90 | client send → receive p50 / p90 / p99 µs |');
console.log('|---|---|---|---|---|---|');
for (const [name, rs, cs] of [['blockgraph (synced, --no-intent-first)', recs, fullStamps], ['blockgraph (synced, intent first: the default)', intentRecs, intentStamps]] as const) {
  const span = (a: number, b: number) => rs.filter((r) => r[a] !== undefined && r[b] !== undefined).map((r) => Number(r[b]! - r[a]!) / 1000);
  const p = (xs: number[], q: number) => (xs.length ? pct(xs, q).toFixed(1) : '-');
  const h = span(at('data'), at('handed'));
  const f = span(at('data'), at('folded'));
  const y = span(at('data'), at('synced'));
  const rp = span(at('data'), at('reply'));
  const c = cs.map(([a, b]) => Number(b - a) / 1000);
  console.log(`| ${name} | ${p(h, 50)} / ${p(h, 90)} | ${p(f, 50)} | ${p(y, 50)} | ${p(rp, 50)} / ${p(rp, 90)} | ${p(c, 50)} / ${p(c, 90)} / ${p(c, 99)} |`);
}
if (recs.length !== fullStamps.length) console.log(`\n(stamps: ${recs.length} server records for ${fullStamps.length} requests; pairing the last ones)`);
const k = Math.min(recs.length, fullStamps.length);
const names = ['client send', ...STAGES, 'client receive'];
const rows = Array.from({ length: k }, (_, i) => {
  const [send, recv] = fullStamps[fullStamps.length - k + i]!;
  return [send, ...recs[recs.length - k + i]!, recv];
});
console.log('\n| stage of the blockgraph request (from the previous stamp) | p50 µs | p90 µs | mean µs |');
console.log('|---|---|---|---|');
for (const half of ['add', 'del'] as const) {
  const mine = rows.filter((_, i) => (Math.floor(i / n) % 2 === 0) === (half === 'add'));
  for (let j = 1; j < names.length; j++) {
    const d: number[] = [];
    for (const r of mine) {
      let p = j - 1;
      while (p >= 0 && r[p] === undefined) p--;
      if (r[j] !== undefined && p >= 0) d.push(Number(r[j]! - r[p]!) / 1000);
    }
    if (!d.length) continue;
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    console.log(`| ${half}: ${names[j - 1]} → ${names[j]} | ${pct(d, 50).toFixed(1)} | ${pct(d, 90).toFixed(1)} | ${mean.toFixed(1)} |`);
  }
  const total = mine.map((r) => Number(r[r.length - 1]! - r[0]!) / 1000);
  console.log(`| ${half}: **client send → client receive** | ${pct(total, 50).toFixed(1)} | ${pct(total, 90).toFixed(1)} | ${(total.reduce((a, b) => a + b, 0) / total.length).toFixed(1)} |`);
}
