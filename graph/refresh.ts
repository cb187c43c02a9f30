// bdrv_list_refresh_perms: recompute every edge's perm/shared below the given roots, in
// QEMU's topological order, running its checks in its order so the same error wins.
import { versionOf } from './version.js';
import { getLength } from './length.js';
import { infoClusterSize } from './bitmaps.js';
import { rule } from './rules.js';
import { hostFacts } from './host-facts.js';
import { QmpError, QmpErrorWithHint } from '../errors/index.js';
import { driverInfo } from './drivers.js';
import { hasParents } from './probe.js';
import { PERM_ALL, PERM_U, PERM_W, PERM_Z, permBits, permNames } from './perm.js';
import type { Proc } from './proc.js';
import type { BdsNode, Edge } from './types.js';
import { adjacencyWork } from './adjacency.js';
import { entryOrderKept, taintedLeaves } from './perm-dirty.js';
import { hostResolve } from './host-path.js';

export interface RefreshOpts {
  /** Pending read-only flags of a reopen (bdrv_is_writable_after_reopen). */
  newRo?: Map<string, boolean>;
  /** Edge perms decided elsewhere (e.g. by a job for its filter) are left alone. */
}

/** bdrv_topological_dfs over several roots: later roots' nodes come first. */
export function topoOrder(p: Proc, roots: readonly string[], kidsOf?: Map<string, Edge[]>, expand?: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  let list: string[] = [];
  for (const r of roots) list = dfs(p, r, found, list, kidsOf, expand);
  return list;
}

/**
 * One root's walk. With `expand`, only the nodes in it have their children walked: the others
 * are found (and listed) but not entered, as the early-stop refresh below needs.
 */
function dfs(p: Proc, start: string, found: Set<string>, list: string[], kidsOf?: Map<string, Edge[]>, expand?: ReadonlySet<string>): string[] {
  const kids = (x: string) => {
    if (expand && !expand.has(x)) return [];
    const es = p.childrenOf(x);
    kidsOf?.set(x, es);
    return es.map((e) => e.child);
  };
  // Iterative post-order DFS (graphs of 10k nodes would overflow a recursive one).
  if (found.has(start)) return list;
  const post: string[] = [];
  const stack: { node: string; kids: string[]; i: number }[] = [];
  found.add(start);
  refreshWork.nodesVisited++;
  stack.push({ node: start, kids: kids(start), i: 0 });
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.i < top.kids.length) {
      const k = top.kids[top.i++]!;
      if (!found.has(k)) {
        found.add(k);
        refreshWork.nodesVisited++;
        stack.push({ node: k, kids: kids(k), i: 0 });
      }
    } else {
      post.push(top.node);
      stack.pop();
    }
  }
  // g_slist_prepend after each child: the final list is the reverse post-order, in front of `list`.
  return [...post.reverse(), ...list];
}

export function cumulative(p: Proc, node: string, parents: readonly Edge[] = p.parents(node)): { perm: number; shared: number } {
  let perm = 0;
  let shared = PERM_ALL;
  for (const e of parents) {
    perm |= e.perm;
    shared &= e.shared;
  }
  return { perm, shared };
}

export function parentDesc(p: Proc, e: Edge): string {
  const par = e.parent;
  if (par.kind === 'node') return `node '${par.node}'`;
  if (par.kind === 'bb') {
    // blk_root_get_parent_desc: blk->name first (a legacy drive's), then the attached device's id
    // (blk_get_attached_dev_id; vm target)
    const blk = p.bb(par.bb);
    const dev = blk?.name || blk?.dev;
    return dev ? `block device '${dev}'` : 'an unnamed block device';
  }
  const j = p.job(par.job);
  return `${j?.type ?? 'block'} job '${par.job}'`;
}

/**
 * bdrv_parent_perms_conflict: QEMU compares every ordered pair of parents (bdrv_a_allow_b) and
 * reports the first pair, in bs->parents order, where b needs a permission a does not share.
 * The same first pair is found here in O(parents): for each a (in order), the permissions the
 * other parents need are the OR of those before it and those after it (prefix and suffix ORs);
 * only when that OR is not all shared by a are the parents scanned for the first such b. A fan-in
 * of 10k parents thus costs 10k comparisons per refresh instead of 100M.
 */
