// Sums a .cpuprofile's self time by file and by function: node --import tsx bench/profile-summary.ts FILE [TOP]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const [file, topArg = '40'] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const short = (u: string) => u.replace(/^file:\/\/.*?\/(wt-[^/]+|main)\//, '').replace(/^file:\/\/.*node_modules\//, 'nm:');
const fileT = new Map<string, number>();
const fnT = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  fileT.set(f, (fileT.get(f) ?? 0) + t);
  const k = `${n.callFrame.functionName || '(anon)'} ${f}:${n.callFrame.lineNumber + 1}`;
  fnT.set(k, (fnT.get(k) ?? 0) + t);
}
const show = (m: Map<string, number>, title: string) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${(100 * t / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
show(fileT, 'self time by file');
show(fnT, 'self time by function');

// Inclusive time: a sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map<string, number>();
const keyOf = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
show(new Map([...incl].filter(([k]) => !/^\((root|idle|program)\)/.test(k))), 'inclusive time by function');
