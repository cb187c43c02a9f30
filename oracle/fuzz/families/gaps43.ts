// Stop 43: forms the grammar still never drew (read off the grammar against commands/ and
// commands/vm/; every other command the model claims was named by some production):
// - x-blockdev-amend (block/amend.c qmp_x_blockdev_amend; commands/x-blockdev-amend.ts), left out
//   at stop 34 as not modelled and modelled since (stop 39's combo-c10/c11 sets): over any node,
//   mostly a qcow2 one, with the node's own driver or another (qmp_x_blockdev_amend's "Driver
//   of node does not match" check), a LUKS `encrypt` on an unencrypted qcow2 (qcow2_co_amend's
//   "image is not encrypted, can't amend"), `force`; its job (JOB_MANUAL_DISMISS) concludes and is
//   dismissed by job-dismiss under the same two ids;
// - block_resize of a node a job holds (its device, its target, its filter): the job's
//   permissions (BLK_PERM_RESIZE unshared by block_job_create's blocker, a mirror target's
//   BlockBackend) against bdrv_co_truncate's, where grammar.ts resize drew any node;
// - blockdev-reopen of a filter node changing its `file` (blkdebug its `image`) to another node
//   (bdrv_reopen_parse_file_or_backing: a filter's filtered child may change), where
//   reopen-lists.ts changed only `backing`.
import type { JsonObject, Step } from '../../format.js';
import { clone, cmd, isObj, type Production } from '../production.js';

const plain = (n: string) => !/[.#]/.test(n);
const AMEND_IDS = ['am0', 'am1'];

export const amend: Production = (g, p, proc) => {
  const r = g.rng;
  if (p.amendJobs.size && r.chance(0.5)) return cmd(proc, 'job-dismiss', { id: r.pick([...p.amendJobs]) });
  if (r.chance(0.05)) return cmd(proc, 'job-dismiss', { id: r.pick(AMEND_IDS) });
  const qcow2 = p.named().filter((n) => p.driver(n) === 'qcow2');
  const node = qcow2.length && r.chance(0.75) ? r.pick(qcow2) : g.ref(p);
  const own = p.driver(node) ?? 'qcow2';
  const options: JsonObject = { driver: r.chance(0.8) ? own : r.pick(['qcow2', 'luks', 'raw']) };
  if (options.driver === 'qcow2' && r.chance(0.3)) {
    options.encrypt = r.pick<JsonObject>([
      { format: 'luks', state: 'active', 'new-secret': 'sec0' },
      { format: 'luks', state: 'inactive', 'old-secret': 'sec0' },
      { format: 'luks', state: 'active', 'new-secret': 'sec0', keyslot: 9 },
    ]);
  }
  const id = r.pick(AMEND_IDS);
  const o: JsonObject = { 'job-id': id, 'node-name': node, options };
  if (r.chance(0.2)) o.force = r.chance(0.7);
  if (g.inSeq() || r.chance(0.4)) return cmd(proc, 'x-blockdev-amend', o);
  // the job to its end (concluded: it waits for a dismiss), a query of it there, its dismiss
  const wait: Step = proc === 'A' ? { wait: { job: id, status: 'concluded' } } : { proc, wait: { job: id, status: 'concluded' } };
  return g.seq([cmd(proc, 'x-blockdev-amend', o), wait, cmd(proc, r.pick(['query-jobs', 'query-block-jobs']), {}), cmd(proc, 'job-dismiss', { id })]);
};

export const resizeUnderJob: Production = (g, p, proc) => {
  const r = g.rng;
  const held: string[] = [];
  for (const j of p.jobs.values()) {
    held.push(j.device);
    if (j.filter) held.push(j.filter);
  }
  const named = held.filter((n) => p.named().includes(n));
  if (!named.length) return undefined;
  return cmd(proc, 'block_resize', { 'node-name': r.pick(named), size: r.pick([16777216, 33554432, 1048576]) });
};

/** The filters whose filtered child is `file` (blkdebug's is `image`). */
const FILTERS: Record<string, string> = { throttle: 'file', 'copy-on-read': 'file', compress: 'file', preallocate: 'file', blklogwrites: 'file', blkdebug: 'image' };

export const reopenFilterFile: Production = (g, p, proc) => {
  const r = g.rng;
  const filters = p.named().filter((n) => FILTERS[p.driver(n) ?? ''] !== undefined && p.options.has(n));
  if (!filters.some((n) => p.driver(n) === 'throttle' || p.driver(n) === 'preallocate') && r.chance(0.6)) {
    // first a filter that can take the reopen, over a node of the graph
    if (p.throttleGroups.size && r.chance(0.5)) return cmd(proc, 'blockdev-add', { driver: 'throttle', 'node-name': g.fresh('x', p), 'throttle-group': r.pick([...p.throttleGroups]), file: g.ref(p) });
    return cmd(proc, 'blockdev-add', { driver: 'preallocate', 'node-name': g.fresh('x', p), file: g.ref(p) });
  }
  if (!filters.length) return undefined;
  // throttle and preallocate have a .bdrv_reopen_prepare (the others are refused: "does not
  // support reopening files"; blkdebug: "Cannot change the option 'image'"): mostly them
  const reopenable = filters.filter((n) => p.driver(n) === 'throttle' || p.driver(n) === 'preallocate');
  const node = r.pick(reopenable.length && r.chance(0.8) ? reopenable : filters);
  const edge = FILTERS[p.driver(node)!]!;
  const o = clone(p.options.get(node)!);
  // the node's other inline children by the names they got, else the reopen would open them anew
  for (const e of ['file', 'image', 'log', 'backing']) {
    const cur = p.child(node, e);
    if (isObj(o[e]) && cur && plain(cur)) o[e] = cur;
  }
  const others = p.named().filter((n) => n !== node);
  o[edge] = others.length && r.chance(0.85) ? r.pick(others) : (p.child(node, edge) ?? 'nosuch');
  return cmd(proc, 'blockdev-reopen', { options: [o] });
};

export const GAPS_43: [Production, number][] = [[amend, 2], [resizeUnderJob, 1], [reopenFilterFile, 3]];
