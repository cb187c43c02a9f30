// What the generator knows about the daemon it is driving: the normalized graph QEMU reported
// after the last step of each process, plus what only the commands sent tell (the options each
// named node was opened or reopened with, jobs and their kinds, exports, iothreads, throttle
// groups). The graph is authoritative: a tracked node missing from it is forgotten.
import { isWaitStep, type Json, type JsonObject, type NormGraph, type Step, type TranscriptStep } from '../format.js';
import { hmpEquivalent, hmpSucceeded } from './hmp-equivalent.js';

/** Past this size a copy's bytes are not what a fuzz case should write (ProcView.mayBeHuge). */
const HUGE = 1 << 30;

export type JobKind = 'stream' | 'commit' | 'commit-active' | 'mirror' | 'backup';
export interface TrackedJob {
  id: string; kind: JobKind; status: string; device: string; filter?: string;
  /** backup: its sync mode, and whether a speed limit holds its copy back (start or block-job-set-speed) */
  sync?: string; limited?: boolean;
  /** carried into an iothread by x-blockdev-set-iothread after it started (oracle/fuzz/aborts.ts, fuzz 1361365498) */
  movedIn?: boolean;
}
export interface TrackedExport { id: string; node: string; iothread?: string; fixed?: boolean }

export class ProcView {
  graph: NormGraph = { nodes: [], parents: [], edges: [] };
  /** Options of named nodes as last given to blockdev-add / blockdev-reopen. */
  readonly options = new Map<string, JsonObject>();
  readonly jobs = new Map<string, TrackedJob>();
  /** x-blockdev-amend jobs started and not yet dismissed (JOB_MANUAL_DISMISS; families/gaps43.ts) */
  readonly amendJobs = new Set<string>();
  readonly exports = new Map<string, TrackedExport>();
  readonly iothreads = new Set<string>();
  readonly throttleGroups = new Set<string>();
  /** Throttle groups created with at least one limit set (their I/O can wait). */
  readonly limitedThrottleGroups = new Set<string>();
  /** Nodes whose size block_resize changed. */
  readonly resized = new Set<string>();
  /**
   * Overlays an external snapshot put under the snapshotted node's parents: a raw node above now
   * reads a node other than the one it measured at open (fuzz --qemu 10.0 3430820474).
   */
  readonly appended = new Set<string>();
  /**
   * qcow2 nodes whose `file` a blockdev-reopen moved onto bytes other than the image they were
   * opened on (a null node, a format node, another image's file): qcow2_reopen_prepare keeps the
   * L1 and refcount tables it read at open, so the node's next metadata I/O reads and writes
   * foreign bytes, and an allocation may meet qcow2's overlap check (qcow2_signal_corruption:
   * fatal, bs->drv = NULL). With the node under a job's frozen backing chain, the job's end walks
   * it with bdrv_filter_or_cow_child, NULL for a node without a driver, and QEMU 7.2 spins for
   * ever (fuzz 1681112954, oracle/fuzz/aborts.ts).
   */
  readonly foreignFile = new Set<string>();
  /** The image file each node of foreignFile was opened on (undefined: none the view could tell). */
  readonly openedOn = new Map<string, string | undefined>();
  /** Nodes added by blockdev-add with a node-name at the top (the monitor holds a reference). */
  readonly monitorOwned = new Set<string>();
  /** Nodes moved to an iothread with x-blockdev-set-iothread. */
  readonly moved = new Set<string>();
  nbd = false;
  /** Names of internal snapshots created in this process (on any node: the generator reuses them). */
  readonly internalSnapshots: string[] = [];
  /**
   * Preallocate filters below a node that took an internal snapshot: its metadata writes may
   * have passed the file's end and preallocated (graph/preallocate-truncate.ts; fuzz 1394297969).
   */
  readonly preallocated = new Set<string>();
  /** Every name ever used in this process (node, job, export ids), so new ones never clash by accident. */
  readonly used = new Set<string>();
  /**
   * qcow2 nodes whose s->nb_bitmaps may not be 0 (oracle/fuzz/query-breaks.ts): the node read a
   * bitmap directory when it opened (it shows persistent bitmaps as it appears:
   * qcow2_load_dirty_bitmaps), or stored its persistent bitmaps into one when it went read-only
   * (qcow2_reopen_bitmaps_ro -> qcow2_store_persistent_dirty_bitmaps). A persistent bitmap added
   * to a node stays in memory until then, and the node's s->nb_bitmaps stays 0 (transcript
   * fuzz-reopen-file-unstored-persistent-bitmap). Another node's store does not change this
   * node's count.
   */
  readonly bitmapDirNodes = new Set<string>();
  /**
   * Nodes a blockdev-reopen may have queued twice (listed twice, or listed after a node above
   * it): QEMU 10.0 leaves them drained for good (graph/rules.ts 'reopen-queue-drains-per-call'),
   * and a BlockBackend's requests on them or on a node above them wait for ever (oracle/fuzz/aborts.ts).
   */
  readonly reopenDrained = new Set<string>();

