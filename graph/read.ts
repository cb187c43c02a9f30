// One read through the graph, as the block layer routes it (bdrv_co_preadv_part down the drivers'
// .bdrv_co_preadv): which host bytes a read at `offset` of a node lands on, or the errno it fails
// with. Format drivers opening on a node read their header this way (qcow2_do_open:
// bdrv_pread(bs->file, 0, sizeof(header))), so every source of a failing read the model knows
// sits here: blkdebug's inject-error rules (blkdebug_debug_event + rule_check), snapshot-access
// over a node without .bdrv_co_preadv_snapshot (-ENOTSUP).
import { imageBehind } from './images.js';
import type { Proc } from './proc.js';
import { deviceOrNodeName } from './named-blk.js';
import { l2EntryThroughGuest } from './qcow2-garbage-l2.js';
import { readFill } from './qcow2-compress.js';
import type { Image } from './types.js';
import { PASS_THROUGH } from './pass-through.js';

export interface ReadView {
  name?: string;
  node(n: string): { driver: string; filename: string; options: Record<string, unknown>; align?: number; size?: number; extra?: Record<string, unknown> } | undefined;
  image(f: string): Image | undefined;
  childrenOf(n: string): { name: string; child: string }[];
  others?(): ReadView[];
  export?(id: string): { node: string } | undefined;
}

/** What a read gives: bytes of a catalogued image's host file at `offset`, a failure, or other bytes. */
export type ReadResult = { image: Image; offset: number } | { errno: string } | { none: true };

/** strerror (glibc) of the errnos a blkdebug rule may name; others as glibc prints them. */
const STRERROR: Record<number, string> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 4: 'Interrupted system call', 5: 'Input/output error',
  6: 'No such device or address', 7: 'Argument list too long', 9: 'Bad file descriptor', 11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory', 13: 'Permission denied', 14: 'Bad address', 16: 'Device or resource busy', 17: 'File exists',
  19: 'No such device', 22: 'Invalid argument', 24: 'Too many open files', 27: 'File too large', 28: 'No space left on device',
  30: 'Read-only file system', 32: 'Broken pipe', 34: 'Numerical result out of range', 61: 'No data available',
  95: 'Operation not supported', 110: 'Connection timed out', 122: 'Disk quota exceeded', 125: 'Operation canceled',
};
export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

/** A blkdebug rule as blkdebug_open's add_rule parsed it (BlkdebugRule). */
export interface BlkdebugRule {
  event: string;
  /** the rule applies only in this state (0: any) */
  state: number;
  inject?: { errno: number; sector: number; iotype?: string; once: boolean };
  newState?: number;
}

const num = (v: unknown, dflt: number) => (v === undefined || v === null || v === '' ? dflt : Number(v));
const bool = (v: unknown) => v === true || v === 'on' || v === 'true';

/**
 * blkdebug_open's rules from its options (add_rule over `inject-error` then `set-state`), each
 * list inserted at the head of s->rules[event] (QLIST_INSERT_HEAD): per event, last given first.
 * They are fixed at open: blkdebug_reopen_prepare changes nothing.
 */
export function blkdebugRules(opts: Record<string, unknown>): BlkdebugRule[] {
  const out: BlkdebugRule[] = [];
  const list = (k: string) => (Array.isArray(opts[k]) ? (opts[k] as Record<string, unknown>[]) : []);
  for (const r of list('inject-error')) {
    out.unshift({
      event: String(r.event), state: num(r.state, 0),
      inject: { errno: num(r.errno, 5), sector: num(r.sector, -1), ...(r.iotype !== undefined ? { iotype: String(r.iotype) } : {}), once: bool(r.once) },
    });
  }
  for (const r of list('set-state')) out.unshift({ event: String(r.event), state: num(r.state, 0), newState: num(r['new_state'], 0) });
  return out;
}

/** A blkdebug node's s->state and s->active_rules (indices into its rules); absent: as opened. */
export interface DebugNodeState { state: number; active: number[]; removed?: number[] }
export const DEBUG_OPENED: DebugNodeState = { state: 1, active: [] };

