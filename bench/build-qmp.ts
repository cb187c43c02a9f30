// A big graph built through QMP, as a client would build it (issue 15: "a 50k-node chain and a
// 10k fan-in build through QMP in minutes, not hours"), against `blockgraph qmp --socket` (synced
// before each reply) or qemu-storage-daemon, with up to `window` requests in flight on one
// connection. Shapes:
// - chain: null-co c0, then raw cI with file: cI-1 (QEMU opens a format over any node; each add
//   attaches the new node above the whole chain built so far);
// - fanin: null-co base, then raw fI with file: base (every add adds one more parent to base).
// Prints the time per slice of `every` commands, so a cost that grows with the graph shows as
// growing slices. `node --import tsx bench/build-qmp.ts chain 50000 [--qsd] [--window 8]`
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { startBlockgraph, startQsd, stop, type Server } from './qmp-side.js';
import { Client } from './qmp-client.js';

export type Shape = 'chain' | 'fanin';

export function command(shape: Shape, i: number): [string, Record<string, unknown>] {
  if (i === 0) return ['blockdev-add', { driver: 'null-co', 'node-name': shape === 'chain' ? 'c0' : 'base' }];
  return shape === 'chain'
    ? ['blockdev-add', { driver: 'raw', 'node-name': `c${i}`, file: `c${i - 1}` }]
    : ['blockdev-add', { driver: 'raw', 'node-name': `f${i}`, file: 'base' }];
}

export interface BuildResult { ms: number; slices: { upTo: number; ms: number }[] }

/** Sends `n` commands of `shape` with `window` in flight; every reply must be a success. */
export async function build(path: string, shape: Shape, n: number, window = 8, every = 1000, onSlice?: (upTo: number, ms: number) => void): Promise<BuildResult> {
  const c = await Client.open(path);
  const slices: { upTo: number; ms: number }[] = [];
  const t0 = performance.now();
  let tSlice = t0;
  let next = 0;
  let done = 0;
  let failed: Error | undefined;
  const worker = async () => {
    while (next < n && !failed) {
      const i = next++;
      const [cmd, args] = command(shape, i);
      const r = await c.cmd(cmd, args);
      if (r.error) { failed ??= new Error(`${cmd} #${i}: ${r.error.desc}`); return; }
      if (++done % every === 0 || done === n) {
        const t = performance.now();
        slices.push({ upTo: done, ms: t - tSlice });
        onSlice?.(done, t - tSlice);
        tSlice = t;
      }
    }
  };
  // the chain's command i names node i-1: it must not run before i-1 exists, so the chain is
  // sent in order on one connection (the server answers in order; a pipelined request after a
  // failed one would fail too)
  await Promise.all(Array.from({ length: window }, () => worker()));
  c.close();
  if (failed) throw failed;
  return { ms: performance.now() - t0, slices };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const shape = (argv[0] ?? 'chain') as Shape;
  const n = Number(argv[1] ?? 10_000);
  const qsd = argv.includes('--qsd');
  const w = argv.indexOf('--window');
  const window = w >= 0 ? Number(argv[w + 1]) : 8;
  const every = Math.max(1, Math.round(n / 10));
  const s: Server | undefined = qsd ? await startQsd() : await startBlockgraph();
  if (!s) throw new Error('qemu-storage-daemon is not installed');
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`${s.name}: ${shape} of ${n}, ${window} in flight; load average ${load()}`);
  try {
    const r = await build(s.sock, shape, n, window, every, (upTo, ms) => console.log(`  up to ${upTo}: ${(ms / every).toFixed(2)} ms/command`));
    console.log(`${s.name}: ${shape} of ${n} built in ${(r.ms / 1000).toFixed(1)} s (${(n / (r.ms / 1000)).toFixed(0)}/s); load average ${load()}`);
  } finally {
    await stop(s);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
