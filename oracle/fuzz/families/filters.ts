// Filters put in and taken out of a live graph (iotests 245/258 style): a throttle, copy-on-read
// or blkdebug node added over a node by reference, then a parent reopened onto it; a named filter
// skipped over by its parent's reopen and deleted; throttle-group objects with limits, including
// invalid ones and deleting a group in use.
import type { JsonObject } from '../../format.js';
import type { Generator } from '../grammar.js';
import { clone, cmd, isObj, type Production } from '../production.js';
import type { ProcView } from '../world.js';

const plain = (n: string) => !/[.#]/.test(n);

/** A named parent, the edge and the child below it. */
function pickLink(g: Generator, p: ProcView, edges: readonly string[]): { parent: string; edge: string; child: string } | undefined {
  const links = p.graph.edges.filter((e) => plain(e.parent) && plain(e.child) && edges.includes(e.name) && p.driver(e.parent) !== undefined);
  if (!links.length) return undefined;
  const e = g.rng.pick(links);
  return { parent: e.parent, edge: e.name, child: e.child };
}

function parentOptions(p: ProcView, node: string): JsonObject {
  const o = p.options.get(node);
  const out: JsonObject = o ? clone(o) : { driver: p.driver(node) ?? 'qcow2', 'node-name': node };
  for (const edge of ['file', 'backing', 'image']) {
    const cur = p.child(node, edge);
    if (isObj(out[edge]) && cur && plain(cur)) out[edge] = cur;
  }
  return out;
}

/** Adds a filter over a linked child; the parent's reopen onto it follows as a queued step. */
export const insertFilter: Production = (g, p, proc) => {
  const link = pickLink(g, p, ['file', 'backing']);
  if (!link) return undefined;
  const name = g.fresh('x', p);
  const kind = g.rng.pick(['throttle', 'copy-on-read', 'blkdebug']);
  let o: JsonObject;
  if (kind === 'throttle') {
    if (!p.throttleGroups.size) return cmd(proc, 'object-add', { 'qom-type': 'throttle-group', id: 'tg0', limits: {} });
    o = { driver: 'throttle', 'node-name': name, 'throttle-group': g.rng.pick([...p.throttleGroups]), file: link.child };
  } else if (kind === 'blkdebug') o = { driver: 'blkdebug', 'node-name': name, image: link.child };
  else o = { driver: 'copy-on-read', 'node-name': name, file: link.child };
  const re = parentOptions(p, link.parent);
  re[link.edge] = name;
  g.queue.push(cmd(proc, 'blockdev-reopen', { options: [re] }));
  return cmd(proc, 'blockdev-add', o);
};

/** A named filter's parent reopened onto the filter's child, then the filter deleted. */
export const removeFilter: Production = (g, p, proc) => {
  const filters = p.graph.edges.filter((e) => plain(e.parent) && plain(e.child)
    && ['throttle', 'copy-on-read', 'blkdebug'].includes(p.driver(e.child) ?? ''));
  if (!filters.length) return undefined;
  const e = g.rng.pick(filters);
  const below = p.child(e.child, p.driver(e.child) === 'blkdebug' ? 'image' : 'file');
  if (!below || !plain(below)) return undefined;
  const re = parentOptions(p, e.parent);
  re[e.name] = below;
  g.queue.push(cmd(proc, 'blockdev-del', { 'node-name': e.child }));
  return cmd(proc, 'blockdev-reopen', { options: [re] });
};

/** throttle-group objects: limits valid and not (throttle_is_valid), and object-del of a group in use. */
export const throttleGroups: Production = (g, p, proc) => {
  const r = g.rng;
  if (p.throttleGroups.size && r.chance(0.25)) return cmd(proc, 'object-del', { id: r.pick([...p.throttleGroups]) });
  const limits = r.pick<JsonObject>([
    {}, { 'bps-total': 1048576 }, { 'iops-total': 100, 'iops-total-max': 200 }, { 'bps-read': 4096, 'bps-write': 8192 },
    { 'bps-total': 1048576, 'bps-read': 4096 }, { 'iops-total': 100, 'iops-total-max': 50 }, { 'bps-total-max': 1048576 },
    { 'iops-size': 4096, 'iops-total': 10 },
  ]);
  return cmd(proc, 'object-add', { 'qom-type': 'throttle-group', id: r.pick(['tg0', 'tg1', 'tg2']), limits });
};

export const FILTERS: [Production, number][] = [[insertFilter, 4], [removeFilter, 2], [throttleGroups, 2]];
