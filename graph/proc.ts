// Typed access to one QEMU process's graph through a Draft. QEMU keeps parents and
// children as lists with the newest first; we derive that order from `at`.
import { Draft, parentKey } from './draft.js';
import type { BdsNode, BlockBackend, BlockExport, Edge, Image, Job, ParentRef, ProcMeta, QomObject, VmMachineFacts } from './types.js';
import { HOST } from './types.js';
import { hostResolve } from './host-path.js';

export class Proc {
  constructor(readonly d: Draft, readonly name: string) {}

  // --- reads
  node(name: string): BdsNode | undefined { return this.d.get<BdsNode>(this.name, 'nodes', name); }
  nodes(): BdsNode[] { return this.d.values<BdsNode>(this.name, 'nodes').sort((a, b) => a.order - b.order); }
  edge(id: string): Edge | undefined { return this.d.get<Edge>(this.name, 'edges', id); }
  edges(): Edge[] { return this.d.values<Edge>(this.name, 'edges').sort((a, b) => a.at - b.at); }
  bb(id: string): BlockBackend | undefined { return this.d.get<BlockBackend>(this.name, 'bbs', id); }
  bbs(): BlockBackend[] { return this.d.values<BlockBackend>(this.name, 'bbs').sort((a, b) => a.at - b.at); }
  job(id: string): Job | undefined { return this.d.get<Job>(this.name, 'jobs', id); }
  jobs(): Job[] { return this.d.values<Job>(this.name, 'jobs').sort((a, b) => a.at - b.at); }
  object(id: string): QomObject | undefined { return this.d.get<QomObject>(this.name, 'objects', id); }
  objects(): QomObject[] { return this.d.values<QomObject>(this.name, 'objects').sort((a, b) => (a.id < b.id ? -1 : 1)); }
  export(id: string): BlockExport | undefined { return this.d.get<BlockExport>(this.name, 'exports', id); }
  exports(): BlockExport[] { return this.d.values<BlockExport>(this.name, 'exports').sort((a, b) => (a.id < b.id ? -1 : 1)); }
  image(file: string): Image | undefined {
    const img = this.d.get<Image>(HOST, 'images', file);
    if (img || !file.includes('/')) return img;
    // a relative path with directories: resolved on the host as open(2) would (graph/host-path.ts)
    const key = hostResolve(this, file);
    return key === undefined ? undefined : this.d.get<Image>(HOST, 'images', key);
  }
  meta(): ProcMeta {
    return this.d.get<ProcMeta>(this.name, 'meta', 'proc') ?? { autoName: 0, seq: 0, nbd: null };
  }
  setMeta(p: Partial<ProcMeta>): void { this.d.put(this.name, 'meta', 'proc', { ...this.meta(), ...p }); }
  /** vm target: the machine's recorded facts (x-blockgraph-machine-facts), apart from the meta nextSeq rewrites. */
  machineFacts(): VmMachineFacts | undefined { return this.d.get<VmMachineFacts>(this.name, 'meta', 'machine-facts'); }
  setMachineFacts(f: VmMachineFacts): void { this.d.put(this.name, 'meta', 'machine-facts', f); }

  /** Parent edges of a node, newest first (bs->parents). */
  parents(node: string): Edge[] { return this.d.edgesTo(this.name, node).sort((a, b) => b.at - a.at); }
  /** Child edges of a parent, newest first (bs->children). */
  children(parent: ParentRef): Edge[] { return this.d.edgesFrom(this.name, parentKey(parent)).sort((a, b) => b.at - a.at); }
  childrenOf(node: string): Edge[] { return this.children({ kind: 'node', node }); }
  child(node: string, edgeName: string): Edge | undefined { return this.childrenOf(node).find((e) => e.name === edgeName); }
  /** bs->file: the primary data child (file or image), as bdrv_filter_or_cow_child sees it. */
  fileChild(node: string): Edge | undefined {
    return this.childrenOf(node).find((e) => e.name === 'file' || e.name === 'image');
  }
  backing(node: string): Edge | undefined { return this.child(node, 'backing'); }

  // --- writes
  nextSeq(): number {
    const m = this.meta();
    this.setMeta({ seq: m.seq + 1 });
    return m.seq + 1;
  }
  putNode(n: BdsNode): void { this.d.put(this.name, 'nodes', n.name, n); }
  patchNode(name: string, p: Partial<BdsNode>): BdsNode { return this.d.patch<BdsNode>(this.name, 'nodes', name, p); }
  delNode(name: string): void { this.d.del(this.name, 'nodes', name); }
  putEdge(e: Edge): void { this.d.put(this.name, 'edges', e.id, e); }
  patchEdge(id: string, p: Partial<Edge>): Edge { return this.d.patch<Edge>(this.name, 'edges', id, p); }
  delEdge(id: string): void { this.d.del(this.name, 'edges', id); }
  putBB(b: BlockBackend): void { this.d.put(this.name, 'bbs', b.id, b); }
  delBB(id: string): void { this.d.del(this.name, 'bbs', id); }
  putJob(j: Job): void { this.d.put(this.name, 'jobs', j.id, j); }
  patchJob(id: string, p: Partial<Job>): Job { return this.d.patch<Job>(this.name, 'jobs', id, p); }
  delJob(id: string): void { this.d.del(this.name, 'jobs', id); }
  putObject(o: QomObject): void { this.d.put(this.name, 'objects', o.id, o); }
  delObject(id: string): void { this.d.del(this.name, 'objects', id); }
  putExport(x: BlockExport): void { this.d.put(this.name, 'exports', x.id, x); }
  delExport(id: string): void { this.d.del(this.name, 'exports', id); }
  step(name: string): void { this.d.step(name); }

  /** Every other process sharing this host (for file locks). */
  others(): Proc[] {
    return this.d.scopes().filter((s) => s !== this.name && s !== HOST).map((s) => new Proc(this.d, s));
  }
}
