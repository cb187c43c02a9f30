// Stop 33 (issue 12): what the grammar never or rarely sent, measured by scripts/fuzz-coverage.ts
// over a 7.2 run (docs/fidelity.md, "Stop 33: the fuzzer's grammar widened"). Before it, job verbs
// went almost always to jobs that did not exist (a job rarely started: random devices), the
// formats other than qcow2/raw were never opened, x-blockdev-change, qom-set/qom-get, drive-mirror,
// nbd-server-stop and the queries were never sent, reopens of other drivers were rare, and
// transactions never mixed bitmaps with backups and snapshots. Each production draws over the
// current graph; sequences that must follow each other (create a file, open it, format it, open
// the format) go through the generator's queue.
import type { Json, JsonObject, Step } from '../../format.js';
import type { Generator } from '../grammar.js';
import { reopenOptions } from '../grammar.js';
import { bitmapAction } from '../grammar-liba.js';
import { backupArgs } from '../grammar-backup.js';
import { OTHER_FORMAT_IMAGES, clone, cmd, isObj, type Production } from '../production.js';
import type { ProcView } from '../world.js';
import { internalArgs, driveBackupArgs } from './iot-commands.js';
import { snapshotSyncArgs } from './snapshots.js';

const plain = (n: string) => !/[.#]/.test(n);
const is10 = (g: Generator) => g.qemu === '10.0';

/** Named qcow2 nodes with a backing chain below them and no job on them yet. */
function chainTops(p: ProcView): string[] {
  const busy = new Set([...p.jobs.values()].map((j) => j.device));
  return p.named().filter((n) => p.driver(n) === 'qcow2' && p.chainBelow(n).length > 0 && !busy.has(n));
}

/**
 * A job that starts: stream, commit (intermediate or active) or drive-mirror over a real backing
 * chain (top.qcow2 opened with its backing files), mostly held at speed 1 so that the job verbs
 * that follow meet it running, paused, ready, standby or pending, not already gone.
 */
const jobOnChain: Production = (g, p, proc) => {
  const r = g.rng;
  const tops = chainTops(p);
  if (!tops.length || r.chance(0.1)) {
    return cmd(proc, 'blockdev-add', { driver: 'qcow2', 'node-name': g.fresh('n', p), file: { driver: 'file', filename: 'top.qcow2', 'node-name': g.fresh('f', p) } });
  }
  const dev = r.pick(tops);
  const below = p.chainBelow(dev);
  const named = below.filter(plain);
  const o: JsonObject = { 'job-id': g.fresh('j', p), device: dev };
  const k = r.next();
  const limited = r.chance(0.75);
  if (limited) o.speed = 1;
  // a job waits at pending for its finalize: a job held at speed 1 may still finish in its first
  // chunk (a short backing), in real time, and finalizing then would change the graph under the
  // next commands (fuzz 3423610112); a job left at full speed is followed by a wait for pending
  o['auto-finalize'] = false;
  o['auto-dismiss'] = limited && r.chance(0.3);
  if (k < 0.3) {
    if (named.length && r.chance(0.4)) o['base-node'] = r.pick(named);
    if (r.chance(0.3)) o['on-error'] = r.pick(['report', 'stop', 'enospc', 'ignore']);
    if (r.chance(0.15)) o['backing-file'] = r.pick(['base.qcow2', 'mid.qcow2']);
    if (r.chance(0.2)) o['filter-node-name'] = g.fresh('s', p);
    // a concluded stream's filter without children crashes 7.2's query-named-block-nodes (the
    // harness refuses such a case): streams dismiss themselves, as the core production's do
    o['auto-dismiss'] = true;
    return cmd(proc, 'block-stream', o);
  }
  if (k < 0.6) {
    // active commit (top = device) reaches ready; an intermediate one pending
    if (r.chance(0.4) && below.length >= 2) o['top-node'] = below[0]!;
    if (r.chance(0.3)) o['on-error'] = r.pick(['report', 'stop', 'enospc', 'ignore']);
    if (r.chance(0.1)) o['backing-file'] = 'base.qcow2';
    if (r.chance(0.2)) o['filter-node-name'] = g.fresh('c', p);
    if (p.chainBelow(dev).some((n) => p.copiesMayFail(n))) return undefined;
    // reads that may fail late race the reply (ProcView.readsMayFailLate; fuzz 3981614010)
    if (p.readsMayFailLate(dev)) return undefined;
    return cmd(proc, 'block-commit', o);
  }
  // drive-mirror onto an empty image of the same size, which QEMU opens itself
  const m: JsonObject = { ...o, target: r.pick(['t1.qcow2', 't2.qcow2']), format: 'qcow2', mode: 'existing', sync: r.pick(['top', 'full', 'none']), speed: 1 };
  if (r.chance(0.2)) m['copy-mode'] = r.pick(['background', 'write-blocking']);
  if (r.chance(0.2)) m['buf-size'] = r.pick([65536, 1048576, 1000]);
  if (r.chance(0.2)) m['on-source-error'] = r.pick(['report', 'stop', 'ignore']);
  if (r.chance(0.2)) m['on-target-error'] = r.pick(['report', 'stop', 'ignore']);
  if (r.chance(0.1)) m.granularity = r.pick([65536, 512, 1000]);
  if (r.chance(0.15)) m['node-name'] = g.fresh('n', p);
  if (r.chance(0.05)) m.replaces = dev;
  // a copy whose reads may fail late races the reply (ProcView.readsMayFailLate; fuzz 3981614010)
  if (p.readsMayFailLate(dev)) m.sync = 'none';
  delete m['auto-finalize'];
  m['auto-finalize'] = false;
  return cmd(proc, 'drive-mirror', m);
};

const VERBS = ['job-pause', 'job-resume', 'job-cancel', 'job-complete', 'job-finalize', 'job-dismiss',
  'block-job-pause', 'block-job-resume', 'block-job-cancel', 'block-job-complete', 'block-job-finalize', 'block-job-dismiss', 'block-job-set-speed'];

/** Any verb (uniformly) to a job that exists, whatever its state; on 10.0 also block-job-change. */
const jobVerbAny: Production = (g, p, proc) => {
  const r = g.rng;
  const jobs = [...p.jobs.values()];
  if (!jobs.length) return r.chance(0.5) ? cmd(proc, r.pick(['query-jobs', 'query-block-jobs']), {}) : undefined;
  const job = r.pick(jobs);
  if (is10(g) && r.chance(0.12)) {
    const o: JsonObject = { id: job.id, type: r.pick(['mirror', 'mirror', 'commit', 'stream']) };
    if (o.type === 'mirror') o['copy-mode'] = r.pick(['write-blocking', 'background']);
    return cmd(proc, 'block-job-change', o);
  }
  const verb = r.pick(VERBS);
  if (verb === 'block-job-set-speed') return cmd(proc, verb, { device: job.id, speed: r.pick([0, 1, 4096, -1]) });
  if (verb === 'block-job-cancel') return cmd(proc, verb, { device: job.id, ...(r.chance(0.5) ? { force: true } : {}) });
  if (verb === 'block-job-finalize' || verb === 'block-job-dismiss' || verb.startsWith('job-')) return cmd(proc, verb, { id: job.id });
  return cmd(proc, verb, { device: job.id });
};

/** x-blockdev-change on quorum nodes: add a child by name, delete `children.N`, or both/neither. */
const quorumChange: Production = (g, p, proc) => {
  const r = g.rng;
  const quorums = p.named().filter((n) => p.driver(n) === 'quorum');
  if (!quorums.length || r.chance(0.08)) {
    const n = 1 + r.int(3);
    const children: Json[] = Array.from({ length: n }, () => ({ driver: 'null-co', 'read-zeroes': true, 'node-name': g.fresh('q', p) }));
    return cmd(proc, 'blockdev-add', { driver: 'quorum', 'node-name': g.fresh('x', p), children, 'vote-threshold': 1 + r.int(n) });
  }
  const parent = r.chance(0.92) ? r.pick(quorums) : g.ref(p);
  const edges = p.graph.edges.filter((e) => e.parent === parent).map((e) => e.name);
  const k = r.next();
  if (k < 0.45) {
    // a fresh null node for it, or any node (with parents already, or the quorum's own child)
    const orphans = p.named().filter((n) => !p.graph.edges.some((e) => e.child === n) && n !== parent && p.driver(n) === 'null-co');
    if (!orphans.length || r.chance(0.15)) return cmd(proc, 'blockdev-add', { driver: 'null-co', 'read-zeroes': true, 'node-name': g.fresh('q', p) });
    return cmd(proc, 'x-blockdev-change', { parent, node: r.chance(0.85) ? r.pick(orphans) : g.ref(p) });
  }
  if (k < 0.9) return cmd(proc, 'x-blockdev-change', { parent, child: edges.length && r.chance(0.85) ? r.pick(edges) : r.pick(['children.0', 'children.7', 'file']) });
  if (k < 0.95) return cmd(proc, 'x-blockdev-change', { parent, child: edges[0] ?? 'children.0', node: g.ref(p) });
  return cmd(proc, 'x-blockdev-change', { parent });
};

const IOTHREAD_PROPS = ['poll-max-ns', 'poll-grow', 'poll-shrink', 'aio-max-batch', 'thread-pool-min', 'thread-pool-max'];
const LIMITS = ['bps-total', 'bps-read', 'bps-write', 'iops-total', 'iops-read', 'iops-write', 'bps-total-max', 'iops-total-max', 'bps-total-max-length', 'iops-size'];

/**
 * Limits that never hold I/O back for long: unset (0), invalid (negative, above
 * THROTTLE_VALUE_MAX, lengths past UINT_MAX) or far above what a case reads. A real limit
 * (100 iops, or any iops with a 1-byte iops-size) holds a format's header read through a throttle
 * node for minutes: blockdev-add hangs in real time (fuzz 2810102158).
 */
function limitsValue(g: Generator): JsonObject {
  const r = g.rng;
  const o: JsonObject = {};
  for (let i = 0; i < 1 + r.int(2); i++) {
    const k = r.pick(LIMITS);
    o[k] = k.endsWith('-length') ? r.pick([1, -1, 4294967296]) : r.pick([0, -1, 1000000000000001, 1099511627776]);
  }
  return o;
}

/** qom-set / qom-get of iothread and throttle-group properties; object-add with them. */
const qomProps: Production = (g, p, proc) => {
  const r = g.rng;
  const k = r.next();
  if (k < 0.15) {
    const o: JsonObject = { 'qom-type': 'iothread', id: r.pick(['io0', 'io1', 'io2']) };
    for (let i = 0; i < 1 + r.int(2); i++) o[r.pick(IOTHREAD_PROPS)] = r.pick([0, 1, 64, 32768, -1]);
    return cmd(proc, 'object-add', o);
  }
  if (k < 0.25) {
    const o: JsonObject = { 'qom-type': 'throttle-group', id: r.pick(['tg0', 'tg1', 'tg2']) };
    if (r.chance(0.5)) o.limits = limitsValue(g); else o[`x-${r.pick(LIMITS)}`] = r.pick([0, -1, 1099511627776]);
    return cmd(proc, 'object-add', o);
  }
  const ios = [...p.iothreads]; const tgs = [...p.throttleGroups];
  const onIo = ios.length && (!tgs.length || r.chance(0.5));
  const id = onIo ? r.pick(ios) : tgs.length ? r.pick(tgs) : r.pick(['io0', 'tg0', 'nosuch']);
  const path = r.chance(0.5) ? `/objects/${id}` : id;
  const set = r.chance(0.65);
  if (onIo) {
    const property = r.chance(0.92) ? r.pick(IOTHREAD_PROPS) : r.pick(['type', 'nosuch']);
    if (!set) return cmd(proc, 'qom-get', { path, property });
    return cmd(proc, 'qom-set', { path, property, value: r.pick<Json>([0, 1, 64, 32768, 2147483648, -1, 'x']) });
  }
  const property = r.chance(0.6) ? 'limits' : r.chance(0.8) ? `x-${r.pick(LIMITS)}` : 'nosuch';
  if (!set) return cmd(proc, 'qom-get', { path, property });
  return cmd(proc, 'qom-set', { path, property, value: property === 'limits' ? limitsValue(g) : r.pick([0, 1099511627776]) });
};

/** Export variants: names, descriptions, allocation depth, writethrough; nbd-server-stop; query. */
const exportVariants: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.nbd) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } }, ...(r.chance(0.2) ? { 'max-connections': r.pick([0, 1, 16]) } : {}) });
  const k = r.next();
  if (k < 0.08) return cmd(proc, 'nbd-server-stop', {});
  if (k < 0.15) return cmd(proc, 'query-block-exports', {});
  if (k < 0.35) {
    const o: JsonObject = { device: g.ref(p) };
    if (r.chance(0.5)) o.name = g.fresh('e', p);
    if (r.chance(0.5)) o.description = r.pick(['', 'a disk', 'x'.repeat(4097)]);
    if (r.chance(0.3)) o.bitmap = r.pick(['b0', 'nosuch']);
    if (r.chance(0.4)) o.writable = true;
    return cmd(proc, 'nbd-server-add', o);
  }
  const o: JsonObject = { type: 'nbd', id: g.fresh('e', p), 'node-name': g.ref(p) };
  if (r.chance(0.5)) o.name = r.chance(0.8) ? g.fresh('x', p) : r.pick(['', 'x'.repeat(4097)]);
  if (r.chance(0.4)) o.description = r.pick(['', 'a disk', 'x'.repeat(4097)]);
  if (r.chance(0.3)) o['allocation-depth'] = r.chance(0.7);
  if (r.chance(0.3)) o.writethrough = r.chance(0.7);
  if (r.chance(0.4)) o.writable = true;
  if (p.iothreads.size && r.chance(0.2)) { o.iothread = r.pick([...p.iothreads]); if (r.chance(0.5)) o['fixed-iothread'] = r.chance(0.7); }
  if (is10(g) && r.chance(0.15)) o['allow-inactive'] = r.chance(0.5);
  return cmd(proc, 'block-export-add', o);
};

