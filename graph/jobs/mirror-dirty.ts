// mirror_run's dirty bitmap (block/mirror.c, 7.2): what a mirror or an active commit has left to
// copy, and one pass of its loop. mirror_dirty_init marks what the source chain holds down to
// base_overlay (bdrv_is_allocated_above; for sync full with zero_target, everything unless the
// target can write zeroes with unmap); each mirror_iteration takes the next run of consecutive
// dirty chunks from the iterator, up to buf_size, issues all of it and only then asks the rate
// limit for a delay (block_job_ratelimit_get_delay, accounted per issued piece). There is no
// guest I/O in the model, so nothing is dirtied again once copied: when the bitmap is clean and
// nothing is in flight, mirror_run flushes the target and goes ready (job_transition_to_ready).
import type { Proc } from '../proc.js';
import { allocatedAbove } from './allocation.js';
import { filterChild, isFilter } from './chain.js';
import { getLength } from '../length.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { rule } from '../rules.js';

/** MAX_IN_FLIGHT * MAX_IO_BYTES */
export const DEFAULT_MIRROR_BUF_SIZE = 16 * (1 << 20);

export interface MirrorDirty {
  /** dirty extents, granularity-aligned, sorted, disjoint */
  dirty: [number, number][];
  granularity: number;
  /** s->buf_size: ROUND_UP(buf_size, granularity) */
  bufSize: number;
  /** where the dirty iterator stands (bdrv_dirty_iter_next continues from here) */
  iter: number;
  /** bdrv_can_write_zeroes_with_unmap(target): zero runs are issued as write-zeroes, not accounted */
  writeZeroesOk: boolean;
}

const PROTOCOL_ZERO_UNMAP = new Set(['file']);
const PASS_THROUGH_ZERO_FLAGS = new Set(['raw', 'throttle', 'copy-on-read', 'blkdebug', 'compress', 'copy-before-write', 'preallocate']);

/**
 * bdrv_can_write_zeroes_with_unmap: writable, opened with discard=unmap (BDRV_O_UNMAP), and the
 * driver's supported_zero_flags hold BDRV_REQ_MAY_UNMAP (file-posix; qcow2 v3, qcow2_do_open;
 * raw and the filters pass their file child's flags through; null-co has none).
 */
export function canWriteZeroesWithUnmap(p: Proc, node: string): boolean {
  const n = p.node(node);
  if (!n || n.ro) return false;
  if (!openedWithUnmap(p, node)) return false;
  return mayUnmap(p, node, 0);
}

/** BDRV_O_UNMAP in the node's open flags: discard=unmap, given or inherited (bdrv_parse_discard_flags). */
export function openedWithUnmap(p: Proc, node: string): boolean {
  const n = p.node(node);
  if (!n) return false;
  const d = (n.options as Record<string, unknown> | undefined)?.discard;
  return n.unmap ?? (d === 'unmap' || d === 'on');
}

function mayUnmap(p: Proc, node: string, depth: number): boolean {
  const n = p.node(node);
  if (!n || depth > 1000) return false;
  if (PROTOCOL_ZERO_UNMAP.has(n.driver)) return true;
  if (n.driver === 'qcow2') {
    const file = p.fileChild(node)?.child;
    return (file ? qcow2Compat(p, file) : '1.1') !== '0.10';
  }
  if (PASS_THROUGH_ZERO_FLAGS.has(n.driver)) {
    const c = p.fileChild(node)?.child ?? p.childrenOf(node).find((e) => e.name === 'image')?.child;
    return c ? mayUnmap(p, c, depth + 1) : false;
  }
  return false;
}

function qcow2Compat(p: Proc, file: string): string | undefined {
  const n = p.node(file);
  return n?.driver === 'file' ? p.image(n.filename)?.compat : undefined;
}

/** hbitmap_set's cover of [offset, offset + count) at the bitmap's granularity, merged in. */
function setDirty(dirty: [number, number][], offset: number, count: number, g: number): void {
  const s = Math.floor(offset / g) * g;
  const e = Math.ceil((offset + count) / g) * g;
  const last = dirty[dirty.length - 1];
  if (last && s <= last[1]) last[1] = Math.max(last[1], e);
  else dirty.push([s, e]);
}

/**
 * mirror_dirty_init. `baseOverlay` null: the whole chain (bdrv_find_overlay(bs, NULL) is its
 * bottom). is_none_mode skips it: the bitmap starts clean.
 */
