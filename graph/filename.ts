// bdrv_refresh_filename for the drivers whose reported file name depends on the graph:
// a qcow2 node reports its file's name only while its backing is what its header names
// (bdrv_backing_overridden), else a json:{…} pseudo-name, which the oracle records as none
// (stored as ""); implicit job filters copy their child's name; commit_top / mirror_top report
// their backing's name; a named copy-on-read filter has a json:{…} name. The other drivers keep
// the name they got when they were opened.
//
// Incremental: only nodes this command wrote (or whose child links it wrote) are recomputed,
// and a node whose name changed makes its parents recompute — QEMU recomputes on every query,
// which gives the same names as long as every change goes through here.
import { driverInfo } from './drivers.js';
import type { Proc } from './proc.js';
import type { BdsNode, Edge } from './types.js';

const DERIVED = new Set(['qcow2', 'commit_top', 'mirror_top', 'copy-on-read']);

/** The name `node` reports, from its children's current names ("" = a json:{…} name). */
export function filenameOf(p: Proc, node: string): string {
  const n = p.node(node)!;
  const kids = p.childrenOf(node);
  if (n.implicit && kids.length === 1) return p.node(kids[0]!.child)?.filename ?? '';
  if (n.driver === 'commit_top' || n.driver === 'mirror_top') {
    const b = kids.find((e) => e.name === 'backing');
    return b ? p.node(b.child)?.filename ?? '' : '';
  }
  if (n.driver === 'copy-on-read') return '';
  if (n.driver !== 'qcow2') return n.filename;
  const hdr = n.header?.backing ?? '';
  const b = kids.find((e) => e.name === 'backing');
  const bName = b ? p.node(b.child)?.filename ?? '' : null;
  const overridden = bName !== null ? bName === '' || bName !== hdr : hdr !== '';
  if (overridden) return '';
  const f = kids.find((e) => e.name === 'file');
  const fn = f ? p.node(f.child) : undefined;
  return fn && driverInfo(fn.driver)?.kind === 'protocol' ? fn.filename : '';
}

export function refreshFilenames(p: Proc): void {
  const work: string[] = [];
  const add = (n: string | undefined) => { if (n && p.node(n)) work.push(n); };
  const before = (p.d.base[p.name]?.nodes ?? {}) as Record<string, BdsNode>;
  for (const id of p.d.written(p.name, 'nodes')) {
    const n = p.node(id);
    if (n && (DERIVED.has(n.driver) || n.implicit)) add(id);
    // a name already changed by the command itself (e.g. reopen's own refresh) reaches the parents too
    if (n && before[id] && before[id]!.filename !== n.filename) for (const e of p.parents(id)) if (e.parent.kind === 'node') add(e.parent.node);
  }
  const base = (p.d.base[p.name]?.edges ?? {}) as Record<string, Edge>;
  for (const id of p.d.written(p.name, 'edges')) {
    for (const e of [base[id], p.edge(id)]) if (e?.parent.kind === 'node') add(e.parent.node);
  }
  // fixed point over a DAG: a changed name sends its parents back to the list
  for (let i = 0; i < work.length && i < 1_000_000; i++) {
    const node = work[i]!;
    const n = p.node(node);
    if (!n) continue;
    const name = filenameOf(p, node);
    if (name === n.filename) continue;
    p.patchNode(node, { filename: name });
    for (const e of p.parents(node)) if (e.parent.kind === 'node') add(e.parent.node);
  }
}