/** The qed image blockdev-create writes (the only format besides file and qcow2 the model creates). */
function qedCreateOptions(g: Generator, file: string): JsonObject {
  const r = g.rng;
  const o: JsonObject = { driver: 'qed', file, size: r.pick([16777216, 1048576, 16777216, 1000]) };
  if (r.chance(0.3)) o['cluster-size'] = r.pick([65536, 4096, 1000]);
  if (r.chance(0.2)) o['table-size'] = r.pick([4, 16, 3]);
  if (r.chance(0.2)) o['backing-file'] = 'base.qcow2';
  if (r.chance(0.1)) o['backing-fmt'] = r.pick(['qcow2', 'raw']);
  return o;
}

/**
 * The formats the model gained in stop 32 (qed, vdi, vpc, vhdx, parallels, qcow, vmdk), opened
 * over their own image (`v.FORMAT`) for later productions to act on, or over a zeroed raw file or
 * a qcow2 image, which each driver's probe refuses with its own text (graph/other-formats.ts; a
 * vdi over a qcow2 reads header bytes the model does not keep: not drawn). qed also end to end: a
 * new file, a file node over it, blockdev-create qed onto it, the qed node opened.
 */
const formatImage: Production = (g, p, proc) => {
  const r = g.rng;
  const fmt = r.pick(OTHER_FORMAT_IMAGES);
  const k = r.next();
  if (k < 0.25) {
    const over = fmt === 'vdi' ? 'r.raw' : r.pick(['r.raw', 'a.qcow2', 't1.qcow2']);
    return cmd(proc, 'blockdev-add', { driver: fmt, 'node-name': g.fresh('n', p), file: { driver: 'file', filename: over } });
  }
  if (k < 0.8 || fmt !== 'qed') {
    const o: JsonObject = { driver: fmt, 'node-name': g.fresh('n', p), file: { driver: 'file', filename: `v.${fmt}`, 'node-name': g.fresh('f', p) } };
    if (r.chance(0.2)) o['read-only'] = true;
    if ((fmt === 'qcow' || fmt === 'qed') && r.chance(0.3)) o.backing = null;
    return cmd(proc, 'blockdev-add', o);
  }
  const file = `${g.fresh('img', p)}.qed`;
  const fnode = g.fresh('f', p);
  const c1 = g.fresh('c', p); const c2 = g.fresh('c', p);
  const q = (s: Step) => g.queue.push(s);
  const w = (job: string) => g.queue.push(proc === 'A' ? { wait: { job, status: 'concluded' } } : { proc, wait: { job, status: 'concluded' } });
  w(c1);
  q(cmd(proc, 'job-dismiss', { id: c1 }));
  q(cmd(proc, 'blockdev-add', { driver: 'file', 'node-name': fnode, filename: file }));
  q(cmd(proc, 'blockdev-create', { 'job-id': c2, options: qedCreateOptions(g, fnode) }));
  w(c2);
  q(cmd(proc, 'job-dismiss', { id: c2 }));
  q(cmd(proc, 'blockdev-add', { driver: 'qed', 'node-name': g.fresh('n', p), file: fnode }));
  return cmd(proc, 'blockdev-create', { 'job-id': c1, options: { driver: 'file', filename: file, size: 0 } });
};