/** Where the blkdebug states a read changes are kept: the node (graph/blkdebug-state.ts) or nowhere. */
export interface DebugStore {
  get(view: ReadView, node: string): DebugNodeState;
  set(view: ReadView, node: string, st: DebugNodeState): void;
}

/**
 * A real read's commit (graph/blkdebug-state.ts commitDebugState): the blkdebug states it reaches,
 * and `io`, where the events its requests send go (graph/io-events.ts).
 */
export type DebugCommit = DebugStore['set'] & { io?: (event: string, data: Record<string, unknown>) => void };

/** The blkdebug nodes' state as the read finds it in the node (extra.debug), changes written back. */
function nodeStore(commit?: DebugStore['set']): DebugStore {
  const seen = new Map<string, DebugNodeState>();
  const key = (view: ReadView, node: string) => `${view.name ?? ''}\0${node}`;
  return {
    get: (view, node) => seen.get(key(view, node)) ?? (view.node(node)?.extra?.debug as DebugNodeState | undefined) ?? DEBUG_OPENED,
    set: (view, node, st) => { seen.set(key(view, node), st); commit?.(view, node, st); },
  };
}

/**
 * The state of the blkdebug nodes a read passes (s->state, s->active_rules): kept in the node from
 * blkdebug_open on (state 1, no active rule) across commands, failed ones included, since no
 * transaction or open failure takes a debug event back.
 */
class DebugState {
  constructor(private readonly store: DebugStore) {}

  private rules(view: ReadView, node: string): BlkdebugRule[] {
    return (view.node(node)?.extra?.rules as BlkdebugRule[] | undefined) ?? [];
  }

  /** bdrv_debug_event (block.c): only a node whose driver has .bdrv_debug_event (blkdebug) hears it. */
  event(view: ReadView, node: string | undefined, event: string): void {
    const n = node === undefined ? undefined : view.node(node);
    if (!n || n.driver !== 'blkdebug') return;
    // blkdebug_debug_event -> process_rule for each rule of the event in s->rules[event] order
    // (QLIST_INSERT_HEAD at open: blkdebugRules' order), the rules of other states skipped
    const st = this.store.get(view, node!);
    let next = st.state;
    let active = st.active;
    let injects = 0;
    let changed = false;
    for (const [i, r] of this.rules(view, node!).entries()) {
      if (r.event !== event || (r.state && r.state !== st.state) || st.removed?.includes(i)) continue;
      if (r.inject) {
        // the first inject rule of an event empties the active list (QSIMPLEQ_INIT), each one
        // goes to its head (QSIMPLEQ_INSERT_HEAD)
        if (++injects === 1) active = [];
        active = [i, ...active];
        changed = true;
      } else if (r.newState !== undefined) next = r.newState;
    }
    if (changed || next !== st.state) this.store.set(view, node!, { ...st, state: next, active });
  }

  /** rule_check (blkdebug.c) for a read of [offset, offset + bytes): the first active rule that matches. */
  check(view: ReadView, node: string, offset: number, bytes: number, iotype = 'read'): string | undefined {
    const st = this.store.get(view, node);
    const rules = this.rules(view, node);
    const k = st.active.findIndex((i) => {
      const r = rules[i]?.inject;
      if (!r) return false;
      const at = r.sector === -1 ? -1 : r.sector * 512;
      // iotype_mask: the given type, or by default read, write, write-zeroes, discard and flush
      const mask = r.iotype === undefined ? ['read', 'write', 'write-zeroes', 'discard', 'flush'].includes(iotype) : r.iotype === iotype;
      return (at === -1 || (bytes > 0 && at >= offset && at < offset + bytes)) && mask;
    });
    if (k < 0) return undefined;
    const r = rules[st.active[k]!]!.inject!;
    if (!r.errno) return undefined;
    // a `once` rule leaves the active list and the node's rules (remove_rule) when it fires
    if (r.once) this.store.set(view, node, { state: st.state, active: st.active.filter((_, j) => j !== k), removed: [...(st.removed ?? []), st.active[k]!] });
    return strerror(r.errno);
  }
}

