// Fuzzer productions for issue 18 part B: blockdev-backup (alone and as grouped transaction
// actions), copy-before-write and snapshot-access added explicitly (fleecing), NBD client nodes
// over the processes' own NBD servers, raw slices. Kept apart from grammar.ts; its Generator
// draws them through BACKUP_PRODUCTIONS with the weights below.
import type { JsonObject, Step } from '../format.js';
import type { Generator } from './grammar.js';
import type { ProcView } from './world.js';

type Production = (g: Generator, p: ProcView, proc: string) => Step | undefined;
const cmd = (proc: string, execute: string, args: JsonObject): Step => (proc === 'A' ? { execute, arguments: args } : { proc, execute, arguments: args });

/** blockdev-backup's arguments: sync none mostly (it runs until cancelled, the same on both sides). */
export function backupArgs(g: Generator, p: ProcView): JsonObject {
  const r = g.rng;
  const o: JsonObject = { 'job-id': g.fresh('b', p), device: g.ref(p), target: g.ref(p), sync: r.pick(['none', 'none', 'full', 'top']) };
  if (r.chance(0.2)) o['filter-node-name'] = g.fresh('cbw', p);
  if (r.chance(0.05)) o.sync = r.pick(['incremental', 'bitmap']);
  if (r.chance(0.05)) o['bitmap-mode'] = r.pick(['on-success', 'never', 'always']);
  if (r.chance(0.05)) o.bitmap = r.pick(['nosuch', 'b0']);
  if (r.chance(0.05)) o.compress = true;
  if (r.chance(0.05)) o['x-perf'] = { 'max-workers': r.pick([0, 1, 64]), 'max-chunk': r.pick([-1, 0, 4096, 65536]) };
  if (r.chance(0.05)) o.speed = -1;
  o['auto-finalize'] = false;
  o['auto-dismiss'] = r.chance(0.5);
  return backupGuards(p, o);
}

/** Sync none for a backup whose copy's failure would race the graph query. */
export function backupGuards(p: ProcView, o: JsonObject): JsonObject {
  // a copy into a snapshot-access node fails when its first write comes, racing the graph query,
  // and so may one through a compress filter or with compress set, into an allocated qcow2
  // cluster (ProcView.copiesMayFail): only sync none, which writes nothing by itself
  if ((p.copiesMayFail(String(o.target)) || o.compress === true) && o.sync !== 'none') o.sync = 'none';
  // and so does a read of a source whose qcow2 reads its L2 tables through an overlay (ProcView.readsMayFailLate)
  if (p.readsMayFailLate(String(o.device)) && o.sync !== 'none') o.sync = 'none';
  // a full copy of a source created past 1 GiB may write that much (ProcView.mayBeHuge)
  if (p.mayBeHuge(String(o.device)) && o.sync !== 'none') o.sync = 'none';
  return o;
}

const backup: Production = (g, p, proc) => cmd(proc, 'blockdev-backup', backupArgs(g, p));

const backupTransaction: Production = (g, p, proc) => {
  const r = g.rng;
  const n = 1 + r.int(2);
  const actions = Array.from({ length: n }, () => ({ type: 'blockdev-backup', data: { ...backupArgs(g, p), sync: 'none' } }));
  if (r.chance(0.2)) actions.push({ type: 'abort', data: {} } as never);
  const o: JsonObject = { actions };
  if (r.chance(0.5)) o.properties = { 'completion-mode': r.pick(['grouped', 'individual']) };
  return cmd(proc, 'transaction', o);
};

const addCbw: Production = (g, p, proc) => {
  const o: JsonObject = { driver: 'copy-before-write', 'node-name': g.fresh('cbw', p), file: g.ref(p), target: g.ref(p) };
  if (g.rng.chance(0.1)) o.bitmap = { node: g.ref(p), name: 'nosuch' };
  if (g.rng.chance(0.1)) o['on-cbw-error'] = g.rng.pick(['break-guest-write', 'break-snapshot']);
  return cmd(proc, 'blockdev-add', o);
};

const addSnapshotAccess: Production = (g, p, proc) => {
  const cbws = p.named().filter((n) => p.driver(n) === 'copy-before-write');
  const file = cbws.length && g.rng.chance(0.8) ? g.rng.pick(cbws) : g.ref(p);
  return cmd(proc, 'blockdev-add', { driver: 'snapshot-access', 'node-name': g.fresh('acc', p), file });
};

/** An NBD client of the other process's server (a client of its own server hangs QSD 7.2). */
const addNbdClient: Production = (g, p, proc) => {
  const other = proc === 'A' ? 'B' : 'A';
  const o: JsonObject = { driver: 'nbd', 'node-name': g.fresh('nbd', p), server: { type: 'unix', path: `nbd-${other}.sock` } };
  if (g.rng.chance(0.9)) o.export = g.rng.pick(['e0', 'e1', 'e2', 'nosuch']);
  if (g.rng.chance(0.3)) o['read-only'] = true;
  return cmd(proc, 'blockdev-add', o);
};

const addRawSlice: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { driver: 'raw', 'node-name': g.fresh('sl', p), file: g.ref(p), offset: r.pick([0, 512, 65536, 1048576, -512]) };
  if (r.chance(0.7)) o.size = r.pick([512, 65536, 196608, 1048576, 1000, -1]);
  return cmd(proc, 'blockdev-add', o);
};

/** Production weights, added to process A's. */
export const BACKUP_PRODUCTIONS: [Production, number][] = [
  [backup, 4], [backupTransaction, 2], [addCbw, 2], [addSnapshotAccess, 1], [addNbdClient, 1], [addRawSlice, 2],
];

/** What must follow a started backup: a wait for a job that copies (sync full/top) to settle. */
// drive-backup alike, and the backup actions of a transaction that succeeded (at full speed only).
export function backupFollowUp(step: Step, wait: (job: string, status: string) => void): void {
  if ('wait' in step) return;
  const a = step.arguments ?? {};
  const copies = (d: JsonObject) => (d.sync === 'full' || d.sync === 'top') && d.speed === undefined;
  if ((step.execute === 'blockdev-backup' || step.execute === 'drive-backup') && copies(a)) wait(String(a['job-id']), 'pending');
  if (step.execute === 'transaction' && Array.isArray(a.actions)) {
    // completion-mode grouped with a backup that never ends on its own (sync none: backup_run
    // yields until cancelled): a finished job of the group stays waiting
    // (job_completed_txn_success_locked returns while another job is not completed)
    const backups = (a.actions as JsonObject[]).filter((x) => (x.type === 'blockdev-backup' || x.type === 'drive-backup') && typeof x.data === 'object' && x.data !== null);
    const grouped = typeof a.properties === 'object' && a.properties !== null && (a.properties as JsonObject)['completion-mode'] === 'grouped';
    const held = grouped && backups.some((x) => (x.data as JsonObject).sync === 'none');
    for (const x of backups) if (copies(x.data as JsonObject)) wait(String((x.data as JsonObject)['job-id']), held ? 'waiting' : 'pending');
  }
}
