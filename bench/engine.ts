// The engine's durable transaction append (what `blockgraph qmp` does per command) and
// replay of the resulting log, next to raw classic-level in the same run.
import { Engine } from '../engine/engine.js';
import { replay } from '../replay/replay.js';
import { openClassic } from '../store/index.js';

/** n commands of 3 steps each (object-add then blockdev-add/del of a null-co node). */
export async function benchEngineAppend(dir: string, n: number): Promise<{ records: number; ms: number; recordsPerSec: number; txnPerSec: number; avgBytes: number }> {
  const log = await openClassic(dir);
  const e = await Engine.open(log);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await e.execute('A', i % 2 ? 'blockdev-del' : 'blockdev-add', i % 2 ? { 'node-name': `n${i - 1}` } : { driver: 'null-co', 'node-name': `n${i}` });
  }
  const ms = performance.now() - t0;
  const records = log.head;
  let bytes = 0;
  for await (const r of log.read()) bytes += JSON.stringify(r).length;
  await log.close();
  return { records, ms, recordsPerSec: Math.round(records / (ms / 1000)), txnPerSec: Math.round(n / (ms / 1000)), avgBytes: Math.round(bytes / records) };
}

export async function benchReplay(dir: string): Promise<{ records: number; ms: number; eventsPerSec: number }> {
  const log = await openClassic(dir);
  const t0 = performance.now();
  const f = await replay(log, { fromScratch: true });
  const ms = performance.now() - t0;
  await log.close();
  return { records: f.seq, ms, eventsPerSec: Math.round(f.seq / (ms / 1000)) };
}

/** Per-command cost once the graph is large: it must not grow with the graph (O(changes)). */
export async function benchEngineAtSize(size: number, n = 200): Promise<{ size: number; msPerCommand: number }> {
  const { openMemory } = await import('../store/index.js');
  const log = await openMemory();
  const e = await Engine.open(log);
  for (let i = 0; i < size; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await e.execute('A', i % 2 ? 'blockdev-del' : 'blockdev-add', i % 2 ? { 'node-name': `x${i - 1}` } : { driver: 'null-co', 'node-name': `x${i}` });
  }
  const ms = performance.now() - t0;
  await log.close();
  return { size, msPerCommand: ms / n };
}
