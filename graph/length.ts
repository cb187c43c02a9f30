// bdrv_getlength (block.c, 7.2): a node's length as the size checks of the jobs see it.
//
// bdrv_getlength -> bdrv_nb_sectors returns bs->total_sectors * BDRV_SECTOR_SIZE, so always a
// whole number of sectors. Only drivers with .has_variable_length ask their .bdrv_getlength
// again first (refresh_total_sectors). Among the modelled drivers these are raw-format,
// copy-on-read, compress and preallocate in 7.2 (none in 10.0: graph/rules.ts
// 'variable-length-drivers'), which each ask their file child in turn; the
// protocol driver `file` (bdrv_file) is NOT one of them (only host_device and host_cdrom are),
// so a file node keeps the length it had at open, or after a truncate or a write past its end
// through it (bdrv_co_write_req_finish), even when someone else changes the file on disk.
import { dirtyBitmapTruncate } from './bitmaps.js';
import { filterChild } from './jobs/chain.js';
import type { Proc } from './proc.js';
import { PERM_W } from './perm.js';
import { QemuAbortRefusal } from './qemu-abort.js';
import type { BdsNode } from './types.js';
import { rule } from './rules.js';
import type { Edge } from './types.js';

const SECTOR = 512;
const roundUp = (n: number) => Math.ceil(n / SECTOR) * SECTOR;


/**
 * How many variable-length nodes stacked on each other getLength asks down through; below that
 * it takes the last one's own length (what it had at open or last truncate). QEMU recurses all
 * the way; the cap keeps an add on top of a deep raw chain (bench, specs/graph/refresh-early-stop)
 * constant in cost, and no modelled scenario stacks that many.
 */
const VARIABLE_DEPTH = 64;

/** bdrv_getlength(node) in bytes; 0 for a node that is not there. */
export function getLength(p: Proc, node: string): number {
  const top = p.node(node);
  if (!top) return 0;
  // drivers with .has_variable_length (7.2), none on 10.0 (graph/rules.ts): down to the first
  // node that answers from its own total_sectors, then back up (iteratively: chains are deep)
  const variable = rule(p, 'variable-length-drivers');
  const path: BdsNode[] = [];
  let len = 0;
  let n: BdsNode = top;
  for (;;) {
    if (!variable.includes(n.driver) || path.length >= VARIABLE_DEPTH) {
      len = roundUp(n.size);
      break;
    }
    const file: string | undefined = (n.driver === 'raw' ? p.fileChild(n.name) : filterChild(p, n.name))?.child;
    const child: BdsNode | undefined = file ? p.node(file) : undefined;
    if (!child) {
      len = roundUp(n.size);
      break;
    }
    path.push(n);
    n = child;
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const v = path[i]!;
    if (v.driver !== 'raw') continue;
    // raw_getlength: the slice [offset, offset+size) of the file, cut at the file's end
    const offset = Number(v.options.offset ?? 0);
    if (len < offset) {
      len = 0;
      continue;
    }
    const rest = len - offset;
    len = roundUp(v.options.size !== undefined ? Math.min(Number(v.options.size), rest) : rest);
  }
  return len;
}

/**
 * Writes into an image's host file (qcow2_co_create's header, qcow2-snapshot.c's metadata) go through the node `file` and down its filters to the
 * protocol node; each level whose end they pass grows to it (bdrv_co_write_req_finish: end_sector
 * > bs->total_sectors). Nothing truncates the file first, so a longer file keeps its length, and
 * other nodes open on the same file (in this process or another) keep theirs.
 */
export function growWrittenNodes(p: Proc, file: string, end: number): void {
  // a raw node passes the write on to its file, shifted by its offset (raw_co_pwritev)
  for (let cur: string | undefined = file, i = 0; cur && i < 10000; i++) {
    const n = p.node(cur);
    if (!n) break;
    const bytes = Math.ceil(end / 512) * 512;
    // bdrv_co_write_req_finish: end_sector > bs->total_sectors grows it and the node's bitmaps
    if (roundUp(n.size) < bytes) dirtyBitmapTruncate(p, cur, bytes);
    if (n.size < bytes) p.patchNode(cur, { size: bytes });
    if (n.driver === 'raw') {
      end += Number(n.options.offset ?? 0);
      cur = p.fileChild(cur)?.child;
    } else cur = filterChild(p, cur)?.child;
  }
}

/**
 * How far (in the bytes of `file`, the qcow2 node's bs->file) a write may reach before a fixed-size
 * layer refuses it: raw_adjust_offset (block/raw-format.c) answers a write past a raw node's `size`
 * window (s->has_size) with -ENOSPC, before anything reaches its file; an offset shifts the window.
 * Filters pass the request on (bdrv_co_pwritev on their child); a protocol (`file`) grows.
 * Infinity: nothing bounds the write.
 */
export function writeRoom(p: Proc, file: string): number {
  let room = Infinity;
  let shift = 0; // where `file`'s byte 0 lies in the current node
  for (let cur: string | undefined = file, i = 0; cur && i < 10000; i++) {
    const n = p.node(cur);
    if (!n) break;
    if (n.driver === 'raw') {
      if (n.options.size !== undefined) room = Math.min(room, Number(n.options.size) - shift);
      shift += Number(n.options.offset ?? 0);
      cur = p.fileChild(cur)?.child;
    } else cur = filterChild(p, cur)?.child;
  }
  return room;
}

