// Stop 44: states the model claims and the grammar never drew (read off the grammar against
// graph/discard-stats.ts and commands/blockdev-backup.ts, after the fuzz found two discard counts):
// - a qcow2 node's discard pass-through, `pass-discard-request`, `pass-discard-snapshot`,
//   `pass-discard-other` beside `discard` (qcow2_update_options_prepare's s->discard_passthrough,
//   graph/discard-stats.ts qcow2PassesDiscard): no production gave them, so every qcow2 node passed
//   its defaults. Drawn as a sequence: the node, clusters freed (an internal snapshot deleted, or
//   one a transaction undoes: internal_snapshot_abort; a zero write with unmap through a
//   drive-backup of the sparse raw image, block-copy's COPY_WRITE_ZEROES), then query-blockstats,
//   whose file nodes count what was passed (discard-nb-ok, discard-bytes-ok);
// - blockdev-backup's `discard-source` (QEMU 10.0: BackupCommon.discard-source, bdrv_cbw_append's
//   BDRV_O_CBW_DISCARD_SOURCE; the copy-before-write filter then takes write on its file,
//   graph/drivers.ts), which 7.2 refuses as an unexpected parameter: no production gave it. With
//   backupArgs' other arguments; its wait for a copying job is backupFollowUp's.
import type { JsonObject, Step } from '../../format.js';
import { QCOW2, cmd, type Production } from '../production.js';
import { wait } from './job-states.js';
import { backupArgs, backupGuards } from '../grammar-backup.js';

export const discardingQcow2: Production = (g, p, proc) => {
  const r = g.rng;
  if (g.inSeq()) return undefined;
  const node = g.fresh('n', p);
  const o: JsonObject = { driver: 'qcow2', 'node-name': node, file: { driver: 'file', 'node-name': g.fresh('f', p), filename: r.pick(QCOW2) } };
  if (r.chance(0.6)) o.discard = r.pick(['unmap', 'ignore', 'unmap']);
  for (const k of ['pass-discard-request', 'pass-discard-snapshot', 'pass-discard-other']) if (r.chance(0.5)) o[k] = r.chance(0.5);
  if (r.chance(0.3)) o.backing = null;
  const steps: Step[] = [cmd(proc, 'blockdev-add', o)];
  const k = r.next();
  const name = r.pick(['s0', 's1']);
  if (k < 0.4) {
    steps.push(cmd(proc, 'blockdev-snapshot-internal-sync', { device: node, name }));
    if (r.chance(0.5)) steps.push(cmd(proc, 'query-blockstats', { 'query-nodes': true }));
    steps.push(cmd(proc, 'blockdev-snapshot-delete-internal-sync', { device: node, name }));
  } else if (k < 0.75) {
    const second: JsonObject = r.chance(0.5) ? { type: 'abort', data: {} } : { type: 'blockdev-snapshot-internal-sync', data: { device: 'nosuch', name } };
    steps.push(cmd(proc, 'transaction', { actions: [{ type: 'blockdev-snapshot-internal-sync', data: { device: node, name } }, second] }));
  } else {
    // the sparse raw source's zeroes written with unmap into the node's image (drive_backup_prepare
    // opens its target with discard=unmap, detect-zeroes=unmap)
    const src = g.fresh('n', p);
    const job = g.fresh('d', p);
    steps.push(cmd(proc, 'blockdev-add', { driver: 'raw', 'node-name': src, file: { driver: 'file', filename: 'r.raw' } }));
    steps.push(cmd(proc, 'blockdev-backup', { 'job-id': job, device: src, target: node, sync: 'full', 'auto-finalize': true, 'auto-dismiss': false }));
    steps.push(wait(proc, job, 'concluded'), cmd(proc, 'job-dismiss', { id: job }));
  }
  steps.push(cmd(proc, 'query-blockstats', { 'query-nodes': true }));
  return g.seq(steps);
};

export const backupDiscardSource: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { ...backupArgs(g, p), 'discard-source': r.chance(0.85) };
  // mostly two different nodes of the graph (backupArgs' refs often name one twice or none)
  const named = p.named();
  if (named.length >= 2 && r.chance(0.7)) {
    o.device = r.pick(named);
    o.target = r.pick(named.filter((n) => n !== o.device));
    delete o.bitmap;
    delete o['bitmap-mode'];
    delete o.compress;
  }
  // backupArgs' guards, again for the nodes picked here; the wait for a copying job is backupFollowUp's
  return cmd(proc, 'blockdev-backup', backupGuards(p, o));
};

export const GAPS_44: [Production, number][] = [[discardingQcow2, 2], [backupDiscardSource, 1]];
