// Sums a sampling heap profile (HeapProfiler.stopSampling's profile) by allocating function, self
// and inclusive: node --import tsx bench/alloc-summary.ts FILE [TOP] [DIVISOR]
import { readFileSync } from 'node:fs';

interface N { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: N[] }
const [file, topArg = '40', divArg = '1'] = process.argv.slice(2);
const root = (JSON.parse(readFileSync(file!, 'utf8')) as { head: N }).head;
const div = Number(divArg);
const short = (u: string) => u.replace(/^file:\/\/.*?\/(wt-[^/]+|main)\//, '').replace(/^file:\/\/.*node_modules\//, 'nm:');
const key = (n: N) => `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}`;
const self = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
const walk = (n: N, stack: Set<string>): number => {
  const k = key(n);
  self.set(k, (self.get(k) ?? 0) + n.selfSize);
  total += n.selfSize;
  let sum = n.selfSize;
  const had = stack.has(k);
  stack.add(k);
  for (const c of n.children) sum += walk(c, stack);
  if (!had) { stack.delete(k); incl.set(k, (incl.get(k) ?? 0) + sum); }
  return sum;
};
walk(root, new Set());
const show = (m: Map<string, number>, t: string) => {
  console.log(`\n${t} (total ${(total / 1e6).toFixed(1)} MB; per unit: ${(total / div / 1024).toFixed(1)} KB)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${(100 * v / total).toFixed(1).padStart(5)}% ${(v / div / 1024).toFixed(2).padStart(8)} KB  ${k}`);
};
show(self, 'self bytes by function');
show(incl, 'inclusive bytes by function');
