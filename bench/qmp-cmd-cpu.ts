// CPU per QMP command, per command kind, of `blockgraph qmp --socket` (compiled, as the CLI ships;
// durable: each command synced before its reply) and of qemu-storage-daemon 7.2 driven by the same
// client in the same run (issue 15). CPU time, not wall time: the servers' threads' time on a CPU
// (/proc/PID/task/TID/schedstat, ns), so four other helpers loading the two cores inflate it far
// less than a latency (they still cost cache and frequency; rounds are interleaved so both servers
// see the same machine).
//   add    blockdev-add of a null-co node, sequential (each reply awaited), graph 0 → BLOCK nodes
//   del    blockdev-del of those nodes, BLOCK → 0
//   query  query-named-block-nodes over a graph of 2 nodes
// The best round stands for the machine at its quietest (other processes only ever add to a
// round's CPU time: cache and core sharing); the median for the run.
// Per server: the main thread's CPU per command and the whole process's (blockgraph: LevelDB's and
// libuv's threads too; QSD: its RCU and worker threads). The ratio is ours over QSD's.
// node --import tsx bench/qmp-cmd-cpu.ts [N=1000] [ROUNDS=3] [BLOCK=100]
// (BENCH_BUILT=DIR: an already compiled tree of this checkout; BENCH_CMD_CPU_BASE_BUILT=DIR: also
// a base tree compiled by bench/built.ts, in the same rounds; BENCH_CMD_CPU_FLOORS=1: also this
// tree's floor servers (bench/qmp-floor-server.ts): the QMP session over a backend answering at
// once, the engine on memory-level, the engine on classic-level unsynced — each stage's CPU is
// then a difference of two rows of the same run)
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtTree } from './built.js';
import { Client } from './qmp-client.js';
import { startQsd, stop, type Server } from './qmp-side.js';

const [nArg = '1000', roundsArg = '3', blockArg = '100'] = process.argv.slice(2);
const n = Number(nArg);
const rounds = Number(roundsArg);
const block = Number(blockArg);

/** CPU seconds of the main thread and of the whole process (every thread's schedstat). */
export function cpuOf(pid: number): [number, number] {
  const ns = (tid: string) => { try { return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9; } catch { return 0; } };
  let all = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) all += ns(t);
  return [ns(String(pid)), all];
}

async function startBuilt(name: string, built: string, floor?: string): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-cmd-cpu-'));
  const sock = join(dir, 'qmp.sock');
  const args = floor ? [join(built, 'bench/qmp-floor-server.js'), floor, sock, join(dir, 'db')] : [join(built, 'cli/main.js'), 'qmp', '--socket', sock, '--db', join(dir, 'db')];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  for (let i = 0; i < 2400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(sock)) throw new Error(`${name}: no socket`);
  return { name, sock, child, dir };
}

type Kind = 'add' | 'del' | 'query';
const KINDS: Kind[] = ['add', 'del', 'query'];

/** One round on one server: n adds and n dels in blocks of `block`, then n queries over 2 nodes. */
async function round(s: Server, tag: string): Promise<Record<Kind, [number, number]>> {
  const c = await Client.open(s.sock);
  const pid = s.child.pid!;
  const acc: Record<Kind, [number, number]> = { add: [0, 0], del: [0, 0], query: [0, 0] };
  const timed = async (k: Kind, f: () => Promise<void>) => {
    const a = cpuOf(pid);
    await f();
    const b = cpuOf(pid);
    acc[k][0] += b[0] - a[0];
    acc[k][1] += b[1] - a[1];
  };
  const ok = (r: { error?: { desc: string } }) => { if (r.error) throw new Error(`${s.name}: ${r.error.desc}`); };
  for (let done = 0; done < n; done += block) {
    const m = Math.min(block, n - done);
    await timed('add', async () => { for (let i = 0; i < m; i++) ok(await c.cmd('blockdev-add', { driver: 'null-co', 'node-name': `${tag}${done + i}` })); });
    await timed('del', async () => { for (let i = 0; i < m; i++) ok(await c.cmd('blockdev-del', { 'node-name': `${tag}${done + i}` })); });
  }
  for (const x of ['q0', 'q1']) ok(await c.cmd('blockdev-add', { driver: 'null-co', 'node-name': `${tag}${x}` }));
  await timed('query', async () => { for (let i = 0; i < n; i++) ok(await c.cmd('query-named-block-nodes')); });
  for (const x of ['q0', 'q1']) ok(await c.cmd('blockdev-del', { 'node-name': `${tag}${x}` }));
  c.close();
  return acc;
}

async function main(): Promise<void> {
  const q = await startQsd();
  if (!q) throw new Error('qemu-storage-daemon is not installed');
  const servers: Server[] = [q];
  const baseBuilt = process.env.BENCH_CMD_CPU_BASE_BUILT;
  if (baseBuilt) servers.push(await startBuilt('blockgraph (base)', baseBuilt));
  const built = builtTree();
  if (process.env.BENCH_CMD_CPU_FLOORS === '1') {
    // the session floor answers every command with an empty return: its 'del' and 'query' rows
    // are the same QMP round trip as its 'add'
    for (const f of ['session', 'memory', 'nosync']) servers.push(await startBuilt(`floor: ${f}`, built, f));
  }
  servers.push(await startBuilt('blockgraph', built));
  const load0 = loadavg()[0]!;
  const res = new Map(servers.map((s) => [s.name, Object.fromEntries(KINDS.map((k) => [k, { main: [] as number[], all: [] as number[] }]))]));
  try {
    // a warm-up round per server (JIT, caches), not counted
    for (const s of servers) await round(s, 'w_');
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 ? [...servers].reverse() : servers) {
        const acc = await round(s, `r${r}_`);
        for (const k of KINDS) {
          res.get(s.name)![k]!.main.push((acc[k][0] / n) * 1e6);
          res.get(s.name)![k]!.all.push((acc[k][1] / n) * 1e6);
        }
      }
    }
  } finally {
    for (const s of servers) await stop(s);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${new Date().toISOString()}: load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; ${rounds} interleaved rounds (after one warm-up round each) of ${n} add + ${n} del (blocks of ${block}) + ${n} query-named-block-nodes (2 nodes) per server`);
  console.log('| command | server | main thread CPU µs / command (median; rounds) | best round | ratio to QSD (medians) | whole process µs / command | ratio to QSD |');
  console.log('|---|---|---|---|---|---|---|');
  for (const k of KINDS) {
    const qm = med(res.get(q.name)![k]!.main), qa = med(res.get(q.name)![k]!.all);
    for (const s of servers) {
      const v = res.get(s.name)![k]!;
      console.log(`| ${k} | ${s.name} | ${med(v.main).toFixed(0)} (${v.main.map((x) => x.toFixed(0)).join(', ')}) | ${Math.min(...v.main).toFixed(0)} | ${(med(v.main) / qm).toFixed(2)}x | ${med(v.all).toFixed(0)} | ${(med(v.all) / qa).toFixed(2)}x |`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
