// Issue 15, write side: log size per command and replay speed, each as a ratio measured in the
// same run. `node --import tsx bench/write.ts [N]`:
//   - log size: N blockdev-add/del commands (null-co, the qmp-side workload) through the engine
//     on classic-level; stored bytes (keys + values of the log, its index and meta) per command,
//     and LevelDB's files after a full compaction (Snappy-compressed tables), each against the
//     QMP text of the same commands (one JSON line each, as a client sends them);
//   - replay: the same log folded from scratch against raw classic-level iteration of the same
//     log's keys (nextv, no parse), interleaved, best of 7, the load average printed.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Engine } from '../engine/engine.js';
import { replay } from '../replay/replay.js';
import { openClassic } from '../store/index.js';
import { sublevelsOf } from '../store/codec.js';

export interface LogSize { commands: number; records: number; qmpBytes: number; storedBytes: number; logValueBytes: number; diskBytes: number }

export function workload(n: number): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 ? ['blockdev-del', { 'node-name': `n${i - 1}` }] : ['blockdev-add', { driver: 'null-co', 'node-name': `n${i}` }]);
  return out;
}

/**
 * A workload with edges (issue 15: replay measured beyond add/del): two images made once, then
 * cycles of a qcow2 chain of two nodes over file children (5 edges each), a blockdev-reopen
 * read-only and back (edges' permissions and the nodes' options patched), a block-stream job run
 * to its end (the job made, advanced, finalized and dismissed; the backing link dropped), and
 * both nodes deleted. n commands in all (9 per cycle, the last cycle cut).
 */
