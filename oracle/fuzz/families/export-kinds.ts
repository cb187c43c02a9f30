// Stop 42: exports of another kind. Every export the grammar made was NBD (grammar.ts exportsProd,
// families/exports.ts); the model also runs vhost-user-blk exports (commands/exports.ts
// vuBlkExpCreate: vhost_user_blk_exp_create's checks on num-queues and logical-block-size, the
// socket it listens on, writable, an iothread). Drawn over the graph like an NBD export, then
// removed by block-export-del like any other. (FUSE exports are not drawn: a QEMU that dies with
// one mounted leaves the mount over the case directory, which nothing can then remove.)
import type { JsonObject } from '../../format.js';
import { cmd, type Production } from '../production.js';

export const vhostUserBlkExport: Production = (g, p, proc) => {
  const r = g.rng;
  if (p.exports.size && r.chance(0.25)) {
    const o: JsonObject = { id: r.pick([...p.exports.keys()]) };
    if (r.chance(0.3)) o.mode = 'hard';
    return cmd(proc, 'block-export-del', o);
  }
  const id = g.fresh('e', p);
  const o: JsonObject = { type: 'vhost-user-blk', id, 'node-name': g.ref(p), addr: { type: 'unix', path: `vu-${id}.sock` } };
  if (r.chance(0.5)) o.writable = true;
  // vhost_user_blk_exp_create: logical-block-size between 512 and 2 MiB, a power of two; num-queues > 0
  if (r.chance(0.15)) o['logical-block-size'] = r.pick([512, 4096, 100, 8192, 4194304]);
  if (r.chance(0.1)) o['num-queues'] = r.pick([0, 1, 2]);
  if (p.iothreads.size && r.chance(0.2)) {
    o.iothread = r.pick([...p.iothreads]);
    if (r.chance(0.5)) o['fixed-iothread'] = true;
  }
  return cmd(proc, 'block-export-add', o);
};

export const EXPORT_KINDS: [Production, number][] = [[vhostUserBlkExport, 2]];