export function mirrorDirtyInit(
  p: Proc,
  o: { source: string; baseOverlay: string | null; len: number; granularity: number; zeroTarget: boolean; writeZeroesOk: boolean },
): [number, number][] {
  const dirty: [number, number][] = [];
  if (o.len <= 0) return dirty;
  // zero_target without write-zeroes-with-unmap: everything is copied
  if (o.zeroTarget && !o.writeZeroesOk) {
    setDirty(dirty, 0, o.len, o.granularity);
    return dirty;
  }
  refuseShortFirstLayer(p, o.source, o.len);
  for (let offset = 0, guard = 0; offset < o.len && guard < 1_000_000; guard++) {
    const st = allocatedAbove(p, o.source, o.baseOverlay, true, offset, o.len - offset);
    const n = st.n > 0 ? st.n : o.len - offset;
    if (st.alloc) setDirty(dirty, offset, n, o.granularity);
    offset += n;
  }
  return dirty;
}

/**
 * fuzz 2207863690 (7.2): mirror_dirty_init walks [0, bdev_length) with bdrv_is_allocated_above
 * and asserts that each call covers some bytes (`assert(count)`). bdev_length is
 * bdrv_getlength(source): for a filter without .has_variable_length (blkdebug, throttle, …) the
 * length it had at open. Its first call, bdrv_co_common_block_status_above, asks the source itself,
 * and a filter answers by asking its filtered child at the same offset (bdrv_co_block_status:
 * BDRV_BLOCK_RAW recursion, each level clamped to its own bdrv_getlength); a level whose end lies
 * before bdev_length answers BDRV_BLOCK_EOF with pnum 0 there, which that first call returns as
 * is (rule 'block-status-first-layer-eof'): count 0, and QEMU aborts (mirror.c:871). The filter's
 * child became shorter after its open: a blockdev-snapshot whose overlay is a smaller image
 * replaced the child (bdrv_append), a reopen gave it another file. 10.0 survives the recorded case
 * (its blkdebug reports the child's length after the append: the 10.0 recording
 * aborts/abort-14-commit-filter-over-shorter-image). Only reached when the dirty bitmap is
 * initialised from block status (not sync none, not zero_target onto a target that cannot unmap).
 */
function refuseShortFirstLayer(p: Proc, source: string, len: number): void {
  if (!rule(p, 'block-status-first-layer-eof')) return;
  for (let cur: string | undefined = source, i = 0; cur && i < 10000; i++) {
    const end = getLength(p, cur);
    if (end < len) {
      throw new QemuAbortRefusal(
        `Node '${cur}' ends at ${end} bytes, before the ${len} bytes of mirror source '${source}' that passes its block status through to it (QEMU 7.2 aborts here: mirror_dirty_init: Assertion \`count' failed); refused by blockgraph`,
        'mirror_dirty_init',
      );
    }
    if (!isFilter(p, cur)) break;
    cur = filterChild(p, cur)?.child;
  }
}

/**
 * One mirror_iteration: the run of dirty chunks at the iterator (restarting at 0 past the last),
 * at most buf_size, clipped to the source's length, is cleared and issued. Returns what it
 * covers and how many bytes the rate limit is told about.
 */
export function mirrorIteration(p: Proc, m: MirrorDirty, source: string, len: number): { offset: number; bytes: number; accounted: number } | undefined {
  if (!m.dirty.length) return undefined;
  let ext = m.dirty.find((x) => x[1] > m.iter);
  if (!ext) { m.iter = 0; ext = m.dirty[0]!; }
  const offset = Math.max(ext[0], m.iter);
  const end = Math.min(ext[1], offset + m.bufSize, Math.max(len, offset + m.granularity));
  const bytes = Math.min(end, len) - offset;
  // bdrv_reset_dirty_bitmap_locked(offset, nb_chunks * granularity)
  m.dirty = m.dirty.flatMap(([s, e]): [number, number][] => {
    if (e <= offset || s >= end) return [[s, e]];
    const out: [number, number][] = [];
    if (s < offset) out.push([s, offset]);
    if (e > end) out.push([end, e]);
    return out;
  });
  m.iter = end;
  let accounted = Math.max(bytes, 0);
  if (m.writeZeroesOk && bytes > 0) {
    // MIRROR_METHOD_ZERO/DISCARD pieces (no BDRV_BLOCK_DATA in the chain) are not accounted
    accounted = 0;
    for (let o = offset, guard = 0; o < offset + bytes && guard < 100_000; guard++) {
      const st = allocatedAbove(p, source, null, true, o, offset + bytes - o);
      const n = st.n > 0 ? st.n : offset + bytes - o;
      if (st.alloc) accounted += n;
      o += n;
    }
  }
  return { offset, bytes: Math.max(bytes, 0), accounted };
}
