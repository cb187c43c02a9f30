// Work over the links a running job froze (commit/stream/mirror over frozen links): a second job
// over the same chain, a reopen that changes a backing inside it, a snapshot or a delete of a
// node in it, and a job started on the job's own filter node.
import type { JsonObject } from '../../format.js';
import { jobArgs, reopenOptions } from '../grammar.js';
import { QCOW2, cmd, type Production } from '../production.js';

const plain = (n: string) => !/[.#]/.test(n);
const LIVE = ['created', 'running', 'paused', 'ready', 'standby'];

export const overFrozen: Production = (g, p, proc) => {
  const r = g.rng;
  const jobs = [...p.jobs.values()].filter((j) => LIVE.includes(j.status) && p.named().includes(j.device));
  if (!jobs.length) return undefined;
  const job = r.pick(jobs);
  const parentsOf = (n: string) => p.graph.edges.filter((e) => e.child === n && plain(e.parent)).map((e) => e.parent);
  const chain = [job.device, ...p.chainBelow(job.device)].filter(plain);
  // the nodes above the device too (a stream's copy-on-read filter sits above it)
  const above = parentsOf(job.device);
  const pool = [...new Set([...above, ...chain, ...(job.filter && p.named().includes(job.filter) ? [job.filter] : [])])];
  const node = r.pick(pool);
  const below = p.chainBelow(node).filter(plain);
  const k = r.next();
  if (k < 0.25) {
    const o: JsonObject = { 'job-id': g.fresh('j', p), device: node };
    if (below.length && r.chance(0.6)) o['base-node'] = r.pick(below);
    jobArgs(g, o);
    o['auto-dismiss'] = true;
    return cmd(proc, 'block-stream', o);
  }
  if (k < 0.45) {
    const o: JsonObject = { 'job-id': g.fresh('j', p), device: r.pick(pool) };
    if (below.length) o['top-node'] = r.chance(0.5) ? node : r.pick(below);
    jobArgs(g, o);
    o['auto-dismiss'] = false;
    return cmd(proc, 'block-commit', o);
  }
  if (k < 0.55) {
    const o: JsonObject = { 'job-id': g.fresh('j', p), device: node, target: g.ref(p), sync: r.pick(['full', 'top', 'none']) };
    jobArgs(g, o);
    o.speed = 1;
    o['auto-dismiss'] = false;
    return cmd(proc, 'blockdev-mirror', o);
  }
  if (k < 0.8) {
    const o = reopenOptions(g, p, node);
    if (r.chance(0.6)) o.backing = below.length && r.chance(0.7) ? r.pick(below) : null;
    return cmd(proc, 'blockdev-reopen', { options: [o] });
  }
  if (k < 0.9) return cmd(proc, 'blockdev-del', { 'node-name': node });
  const overlays = p.named().filter((n) => p.driver(n) === 'qcow2' && !p.child(n, 'backing'));
  if (overlays.length) return cmd(proc, 'blockdev-snapshot', { node, overlay: r.pick(overlays) });
  return cmd(proc, 'blockdev-snapshot-sync', { 'node-name': node, 'snapshot-file': r.pick(QCOW2.slice(4)), 'snapshot-node-name': g.fresh('n', p), mode: 'existing' });
};

export const FROZEN: [Production, number][] = [[overFrozen, 6]];
