// Bytes a durable command allocates on the main thread (issue 15, wt-cmd2), from V8's sampling
// heap profiler counting every allocation, collected or not: what fills the young generation,
// so how often a scavenge pauses a command. Not a timing: the figure does not move with the
// machine's load. The engine on a classic-level store as `blockgraph qmp` opens it, N
// blockdev-add then N blockdev-del. node --import tsx bench/engine-alloc.ts [N] [PROFILE_OUT]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { openClassic } from '../store/index.js';

const n = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(join(tmpdir(), 'bg-ealloc-'));
const log = await openClassic(join(dir, 'db'));
const e = await Engine.open(log, { clock: () => new Date(0).toISOString(), snapshotEvery: 1000 });
for (let i = 0; i < 50; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `w${i}` }); // warm-up
const s = new Session();
s.connect();
const post = <T>(m: string, p?: object) => new Promise<T>((res, rej) => s.post(m, p, (err, r) => (err ? rej(err) : res(r as T))));
await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (const cmd of ['blockdev-add', 'blockdev-del']) {
  for (let i = 0; i < n; i++) await e.execute('A', cmd, cmd === 'blockdev-add' ? { driver: 'null-co', 'node-name': `n${i}` } : { 'node-name': `n${i}` });
}
const { profile } = await post<{ profile: { head: { selfSize: number; children: unknown[] } } }>('HeapProfiler.stopSampling');
type N = { selfSize: number; children: N[] };
const sum = (x: N): number => x.children.reduce((a, c) => a + sum(c), x.selfSize);
console.log(`${(sum(profile.head as N) / (2 * n) / 1024).toFixed(1)} KB allocated per command (${2 * n} commands, sampled every 512 bytes)`);
if (process.argv[3]) writeFileSync(process.argv[3], JSON.stringify(profile));
await log.close();
rmSync(dir, { recursive: true, force: true });
