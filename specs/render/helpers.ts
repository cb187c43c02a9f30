// A small recorded history with known commands, for the audit / diff / history / render
// specs. Every expected value in those specs is derived by hand from QEMU 7.2's rules for
// this history, not taken from a run of the code under test.
import { main } from '../../cli/main.js';
import { Engine } from '../../engine/engine.js';
import type { EventLog } from '../../store/index.js';

/** One second per command from a fixed start: records' `at` values are known in advance. */
export function stepClock(start = Date.parse('2026-01-01T00:00:00.000Z')) {
  let n = 0;
  return () => new Date(start + 1000 * n++).toISOString();
}

export interface History {
  /** log.head after each named command. */
  marks: Record<string, number>;
  /** The transaction id that was cut by the simulated crash (rolled back by recovery). */
  crashedTxn: string;
  engine: Engine;
}

class Crash extends Error {}

/**
 * base (ro) <- mid <- top, an NBD export on top, a refused blockdev-del, an iothread, a
 * null-co node whose first blockdev-add is cut after its steps (no decision: rolled back on
 * reopen), added again and moved to the iothread, then a stream job top -> base.
 */
export async function recordHistory(log: EventLog): Promise<History> {
  const marks: Record<string, number> = {};
  let crash = false;
  const clock = stepClock();
  let engine = await Engine.open(log, {
    clock,
    afterAppend: (phase) => { if (crash && phase === 'steps') throw new Crash('cut'); },
  });
  const ok = async (mark: string, cmd: string, args: Record<string, unknown>) => {
    const r = await engine.execute('A', cmd, args);
    if ('error' in r.reply) throw new Error(`${cmd}: ${r.reply.error.desc}`);
    marks[mark] = log.head;
  };
  await ok('images', 'x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1M' });
  await ok('images', 'x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  await ok('images', 'x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '1M', backing: 'mid.qcow2', 'backing-format': 'qcow2' });
  await ok('base', 'blockdev-add', { driver: 'qcow2', 'node-name': 'base', 'read-only': true, file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'basef' } });
  await ok('mid', 'blockdev-add', { driver: 'qcow2', 'node-name': 'mid', backing: 'base', file: { driver: 'file', filename: 'mid.qcow2', 'node-name': 'midf' } });
  await ok('top', 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', backing: 'mid', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'topf' } });
  const refused = await engine.execute('A', 'blockdev-del', { 'node-name': 'base' });
  if (!('error' in refused.reply)) throw new Error('blockdev-del base should be refused');
  marks.refused = log.head;
  await ok('nbd', 'nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  await ok('export', 'block-export-add', { id: 'e0', type: 'nbd', 'node-name': 'top', writable: true });
  await ok('iothread', 'object-add', { 'qom-type': 'iothread', id: 'io0' });
  crash = true;
  const crashedTxn = `t${log.head + 1}`;
  await engine.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0', 'read-only': true }).then(
    () => { throw new Error('the cut did not happen'); },
    (e) => { if (!(e instanceof Crash)) throw e; },
  );
  marks.cut = log.head;
  crash = false;
  // What a restart does: a new engine on the same log recovers the undecided transaction.
  engine = await Engine.open(log, { clock });
  marks.recovered = log.head;
  await ok('n0', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0', 'read-only': true });
  await ok('moved', 'x-blockdev-set-iothread', { 'node-name': 'n0', iothread: 'io0' });
  await ok('stream', 'block-stream', { 'job-id': 'j0', device: 'top', 'base-node': 'base', 'filter-node-name': 'cor', 'auto-finalize': false });
  return { marks, crashedTxn, engine };
}

// In-process through main() (commander, exit codes, stdout/stderr), so that two dozen runs
// cost milliseconds each; the live-tail spec and specs/cli run the CLI as child processes.
export async function runCli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write;
  const ew = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => { stdout += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { stderr += String(c); return true; }) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = 0;
  }
}
