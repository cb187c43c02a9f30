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

/**
 * Cost by locality: blockdev-add/del of a small unrelated subgraph (null-co, raw over it) next
 * to a connected chain of `size` nodes, seeded through a snapshot (building 50k nodes through
 * QMP is its own figure). Returns ms per command once the first command has built the indexes
 * kept with the state, and that first command's ms.
 */
export async function benchLocality(size: number, cycles = 100): Promise<{ size: number; msPerCommand: number; firstMs: number; snapshotEncodeMs: number }> {
  const { openMemory } = await import('../store/index.js');
  const { buildAioGraph } = await import('./aio.js');
  const { digestHex, stateDigest } = await import('../graph/hash.js');
  const { encodeSnapshot } = await import('../store/codec.js');
  const state = buildAioGraph(size, 'chain');
  const log = await openMemory();
  await log.append([{ stream: 'log', type: 'log.seeded', at: '1970-01-01T00:00:00.000Z', data: null }]);
  await log.putSnapshot({ seq: 1, hash: log.headHash, stateHash: digestHex(stateDigest(state)), state });
  const e = await Engine.open(log);
  const cycle = async (i: number) => {
    await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `x${i}` });
    await e.execute('A', 'blockdev-add', { driver: 'raw', 'node-name': `r${i}`, file: `x${i}` });
    await e.execute('A', 'blockdev-del', { 'node-name': `r${i}` });
    await e.execute('A', 'blockdev-del', { 'node-name': `x${i}` });
  };
  let t0 = performance.now();
  await cycle(0);
  const firstMs = (performance.now() - t0) / 4;
  t0 = performance.now();
  for (let i = 1; i <= cycles; i++) await cycle(i);
  const msPerCommand = (performance.now() - t0) / (4 * cycles);
  t0 = performance.now();
  encodeSnapshot({ seq: 1, hash: '', stateHash: '', state: e.state });
  const snapshotEncodeMs = performance.now() - t0;
  await log.close();
  return { size, msPerCommand, firstMs, snapshotEncodeMs };
}
