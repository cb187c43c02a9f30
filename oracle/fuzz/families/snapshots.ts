// External snapshots as transactions: blockdev-snapshot and blockdev-snapshot-sync actions (one
// or two, sometimes with an `abort` action that rolls every one back), and blockdev-snapshot-sync
// on its own, onto existing empty images (mode existing) or new files QSD creates.
import type { Json, JsonObject } from '../../format.js';
import type { Generator } from '../grammar.js';
import { EMPTY_QCOW2, cmd, type Production } from '../production.js';
import type { ProcView } from '../world.js';

export function snapshotSyncArgs(g: Generator, p: ProcView): JsonObject {
  const r = g.rng;
  const o: JsonObject = { 'node-name': g.ref(p), 'snapshot-node-name': g.fresh('n', p) };
  if (r.chance(0.7)) { o['snapshot-file'] = r.pick(EMPTY_QCOW2); o.mode = 'existing'; } else o['snapshot-file'] = `${g.fresh('s', p)}.qcow2`;
  if (r.chance(0.5)) o.format = 'qcow2';
  if (r.chance(0.05)) delete o['snapshot-node-name'];
  return o;
}

function snapshotArgs(g: Generator, p: ProcView): JsonObject {
  const overlays = p.named().filter((n) => p.driver(n) === 'qcow2' && !p.child(n, 'backing'));
  return { node: g.ref(p), overlay: overlays.length && g.rng.chance(0.85) ? g.rng.pick(overlays) : g.ref(p) };
}

export const transaction: Production = (g, p, proc) => {
  const r = g.rng;
  const actions: Json[] = [];
  const n = 1 + r.int(2);
  for (let i = 0; i < n; i++) {
    actions.push(r.chance(0.5)
      ? { type: 'blockdev-snapshot', data: snapshotArgs(g, p) }
      : { type: 'blockdev-snapshot-sync', data: snapshotSyncArgs(g, p) });
  }
  if (r.chance(0.15)) actions.splice(r.int(actions.length + 1), 0, { type: 'abort', data: {} });
  return cmd(proc, 'transaction', { actions });
};

export const snapshotSync: Production = (g, p, proc) => cmd(proc, 'blockdev-snapshot-sync', snapshotSyncArgs(g, p));

export const SNAPSHOTS: [Production, number][] = [[transaction, 3], [snapshotSync, 2]];