/**
 * writeRoom's bound with the errno of the level that sets it: a raw `size` window's -ENOSPC
 * (raw_adjust_offset), or an NBD client node's export end, fixed when it connected: a write past
 * it fails -EINVAL (live, qemu-io's qcow2 over an NBD client of a QSD 7.2.22 export: the
 * allocating write past the export's end, then the error path's trim, fail, and the request
 * answers `Invalid argument`; nbd_co_receive_request's "operation past EOF").
 */
export function writeBound(p: Proc, file: string): { room: number; errno: string } {
  let room = Infinity;
  let errno = 'No space left on device';
  let shift = 0;
  for (let cur: string | undefined = file, i = 0; cur && i < 10000; i++) {
    const n = p.node(cur);
    if (!n) break;
    if (n.driver === 'raw') {
      if (n.options.size !== undefined && Number(n.options.size) - shift < room) { room = Number(n.options.size) - shift; errno = 'No space left on device'; }
      shift += Number(n.options.offset ?? 0);
      cur = p.fileChild(cur)?.child;
    } else if (n.driver === 'nbd') {
      if (n.size - shift < room) { room = n.size - shift; errno = 'Invalid argument'; }
      break;
    } else cur = filterChild(p, cur)?.child;
  }
  return { room, errno };
}

/** strerror(EPERM) and strerror(ENOSPC), as error_setg_errno words them. */
export const EPERM_TEXT = 'Operation not permitted';
export const ENOSPC_TEXT = 'No space left on device';
/** strerror(ENOTSUP). */
export const ENOTSUP_TEXT = 'Operation not supported';

/**
 * Why a write a format driver sends down its edge `via` (bs->file of a qcow2 node) ending at byte
 * `end` of the child fails, level by level from the top as bdrv_co_pwritev goes down:
 * bdrv_co_write_req_prepare refuses any write to a read-only node (-EPERM), asserts that the node
 * is not inactive, and that the edge holds the write permission (a read-only parent over a writable child holds none: QEMU dies,
 * QemuAbortRefusal); then a raw node's raw_adjust_offset refuses one past its `size` window
 * (-ENOSPC), shifted by its offset for its file; filters pass it on; a snapshot-access node takes
 * no write at all (snapshot_access_co_pwritev_part: -ENOTSUP). undefined: the write lands.
 * `end` undefined: where it lands is not known (no window is asked then).
 */
export function writeRefusal(p: Proc, via: Edge, end?: number): string | undefined {
  let edge: Edge | undefined = via;
  for (let i = 0; edge && i < 10000; i++) {
    const n = p.node(edge.child);
    if (!n) break;
    if (n.ro) return EPERM_TEXT;
    // assert(!(bs->open_flags & BDRV_O_INACTIVE)) comes next (10.0's blockdev-set-active, `active`)
    if (n.inactive) {
      throw new QemuAbortRefusal(
        `Node '${nodeLabel(edge.parent)}' would write its metadata to '${n.name}', which is inactive, through its '${edge.name}' child (QEMU aborts here: bdrv_co_write_req_prepare: Assertion \`!(bs->open_flags & BDRV_O_INACTIVE)' failed); refused by blockgraph`,
        'bdrv_co_write_req_prepare');
    }
    if (!(edge.perm & PERM_W)) {
      throw new QemuAbortRefusal(
        `${edge.parent.kind === 'node' && p.node(edge.parent.node)?.inactive ? 'Inactive' : 'Read-only'} node '${nodeLabel(edge.parent)}' would write its metadata to '${n.name}', which is writable, through its '${edge.name}' child without the write permission (QEMU aborts here: bdrv_co_write_req_prepare: Assertion \`child->perm & BLK_PERM_WRITE' failed); refused by blockgraph`,
        'bdrv_co_write_req_prepare');
    }
    if (n.driver === 'snapshot-access') return ENOTSUP_TEXT;
    if (n.driver === 'raw') {
      if (end !== undefined && n.options.size !== undefined && end > Number(n.options.size)) return ENOSPC_TEXT;
      if (end !== undefined) end += Number(n.options.offset ?? 0);
      edge = p.fileChild(n.name);
    } else edge = filterChild(p, n.name);
  }
  return undefined;
}

const nodeLabel = (r: Edge['parent']) => (r.kind === 'node' ? r.node : r.kind === 'bb' ? r.bb : r.job);

/**
 * The write assertions of bdrv_co_write_req_prepare on a header write (bdrv_change_backing_file:
 * stream_prepare, bdrv_drop_intermediate's update_filename) of an inactive node: an inactive
 * parent holds its file without write, an inactivated file is inactive itself. The refusal only:
 * the other write failures stay the caller's own answer.
 */
export function refuseInactiveHeaderWrite(p: Proc, node: string): void {
  const via = p.fileChild(node);
  if (!via) return;
  if (!p.node(node)?.inactive && !p.node(via.child)?.inactive) return;
  writeRefusal(p, via);
}