/** Driver-specific option changes a reopen may carry (bdrv_reopen_prepare → the driver's .bdrv_reopen_prepare). */
function driverChange(g: Generator, p: ProcView, drv: string): JsonObject {
  const r = g.rng;
  switch (drv) {
    case 'null-co': case 'null-aio': return r.pick<JsonObject>([{ size: r.pick([1048576, 1000]) }, { 'latency-ns': r.pick([0, 1000]) }, { 'read-zeroes': false }, {}]);
    case 'throttle': return { 'throttle-group': r.pick([...p.throttleGroups, 'tg9']) };
    case 'blkdebug': return r.pick<JsonObject>([{ align: r.pick([512, 4096, 1000]) }, { 'max-transfer': r.pick([65536, 1000]) }, { 'inject-error': [{ event: 'read_aio', errno: 5 }] }, { config: 'nosuch.conf' }]);
    case 'copy-on-read': return { bottom: g.ref(p) };
    case 'copy-before-write': return r.pick<JsonObject>([{ 'on-cbw-error': r.pick(['break-guest-write', 'break-snapshot']) }, { 'cbw-timeout': r.pick([0, 1]) }, { target: g.ref(p) }]);
    case 'quorum': return r.pick<JsonObject>([{ 'vote-threshold': 1 + r.int(3) }, { 'rewrite-corrupted': true }, { 'read-pattern': 'fifo' }]);
    case 'nbd': return { export: r.pick(['e0', 'nosuch']) };
    case 'file': return r.pick<JsonObject>([{ locking: r.pick(['on', 'off']) }, { 'drop-cache': false }, { aio: 'native' }, { 'x-check-cache-dropped': true }]);
    default: return r.pick<JsonObject>([{ 'detect-zeroes': 'on' }, { discard: 'unmap' }, { 'force-share': true }, { 'auto-read-only': true }, { backing: null }]);
  }
}

