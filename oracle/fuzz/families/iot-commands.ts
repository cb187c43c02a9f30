// The commands modelled last (branch iot): drive-backup (command and transaction action),
// change-backing-file, blockdev-snapshot-internal-sync / blockdev-snapshot-delete-internal-sync
// (command and transaction action) and nbd-server-remove, drawn over the current graph with
// valid and invalid arguments: wrong nodes, wrong formats, read-only and busy nodes, every sync
// mode, snapshot names that exist or not (by id, by name, both, neither), backing file names in
// the chain or not, exports present or absent, and transactions mixing them with the older actions.
import type { Json, JsonObject } from '../../format.js';
import type { Generator } from '../grammar.js';
import { EMPTY_QCOW2, QCOW2, cmd, type Production } from '../production.js';
import type { ProcView } from '../world.js';

/** A node reference leaning to qcow2 nodes (the only driver with internal snapshots). */
function imageRef(g: Generator, p: ProcView): string {
  const qcow2 = p.named().filter((n) => p.driver(n) === 'qcow2');
  return qcow2.length && g.rng.chance(0.7) ? g.rng.pick(qcow2) : g.ref(p);
}

/** A snapshot name: one created earlier in this process (any node), a new one, a digit (an id's look), or empty. */
function snapshotName(g: Generator, p: ProcView): string {
  const r = g.rng;
  const k = r.next();
  if (k < 0.35 && p.internalSnapshots.length) return r.pick(p.internalSnapshots);
  if (k < 0.9) return r.pick(['s0', 's1', 's2', 'snap']);
  if (k < 0.97) return r.pick(['1', '2']);
  return '';
}

export function internalArgs(g: Generator, p: ProcView): JsonObject {
  return { device: imageRef(g, p), name: snapshotName(g, p) };
}

const internalSnapshot: Production = (g, p, proc) => cmd(proc, 'blockdev-snapshot-internal-sync', internalArgs(g, p));

const deleteInternal: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { device: imageRef(g, p) };
  const k = r.next();
  // by name, by id, by both (which must name one snapshot), by neither
  if (k < 0.5) o.name = snapshotName(g, p);
  else if (k < 0.8) o.id = r.pick(['1', '2', '3', '9']);
  else if (k < 0.96) { o.id = r.pick(['1', '2', '3']); o.name = snapshotName(g, p); }
  return cmd(proc, 'blockdev-snapshot-delete-internal-sync', o);
};

/** drive-backup's arguments (as a command or a transaction action). */
export function driveBackupArgs(g: Generator, p: ProcView): JsonObject {
  const r = g.rng;
  const o: JsonObject = { 'job-id': g.fresh('d', p), device: g.ref(p), sync: r.pick(['full', 'none', 'none', 'top', 'full']) };
  const m = r.next();
  if (m < 0.55) { o.mode = 'existing'; o.target = r.chance(0.8) ? r.pick([...EMPTY_QCOW2, 'r.raw']) : r.pick([...QCOW2, 'nosuch.qcow2']); }
  else if (m < 0.9) o.target = `${g.fresh('db', p)}.qcow2`;
  else { o.mode = 'absolute-paths'; o.target = r.pick([...EMPTY_QCOW2, 'r.raw', 'a.qcow2']); }
  if (r.chance(0.4)) o.format = r.pick(['qcow2', 'qcow2', 'raw', 'throttle']);
  if (r.chance(0.05)) o.sync = r.pick(['incremental', 'bitmap']);
  if (r.chance(0.05)) o.bitmap = r.pick(['nosuch', 'b0']);
  if (r.chance(0.04)) o['bitmap-mode'] = r.pick(['on-success', 'never', 'always']);
  if (r.chance(0.05)) o.compress = true;
  if (r.chance(0.15)) o.speed = r.pick([1, 1, -1]);
  o['auto-finalize'] = false;
  o['auto-dismiss'] = r.chance(0.5);
  // a source read that fails after the overlay's reads races the graph query (ProcView.readsMayFailLate)
  if (p.readsMayFailLate(String(o.device)) && o.sync !== 'none') o.sync = 'none';
  // a full copy of a source created past 1 GiB may write that much (ProcView.mayBeHuge)
  if (p.mayBeHuge(String(o.device)) && o.sync !== 'none') o.sync = 'none';
  // a speed-limited copy done in one block-copy task ends when that task's I/O does, racing the
  // next commands (ProcView.mayCopyInOneTask): such a backup runs at full speed, and a `wait` follows it
  if (typeof o.speed === 'number' && o.speed > 0 && (o.sync === 'full' || o.sync === 'top') && p.mayCopyInOneTask(String(o.device))) delete o.speed;
  return o;
}

