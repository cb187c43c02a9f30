// Iothreads: nodes (often the top of a chain, so the whole component follows) moved with
// x-blockdev-set-iothread, with and without force, back to the main loop, and an iothread
// deleted while in use. Known 7.2 aborts in iothreads stay avoided (aborts.ts).
import { cmd, type Production } from '../production.js';

export const moveChain: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.iothreads.size || r.chance(0.1)) return cmd(proc, 'object-add', { 'qom-type': 'iothread', id: r.pick(['io0', 'io1']) });
  const roots = p.named().filter((n) => !p.graph.edges.some((e) => e.child === n));
  const node = roots.length && r.chance(0.7) ? r.pick(roots) : g.ref(p);
  const k = r.next();
  if (k < 0.15) return cmd(proc, 'object-del', { id: r.pick([...p.iothreads]) });
  const o = { 'node-name': node, iothread: k < 0.8 ? r.pick([...p.iothreads]) : null } as Record<string, string | boolean | null>;
  if (r.chance(0.4)) o.force = true;
  return cmd(proc, 'x-blockdev-set-iothread', o);
};

export const IOTHREADS: [Production, number][] = [[moveChain, 3]];