/** sizeof(QCowHeader) in 7.2 (with compression_type and its padding): the bytes qcow2_do_open reads first */
export const QCOW_HEADER_BYTES = 112;

/**
 * A read of [offset, offset + bytes) of `node` followed down the graph (bdrv_co_preadv_part):
 * - file: the host file's bytes (raw_co_prw);
 * - raw (raw_co_preadv): BLKDBG_EVENT(bs->file, BLKDBG_READ_AIO), then its file at offset + `offset`;
 * - blkdebug (blkdebug_co_preadv): rule_check, then its image child; the request is first padded to
 *   the node's request alignment (bdrv_pad_request), which is what a rule's `sector` is matched with;
 * - the filters that read their file child (throttle, copy-on-read, compress, copy-before-write);
 * - snapshot-access (snapshot_access_co_preadv_part -> bdrv_co_preadv_snapshot): only a
 *   copy-before-write child answers (cbw_co_preadv_snapshot reads the snapshot from its source),
 *   any other fails with -ENOTSUP;
 * - quorum: the children's vote (quorumRead);
 * - nbd: the export's node in the serving process;
 * - qcow2's guest view at offset 0 (qcow2_co_preadv_task): an allocated cluster is guest data read
 *   through the file (BLKDBG_READ_AIO there), an unallocated one reads the backing child after
 *   BLKDBG_READ_BACKING_AIO on the file, zeroes without one.
 * Anything else (null-co's zeroes, …) gives bytes that are no image the catalogue knows.
 */
