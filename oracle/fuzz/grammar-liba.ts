// Fuzz productions for issue 18 part A: dirty bitmaps (commands and transaction actions, names
// taken from the bitmaps the graph shows so sequences build on each other), exports with bitmaps,
// blockdev-create (file and qcow2, then job-dismiss), block-set-write-threshold and aio=native.
// Weighted into the main grammar by oracle/fuzz/grammar.ts.
import type { JsonObject, Step } from '../format.js';
import type { ProcView } from './world.js';
import type { Rng } from './rng.js';

/** What these productions need of the main grammar's Generator. */
export interface GrammarHost {
  readonly rng: Rng;
  fresh(prefix: string, p: ProcView): string;
  ref(p: ProcView, pred?: (n: string) => boolean): string;
}
export type LibaProduction = (g: GrammarHost, p: ProcView, proc: string) => Step | undefined;

const NAMES = ['b0', 'b1', 'chk0', 'chk1', ''];
const cmd = (proc: string, execute: string, args: JsonObject): Step => (proc === 'A' ? { execute, arguments: args } : { proc, execute, arguments: args });

/** Bitmaps the graph shows: [node, name]. */
function bitmaps(p: ProcView): [string, string][] {
  const out: [string, string][] = [];
  for (const n of p.graph.nodes) for (const b of n.bitmaps ?? []) out.push([n.name, b.split(' ')[0]!]);
  return out;
}

/**
 * Named bitmaps only: a job's dirty bitmap shows as "(anonymous)", a name no command can give
 * (bdrv_find_dirty_bitmap compares names; block_dirty_bitmap_lookup: "Dirty bitmap '(anonymous)'
 * not found"). Stop 40 (wt-fz20): over run a's 20,015 commands every remove, clear, enable,
 * disable and merge failed (0 of ~300), most on such a name, the rest before any add had
 * succeeded; only 38 adds succeeded.
 */
function named(p: ProcView): [string, string][] {
  return bitmaps(p).filter(([, name]) => name !== '(anonymous)');
}

/** A bitmap to act on: mostly one that exists, sometimes a fresh or missing name. */
function target(g: GrammarHost, p: ProcView): { node: string; name: string } {
  const have = g.rng.chance(0.9) ? named(p) : bitmaps(p);
  if (have.length && g.rng.chance(0.75)) {
    const [node, name] = g.rng.pick(have);
    return { node, name };
  }
  return { node: g.ref(p), name: g.rng.pick(NAMES.slice(0, 4)) };
}

function addArgs(g: GrammarHost, p: ProcView): JsonObject {
  const r = g.rng;
  const o: JsonObject = { node: g.ref(p, (n) => p.driver(n) !== undefined), name: r.pick(NAMES) };
  if (r.chance(0.4)) o.persistent = true;
  if (r.chance(0.3)) o.disabled = true;
  if (r.chance(0.2)) o.granularity = r.pick([512, 4096, 65536, 100, 256, 2147483648]);
  return o;
}

function mergeArgs(g: GrammarHost, p: ProcView): JsonObject {
  const t = target(g, p);
  const srcs = bitmaps(p);
  const n = 1 + g.rng.int(2);
  const list = [];
  for (let i = 0; i < n; i++) {
    if (srcs.length && g.rng.chance(0.5)) {
      const [node, name] = g.rng.pick(srcs);
      list.push(node === t.node && g.rng.chance(0.6) ? name : { node, name });
    } else list.push(g.rng.pick(NAMES.slice(0, 4)));
  }
  return { node: t.node, target: t.name, bitmaps: list };
}

/** One bitmap command, or the same as a transaction action. */
export function bitmapAction(g: GrammarHost, p: ProcView): { type: string; data: JsonObject } {
  const k = g.rng.next();
  if (k < 0.3) return { type: 'block-dirty-bitmap-add', data: addArgs(g, p) };
  if (k < 0.5) return { type: 'block-dirty-bitmap-merge', data: mergeArgs(g, p) };
  const type = g.rng.pick(['block-dirty-bitmap-remove', 'block-dirty-bitmap-clear', 'block-dirty-bitmap-enable', 'block-dirty-bitmap-disable']);
  const t = target(g, p);
  return { type, data: { node: t.node, name: t.name } };
}

export const bitmapCommand: LibaProduction = (g, p, proc) => {
  // with no named bitmap yet, mostly add one on a node that exists (so that the verbs after it
  // find it: the lifecycle add → disable/enable/clear/merge → remove, persistent or not)
  if (!named(p).length && p.named().length && g.rng.chance(0.6)) {
    return cmd(proc, 'block-dirty-bitmap-add', { ...addArgs(g, p), node: g.rng.pick(p.named()), name: g.rng.pick(NAMES.slice(0, 4)) });
  }
  const a = bitmapAction(g, p);
  // QSD 7.2 crashes on merge with an empty list (docs/bitmaps.md): never generated
  if (a.type === 'block-dirty-bitmap-merge' && !(a.data.bitmaps as unknown[]).length) return undefined;
  return cmd(proc, a.type, a.data);
};

