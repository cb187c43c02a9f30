// Preloaded into `blockgraph qmp --socket` by bench/qmp-stages.ts (never by the CLI itself): one
// process.hrtime.bigint() stamp per stage of each request's wall path, from the socket's 'data'
// to the reply's write callback, by wrapping prototype methods from outside (nothing here is in a
// shipped code path). hrtime is CLOCK_MONOTONIC, so the client's stamps compare with these.
// The stamps of each request go to $BG_STAGES_OUT as the process exits.
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { ClassicLevel } from 'classic-level';
import { Engine } from '../engine/engine.js';
import { EventLog } from '../store/event-log.js';
import { QmpSession } from '../qmp/session.js';
import { JsonMessageReader } from '../qmp/json-reader.js';
import { ServedStore } from '../cli/live-store.js';
import { STAGES } from './qmp-stages-names.js';

// stage names and order: bench/qmp-stages-names.ts

const now = process.hrtime.bigint;
const all: bigint[][] = [];
let cur: bigint[] | undefined;
const stamp = (i: number) => { if (cur && cur[i] === undefined) cur[i] = now(); };

function wrap<T extends object>(proto: T, name: string, before?: () => void, after?: (ret: unknown) => void): void {
  const p = proto as Record<string, (...a: unknown[]) => unknown>;
  const orig = p[name]!;
  p[name] = function (this: unknown, ...a: unknown[]) {
    before?.();
    const r = orig.apply(this, a);
    after?.(r);
    return r;
  };
}

wrap(QmpSession.prototype, 'onData', () => { cur = new Array(STAGES.length); all.push(cur); stamp(0); });
wrap(JsonMessageReader.prototype, 'out', () => stamp(1));
wrap(ServedStore.prototype, 'execute', () => stamp(2));
wrap(Engine.prototype, 'run', () => stamp(3), () => stamp(8));
// (a command with nothing queued runs synchronously: runNow, called by execute itself)
if ('runNow' in Engine.prototype) wrap(Engine.prototype, 'runNow', () => stamp(3), () => stamp(8));
wrap(EventLog.prototype, 'appendNow', () => stamp(4), () => stamp(7));
wrap(EventLog.prototype, 'appendRawNow', () => stamp(4), () => stamp(7)); // the engine's whole transactions
wrap(ClassicLevel.prototype, '_batch', () => stamp(5), (r) => {
  stamp(6);
  const mine = cur;
  void (r as Promise<void>).then(() => { if (mine && mine[9] === undefined) mine[9] = now(); });
});
wrap(QmpSession.prototype, 'reply', () => stamp(10));
const sp = Socket.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const m of ['_write', '_writev']) wrap(sp, m, () => stamp(11));
const write = sp.write!;
sp.write = function (this: Socket, ...a: unknown[]) {
  const mine = cur;
  if (mine && mine[10] !== undefined && mine[12] === undefined && a.length === 1) {
    return write.call(this, a[0], () => { if (mine[12] === undefined) mine[12] = now(); });
  }
  return write.apply(this, a);
};

process.on('exit', () => {
  if (process.env.BG_STAGES_OUT) writeFileSync(process.env.BG_STAGES_OUT, JSON.stringify(all.map((s) => Array.from(s, (x) => (x === undefined ? null : String(x))))));
});
