// Preloaded into `blockgraph qmp --socket` by bench/qmp-tail.ts (never by the CLI itself): records,
// in milliseconds of hrtime's clock (CLOCK_MONOTONIC: comparable across processes), every GC
// pause, every LevelDB batch (classic-level's _batch: the hand-off to libuv's pool, the write and
// its fsync, and the hop back) and every command the engine runs, and writes them to
// $BG_TRACE_OUT as the process exits. Timing for a bench only: nothing here is on a spec's path.
import fs, { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { ClassicLevel } from 'classic-level';
import { Engine } from '../engine/engine.js';
import { AnchorWriter } from '../store/anchor.js';
import { EventLog } from '../store/event-log.js';

// On hrtime's clock (CLOCK_MONOTONIC, ms), comparable with bench/qmp-stages-preload.ts's stamps
// and a client's process.hrtime; a GC entry's startTime (performance.now()'s clock) is shifted by
// the offset between the two clocks taken once.
const off = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const abs = () => Number(process.hrtime.bigint()) / 1e6;
const gc: [number, number, number][] = [];
const batches: [number, number, number][] = [];
// stop 43: snapshot writes (a part's or a whole snapshot's call: its encoding runs on the main
// thread inside the command that made it due) and unsynced batches (a record held after an intent
// written on its own: the hold's timer, or a reader)
const snaps: [number, number, number][] = [];
const unsynced: [number, number, number][] = [];
// the engine's own snapshot step, its synchronous part (a part's encoding of PART_ENTITIES
// entities, or a small state's whole encoding), kind 2
{
  const epm = Engine.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
  const orig = epm.maybeSnapshot!;
  epm.maybeSnapshot = function (this: unknown, ...a: unknown[]) {
    const t = abs();
    const p = orig.apply(this, a);
    snaps.push([t, abs() - t, 2]);
    return p;
  };
}
for (const m of ['putSnapshot', 'putSnapshotPart', 'putPartedSnapshot']) {
  const lp = EventLog.prototype as unknown as Record<string, (...a: unknown[]) => Promise<void>>;
  const orig = lp[m]!;
  lp[m] = function (this: unknown, ...a: unknown[]) {
    const t = abs();
    const p = orig.apply(this, a);
    snaps.push([t, abs() - t, m === 'putSnapshotPart' ? 1 : 0]);
    return p;
  };
}
const commands: [number, number, number][] = [];
const anchors: [number, number, number][] = [];
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gc.push([off + e.startTime, e.duration, (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0]);
}).observe({ entryTypes: ['gc'] });
const proto = ClassicLevel.prototype as unknown as { _batch: (ops: unknown[], o: unknown) => Promise<void> };
const batch = proto._batch;
proto._batch = function (ops: unknown[], o: unknown) {
  const t = abs();
  if ((o as { sync?: boolean } | undefined)?.sync !== true) unsynced.push([t, 0, ops.length]);
  return batch.call(this, ops, o).finally(() => batches.push([t, abs() - t, ops.length]));
};
const ep = Engine.prototype as unknown as { execute: (...a: unknown[]) => Promise<unknown> };
const execute = ep.execute;
ep.execute = function (...a: unknown[]) {
  const t = abs();
  const p = execute.apply(this, a);
  void p.then(() => commands.push([t, abs() - t, 0]), () => undefined);
  return p;
};
// the anchor's slot write (a synchronous pwrite on the main thread, after each synced batch)
const ap = AnchorWriter.prototype as unknown as { advance: (...a: unknown[]) => Promise<void> };
const advance = ap.advance;
ap.advance = function (...a: unknown[]) {
  const t = abs();
  const p = advance.apply(this, a);
  anchors.push([t, abs() - t, 0]);
  return p;
};
// every fdatasync through node:fs's callback API (the anchor's background sync every Nth append):
// patched on the module and pushed to its ESM named exports, which the store imports
const fsyncs: [number, number, number][] = [];
const fsm = fs as unknown as { fdatasync: (fd: number, cb: (e: unknown) => void) => void };
const fdatasync = fsm.fdatasync;
fsm.fdatasync = function (fd: number, cb: (e: unknown) => void) {
  const t = abs();
  // BG_TRACE_SKIP_FDATASYNC=1 (a diagnostic A/B only, never durable): the sync is not issued
  if (process.env.BG_TRACE_SKIP_FDATASYNC) return void setImmediate(() => { fsyncs.push([t, 0, 1]); cb(null); });
  return fdatasync.call(this, fd, (e: unknown) => { fsyncs.push([t, abs() - t, 0]); cb(e); });
};
syncBuiltinESMExports();
process.on('exit', () => {
  if (process.env.BG_TRACE_OUT) writeFileSync(process.env.BG_TRACE_OUT, JSON.stringify({ gc, batches, commands, anchors, fsyncs, snaps, unsynced, wallMinusHr: performance.timeOrigin + performance.now() - abs() }));
});

// BG_TRACE_ALLOC=FILE: a sampling allocation profile (every allocation, collected or not) of the
// whole run, to see what the young generation is filled with per command.
if (process.env.BG_TRACE_ALLOC) {
  const { Session } = await import('node:inspector');
  const s = new Session();
  s.connect();
  s.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  process.on('exit', () => {
    s.post('HeapProfiler.stopSampling', (err, r) => {
      if (!err) writeFileSync(process.env.BG_TRACE_ALLOC!, JSON.stringify((r as { profile: unknown }).profile));
    });
  });
}
