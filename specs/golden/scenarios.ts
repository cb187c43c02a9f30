// The project's own scenarios behind the golden logs (specs/golden/*.jsonl). Recorded by
// `npm run golden:update`; golden.spec.ts re-runs each here and compares with the recording.
// Steps: a command, or `crash` (the command's steps are logged, then the process "dies" before
// the decision and the store is reopened, so recovery rolls it back).
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import type { EventLog } from '../../store/index.js';

export type GoldenStep =
  | { proc?: string; execute: string; arguments?: Record<string, unknown> }
  | { crash: { proc?: string; execute: string; arguments?: Record<string, unknown> } };

export interface GoldenScenario { name: string; description: string; steps: GoldenStep[] }

const img = (file: string, extra: Record<string, unknown> = {}) => ({ execute: 'x-blockgraph-image-create', arguments: { file, format: 'qcow2', size: '16M', ...extra } });
const qcow2 = (name: string, file: string, backing: string | null) => ({ execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': name, file: { driver: 'file', filename: file }, backing } });
const advance = (id: string, status: string) => ({ execute: 'x-blockgraph-job-advance', arguments: { id, status } });

export const GOLDEN: GoldenScenario[] = [
  {
    name: 'demo',
    description: "the demo's flow: a qcow2 chain with an NBD export, a refused add (locks), a blockdev-add killed before its decision and rolled back, then retried read-only",
    steps: [
      img('base.qcow2', { size: '64M' }),
      img('top.qcow2', { size: '64M', backing: 'base.qcow2', 'backing-format': 'qcow2' }),
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' } } },
      { execute: 'nbd-server-start', arguments: { addr: { type: 'unix', data: { path: 'nbd.sock' } } } },
      { execute: 'block-export-add', arguments: { type: 'nbd', id: 'e0', 'node-name': 'top', writable: true } },
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'other', file: { driver: 'file', filename: 'base.qcow2' }, backing: null } },
      { execute: 'blockdev-del', arguments: { 'node-name': 'top' } },
      { crash: { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'other', 'read-only': true, file: { driver: 'file', filename: 'base.qcow2' }, backing: null } } },
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'other', 'read-only': true, file: { driver: 'file', filename: 'base.qcow2' }, backing: null } },
    ],
  },
  {
    name: 'reopen-transaction',
    description: 'blockdev-reopen of two nodes as one transaction: a bad option refuses the whole list, then both go read-only together; going back read-write without reopening the file children is refused',
    steps: [
      img('a.qcow2'), img('b.qcow2'),
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' }, backing: null } },
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'b', file: { driver: 'file', filename: 'b.qcow2', 'node-name': 'bf' }, backing: null } },
      { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'a', 'read-only': true, file: 'af', backing: null }, { driver: 'qcow2', 'node-name': 'b', file: 'bf', backing: null, 'l2-cache-entry-size': 1000 }] } },
      { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'a', 'read-only': true, file: 'af', backing: null }, { driver: 'qcow2', 'node-name': 'b', 'read-only': true, file: 'bf', backing: null }] } },
      { execute: 'blockdev-reopen', arguments: { options: [{ driver: 'qcow2', 'node-name': 'a', file: 'af', backing: null }, { driver: 'qcow2', 'node-name': 'b', file: 'bf', backing: null }] } },
    ],
  },
  {
    name: 'commit-job',
    description: 'block-commit of an intermediate node: frozen links while the job runs, finalize drops mid, then stream of the new chain',
    steps: [
      img('base.qcow2'), img('mid.qcow2', { backing: 'base.qcow2', 'backing-format': 'qcow2' }), img('top.qcow2', { backing: 'mid.qcow2', 'backing-format': 'qcow2' }),
      qcow2('base', 'base.qcow2', null), qcow2('mid', 'mid.qcow2', 'base'), qcow2('top', 'top.qcow2', 'mid'),
      { execute: 'block-commit', arguments: { 'job-id': 'c0', device: 'top', 'auto-finalize': false, 'auto-dismiss': false, 'top-node': 'mid', 'base-node': 'base' } },
      { execute: 'blockdev-del', arguments: { 'node-name': 'mid' } },
      advance('c0', 'pending'),
      { execute: 'job-finalize', arguments: { id: 'c0' } },
      { execute: 'job-dismiss', arguments: { id: 'c0' } },
      { execute: 'blockdev-del', arguments: { 'node-name': 'mid' } },
      { execute: 'block-stream', arguments: { 'job-id': 's0', device: 'top', 'auto-finalize': false, 'auto-dismiss': true } },
      advance('s0', 'pending'),
      { execute: 'job-finalize', arguments: { id: 's0' } },
    ],
  },
  {
    name: 'iothread-move',
    description: 'AioContext moves of a chain with a stream job on it: refused without force, moved with it, back to main after cancel',
    steps: [
      // mid holds data, so the speed-limited stream has chunks to copy and stays running
      img('base.qcow2'), img('mid.qcow2', { backing: 'base.qcow2', 'backing-format': 'qcow2', data: [{ offset: 0, length: 2097152 }] }), img('top.qcow2', { backing: 'mid.qcow2', 'backing-format': 'qcow2' }),
      qcow2('base', 'base.qcow2', null), qcow2('mid', 'mid.qcow2', 'base'), qcow2('top', 'top.qcow2', 'mid'),
      { execute: 'object-add', arguments: { 'qom-type': 'iothread', id: 'io0' } },
      { execute: 'block-stream', arguments: { 'job-id': 's0', device: 'top', 'auto-finalize': false, 'auto-dismiss': true, 'base-node': 'base', speed: 1 } },
      { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'top', iothread: 'io0' } },
      { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'base', iothread: 'io0', force: true } },
      { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'mid', iothread: null, force: true } },
      { execute: 'job-cancel', arguments: { id: 's0' } },
      { execute: 'x-blockdev-set-iothread', arguments: { 'node-name': 'mid', iothread: 'io0' } },
    ],
  },
];

/**
 * Runs a scenario on `log` with the fixed clock; `reopen` gives a fresh EventLog on the same
 * store (a crash step needs one: the dead engine's log object is abandoned, as a killed
 * process's would be). Returns the log that is open at the end.
 */
export async function recordGolden(sc: GoldenScenario, log: EventLog, reopen: (dead: EventLog) => Promise<EventLog>): Promise<EventLog> {
  let engine = await Engine.open(log, { clock: FIXED_CLOCK });
  for (const step of sc.steps) {
    if ('crash' in step) {
      const c = step.crash;
      const dying = await Engine.open(log, {
        clock: FIXED_CLOCK,
        afterAppend: (phase) => { if (phase === 'steps') throw new Crash(); },
      });
      await dying.execute(c.proc ?? 'A', c.execute, c.arguments).then(
        () => { throw new Error(`golden ${sc.name}: crash step ${c.execute} was not interrupted`); },
        (e) => { if (!(e instanceof Crash)) throw e; });
      log = await reopen(log);
      engine = await Engine.open(log, { clock: FIXED_CLOCK });
      continue;
    }
    await engine.execute(step.proc ?? 'A', step.execute, step.arguments);
  }
  return log;
}

class Crash extends Error {}
