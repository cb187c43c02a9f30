// `npm run bench:startup`: cold start of the installed CLI (bin/blockgraph.js over dist/) next
// to a bare `node -e 0`, interleaved so machine load hits all alike. Needs `npm run build`.
import { spawnSync } from 'node:child_process';

const runs = Number(process.env.RUNS ?? 20);
const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['blockgraph --help', ['bin/blockgraph.js', '--help']],
  ['blockgraph --version', ['bin/blockgraph.js', '--version']],
  ['blockgraph show --help', ['bin/blockgraph.js', 'show', '--help']],
];
const ms: number[][] = cases.map(() => []);
for (let i = 0; i < runs; i++) {
  cases.forEach(([, args], j) => {
    const t0 = performance.now();
    spawnSync(process.execPath, args, { stdio: 'ignore' });
    ms[j]!.push(performance.now() - t0);
  });
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = med(ms[0]!);
cases.forEach(([name], j) => console.log(`${name.padEnd(26)} min ${Math.min(...ms[j]!).toFixed(0).padStart(5)} ms  median ${med(ms[j]!).toFixed(0).padStart(5)} ms  (${(med(ms[j]!) / base).toFixed(2)}x node -e 0)`));