/** blockdev-reopen of a node whose driver is not qcow2 or raw, with a change of its own options. */
const reopenOther: Production = (g, p, proc) => {
  const r = g.rng;
  const others = p.named().filter((n) => !['qcow2', 'raw'].includes(p.driver(n) ?? 'qcow2'));
  if (!others.length) return undefined;
  const node = r.pick(others);
  const o = r.chance(0.5) ? reopenOptions(g, p, node) : clone(p.options.get(node) ?? { driver: p.driver(node)!, 'node-name': node });
  Object.assign(o, driverChange(g, p, String(o.driver ?? p.driver(node))));
  return cmd(proc, 'blockdev-reopen', { options: [o] });
};

/**
 * Transactions mixing bitmap actions with backups, external and internal snapshots and
 * drive-backup, often with completion-mode grouped (which only backups accept).
 */
const txMix: Production = (g, p, proc) => {
  const r = g.rng;
  const actions: JsonObject[] = [];
  const n = 2 + r.int(3);
  for (let i = 0; i < n; i++) {
    const k = r.next();
    if (k < 0.35) actions.push(bitmapAction(g, p) as unknown as JsonObject);
    else if (k < 0.55) actions.push({ type: 'blockdev-backup', data: { ...backupArgs(g, p), sync: 'none' } });
    else if (k < 0.7) actions.push({ type: 'blockdev-snapshot-sync', data: snapshotSyncArgs(g, p) });
    else if (k < 0.82) actions.push({ type: 'blockdev-snapshot-internal-sync', data: internalArgs(g, p) });
    else actions.push({ type: 'drive-backup', data: { ...driveBackupArgs(g, p), sync: 'none' } });
  }
  // 7.2 crashes in the abort of an enable action whose bitmap lookup failed, and on a merge of an
  // empty list (docs/bitmaps.md): such actions only where the bitmap exists
  for (const a of actions) {
    const d = a.data as JsonObject;
    if (a.type === 'block-dirty-bitmap-merge' && !(d.bitmaps as unknown[]).length) return undefined;
    if (a.type === 'block-dirty-bitmap-enable' && !(p.graph.nodes.find((x) => x.name === d.node)?.bitmaps ?? []).some((b) => b.split(' ')[0] === d.name)) return undefined;
  }
  if (r.chance(0.1)) actions.splice(r.int(actions.length + 1), 0, { type: 'abort', data: {} });
  const o: JsonObject = { actions };
  if (r.chance(0.5)) o.properties = { 'completion-mode': r.chance(0.8) ? 'grouped' : 'individual' };
  return cmd(proc, 'transaction', o);
};