export function readAt(p: ReadView, node: string, offset: number, bytes: number, commit?: DebugStore['set']): ReadResult {
  const dbg = new DebugState(nodeStore(commit));
  let cur: string | undefined = node;
  for (let i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    if (!n) return { none: true };
    // bdrv_aligned_preadv: a read at or past the node's end (bdrv_getlength, whole sectors) is
    // filled with zeroes without calling the driver (fuzz 2848784256: snapshot-access over an
    // empty raw slice reads zeroes, not -ENOTSUP)
    if (typeof n.size === 'number' && offset >= Math.ceil(n.size / 512) * 512) return { none: true };
    const kids = p.childrenOf(cur);
    const via = (name: string) => kids.find((e) => e.name === name)?.child;
    switch (n.driver) {
      case 'file': {
        const img = p.image(n.filename);
        return img ? { image: img, offset } : { none: true };
      }
      case 'raw':
        cur = via('file');
        dbg.event(p, cur, 'read_aio');
        offset += Number(n.options.offset ?? 0);
        break;
      case 'blkdebug': {
        // bdrv_aligned_preadv's padding to bs->bl.request_alignment (blkdebug_refresh_limits: align)
        const a = n.align || 1;
        const start = Math.floor(offset / a) * a;
        const err = dbg.check(p, cur, start, Math.ceil((offset + bytes) / a) * a - start);
        if (err) return { errno: err };
        cur = via('image');
        break;
      }
      case 'snapshot-access': {
        const f = via('file');
        if (!f || p.node(f)?.driver !== 'copy-before-write') return { errno: 'Operation not supported' };
        cur = f;
        break;
      }
      case 'quorum': {
        const voted = quorumRead(p, cur, offset, bytes, commit);
        if (voted) return voted;
        cur = via('children.0');
        break;
      }
      case 'blkverify': {
        // blkverify_co_preadv: the `test` child's bytes, compared with `raw`'s; known only where
        // both show the same image at the same offset (a mismatch makes the process exit)
        const test = via('test');
        const raw = via('raw');
        if (test === undefined || raw === undefined) return { none: true };
        const a = readAt(p, test, offset, bytes, commit);
        const b = readAt(p, raw, offset, bytes, commit);
        if ('errno' in a) return a;
        if ('errno' in b) return b;
        return 'image' in a && 'image' in b && a.image.file === b.image.file && a.offset === b.offset ? a : { none: true };
      }
      case 'nbd': {
        const c = (n as { extra?: { nbd?: { proc: string; export: string } } }).extra?.nbd;
        const host = c && p.others ? [p, ...p.others()].find((q) => q.name === c.proc) : undefined;
        const exp = host?.export?.(c!.export);
        if (!host || !exp) return { none: true };
        p = host;
        cur = exp.node;
        break;
      }
      case 'qed': {
        // bdrv_qed_co_readv -> qed_aio_read_data: a cluster the tables do not map is read from
        // the backing (qed_read_backing_file: BLKDBG_READ_BACKING_AIO on the file), zeroes
        // without one (fuzz 3520123153: a qcow2 node over a new qed image whose raw backing file
        // is a qcow2 image reads that image's header). Only offset 0 of a known image's layout.
        const f = via('file');
        const img = f ? imageBehind(p, f) : undefined;
        if (offset !== 0 || !img || img.format !== 'qed' || img.guest) return { none: true };
        if ((img.data ?? []).some(([s, e]) => s < bytes && e > 0)) return { none: true };
        const b = via('backing');
        dbg.event(p, f, 'read_backing_aio');
        if (b === undefined) return { none: true };
        cur = b;
        break;
      }
      case 'qcow2': {
        const f = via('file');
        const img = f ? imageBehind(p, f) : undefined;
        if (offset !== 0) return { none: true };
        if (!img && f) {
          // a file reopened onto a format node: the L2 entry comes from its guest data
          // (graph/qcow2-garbage-l2.ts)
          const g = l2EntryThroughGuest(p as Proc, cur, f);
          if (!g) return { none: true };
          if (g.l2) {
            // l2_load -> qcow2_cache_do_get: BLKDBG_L2_LOAD, bdrv_pread(bs->file)
            dbg.event(p, f, 'l2_load');
            const r = readFrom(p, dbg, f);
            if ('errno' in r) return r;
          }
          if (g.kind === 'compressed-past-end') {
            // qcow2_co_preadv_compressed: BLKDBG_READ_COMPRESSED, the read, then decompression fails
            dbg.event(p, f, 'read_compressed');
            const r = readFrom(p, dbg, f);
            return 'errno' in r ? r : { errno: strerror(5) };
          }
        } else if (!img || img.format !== 'qcow2' || img.dataFile !== undefined) return { none: true };
        else if (img.guest) {
          // a qcow2 parent's metadata writes rewrote the header cluster (graph/guest-image.ts):
          // guest data of the image's own, which holds that parent's image
          dbg.event(p, f, 'read_aio');
          const r = readFrom(p, dbg, f!);
          return 'errno' in r ? r : { image: img.guest, offset: 0 };
        } else if ((img.data ?? []).some(([s, e]) => s < bytes && e > 0)) {
          // guest data of the image's own: read at its host offset (past the metadata)
          dbg.event(p, f, 'read_aio');
          const r = readFrom(p, dbg, f!);
          return 'errno' in r ? r : { none: true };
        }
        const b = via('backing');
        dbg.event(p, f, 'read_backing_aio');
        if (b === undefined) return { none: true };
        cur = b;
        break;
      }
      default: {
        const next = PASS_THROUGH[n.driver];
        if (next === undefined) return { none: true };
        cur = via(next);
      }
    }
  }
  return { none: true };

  // the errors on the way to a cluster of guest data (blkdebug rules without a sector)
  function readFrom(q: ReadView, d: DebugState, start: string): ReadResult {
    let c: string | undefined = start;
    for (let k = 0; c !== undefined && k < 1000; k++) {
      const m = q.node(c);
      if (!m) break;
      const via = (name: string) => q.childrenOf(c!).find((e) => e.name === name)?.child;
      if (m.driver === 'blkdebug') {
        const err = d.check(q, c, Number.MAX_SAFE_INTEGER, 0);
        if (err) return { errno: err };
        c = via('image');
      } else if (m.driver === 'raw') {
        c = via('file');
        d.event(q, c, 'read_aio');
      } else if (PASS_THROUGH[m.driver] !== undefined) c = via(PASS_THROUGH[m.driver]!);
      else break;
    }
    return { none: true };
  }
}