const driveBackup: Production = (g, p, proc) => cmd(proc, 'drive-backup', driveBackupArgs(g, p));

/** change-backing-file: the image mostly in the device's chain, the name mostly one without a backing of its own. */
const changeBackingFile: Production = (g, p, proc) => {
  const r = g.rng;
  const device = g.ref(p);
  const chain = [device, ...p.chainBelow(device)].filter((n) => !/[.#]/.test(n));
  const image = r.chance(0.8) && p.named().includes(device) ? r.pick(chain) : g.ref(p);
  // names of images with no backing file (a name naming an image above would make a loop)
  let name = r.pick(['base.qcow2', 'base.qcow2', 'a.qcow2', 'r.raw', 'nosuch.qcow2', 'file:base.qcow2', '', 'foo:bar']);
  // an image named as its own backing file would recurse at its next open: never
  if (name.replace(/^file:/, '') === imageFile(p, image)) name = 'nosuch.qcow2';
  return cmd(proc, 'change-backing-file', { device, 'image-node-name': image, 'backing-file': name });
};

/** The file name under a format node, when its options tell it. */
function imageFile(p: ProcView, node: string): string | undefined {
  const file = p.options.get(node)?.file;
  if (typeof file === 'object' && file !== null && !Array.isArray(file)) return typeof file.filename === 'string' ? file.filename : undefined;
  if (typeof file === 'string') { const f = p.options.get(file)?.filename; return typeof f === 'string' ? f : undefined; }
  return undefined;
}

const nbdServerRemove: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.nbd) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } } });
  const ids = [...p.exports.keys()];
  const o: JsonObject = { name: ids.length && r.chance(0.8) ? r.pick(ids) : r.pick(['nosuch', 'e0']) };
  if (r.chance(0.4)) o.mode = r.pick(['safe', 'hard']);
  return cmd(proc, 'nbd-server-remove', o);
};

/** A transaction mixing the new actions with blockdev-snapshot-sync and abort. */
const mixedTransaction: Production = (g, p, proc) => {
  const r = g.rng;
  const actions: Json[] = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const k = r.next();
    if (k < 0.4) actions.push({ type: 'blockdev-snapshot-internal-sync', data: internalArgs(g, p) });
    else if (k < 0.75) actions.push({ type: 'drive-backup', data: driveBackupArgs(g, p) });
    else {
      const o: JsonObject = { 'node-name': g.ref(p), 'snapshot-node-name': g.fresh('n', p), 'snapshot-file': r.pick(EMPTY_QCOW2), mode: 'existing' };
      actions.push({ type: 'blockdev-snapshot-sync', data: o });
    }
  }
  if (r.chance(0.15)) actions.splice(r.int(actions.length + 1), 0, { type: 'abort', data: {} });
  const o: JsonObject = { actions };
  if (r.chance(0.25)) o.properties = { 'completion-mode': r.pick(['grouped', 'individual']) };
  return cmd(proc, 'transaction', o);
};

export const IOT_COMMANDS: [Production, number][] = [
  [internalSnapshot, 3], [deleteInternal, 2], [driveBackup, 4], [changeBackingFile, 2], [nbdServerRemove, 2], [mixedTransaction, 2],
];