export function checkParentConflicts(p: Proc, node: string, parents: readonly Edge[] = p.parents(node)): void {
  const n = parents.length;
  if (n < 2) return;
  const after = new Array<number>(n + 1);
  after[n] = 0;
  for (let i = n - 1; i >= 0; i--) after[i] = after[i + 1]! | parents[i]!.perm;
  let before = 0;
  adjacencyWork.permComparisons += 2 * n;
  for (let i = 0; i < n; i++) {
    const a = parents[i]!;
    if ((before | after[i + 1]!) & ~a.shared) {
      for (const b of parents) {
        adjacencyWork.permComparisons++;
        if (b === a) continue;
        const missing = b.perm & ~a.shared;
        if (missing) {
          throw new QmpError(
            `Permission conflict on node '${node}': permissions '${permNames(missing)}' are both required by ` +
            `${parentDesc(p, b)} (uses node '${node}' as '${b.name}' child) and unshared by ` +
            `${parentDesc(p, a)} (uses node '${node}' as '${a.name}' child).`,
          );
        }
      }
    }
    before |= a.perm;
  }
}

// bdrv_is_writable_after_reopen: (flags & (BDRV_O_RDWR | BDRV_O_INACTIVE)) == BDRV_O_RDWR
const writableAfter = (n: BdsNode, o: RefreshOpts) => !(o.newRo?.get(n.name) ?? n.ro) && !n.inactive;

/**
 * Work counters for specs that assert complexity by counting (never timing): refreshes run,
 * nodes the topological walks found, nodes whose perms were recomputed and checked, refreshes
 * that fell back to the full walk, and nodes the early stop's proofs looked at.
 */
export const refreshWork = { refreshes: 0, nodesVisited: 0, nodesProcessed: 0, fullWalks: 0, proofNodes: 0 };

/** The state of one bdrv_list_refresh_perms run: its lock holders and prepared lock bytes. */
interface Pass {
  p: Proc;
  opts: RefreshOpts;
  kidsOf: Map<string, Edge[]>;
  prepared: Map<string, { perm: number; shared: number }>;
  holders: HolderIndex;
  /** Children whose parent edge this pass patched (their cumulative perms may have changed). */
  patched: Set<string>;
}

function newPass(p: Proc, opts: RefreshOpts, kidsOf: Map<string, Edge[]>): Pass {
  return { p, opts, kidsOf, prepared: new Map(), holders: new HolderIndex(p), patched: new Set() };
}

/** One node's turn in bdrv_list_refresh_perms: bdrv_node_refresh_perm's checks, then its children's perms. */
function refreshNode(pass: Pass, name: string): void {
  const { p, opts, prepared, holders } = pass;
  const n = p.node(name);
  if (!n) return;
  refreshWork.nodesProcessed++;
  // bs->parents read once for both (a fan-in's node has thousands)
  const parents = p.parents(name);
  checkParentConflicts(p, name, parents);
  const { perm, shared } = cumulative(p, name, parents);
  if (perm & (PERM_W | PERM_U) && !writableAfter(n, opts)) {
    // bdrv_node_refresh_perm: "Block node is read-only" when the node is not writable as it is
    // now (bdrv_is_writable_after_reopen(bs, NULL): read-only or BDRV_O_INACTIVE), the other text
    // when only the reopen about to happen makes it so
    throw new QmpError(n.ro || n.inactive ? 'Block node is read-only' : `Read-only block node '${name}' cannot support read-write users`);
  }
  if (perm & (PERM_W | PERM_U) && !(perm & PERM_Z)) {
    // bs->total_sectors: for a driver with .has_variable_length (7.2: raw, copy-on-read, compress,
    // preallocate) what its last bdrv_getlength refreshed, and query-named-block-nodes
    // (bdrv_query_image_info -> bdrv_getlength) refreshes it after every command the harness
    // sends: its current length (graph/length.ts), e.g. a compress node over a qcow2 overlay that
    // a qcow2 parent's metadata writes grew (graph/guest-image.ts)
    if (permLength(p, n) % alignment(p, n) !== 0) {
      throw new QmpError("Cannot get 'write' permission without 'resize': Image size is not a multiple of request alignment");
    }
  }
  // raw_handle_perm_lock: `if (bdrv_get_flags(bs) & BDRV_O_INACTIVE) return 0` — an inactive file
  // node neither checks nor changes its lock bytes (it loosened them while its parents went
  // inactive, before its own flag was set; one opened inactive never takes any: fuzz --qemu 10.0 1595077198)
  if (n.driver === 'file' && n.lock && !n.inactive) {
    checkLocks(holders, n, lockKey(p, n)!, perm, shared, prepared);
    prepared.set(name, { perm, shared });
  }
  const info = driverInfo(n.driver);
  if (!info?.childPerm) return;
  for (const e of pass.kidsOf.get(name) ?? p.childrenOf(name)) {
    const child = p.node(e.child);
    let np = info.childPerm({ node: n, edge: e, perm, shared, writableAfter: writableAfter(n, opts), hasParents: hasParents(p, name), qemu: versionOf(p) });
    if (child?.forceShare) np = { perm: np.perm, shared: PERM_ALL };
    if (np.perm !== e.perm || np.shared !== e.shared) {
      p.patchEdge(e.id, { perm: np.perm, shared: np.shared });
      pass.patched.add(e.child);
    }
  }
  // Format locking (seed 002's fallback, off unless enabled): a format node whose protocol
  // leaf cannot lock takes the image's lock bytes itself, for what it asks of that leaf.
  if (n.driver !== 'file' && n.lock) {
    const key = lockKey(p, n);
    const fe = p.fileChild(name);
    if (key && fe) {
      checkLocks(holders, n, key, fe.perm, fe.shared, prepared);
      prepared.set(name, { perm: fe.perm, shared: fe.shared });
    }
  }
}