  /** The preallocate filters below an internal snapshot's `device`: a node, or a guest device's BlockBackend (its root edge). */
  preallocatesBelow(device: string | undefined): string[] {
    const root = device === undefined ? undefined : this.graph.nodes.some((n) => n.name === device) ? device
      : this.graph.edges.find((e) => e.name === 'root' && (e.parent === `dev:${device}` || e.parent === `bb:${device}`))?.child;
    return root === undefined ? [] : [...this.subtree(root)].filter((n) => this.driver(n) === 'preallocate');
  }

  /** User-chosen node names present in the graph (canonical names of implicit nodes hold '.' or '#'). */
  named(): string[] { return this.graph.nodes.map((n) => n.name).filter((n) => !/[.#]/.test(n)); }
  /** The image file a node reads: its own `file` in the graph, else its file child's (a format node over a json: filename shows none). */
  imageOf(node: string): string | undefined {
    const own = this.graph.nodes.find((n) => n.name === node)?.file;
    if (own !== undefined) return own;
    const f = this.child(node, 'file');
    return f === undefined ? undefined : this.graph.nodes.find((n) => n.name === f)?.file;
  }
  driver(node: string): string | undefined { return this.graph.nodes.find((n) => n.name === node)?.driver; }
  /**
   * The host image file whose bytes `node` shows from offset 0 in `graph`: through filters,
   * blkdebug and raw nodes without an offset down to a file node; undefined for anything else
   * (a null node, a format node's guest data, an NBD client, a slice at an offset).
   */
  hostImageAt0(node: string | undefined, graph: NormGraph = this.graph): string | undefined {
    const child = (n: string, edge: string) => graph.edges.find((e) => e.parent === n && e.name === edge)?.child;
    let cur = node;
    for (let i = 0; i < 16 && cur !== undefined; i++) {
      const n = graph.nodes.find((x) => x.name === cur);
      if (!n) return undefined;
      if (n.driver === 'file') return n.file;
      if (n.driver === 'raw') {
        const o = this.options.get(cur);
        if (!o || (o.offset !== undefined && o.offset !== 0)) return undefined;
      } else if (!isFilterDriver(n.driver) && n.driver !== 'copy-before-write' && n.driver !== 'preallocate') return undefined;
      cur = child(cur, 'file') ?? child(cur, 'image');
    }
    return undefined;
  }
  /** The node and every node below it (any child link). */
  subtree(node: string, graph: NormGraph = this.graph): Set<string> {
    const out = new Set<string>();
    const todo = [node];
    while (todo.length) {
      const x = todo.pop()!;
      if (out.has(x)) continue;
      out.add(x);
      for (const e of graph.edges) if (e.parent === x) todo.push(e.child);
    }
    return out;
  }
  child(node: string, edge: string): string | undefined {
    return this.graph.edges.find((e) => e.parent === node && e.name === edge)?.child;
  }
  /** The node's backing chain below it (following `backing`, and `file` of filters), nearest first. */
  chainBelow(node: string): string[] {
    const out: string[] = [];
    let cur: string | undefined = node;
    for (let i = 0; i < 16 && cur; i++) {
      const next: string | undefined = this.child(cur, 'backing') ?? (isFilterDriver(this.driver(cur)) ? this.child(cur, 'file') : undefined);
      if (!next || out.includes(next)) break;
      out.push(next);
      cur = next;
    }
    return out;
  }
  /**
   * Writes to `node` end at a snapshot-access node (filters skipped), which fails every write
   * with ENOTSUP (snapshot_access_co_pwritev_part). A backup or mirror that copies into it fails
   * at its first write, which comes after the source read: a read from a host file completes in
   * the thread pool, so whether the job has failed when the command's graph is read is a race
   * inside QEMU (docs/fidelity.md, "Copies into snapshot-access").
   */
  writesEndAtSnapshotAccess(node: string): boolean {
    let cur: string | undefined = node;
    for (let i = 0; i < 16 && cur; i++) {
      const d = this.driver(cur);
      if (d === 'snapshot-access') return true;
      // raw writes go to its file child (raw_co_pwritev) as a filter's do
      if (!isFilterDriver(d) && d !== 'copy-before-write' && d !== 'raw') return false;
      cur = this.child(cur, 'file') ?? this.child(cur, 'image');
    }
    return false;
  }
  /**
   * A job's copies into `node` may fail: its writes end at snapshot-access, or pass a compress
   * filter (qcow2_alloc_compressed_cluster_offset refuses an allocated cluster: EIO; which
   * clusters are allocated the view does not know). Such a job fails when its first failed
   * write is seen, which a speed-limited mirror only does at its next wake-up, unless a block
   * status of its first run yields (an L2 table read) and lets the thread-pool reads complete
   * first: a race inside QEMU (docs/fidelity.md, "Copies whose writes fail").
   */
  copiesMayFail(node: string): boolean {
    if (this.writesEndAtSnapshotAccess(node)) return true;
    let cur: string | undefined = node;
    for (let i = 0; i < 16 && cur; i++) {
      const d = this.driver(cur);
      if (d === 'compress') return true;
      if (!isFilterDriver(d) && d !== 'copy-before-write' && d !== 'raw') return false;
      cur = this.child(cur, 'file') ?? this.child(cur, 'image');
    }
    return false;
  }
  /**
   * A copy's reads of `node` may fail after thread-pool reads: somewhere in its chain (filters,
   * backing) a qcow2 node reads its L2 tables through another qcow2 node (its file node was the
   * `node` of a blockdev-snapshot: bdrv_append moved the edge onto the overlay), whose data there
   * fails the read with EIO (graph/jobs/stale-qcow2.ts). A backup's block_copy call meets it after
   * the overlay's own reads, so whether the job has failed when the command's graph is read is a
   * race inside QEMU (fuzz 2597031903; docs/fidelity.md).
   */
  readsMayFailLate(node: string): boolean {
    return [node, ...this.chainBelow(node)].some((n) => this.driver(n) === 'qcow2' && this.driver(this.child(n, 'file') ?? '') === 'qcow2');
  }
  /**
   * A backup of `node` (sync full or top) may copy it in its first block-copy task: its length may
   * be at most BLOCK_COPY_MAX_BUFFER (1 MiB). Such a job ends without asking its rate limit, but
   * only once that task's I/O is done, so whether a speed-limited one is still running at the
   * next command is a race inside QEMU (fuzz 1141551519: a 1000-byte null-aio node; docs/fidelity.md
   * "Stop 30's fresh runs"). Small for the view: a null node of a size up to 1 MiB, a raw `size`
   * window up to 1 MiB, a resized node, an image blockdev-create wrote with such a size, and a
   * protocol node over a host file that is not one of the 16 MiB fuzz images (a qcow2 image's own
   * file is a few hundred KiB; its exact length decides, which the view does not know).
   */
  mayCopyInOneTask(node: string): boolean {
    const BIG = new Set(['base.qcow2', 'mid.qcow2', 'top.qcow2', 'a.qcow2', 'r.raw']);
    let cur: string | undefined = node;
    for (let i = 0; i < 16 && cur; i++) {
      const d = this.driver(cur);
      const o = this.options.get(cur) ?? {};
      const small = (v: Json | undefined) => typeof v === 'number' && v <= 1048576;
      if (this.resized.has(cur)) return true;
      if (d === 'null-co' || d === 'null-aio') return small(o.size);
      if (d === 'raw' && small(o.size)) return true;
      const image = this.imageOf(cur);
      if (image !== undefined && this.smallImages.has(image)) return true;
      if (d === 'file') return image === undefined || !BIG.has(image) || this.createdImages.has(image);
      if (!isFilterDriver(d) && d !== 'copy-before-write' && d !== 'raw') return false;
      cur = this.child(cur, 'file') ?? this.child(cur, 'image');
    }
    return false;
  }
  /**
   * Whether job `id`'s status right after a command is a race inside QEMU: its nodes are in an
   * iothread, and a command that drains them (10.0's bdrv_graph_wrlock drains all, for a
   * blockdev-add too) pauses it (running -> paused, ready -> standby: job_pause_point_locked);
   * drained_end's job_resume enters its coroutine with aio_co_enter from the main thread, which
   * for another AioContext only schedules it (aio_co_schedule), so the job is back in running or
   * ready when the iothread has run it, which the next QMP command may beat (fuzz --qemu 10.0
   * 497471072: job-finalize refused "in state 'standby'" once, "'ready'" in four re-recordings).
   * A main-loop job is entered at once (qemu_aio_coroutine_enter): no race.
   */
  statusRaces(id: string): boolean {
    const j = this.jobs.get(id);
    if (!j || !['running', 'paused', 'ready', 'standby'].includes(j.status)) return false;
    return j.movedIn === true || this.inIothread().has(j.device) || (j.filter !== undefined && this.inIothread().has(j.filter));
  }
  /** Image files blockdev-create wrote (their length is no longer the fuzz image's), and those given a size up to 1 MiB. */
  readonly createdImages = new Set<string>();
  readonly smallImages = new Set<string>();
  /** Image files blockdev-create gave a size past 1 GiB (create-formats.ts: 128 GiB, 2 TiB). */
  readonly hugeImages = new Set<string>();
  /**
   * A full copy of `node` may write gigabytes into the case directory: it is (or a filter or raw
   * node passes writes to) a node over an image created past 1 GiB, or a null node that long.
   * block-copy reads and writes whatever block status does not call zero (a vdi's unallocated
   * blocks are neither data nor zero: vdi has no backing, so bdrv_co_block_status adds no
   * BDRV_BLOCK_ZERO), and a raw target on tmpfs takes them as written zeroes: fuzz seed
   * 2026120608's case 121 (a 128 GiB vdi backed up into a new raw file) filled /dev/shm, and the
   * kernel killed the run.
   */
  mayBeHuge(node: string): boolean {
    let cur: string | undefined = node;
    for (let i = 0; i < 16 && cur; i++) {
      const d = this.driver(cur);
      const size = (this.options.get(cur) ?? {}).size;
      if ((d === 'null-co' || d === 'null-aio') && typeof size === 'number' && size > HUGE) return true;
      const image = this.imageOf(cur);
      if (image !== undefined && this.hugeImages.has(image)) return true;
      cur = this.child(cur, 'file') ?? this.child(cur, 'image');
    }
    return false;
  }
  /** Nodes whose AioContext is (or may be) an iothread: the components of moved nodes and iothread exports. */
  /** Nodes held in their iothread by a fixed-iothread export in their component (they cannot be moved out). */
  pinnedInIothread(): Set<string> {
    const seeds = [...this.exports.values()].filter((e) => e.iothread && e.fixed).map((e) => e.node);
    const names = new Set(this.graph.nodes.map((n) => n.name));
    return connected(this.graph, seeds.filter((x) => names.has(x)), this.movesWith(names));
  }
  inIothread(): Set<string> {
    const seeds = [...this.moved, ...[...this.exports.values()].filter((e) => e.iothread).map((e) => e.node)];
    const names = new Set(this.graph.nodes.map((n) => n.name));
    return connected(this.graph, seeds.filter((x) => names.has(x)), this.movesWith(names));
  }
  /**
   * Parents whose children share one AioContext: a node's, and a block job's, whose nodes all
   * move together (child_job_change_aio_ctx; fuzz 1288287335: a mirror's target reached io0
   * through the job when its source was moved, and a copy-before-write naming it was crash 5).
   */
  private movesWith(names: Set<string>): (parent: string) => boolean {
    const jobs = new Set(this.graph.parents.filter((x) => x.type === 'block-job').map((x) => x.name));
    return (parent) => names.has(parent) || jobs.has(parent);
  }
}

/** The nodes connected to `seeds` by edges whose parent `linkParent` accepts (either direction). */
export function connected(graph: { edges: readonly { parent: string; child: string }[] }, seeds: readonly string[], linkParent: (parent: string) => boolean): Set<string> {
  const adj = new Map<string, string[]>();
  const link = (x: string, y: string) => { (adj.get(x) ?? adj.set(x, []).get(x)!).push(y); };
  for (const e of graph.edges) {
    if (!linkParent(e.parent)) continue;
    link(e.parent, e.child);
    link(e.child, e.parent);
  }
  const seen = new Set<string>();
  const todo = [...seeds];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...(adj.get(n) ?? []));
  }
  return seen;
}

const isFilterDriver = (d: string | undefined): boolean =>
  d === 'throttle' || d === 'copy-on-read' || d === 'blkdebug' || d === 'commit_top' || d === 'mirror_top' || d === 'compress';

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export class World {
  readonly procs = new Map<string, ProcView>();
  proc(name: string): ProcView {
    let p = this.procs.get(name);
    if (!p) this.procs.set(name, (p = new ProcView()));
    return p;
  }

  /** Folds one recorded step into the view. */
  observe(step: Step, out: TranscriptStep): void {
    const p = this.proc(out.proc);
    const before = new Map(p.graph.nodes.map((n) => [n.name, n]));
    if (!isWaitStep(out) && out.execute === 'blockdev-reopen' && Array.isArray(out.arguments.options)) {
      // whatever the outcome: 10.0's bdrv_reopen_queue_free ends one drain per queue entry
      const listed = (out.arguments.options as Json[]).filter(isObj).map((o) => o['node-name']).filter((n): n is string => typeof n === 'string');
      // a node queued again is queued with its implicit children again (bdrv_reopen_queue_child
      // recurses into the children it created, a child given by its own name included): the
      // whole subtree counts (fuzz 1736587111: the file node of a copy-on-read listed twice)
      // either order: a node listed before the entry whose subtree holds it is queued again by that
      // entry's recursion just the same (fuzz --against vm --qemu 10.0 448134515: [q8, quorum x9
      // over q8] left q8 drained, and a scsi-hd on x9 hung in realize)
      listed.forEach((n, i) => {
        if (listed.some((m, j) => j !== i && (m === n ? j < i : p.subtree(m).has(n)))) for (const x of p.subtree(n)) p.reopenDrained.add(x);
      });
    }
    // a node stays in its iothread when the link that put it there goes (bdrv_detach_child moves
    // only the detached child back to the main loop, if it can; the parent side stays): a node of
    // a moved component that a command unlinked from it may still be in the iothread (fuzz
    // 3305389551: a reopen dropped n6's backing on the moved component, and a blockdev-add naming
    // n6's file f7 was crash 5). Only x-blockdev-set-iothread moves a component back for sure.
    const inIoBefore = !isWaitStep(out) && out.execute !== 'x-blockdev-set-iothread' && out.result.ok ? p.inIothread() : undefined;
    // an HMP line that did what it asked counts as the QMP command it runs (hmp-equivalent.ts),
    // its BlockBackend's name read over the graph before the step
    const viaHmp = !isWaitStep(out) && out.result.ok && hmpSucceeded(out.result.return) ? hmpEquivalent(out, p.graph) : undefined;
    const oldGraph = p.graph;
    // (a step without a graph, a detached job filter: the world keeps the last one)
    if (out.graph) p.graph = out.graph;
    // ProcView.foreignFile: a qcow2 entry of a blockdev-reopen that moved `file` (QEMU took the
    // whole list or none of it)
    if (!isWaitStep(out) && out.execute === 'blockdev-reopen' && out.result.ok && out.graph && Array.isArray(out.arguments.options)) {
      for (const o of (out.arguments.options as Json[]).filter(isObj)) {
        const node = o['node-name'];
        if (typeof node !== 'string' || !('file' in o) || before.get(node)?.driver !== 'qcow2') continue;
        const fileOf = (g: NormGraph) => g.edges.find((e) => e.parent === node && e.name === 'file')?.child;
        const was = fileOf(oldGraph);
        const now = fileOf(out.graph!);
        if (was === now) continue;
        if (!p.openedOn.has(node)) p.openedOn.set(node, p.hostImageAt0(was, oldGraph));
        const home = p.openedOn.get(node);
        if (home !== undefined && p.hostImageAt0(now) === home) p.foreignFile.delete(node);
        else p.foreignFile.add(node);
      }
    }
    if (inIoBefore) {
      const inIoNow = p.inIothread();
      const present = new Set(p.named());
      for (const n of inIoBefore) if (!inIoNow.has(n) && present.has(n)) p.moved.add(n);
    }
    // ProcView.bitmapDirNodes: a node that appears with persistent bitmaps loaded them from its
    // image's directory (or got one in the same transaction: counted all the same), one that went
    // read-only with them stored them (oracle/fuzz/query-breaks.ts)
    for (const n of out.graph?.nodes ?? []) {
      if (!n.bitmaps?.some((b) => / persistent\b/.test(b))) continue;
      const was = before.get(n.name);
      if (!was || (n.ro && !was.ro)) p.bitmapDirNodes.add(n.name);
    }
    for (const ev of out.events) {
      const d = ev.data ?? {};
      if (ev.event === 'JOB_STATUS_CHANGE' && typeof d.id === 'string') {
        const j = p.jobs.get(d.id);
        if (j) { if (d.status === 'null') p.jobs.delete(d.id); else j.status = String(d.status); }
      }
      if (ev.event === 'BLOCK_EXPORT_DELETED' && typeof d.id === 'string') p.exports.delete(d.id);
    }
    if (isWaitStep(out) || isWaitStep(step)) {
      if (isWaitStep(out)) {
        const j = p.jobs.get(out.wait.job);
        if (j) { if (out.wait.status === 'null') p.jobs.delete(j.id); else j.status = out.wait.status; }
      }
    } else if (viaHmp && !isWaitStep(viaHmp)) {
      this.applyOk(p, viaHmp.execute, viaHmp.arguments ?? {});
    } else if (out.result.ok) {
      this.applyOk(p, out.execute, out.arguments);
    } else if (/^Job '([^']+)' in state '(\w+)' cannot accept command verb/.test(out.result.desc)) {
      // a job verb's refusal names the job's status, also one no event showed (QEMU 10.0: a job
      // under a drained section a reopen left behind stays paused: graph/reopen/drain-leak.ts):
      // the generator then queues no wait for it
      const [, id, status] = /^Job '([^']+)' in state '(\w+)'/.exec(out.result.desc)!;
      const j = p.jobs.get(id!);
      if (j) j.status = status!;
    } else if (out.execute === 'block-export-add' && typeof out.arguments.iothread === 'string' && typeof out.arguments['node-name'] === 'string') {
      // blk_exp_add moves the node to the iothread before it creates the BlockBackend and does
      // not move it back when that fails (a lock or permission conflict): the node may be in
      // the iothread all the same (found by the fuzzer: a later reference to it was crash 5)
      p.moved.add(out.arguments['node-name']);
    } else {
      // blockdev_backup_prepare / qmp_blockdev_mirror move the target into the source's
      // AioContext (bdrv_try_change_aio_context) before their other checks, and a later refusal
      // (a bitmap-mode without a bitmap, a size mismatch, ...) does not move it back: a target of
      // a source in an iothread may be there now, unlinked (found by the fuzzer: a blockdev-add
      // naming it as backing was crash 5, seed 2230846464)
      const inIo = p.inIothread();
      const jobs = out.execute === 'transaction' && Array.isArray(out.arguments.actions)
        ? (out.arguments.actions as Json[]).filter(isObj).filter((x) => x.type === 'blockdev-backup' || x.type === 'blockdev-mirror').map((x) => (isObj(x.data) ? x.data : {}))
        : out.execute === 'blockdev-backup' || out.execute === 'blockdev-mirror' ? [out.arguments] : [];
      for (const a of jobs) {
        if (typeof a.device === 'string' && typeof a.target === 'string' && inIo.has(a.device) && p.named().includes(a.target)) p.moved.add(a.target);
      }
      // external_snapshot_abort leaves the AioContexts as bdrv_append's attach set them (one side
      // moved into the other's): after a failed transaction the old node of a blockdev-snapshot
      // onto an overlay in an iothread may be in that iothread, parentless (fuzz 672040825: a
      // blockdev-add naming it was crash 5), and an overlay may have followed its old node
      const snaps = out.execute === 'transaction' && Array.isArray(out.arguments.actions)
        ? (out.arguments.actions as Json[]).filter(isObj).filter((x) => x.type === 'blockdev-snapshot').map((x) => (isObj(x.data) ? x.data : {}))
        : [];
      for (const a of snaps) {
        if (typeof a.node !== 'string' || typeof a.overlay !== 'string') continue;
        if (inIo.has(a.overlay) && p.named().includes(a.node)) p.moved.add(a.node);
        if (inIo.has(a.node) && p.named().includes(a.overlay)) p.moved.add(a.overlay);
      }
    }
    const present = new Set(p.named());
    for (const n of [...p.options.keys()]) if (!present.has(n)) p.options.delete(n);
    for (const n of [...p.moved]) if (!present.has(n)) p.moved.delete(n);
    for (const n of [...p.resized]) if (!present.has(n)) p.resized.delete(n);
    for (const n of [...p.appended]) if (!present.has(n)) p.appended.delete(n);
    for (const n of [...p.foreignFile]) if (!present.has(n)) p.foreignFile.delete(n);
    for (const n of [...p.openedOn.keys()]) if (!present.has(n)) p.openedOn.delete(n);
    for (const n of [...p.monitorOwned]) if (!present.has(n)) p.monitorOwned.delete(n);
    for (const n of [...p.bitmapDirNodes]) if (!present.has(n)) p.bitmapDirNodes.delete(n);
    for (const n of [...p.reopenDrained]) if (!present.has(n)) p.reopenDrained.delete(n);
  }

  private applyOk(p: ProcView, cmd: string, a: JsonObject): void {
    const s = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
    switch (cmd) {
      case 'blockdev-add':
        this.recordInline(p, a);
        if (s('node-name')) p.monitorOwned.add(s('node-name')!);
        break;
      case 'block_resize': if (s('node-name')) p.resized.add(s('node-name')!); break;
      case 'blockdev-snapshot': if (s('overlay')) p.appended.add(s('overlay')!); break;
      case 'blockdev-snapshot-sync': if (s('snapshot-node-name')) p.appended.add(s('snapshot-node-name')!); break;
      case 'blockdev-create': {
        // the image file it wrote: the file driver's filename, or the image of the node a format formats
        const o = isObj(a.options) ? a.options : {};
        const image = typeof o.filename === 'string' ? o.filename : typeof o.file === 'string' ? p.imageOf(o.file) : undefined;
        if (image !== undefined) {
          p.createdImages.add(image);
          if (typeof o.size === 'number' && o.size <= 1048576) p.smallImages.add(image);
          if (typeof o.size === 'number' && o.size > HUGE) p.hugeImages.add(image);
        }
        break;
      }
      case 'nbd-server-add':
        if (s('device')) p.exports.set(s('name') ?? s('device')!, { id: s('name') ?? s('device')!, node: s('device')! });
        break;
      case 'blockdev-reopen':
        for (const o of (Array.isArray(a.options) ? a.options : [])) if (isObj(o) && typeof o['node-name'] === 'string') p.options.set(o['node-name'], o);
        break;
      case 'x-blockdev-amend': if (s('job-id')) p.amendJobs.add(s('job-id')!); break;
      case 'job-dismiss': if (s('id')) p.amendJobs.delete(s('id')!); break;
      case 'blockdev-del': if (s('node-name')) { p.options.delete(s('node-name')!); p.monitorOwned.delete(s('node-name')!); } break;
      case 'object-add':
        if (a['qom-type'] === 'iothread' && s('id')) p.iothreads.add(s('id')!);
        if (a['qom-type'] === 'throttle-group' && s('id')) {
          p.throttleGroups.add(s('id')!);
          if (isObj(a.limits) && Object.values(a.limits).some((v) => typeof v === 'number' && v > 0)) p.limitedThrottleGroups.add(s('id')!);
        }
        break;
      case 'object-del': if (s('id')) { p.iothreads.delete(s('id')!); p.throttleGroups.delete(s('id')!); p.limitedThrottleGroups.delete(s('id')!); } break;
      case 'nbd-server-start': p.nbd = true; break;
      case 'nbd-server-stop': p.nbd = false; break;
      case 'block-export-add':
        if (s('id') && s('node-name')) p.exports.set(s('id')!, { id: s('id')!, node: s('node-name')!, iothread: s('iothread'), fixed: a['fixed-iothread'] === true });
        break;
      case 'x-blockdev-set-iothread':
        if (s('node-name')) { if (s('iothread')) p.moved.add(s('node-name')!); else p.moved.delete(s('node-name')!); }
        if (s('iothread')) {
          // child_job_change_aio_ctx: the jobs on the moved nodes go with them
          const inIo = p.inIothread();
          for (const j of p.jobs.values()) if (inIo.has(j.device)) j.movedIn = true;
        }
        break;
      case 'blockdev-backup': case 'drive-backup': {
        const id = s('job-id')!;
        if (id && !p.jobs.has(id)) {
          const speed = typeof a.speed === 'number' ? a.speed : 0;
          p.jobs.set(id, { id, kind: 'backup', status: 'running', device: s('device')!, filter: s('filter-node-name'), sync: s('sync'), limited: speed > 0 });
        }
        break;
      }
      case 'block-job-set-speed': {
        const j = s('device') ? p.jobs.get(s('device')!) : undefined;
        if (j && typeof a.speed === 'number') j.limited = a.speed > 0;
        break;
      }
      case 'blockdev-snapshot-internal-sync': {
        if (s('name') && !p.internalSnapshots.includes(s('name')!)) p.internalSnapshots.push(s('name')!);
        for (const n of p.preallocatesBelow(s('device'))) p.preallocated.add(n);
        break;
      }
      case 'transaction':
        // the actions that start jobs or create snapshots, as their commands would
        for (const act of (Array.isArray(a.actions) ? a.actions : [])) {
          if (isObj(act) && typeof act.type === 'string' && isObj(act.data) && ['blockdev-backup', 'drive-backup', 'blockdev-snapshot-internal-sync', 'blockdev-snapshot', 'blockdev-snapshot-sync'].includes(act.type)) this.applyOk(p, act.type, act.data);
        }
        break;
      case 'block-stream': case 'block-commit': case 'blockdev-mirror': case 'drive-mirror': {
        const id = s('job-id') ?? s('device')!;
        const device = s('device')!;
        const kind: JobKind = cmd === 'block-stream' ? 'stream' : cmd === 'blockdev-mirror' || cmd === 'drive-mirror' ? 'mirror'
          : (s('top-node') === undefined || s('top-node') === device ? 'commit-active' : 'commit');
        if (!p.jobs.has(id)) p.jobs.set(id, { id, kind, status: 'running', device, filter: s('filter-node-name') });
        break;
      }
      default: break;
    }
  }

  /** Records a node given to blockdev-add and every inline child that has a node-name of its own. */
  private recordInline(p: ProcView, o: JsonObject): void {
    if (typeof o['node-name'] === 'string') p.options.set(o['node-name'], o);
    for (const v of Object.values(o)) {
      if (isObj(v) && typeof v.driver === 'string') this.recordInline(p, v);
      if (Array.isArray(v)) for (const x of v as Json[]) if (isObj(x) && typeof x.driver === 'string') this.recordInline(p, x);
    }
  }
}