/** Rarely sent or never sent commands and members: queries, block_resize by device, blockdev-set-active (10.0). */
const misc: Production = (g, p, proc) => {
  const r = g.rng;
  const k = r.next();
  if (is10(g) && k < 0.3) {
    const o: JsonObject = { active: r.chance(0.5) };
    if (r.chance(0.8)) o['node-name'] = g.ref(p);
    return cmd(proc, 'blockdev-set-active', o);
  }
  if (k < 0.45) return cmd(proc, 'query-named-block-nodes', r.chance(0.5) ? { flat: r.chance(0.5) } : {});
  if (k < 0.55) return cmd(proc, 'query-block', {});
  if (k < 0.65) return cmd(proc, 'block_resize', { device: r.pick(['nosuch', g.ref(p)]), size: 16777216 });
  if (k < 0.8) return cmd(proc, 'block-set-write-threshold', { 'node-name': g.ref(p), 'write-threshold': r.pick([0, 512, 33554432, -1]) });
  // a throttle node moved to another group by reopen while a limited group holds it
  const throttles = p.named().filter((n) => p.driver(n) === 'throttle');
  if (!throttles.length || !isObj(p.options.get(throttles[0]!))) return cmd(proc, 'query-jobs', {});
  const node = r.pick(throttles);
  const o = clone(p.options.get(node) ?? { driver: 'throttle', 'node-name': node });
  o['throttle-group'] = r.pick([...p.throttleGroups, 'tg9']);
  return cmd(proc, 'blockdev-reopen', { options: [o] });
};

export const WIDENED: [Production, number][] = [
  [jobOnChain, 6], [jobVerbAny, 6], [quorumChange, 3], [qomProps, 4], [exportVariants, 3],
  [formatImage, 3], [reopenOther, 4], [txMix, 3], [misc, 2],
];