/**
 * quorum_co_preadv -> read_quorum_children -> quorum_vote (block/quorum.c): every child is read;
 * when all the reads agree the first is the answer, else the versions are counted
 * (quorum_count_vote) and the version with the most votes wins (quorum_get_vote_winner); fewer
 * votes than vote-threshold fail the read with -EIO after QUORUM_FAILURE (fuzz 394411294: a
 * null-co child of zeroes against a qcow2 child of 0x5d data, threshold 2), else every child of
 * another version gets QUORUM_REPORT_BAD (quorum_report_bad_versions). quorum_count_vote puts a new
 * version and each of its children at the head of their lists, and the winner is the first in
 * list order whose count beats every one before it: of versions with equal votes the one first
 * read last wins, and the reports go from the version read last to the first, each's children
 * from the highest index down. The events go where a real read's go (`commit.io`,
 * graph/io-events.ts); their sectors are the request's (acb->offset, acb->bytes) rounded out.
 * The model tells the bytes apart where it knows them: an image's host bytes at an offset (the
 * same file and offset agree), or one byte value throughout (graph/qcow2-compress.ts readFill;
 * an image header is never one byte value). undefined: a child failed, or two reads the model
 * cannot compare (two different images' headers may be byte-identical): the first child's read,
 * as before, without events. Not modelled: failed children's QUORUM_REPORT_BAD with their error
 * and their vote (quorum_vote_error), rewrite-corrupted, the fifo read pattern.
 */
export function quorumRead(p: ReadView, q: string, offset: number, bytes: number, commit?: DebugStore['set']): ReadResult | undefined {
  const n = p.node(q);
  if (!n || n.options['read-pattern'] === 'fifo') return undefined;
  const kids = p.childrenOf(q).filter((e) => /^children\.\d+$/.test(e.name)).sort((a, b) => Number(a.name.slice(9)) - Number(b.name.slice(9)));
  if (!kids.length) return undefined;
  const versions: { key: string; r: ReadResult; child: string }[] = [];
  for (const k of kids) {
    const r = readAt(p, k.child, offset, bytes, commit);
    if ('errno' in r) return undefined;
    let key: string | undefined;
    if ('image' in r) key = `image:${r.image.file}@${r.offset}`;
    else {
      const v = readFill(p as Proc, k.child, offset, bytes);
      if (v !== undefined) key = `fill:${v}`;
    }
    if (key === undefined) return undefined;
    versions.push({ key, r, child: k.child });
  }
  const images = new Set(versions.filter((v) => v.key.startsWith('image:')).map((v) => v.key));
  if (images.size > 1) return undefined;
  if (versions.every((v) => v.key === versions[0]!.key)) return versions[0]!.r;
  // quorum_count_vote's vote_list: versions newest first, each with its children newest first
  const list: { key: string; r: ReadResult; children: string[] }[] = [];
  for (const v of versions) {
    const found = list.find((x) => x.key === v.key);
    if (found) found.children.unshift(v.child);
    else list.unshift({ key: v.key, r: v.r, children: [v.child] });
  }
  // quorum_get_vote_winner: the first whose count is greater than the max so far
  let winner = list[0]!;
  for (const v of list) if (v.children.length > winner.children.length) winner = v;
  const io = (commit as DebugCommit | undefined)?.io;
  // (the members in the order QEMU's QDict hash table writes them, as recorded)
  const sectors = { 'sectors-count': Math.ceil((offset + bytes) / 512) - Math.floor(offset / 512), 'sector-num': Math.floor(offset / 512) };
  const threshold = Number(n.options['vote-threshold'] ?? 1);
  if (winner.children.length < threshold) {
    // quorum_report_failure: bdrv_get_device_or_node_name (a legacy drive's name above it)
    if (io) io('QUORUM_FAILURE', { reference: deviceOrNodeName(p as Proc, q), ...sectors });
    return { errno: strerror(5) };
  }
  for (const v of list) {
    if (v === winner) continue;
    for (const c of v.children) io?.('QUORUM_REPORT_BAD', { 'node-name': c, ...sectors, type: 'read' });
  }
  return winner.r;
}