/** Commit: file-posix now holds exactly the new lock bytes. */
function commitLocks(pass: Pass): void {
  const { p } = pass;
  for (const [name, c] of pass.prepared) {
    const n = p.node(name)!;
    if (n.lock!.perm !== c.perm || n.lock!.shared !== c.shared) p.patchNode(name, { lock: { perm: c.perm, shared: c.shared } });
  }
}

/**
 * bdrv_list_refresh_perms over bdrv_topological_dfs of every root, as QEMU does it: every node
 * below the roots is recomputed and checked. The reference the early stop is proved against.
 */
export function refreshPermsFull(p: Proc, roots: readonly string[], opts: RefreshOpts = {}): void {
  refreshWork.fullWalks++;
  // Each node's child edges as the walk found them: the refresh adds and removes no edge, and a
  // node's child edges are patched only in its own turn below, so they are still these then.
  const kidsOf = new Map<string, Edge[]>();
  const list = topoOrder(p, roots, kidsOf);
  const pass = newPass(p, opts, kidsOf);
  for (const name of list) refreshNode(pass, name);
  commitLocks(pass);
}

/** Rounds of the early-stop walk (each enters the nodes the one before found it must) before the full walk. */
const MAX_ROUNDS = 4;

/**
 * Refreshes perms below `roots` (bdrv_refresh_perms / bdrv_list_refresh_perms). Throws QEMU's
 * error for the first failing check; the caller drops its Draft (or savepoint) then, exactly as
 * tran_abort restores everything.
 *
 * QEMU walks the whole subtree below the roots, which makes each add on top of a chain cost its
 * depth. The walk here stops early, with the same result, writes in the same order and the same
 * error, by this argument (graph/perm-dirty.ts has the rest):
 * - a node is *consistent* when its turn of a refresh, run on the state as it is, would pass
 *   every check and change nothing (its child edges' perms and its lock bytes are what its
 *   parents' edges give). Which nodes of the state are not is kept beside the state
 *   (perm-dirty.ts: derived from the state alone, so replay and snapshots give the same set);
 * - a walk that enters only some nodes (the roots first) and lists the others it finds as
 *   unentered leaves gives, after it, a state the full walk also gives when (1) every leaf is
 *   consistent after it and has no inconsistent node below it, so the full walk's turns of the
 *   leaves and of everything below them change nothing and pass, and (2) no entered node is
 *   reachable from a leaf, so the entered nodes keep the relative order bdrv_topological_dfs
 *   gives them (the full walk's excursions below the leaves meet none of them), hence the same
 *   writes in the same order, and the same lock bytes prepared before each lock check;
 * - a leaf that fails (1) is entered in the next round; (2) failing, an error (the first
 *   failing node must be QEMU's first), or too many rounds run the full walk instead, from the
 *   state before the early-stop rounds.
 * A pending reopen's read-only flags (opts.newRo) make nodes inconsistent that the state does not
 * say: such a refresh is always the full walk.
 */
export function refreshPerms(p: Proc, roots: readonly string[], opts: RefreshOpts = {}): void {
  refreshWork.refreshes++;
  if (opts.newRo || !earlyStop.enabled) return refreshPermsFull(p, roots, opts);
  if (earlyStop.verify) return verified(p, roots, opts);
  earlyStopRefresh(p, roots, opts);
}