export const bitmapTransaction: LibaProduction = (g, p, proc) => {
  const r = g.rng;
  const actions: JsonObject[] = [];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) actions.push(bitmapAction(g, p) as unknown as JsonObject);
  // libvirt's checkpoint across a snapshot: a snapshot in the same transaction
  if (r.chance(0.2)) {
    const overlays = p.named().filter((x) => p.driver(x) === 'qcow2' && !p.child(x, 'backing'));
    if (overlays.length) actions.unshift({ type: 'blockdev-snapshot', data: { node: g.ref(p), overlay: r.pick(overlays) } });
  }
  if (r.chance(0.1)) actions.push({ type: 'abort', data: {} });
  // an enable action that fails before its lookup crashes QSD 7.2 in its abort (docs/bitmaps.md)
  const risky = actions.some((a) => a.type === 'block-dirty-bitmap-enable');
  const o: JsonObject = { actions };
  if (!risky && r.chance(0.05)) o.properties = { 'completion-mode': 'grouped' };
  if (risky && !actions.every((a) => a.type !== 'block-dirty-bitmap-enable' || bitmaps(p).some(([nn, nm]) => nn === (a.data as JsonObject).node && nm === (a.data as JsonObject).name))) return undefined;
  return cmd(proc, 'transaction', o);
};

export const exportWithBitmaps: LibaProduction = (g, p, proc) => {
  if (!p.nbd) return undefined;
  const r = g.rng;
  const have = bitmaps(p);
  const list = [];
  for (let i = 0; i < 1 + r.int(2); i++) {
    if (have.length && r.chance(0.7)) {
      const [node, name] = r.pick(have);
      list.push(r.chance(0.5) ? name : { node, name });
    } else list.push(r.pick(['missing', 'b0']));
  }
  const o: JsonObject = { type: 'nbd', id: g.fresh('e', p), 'node-name': g.ref(p), bitmaps: list };
  if (r.chance(0.4)) o.writable = true;
  return cmd(proc, 'block-export-add', o);
};

const CREATE_FILES = ['new1.qcow2', 'new2.qcow2', 'r.raw'];

export const create: LibaProduction = (g, p, proc) => {
  const r = g.rng;
  const id = r.chance(0.05) ? '2-create' : g.fresh('c', p);
  if (r.chance(0.4)) {
    const o: JsonObject = { driver: 'file', filename: r.pick(CREATE_FILES), size: r.pick([0, 1048576]) };
    return cmd(proc, 'blockdev-create', { 'job-id': id, options: o });
  }
  const files = p.named().filter((n) => p.driver(n) === 'file');
  const o: JsonObject = { driver: 'qcow2', file: files.length && r.chance(0.85) ? r.pick(files) : 'nosuch', size: r.pick([1048576, 16777216, 1000]) };
  if (r.chance(0.2)) o['cluster-size'] = r.pick([65536, 4096, 1000]);
  if (r.chance(0.2)) o['backing-file'] = 'base.qcow2';
  if (r.chance(0.1)) o['backing-fmt'] = 'qcow2';
  return cmd(proc, 'blockdev-create', { 'job-id': id, options: o });
};

export const dismissCreate: LibaProduction = (g, p, proc) => {
  const done = [...p.jobs.values()].filter((j) => j.status === 'concluded');
  if (!done.length) return undefined;
  return cmd(proc, 'job-dismiss', { id: g.rng.pick(done).id });
};

export const writeThreshold: LibaProduction = (g, p, proc) =>
  cmd(proc, 'block-set-write-threshold', { 'node-name': g.ref(p), 'write-threshold': g.rng.pick([0, 1048576, 16777216]) });

export const fileAio: LibaProduction = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { driver: 'file', 'node-name': g.fresh('f', p), filename: r.pick(['r.raw', 'a.qcow2']), aio: r.pick(['native', 'threads', 'io_uring']) };
  if (r.chance(0.5)) o.cache = { direct: r.chance(0.5) };
  if (r.chance(0.5)) o['read-only'] = true;
  return cmd(proc, 'blockdev-add', o);
};

/** Weights within process A's grammar. */
export const LIBA_PRODUCTIONS: [LibaProduction, number][] = [
  [bitmapCommand, 5], [bitmapTransaction, 3], [exportWithBitmaps, 1], [create, 2], [dismissCreate, 1], [writeThreshold, 1], [fileAio, 1],
];
