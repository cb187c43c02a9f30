// NBD exports three ways: nbd-server-start, the legacy nbd-server-add (read-only nodes exported
// read-only, the id defaulting to the device) and block-export-add in an iothread with or
// without fixed-iothread (which moves the node's whole component there).
import type { JsonObject } from '../../format.js';
import { cmd, type Production } from '../production.js';

export const nbdServerAdd: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.nbd) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } } });
  const o: JsonObject = { device: g.ref(p) };
  if (r.chance(0.5)) o.name = g.fresh('e', p);
  if (r.chance(0.5)) o.writable = r.chance(0.8);
  return cmd(proc, 'nbd-server-add', o);
};

export const exportInIothread: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.iothreads.size) return cmd(proc, 'object-add', { 'qom-type': 'iothread', id: r.pick(['io0', 'io1']) });
  if (!p.nbd) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } } });
  const o: JsonObject = { type: 'nbd', id: g.fresh('e', p), 'node-name': g.ref(p), iothread: r.pick([...p.iothreads]) };
  if (r.chance(0.6)) o['fixed-iothread'] = true;
  if (r.chance(0.4)) o.writable = true;
  return cmd(proc, 'block-export-add', o);
};

export const EXPORTS: [Production, number][] = [[nbdServerAdd, 2], [exportInIothread, 2]];