function earlyStopRefresh(p: Proc, roots: readonly string[], opts: RefreshOpts): void {
  const sp = p.d.savepoint();
  const expand = new Set(roots);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let verdict: 'done' | 'again' | 'full';
    try {
      verdict = earlyStopRound(p, roots, opts, expand);
    } catch {
      verdict = 'full';
    }
    if (verdict === 'done') return;
    p.d.rollback(sp);
    if (verdict === 'full') break;
  }
  refreshPermsFull(p, roots, opts);
}

/**
 * Switches for specs that prove the early stop against the full walk: `verify` runs the full walk
 * first (undone) before every early-stop refresh and records any difference in the error or in
 * the writes (values and order) in `mismatches`; `skipProofs` drops proofs (1) and (2) (or
 * 'taint': (1), 'order': (2)), the unsound stops such a spec must catch.
 */
export const earlyStop = { enabled: true, skipProofs: false as boolean | 'taint' | 'order', verify: false, mismatches: [] as string[], pruned: 0 };

function verified(p: Proc, roots: readonly string[], opts: RefreshOpts): void {
  const outcome = (run: () => void): string => {
    let err = '';
    try { run(); } catch (e) { err = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e); }
    return JSON.stringify({ err, writes: p.d.currentChanges().map((ch) => [ch.c, ch.id, ch.after]) });
  };
  const want = p.d.trial(() => outcome(() => refreshPermsFull(p, roots, opts)));
  let thrown: unknown;
  const got = outcome(() => {
    try { earlyStopRefresh(p, roots, opts); } catch (e) { thrown = e; throw e; }
  });
  if (got !== want) earlyStop.mismatches.push(`refresh of ${JSON.stringify(roots)}:\n  full  ${want}\n  early ${got}`);
  if (thrown !== undefined) throw thrown;
}

function earlyStopRound(p: Proc, roots: readonly string[], opts: RefreshOpts, expand: Set<string>): 'done' | 'again' | 'full' {
  const kidsOf = new Map<string, Edge[]>();
  const list = topoOrder(p, roots, kidsOf, expand);
  const pass = newPass(p, opts, kidsOf);
  const leaves: string[] = [];
  for (const name of list) {
    if (expand.has(name)) refreshNode(pass, name);
    else leaves.push(name);
  }
  commitLocks(pass);
  // nothing left unentered: this was the full walk
  if (!leaves.length) return 'done';
  earlyStop.pruned++;
  if (earlyStop.skipProofs === true) return 'done';
  const tainted = earlyStop.skipProofs === 'taint' ? [] : taintedLeaves(p, leaves);
  if (tainted === null) return 'full';
  if (tainted.length) {
    for (const l of tainted) expand.add(l);
    return 'again';
  }
  return earlyStop.skipProofs === 'order' || entryOrderKept(p, roots, list, expand) ? 'done' : 'full';
}
/**
 * bs->bl.request_alignment (bdrv_refresh_limits, block/io.c 7.2): 1 for a driver with a byte
 * interface (every modelled one), then the driver's own .bdrv_refresh_limits override (blkdebug's
 * `align`; file-posix's raw_refresh_limits -> raw_probe_alignment for a file opened with
 * O_DIRECT). It is NOT taken from the children: bdrv_merge_limits merges transfer and memory
 * limits only, so a raw, snapshot-access or throttle node over `blkdebug align=4096` still has 1.
 * raw_probe_alignment: no BLKSSZGET or XFS_IOC_DIOINFO answer for a regular file, so it tries
 * O_DIRECT reads of 1, 512, ... bytes and takes the first that works, 1 meaning "no restriction"
 * and giving MAX(MAX_BLOCKSIZE, page size) = 4096. That depends on the file system of the image
 * directory (tmpfs 4096, ext4 over 512-byte sectors 512): a host fact the scenario declares
 * (graph/host-facts.ts; 512 when it does not), never read from this machine.
 */
/** bs->total_sectors * BDRV_SECTOR_SIZE as bdrv_node_refresh_perm's alignment check reads it (see refreshNode). */
export function permLength(p: Proc, n: BdsNode): number {
  return rule(p, 'variable-length-drivers').includes(n.driver) ? getLength(p, n.name) : Math.ceil(n.size / 512) * 512;
}

