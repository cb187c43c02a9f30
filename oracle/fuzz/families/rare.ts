// Stop 34 (issue 12, round 2): the schema commands and blockdev-add drivers scripts/fuzz-coverage.ts
// still showed never drawn after stop 33, where the model claims them: qmp_capabilities (refused
// once negotiated), query-blockstats (with and without query-nodes), query-commands,
// query-version, query-block-exports, x-debug-query-block-graph, query-qmp-schema; the drivers
// preallocate, blklogwrites and blkverify at the top, as a format's file, and reopened.
// Left out on purpose: quit (ends the daemon under the harness), chardev-*, ringbuf-*,
// query-chardev*, qom-list (modelled for the VM's /machine only: on QSD even /objects is
// DeviceNotFound until an object exists), qom-list-types/qom-list-properties, x-blockdev-amend and
// x-debug-block-dirty-bitmap-sha256 (not modelled); the protocol drivers that need a service or
// a device (gluster, iscsi, nfs, rbd, ssh, http(s), ftp(s), nvme, host_cdrom, host_device),
// vvfat, replication, blkreplay, and the read-only formats bochs, cloop, dmg (no model of them).
import type { Json, JsonObject } from '../../format.js';
import type { Generator } from '../grammar.js';
import { clone, cmd, QCOW2, type Production } from '../production.js';
import type { ProcView } from '../world.js';

const rareCommand: Production = (g, p, proc) => {
  const r = g.rng;
  const k = r.next();
  if (k < 0.1) return cmd(proc, 'qmp_capabilities', r.chance(0.3) ? { enable: ['oob'] } : {});
  if (k < 0.5) return cmd(proc, 'query-blockstats', r.chance(0.6) ? { 'query-nodes': r.chance(0.6) } : {});
  if (k < 0.6) return cmd(proc, 'query-commands', {});
  if (k < 0.7) return cmd(proc, 'query-version', {});
  if (k < 0.8) return cmd(proc, 'query-block-exports', {});
  if (k < 0.95) return cmd(proc, 'x-debug-query-block-graph', {});
  return cmd(proc, 'query-qmp-schema', {});
};

/** A child reference for the filters below: a node there, or a file inline. */
function child(g: Generator, p: ProcView): Json {
  const r = g.rng;
  if (r.chance(0.6)) return g.ref(p);
  return r.chance(0.5) ? { driver: 'file', filename: r.pick(QCOW2) } : { driver: 'null-co', 'read-zeroes': true, size: r.pick([16777216, 1048576]) };
}

function filterNode(g: Generator, p: ProcView, name: string | undefined, file?: Json): JsonObject {
  const r = g.rng;
  const drv = r.pick(['preallocate', 'preallocate', 'blklogwrites', 'blkverify']);
  if (drv === 'blkverify' && file !== undefined) return filterNode(g, p, name, file);
  const o: JsonObject = { driver: drv };
  if (name) o['node-name'] = name;
  if (drv === 'preallocate') {
    o.file = file ?? child(g, p);
    if (r.chance(0.35)) o['prealloc-align'] = r.pick([1048576, 512, 1000, 0, 65536]);
    if (r.chance(0.35)) o['prealloc-size'] = r.pick([134217728, 0, 1048576, 1000]);
  } else if (drv === 'blklogwrites') {
    o.file = file ?? child(g, p);
    o.log = r.chance(0.7) ? { driver: 'null-co', 'read-zeroes': true, size: r.pick([0, 1048576]) } : g.ref(p);
    if (r.chance(0.3)) o['log-sector-size'] = r.pick([512, 4096, 16, 1000, 16777216]);
    if (r.chance(0.3)) o['log-append'] = r.chance(0.5);
    if (r.chance(0.2)) o['log-super-update-interval'] = r.pick([0, 1, 4096]);
  } else {
    // blkverify_co_preadv compares every read of its two children and ends QEMU on a mismatch
    // (blkverify_err: exit(1); fuzz 2258166518, a qcow2 probing a.qcow2 against zeroes): both
    // children read zeroes, so no read through it can differ (oracle/fuzz/aborts.ts)
    const size = r.pick([16777216, 1048576]);
    o.test = { driver: 'null-co', 'read-zeroes': true, size };
    o.raw = { driver: 'null-co', 'read-zeroes': true, size };
  }
  return o;
}

/** The filters at the top, or as a qcow2 node's file (qcow2 over preallocate over file is how it is used). */
const rareDriver: Production = (g, p, proc) => {
  const r = g.rng;
  const k = r.next();
  if (k < 0.5) return cmd(proc, 'blockdev-add', filterNode(g, p, g.fresh('x', p)));
  if (k < 0.85) {
    const inner = filterNode(g, p, r.chance(0.5) ? g.fresh('x', p) : undefined, { driver: 'file', filename: r.pick(QCOW2), ...(r.chance(0.5) ? { 'node-name': g.fresh('f', p) } : {}) });
    const o: JsonObject = { driver: 'qcow2', 'node-name': g.fresh('n', p), file: inner };
    if (r.chance(0.5)) o.backing = null;
    return cmd(proc, 'blockdev-add', o);
  }
  // reopen of one of them with a change of its own options
  const nodes = p.named().filter((n) => ['preallocate', 'blklogwrites', 'blkverify'].includes(p.driver(n) ?? ''));
  if (!nodes.length) return undefined;
  const node = r.pick(nodes);
  const o = clone(p.options.get(node) ?? { driver: p.driver(node)!, 'node-name': node });
  for (const e of ['file', 'log', 'test', 'raw']) { const cur = p.child(node, e); if (cur && !/[.#]/.test(cur) && typeof o[e] === 'object') o[e] = cur; }
  const change = r.pick<JsonObject>([{ 'prealloc-align': 4096 }, { 'prealloc-size': 0 }, { 'log-sector-size': 4096 }, { 'read-only': true }, {}]);
  Object.assign(o, change);
  return cmd(proc, 'blockdev-reopen', { options: [o] });
};

export const RARE: [Production, number][] = [[rareCommand, 3], [rareDriver, 4]];