/** What a format driver's first read at offset 0 through a node gives (qcow2_do_open's bdrv_pread). */
export type HeaderRead = { image: Image } | { errno: string } | { none: true };

/**
 * The header a format driver opening on `node` reads (qcow2_do_open: bdrv_pread(bs->file, 0,
 * sizeof(QCowHeader))): an image header the catalogue knows, a read error (its errno text), or
 * bytes that are no image header (zeroes, data, a slice of a file at an offset).
 */
export function probeHeader(p: ReadView, node: string, commit?: DebugStore['set']): HeaderRead {
  const r = readAt(p, node, 0, QCOW_HEADER_BYTES, commit);
  if ('errno' in r) return r;
  return 'image' in r && r.offset === 0 ? { image: r.image } : { none: true };
}

/**
 * blkdebug_co_preadv / _pwritev's rule_check for a request of [offset, offset + bytes) on the
 * blkdebug `node` (iotype 'read', 'write', …): the errno text, or undefined. The request is first
 * padded to the node's request alignment (bdrv_pad_request, blkdebug_refresh_limits: align),
 * which is what a rule's `sector` is matched with. A request of 0 bytes (a read whose host
 * offset the model does not know) is not padded: only rules without a sector match it.
 */
export function debugCheck(p: ReadView, node: string, offset: number, bytes: number, commit?: DebugStore['set'], iotype = 'read'): string | undefined {
  const a = bytes > 0 ? p.node(node)?.align || 1 : 1;
  const start = Math.floor(offset / a) * a;
  return new DebugState(nodeStore(commit)).check(p, node, start, Math.ceil((offset + bytes) / a) * a - start, iotype);
}

/** bdrv_debug_event on `node` outside a read (a driver's BLKDBG_EVENT before its own metadata read). */
export function debugEvent(p: ReadView, node: string, event: string, commit?: DebugStore['set']): void {
  new DebugState(nodeStore(commit)).event(p, node, event);
}

/**
 * The reads qcow2_do_open makes through bs->file after the header, in its order, with the error
 * each one fails with (undefined: all fine). The layout is qcow2_co_create's: refcount table in
 * cluster 1, L1 table in cluster 3.
 * - the L1 table (l1_size > 0): "Could not read L1 table";
 * - qcow2_refcount_init: BLKDBG_EVENT(bs->file, BLKDBG_REFTABLE_LOAD), then the refcount table:
 *   "Could not initialize refcount handling";
 * - qcow2_read_extensions: the first extension header, right after the header
 *   (header_length: 112 for v3, 72 for v2): "qcow2_read_extension: ERROR: pread fail from offset N".
 * Reads past the first extension header (further extensions, the backing file name, snapshots,
 * bitmaps) are not followed.
 */
export function qcow2OpenReads(p: ReadView, file: string, img: Image, commit?: DebugStore['set']): { l1(): string | undefined; rest(): string | undefined } {
  const cs = img.clusterSize ?? 65536;
  const l1Size = Math.ceil(img.size / ((cs * cs) / 8));
  const fail = (r: ReadResult) => ('errno' in r ? r.errno : undefined);
  return {
    // before qcow2_update_options
    l1() {
      const e = l1Size > 0 ? fail(readAt(p, file, 3 * cs, 8 * l1Size, commit)) : undefined;
      return e && `Could not read L1 table: ${e}`;
    },
    // after it
    rest() {
      debugEvent(p, file, 'reftable_load', commit);
      let e = fail(readAt(p, file, cs, cs, commit));
      if (e) return `Could not initialize refcount handling: ${e}`;
      const extStart = img.compat === '0.10' ? 72 : 112;
      e = fail(readAt(p, file, extStart, 8, commit));
      return e && `qcow2_read_extension: ERROR: pread fail from offset ${extStart}: ${e}`;
    },
  };
}
