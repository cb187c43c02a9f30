// Process B opening the images process A has open (image locking across processes): the same
// file, read-only or not, with force-share or locking off, and B's reopen to read-write.
import type { JsonObject } from '../../format.js';
import { QCOW2, cmd, type Production } from '../production.js';

export const sameImageAsA: Production = (g, p, proc) => {
  const r = g.rng;
  const a = g.world.proc('A');
  const files = [...new Set(a.graph.nodes.map((n) => n.file).filter((f): f is string => typeof f === 'string' && QCOW2.includes(f)))];
  const file = files.length ? r.pick(files) : r.pick(QCOW2);
  const k = r.next();
  let o: JsonObject;
  if (k < 0.5) o = { driver: 'qcow2', 'node-name': g.fresh('n', p), file: { driver: 'file', filename: file } };
  else o = { driver: 'file', 'node-name': g.fresh('f', p), filename: file };
  if (r.chance(0.6)) o['read-only'] = true;
  if (r.chance(0.2)) { o['read-only'] = true; o['force-share'] = true; }
  if (o.driver === 'qcow2' && r.chance(0.5)) o.backing = null;
  if (o.driver === 'file' && r.chance(0.15)) o.locking = 'off';
  return cmd(proc, 'blockdev-add', o);
};

export const SECOND_PROCESS: [Production, number][] = [[sameImageAsA, 4]];