export function edgesWorkload(n: number): [string, Record<string, unknown>][] {
  const img = (file: string, extra: Record<string, unknown> = {}): [string, Record<string, unknown>] => ['x-blockgraph-image-create', { file, format: 'qcow2', size: '16M', ...extra }];
  const out: [string, Record<string, unknown>][] = [img('base.qcow2'), img('top.qcow2', { backing: 'base.qcow2', 'backing-format': 'qcow2' })];
  const top = { driver: 'qcow2', 'node-name': 'top', file: 'topf', backing: 'base' };
  while (out.length < n) {
    out.push(['blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'basef' }, backing: null }]);
    out.push(['blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'topf' }, backing: 'base' }]);
    out.push(['blockdev-reopen', { options: [{ ...top, 'read-only': true }] }]);
    out.push(['blockdev-reopen', { options: [top, { driver: 'file', 'node-name': 'topf', filename: 'top.qcow2' }] }]);
    out.push(['block-stream', { 'job-id': 's0', device: 'top', 'auto-finalize': false, 'auto-dismiss': true }]);
    out.push(['x-blockgraph-job-advance', { id: 's0', status: 'pending' }]);
    out.push(['job-finalize', { id: 's0' }]);
    out.push(['blockdev-del', { 'node-name': 'top' }]);
    out.push(['blockdev-del', { 'node-name': 'base' }]);
  }
  return out.slice(0, n);
}

export const WORKLOADS = { adddel: workload, edges: edgesWorkload };
export type WorkloadName = keyof typeof WORKLOADS;

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) if (/\.(ldb|sst|log)$/.test(f)) n += statSync(join(dir, f)).size;
  return n;
}

export async function benchLogSize(dir: string, n: number, kind: WorkloadName = 'adddel', opts: { intentFirst?: boolean; sequential?: boolean } = {}): Promise<LogSize & { filesBeforeCompaction: number }> {
  const log = await openClassic(dir, { anchor: false });
  // snapshotEvery 0: the figure is the records' bytes, as bench/RESULTS.md's earlier rows (no snapshots)
  const e = await Engine.open(log, { intentFirst: opts.intentFirst === true, snapshotEvery: 0 });
  let qmpBytes = 0;
  // pipelined, as a client with many requests in flight: the figure is bytes, not time
  // (sequential, or intentFirst: each command on an idle log, so that each goes intent first)
  const pending: Promise<unknown>[] = [];
  for (const [c, a] of WORKLOADS[kind](n)) {
    qmpBytes += Buffer.byteLength(JSON.stringify({ execute: c, arguments: a })) + 1;
    if (opts.intentFirst || opts.sequential) {
      await log.whenWritten();
      await e.execute('A', c, a);
    } else {
      pending.push(e.execute('A', c, a));
    }
  }
  await Promise.all(pending);
  const records = log.head;
  await log.close();
  const filesBeforeCompaction = dirBytes(dir);
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const subs = sublevelsOf(db);
  let storedBytes = 0;
  let logValueBytes = 0;
  for await (const [k, v] of db.iterator()) {
    storedBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (k.startsWith(subs.logPrefix)) logValueBytes += Buffer.byteLength(v);
  }
  await db.compactRange('\u0000', '\uffff');
  await db.close();
  return { commands: n, records, qmpBytes, storedBytes, logValueBytes, diskBytes: dirBytes(dir), filesBeforeCompaction };
}

/** Raw nextv iteration of the log's own keys (not the index or meta), values as strings. */
export async function rawIterateLog(dir: string): Promise<number> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const { logPrefix, logEnd } = sublevelsOf(db);
  try {
    const t0 = performance.now();
    let n = 0;
    const it = db.values({ gte: logPrefix, lt: logEnd });
    for (;;) {
      const values = await it.nextv(1000);
      if (values.length === 0) break;
      n += values.length;
    }
    await it.close();
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await db.close();
  }
}

export async function replayRate(dir: string): Promise<number> {
  const log = await openClassic(dir, { anchor: false, verify: 'none' });
  const t0 = performance.now();
  const f = await replay(log, { fromScratch: true });
  const ms = performance.now() - t0;
  await log.close();
  return f.seq / (ms / 1000);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 4000);
  const root = mkdtempSync(join(tmpdir(), 'bg-benchw-'));
  try {
    const s = await benchLogSize(join(root, 'db'), n);
    const per = (x: number) => (x / s.commands).toFixed(0);
    console.log(`commands ${s.commands}, records ${s.records} (${(s.records / s.commands).toFixed(2)}/command)`);
    console.log(`QMP text ${per(s.qmpBytes)} B/command; log values ${per(s.logValueBytes)} B (${(s.logValueBytes / s.qmpBytes).toFixed(1)}x); all stored keys+values ${per(s.storedBytes)} B (${(s.storedBytes / s.qmpBytes).toFixed(1)}x); LevelDB files after compaction ${per(s.diskBytes)} B (${(s.diskBytes / s.qmpBytes).toFixed(1)}x)`);
    // interleaved, best of 7 each (at 4,000 records a replay lasts ~10-20 ms: one descheduling
    // of this process or of LevelDB's thread swings a round by 2x on a loaded machine)
    console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '));
    let raw = 0, rep = 0;
    for (let i = 0; i < 7; i++) {
      raw = Math.max(raw, await rawIterateLog(join(root, 'db')));
      rep = Math.max(rep, await replayRate(join(root, 'db')));
    }
    console.log('load average', loadavg().map((x) => x.toFixed(1)).join(' '));
    console.log(`raw iteration of the log ${Math.round(raw)} rec/s, replay ${Math.round(rep)} rec/s: ${(100 * rep / raw).toFixed(0)}%; per command ${Math.round(raw / (s.records / s.commands))} vs ${Math.round(rep / (s.records / s.commands))} commands/s`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** One round of raw nextv iteration then a replay from scratch of the log in `dir`: rates and CPU µs (every thread). */
export async function replayVsRaw(dir: string): Promise<{ raw: { rate: number; cpu: number }; rep: { rate: number; cpu: number } }> {
  const timed = async (fn: () => Promise<number>) => {
    const c = process.cpuUsage();
    const rate = await fn();
    const d = process.cpuUsage(c);
    return { rate, cpu: d.user + d.system };
  };
  return { raw: await timed(() => rawIterateLog(dir)), rep: await timed(() => replayRate(dir)) };
}