export function alignment(p: Proc, n: BdsNode): number {
  if (n.driver === 'file' && isOn(n.options['cache.direct'])) return hostFacts(p.d).directIoAlignment;
  // blk_log_writes_refresh_limits: the log sector size
  if (n.driver === 'blklogwrites') return Number((n.extra as { sectorSize?: number } | undefined)?.sectorSize ?? 512);
  if (n.driver === 'compress') {
    // compress_refresh_limits: bdrv_get_info(bs->file->bs)'s cluster_size (qcow2_get_info: the
    // header's; file-posix answers 0, which leaves 1)
    const f = p.fileChild(n.name)?.child;
    const cluster = f ? infoClusterSize(p, f) : undefined;
    if (cluster) return cluster;
  }
  return n.align || 1;
}

const isOn = (v: unknown) => v === true || v === 'on' || v === 'true';

/**
 * Which image a lock holder locks: a file node its own file; a format node with format
 * locking (seed 002) the file of its protocol leaf. Null for nodes that hold no locks.
 */
export function lockKey(p: Proc, n: BdsNode): string | null {
  if (!n.lock) return null;
  if (n.driver === 'file') return hostFileKey(p, n.filename);
  const fe = p.fileChild(n.name);
  const leaf = fe ? p.node(fe.child) : undefined;
  return leaf?.driver === 'file' ? hostFileKey(p, leaf.filename) : null;
}

/**
 * The image a file node's name opens: file-posix's locks are fcntl byte locks on the open file
 * (raw_apply_lock_bytes), so they belong to the inode, not to the name. A backing file named
 * relative to an image in another directory opens as `sub/../mid.qcow2` (path_combine does not
 * normalise), the same file as `mid.qcow2` (graph/host-path.ts resolves it as open(2) would).
 */
function hostFileKey(p: Proc, filename: string): string {
  return filename.includes('/') ? hostResolve(p, filename) ?? filename : filename;
}

/**
 * Every lock holder of the host by image, built once per refresh (a scan of all nodes per
 * file node would make a refresh of a large graph quadratic).
 */
class HolderIndex {
  private byKey?: Map<string, { q: Proc; name: string }[]>;
  constructor(readonly p: Proc) {}
  of(key: string): { q: Proc; name: string }[] {
    if (!this.byKey) {
      this.byKey = new Map();
      for (const q of [this.p, ...this.p.others()]) {
        for (const m of q.nodes()) {
          const k = lockKey(q, m);
          if (k === null) continue;
          let l = this.byKey.get(k);
          if (!l) this.byKey.set(k, (l = []));
          l.push({ q, name: m.name });
        }
      }
    }
    return this.byKey.get(key) ?? [];
  }
}

/** Other open file descriptions (and format-lock holders) of the same image, in every process. */
function otherHolders(holders: HolderIndex, n: BdsNode, key: string, prepared: Map<string, { perm: number; shared: number }>) {
  const out: { perm: number; unshared: number }[] = [];
  for (const { q, name } of holders.of(key)) {
    if (q === holders.p && name === n.name) continue;
    const m = q.node(name);
    if (!m?.lock) continue;
    let perm = m.lock.perm;
    let unshared = PERM_ALL & ~m.lock.shared;
    const pre = q === holders.p ? prepared.get(m.name) : undefined;
    if (pre) { perm |= pre.perm; unshared |= PERM_ALL & ~pre.shared; } // prepare locks old ∪ new
    out.push({ perm, unshared });
  }
  return out;
}

/** raw_check_lock_bytes' error_append_hint (HMP prints it; QMP's reply has only the desc). */
const lockHint = (n: BdsNode) => `Is another process using the image [${n.filename}]?\n`;

/** raw_handle_perm_lock(RAW_PL_PREPARE) + raw_check_lock_bytes */
function checkLocks(holders: HolderIndex, n: BdsNode, key: string, perm: number, shared: number, prepared: Map<string, { perm: number; shared: number }>) {
  const old = n.lock!;
  if ((old.perm | perm) === old.perm && (old.shared & shared) === old.shared) return;
  const others = otherHolders(holders, n, key, prepared);
  for (const i of permBits(perm)) {
    if (others.some((o) => o.unshared & (1 << i))) throw new QmpErrorWithHint(`Failed to get "${permNames(1 << i)}" lock`, lockHint(n));
  }
  for (const i of permBits(PERM_ALL & ~shared)) {
    if (others.some((o) => o.perm & (1 << i))) throw new QmpErrorWithHint(`Failed to get shared "${permNames(1 << i)}" lock`, lockHint(n));
  }
}
