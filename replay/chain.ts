// `blockgraph show --chain NODE` / `--node NODE`: one node, or a node and everything below it
// along its backing chain, described as `qemu-img info --backing-chain` describes images
// (format, file, size, backing link) plus what only a running daemon knows: read-only,
// frozen links, jobs, AioContext, parents. Pure over a State.
//
// The chain follows bdrv_filter_or_cow_child() (include/block/block_int-io.h over
// bdrv_cow_child/bdrv_filter_child in block.c): a node's next element is its COW child
// (`backing` of a format) or, for a filter (throttle, copy-on-read, commit_top…), its
// filtered child, which is what QEMU walks in bdrv_backing_chain_next and the freeze checks.
// Edge roles carry exactly those bits (BDRV_CHILD_COW, BDRV_CHILD_FILTERED).
import { BlockgraphError } from '../errors/index.js';
import { Draft } from '../graph/draft.js';
import { permLetters, ROLE_COW, ROLE_FILTERED } from '../graph/perm.js';
import { Proc } from '../graph/proc.js';
import { HOST, type BdsNode, type Edge, type Image, type Job, type State } from '../graph/types.js';
import { edgeLabel } from './audit.js';
import { namerOfState } from './names.js';

export interface NodeView {
  proc: string;
  name: string;
  format: string;                    // the driver
  implicit: boolean;                 // opened by QEMU (no monitor reference)
  file?: { edge: string; node: string; driver: string; filename: string; frozen: boolean };
  filename: string;                  // what query-named-block-nodes reports as `file`
  image?: Image;                     // the host catalogue's entry for the file, when known
  virtualSize: number;
  readOnly: boolean;
  aio: string;
  parents: { label: string; perm: string; shared: string; frozen: boolean }[];
  children: { label: string; perm: string; shared: string; frozen: boolean }[];
  jobs: { id: string; type: string; status: string; role: string }[];
  exports: { id: string; writable: boolean }[];
  next?: { edge: string; node: string; frozen: boolean; kind: 'backing' | 'filtered' };
}

const edgeView = (scope: string, st: State) => (e: Edge) => ({
  label: edgeLabel(e, scope, namerOfState(st)), perm: permLetters(e.perm), shared: permLetters(e.shared), frozen: e.frozen,
});

/** Drivers with `.is_filter = true` in QEMU 7.2's block/*.c (format_name of each). */
export const FILTER_DRIVERS = new Set(['blkdebug', 'blklogwrites', 'blkreplay', 'blkverify', 'commit_top', 'copy-before-write',
  'copy-on-read', 'compress', 'mirror_top', 'preallocate', 'replication', 'throttle']);

/**
 * The child bdrv_filter_or_cow_child returns: bdrv_cow_child (the COW child of a format) or
 * else bdrv_filter_child, which is the filtered child only when the driver is_filter (so a raw
 * node over its file ends the chain, as `qemu-img info --backing-chain` ends it).
 */
export function chainChild(p: Proc, node: string): Edge | undefined {
  const kids = p.childrenOf(node);
  const cow = kids.find((e) => e.role & ROLE_COW);
  if (cow) return cow;
  return FILTER_DRIVERS.has(p.node(node)?.driver ?? '') ? kids.find((e) => e.role & ROLE_FILTERED) : undefined;
}

/** How a job holds a node: by its own child links (QEMU's names: "main node", "active node"…) or through its BlockBackend. */
function jobRole(j: Job, node: string, p: Proc, st: State): string {
  const links = p.parents(node).filter((e) => e.parent.kind === 'job' && e.parent.job === j.id).map((e) => `'${e.name}' link`);
  const blks = p.parents(node).filter((e) => e.parent.kind === 'bb' && p.bb(e.parent.bb)?.owner.kind === 'job' && p.bb(e.parent.bb)?.owner.id === j.id)
    .map((e) => `root of ${namerOfState(st)(p.name, (e.parent as { bb: string }).bb)}`);
  return [...links, ...blks].join(', ');
}

export function nodeView(state: State, proc: string, name: string): NodeView {
  const d = new Draft(state);
  if (!d.scopes().includes(proc) || proc === HOST) throw new BlockgraphError('BG_NOT_FOUND', `no process ${proc}`);
  const p = new Proc(d, proc);
  const n: BdsNode | undefined = p.node(name);
  if (!n) throw new BlockgraphError('BG_NOT_FOUND', `no node '${name}' in process ${proc} (nodes: ${p.nodes().map((x) => x.name).join(', ') || 'none'})`);
  const view = edgeView(proc, state);
  const f = p.fileChild(name);
  const fnode = f ? p.node(f.child) : undefined;
  const next = chainChild(p, name);
  const jobs = p.jobs().map((j) => ({ id: j.id, type: j.type, status: j.status, role: jobRole(j, name, p, state) })).filter((j) => j.role);
  return {
    proc, name, format: n.driver, implicit: !n.monitor,
    file: f && fnode ? { edge: f.name, node: fnode.name, driver: fnode.driver, filename: fnode.filename, frozen: f.frozen } : undefined,
    filename: n.filename,
    image: n.filename ? p.image(n.filename) : undefined,
    virtualSize: n.size, readOnly: n.ro, aio: n.aio,
    parents: p.parents(name).map(view),
    children: p.childrenOf(name).map(view),
    jobs,
    exports: p.exports().filter((x) => x.node === name).map((x) => ({ id: x.id, writable: x.writable })),
    next: next && { edge: next.name, node: next.child, frozen: next.frozen, kind: next.role & ROLE_COW ? 'backing' : 'filtered' },
  };
}

/** NODE and each node below it along bdrv_filter_or_cow_child, top first (cycles cannot occur; guarded anyway). */
export function backingChain(state: State, proc: string, name: string): NodeView[] {
  const out: NodeView[] = [];
  const seen = new Set<string>();
  let cur: string | undefined = name;
  while (cur && !seen.has(cur)) {
    seen.add(cur);
    const v = nodeView(state, proc, cur);
    out.push(v);
    cur = v.next?.node;
  }
  return out;
}
