// qcow2 internal snapshots as the block layer reaches them (block/snapshot.c, block/qcow2-snapshot.c,
// 7.2). Only the snapshot table's ids and names are kept. The table a qcow2 node works with is its
// own, in memory (BDRVQcow2State.snapshots: qcow2_read_snapshots at open, then each create and
// delete edits it before qcow2_write_snapshots writes it through bs->file); the image keeps what was
// last written there, so it outlives the node and a later open reads it. Where bs->file is a format
// node (its file node replaced by an overlay), the writes are that node's guest data
// (graph/guest-image.ts); where its bytes are no image the model knows, the node's table still
// answers. Creating one changes no node or edge. A driver without snapshot callbacks falls
// back to its primary child when no other child holds data (bdrv_snapshot_fallback_child), so a
// filter or raw node over a qcow2 node reaches the qcow2 node; qcow2 is the only driver with them.
import { QmpError } from '../errors/index.js';
import { allocOwner, metadataView, readView, writeView, type MetadataView } from './guest-image.js';
import { growWrittenNodes, writeRefusal } from './length.js';
import { ROLE_DATA, ROLE_FILTERED, ROLE_METADATA, ROLE_PRIMARY } from './perm.js';
import type { Proc } from './proc.js';
import { QmpErrorAfterAbort } from './abort-residue.js';
import { afterFailedCreate, afterFailedDelete, afterSnapshotCreate, afterSnapshotDelete, withMetaIo, type MetaIo, type WriteRefusal } from './snapshot-clusters.js';
import { qcow2Discards } from './discard-stats.js';
import { noteWritePath } from './wr-highest.js';
import type { Image } from './types.js';
import { hostFileLength } from './open.js';
import { refuseCbwMetadataGrowth } from './jobs/cbw-growth.js';
import { notePreallocation } from './preallocate-truncate.js';

/** A snapshot table entry; `vm`: the entry has a VM state (vm_state_size > 0: save_snapshot's vmstate node). */
export interface SnapshotEntry { id: string; name: string; vm?: true }

/** bdrv_snapshot_fallback_child: the primary child, unless another child holds data too. */
function fallback(p: Proc, bs: string): string | undefined {
  const kids = p.childrenOf(bs);
  const primary = kids.find((e) => e.role & ROLE_PRIMARY);
  if (!primary) return undefined;
  if (kids.some((e) => e !== primary && e.role & (ROLE_DATA | ROLE_METADATA | ROLE_FILTERED))) return undefined;
  return primary.child;
}

/** The node whose driver answers (qcow2), following bdrv_snapshot_fallback; undefined: -ENOTSUP. */
function snapshotNode(p: Proc, bs: string): string | undefined {
  let cur: string | undefined = bs;
  for (let i = 0; cur && i < 1000; i++) {
    if (p.node(cur)?.driver === 'qcow2') return cur;
    cur = fallback(p, cur);
  }
  return undefined;
}

/** bdrv_can_snapshot: the driver (or its fallback) creates snapshots and the node is writable. */
export function canSnapshot(p: Proc, bs: string): boolean {
  let cur: string | undefined = bs;
  for (let i = 0; cur && i < 1000; i++) {
    const n = p.node(cur);
    // bdrv_is_writable: BDRV_O_RDWR without BDRV_O_INACTIVE (bdrv_is_writable_after_reopen)
    if (!n || n.ro || n.inactive) return false;
    if (n.driver === 'qcow2') return true;
    cur = fallback(p, cur);
  }
  return false;
}

/** has_data_file: the qcow2 node has an external data file (s->data_file != bs->file). */
const hasDataFile = (p: Proc, q: string) => p.childrenOf(q).some((e) => e.name === 'data-file');

/** bdrv_snapshot_list (qcow2_snapshot_list: the node's in-memory table); throws bdrv_snapshot_find_by_id_and_name's error. */
function list(p: Proc, bs: string): SnapshotEntry[] {
  const q = snapshotNode(p, bs);
  // -ENOTSUP: no driver with .bdrv_snapshot_list, or a qcow2 image with an external data file
  if (!q || hasDataFile(p, q)) throw new QmpError('Failed to get a snapshot list: Operation not supported');
  return p.node(q)!.snapshots ?? [];
}

/** s->snapshots after an operation (absent when empty, as a node opened without any). */
function setTable(p: Proc, q: string, list: SnapshotEntry[]): void {
  const { snapshots: _, ...rest } = p.node(q)!;
  p.putNode(list.length ? { ...rest, snapshots: list } : rest);
}

/** bdrv_snapshot_find_by_id_and_name */
export function findSnapshot(p: Proc, bs: string, id: string | null, name: string | null): SnapshotEntry | undefined {
  return list(p, bs).find((s) => (id === null || s.id === id) && (name === null || s.name === name));
}

/**
 * What qcow2 node `q`'s metadata writes go through: bs->file, the image they reach there
 * (graph/guest-image.ts: a host image file, or what a format node's guest data shows; undefined
 * where its bytes are no image the model knows), and why a write there ending at a byte fails
 * (writeRefusal; with no image only a read-only level is known to refuse it).
 */
function target(p: Proc, q: string): { img: Image | undefined; view: MetadataView | undefined; file: string | undefined; refuse: WriteRefusal } {
  const view = metadataView(p, q);
  const via = p.fileChild(q);
  return { img: view?.img, view, file: via?.child, refuse: (end) => (via ? writeRefusal(p, via, view ? end : undefined) : undefined) };
}

/**
 * Stores the image after a snapshot operation under its view key (graph/guest-image.ts); the
 * nodes its writes went through grow (down to the format node whose guest data they are).
 */
/**
 * The operation's writes through bs->file count in wr_highest_offset down its path, and the
 * clusters it freed are discarded as qcow2 node `q` passes them (graph/discard-stats.ts).
 */
function accountIo(p: Proc, q: string, file: string | undefined, img: Image, io: MetaIo): void {
  if (file === undefined || !p.node(q)) return;
  if (io.wrote > 0) noteWritePath(p, file, 0, io.wrote);
  qcow2Discards(p, q, io.freed, img.clusterSize ?? 65536);
}

function putImage(p: Proc, file: string | undefined, key: string, next: Image): void {
  writeView(p, key, next);
  // bdrv_co_write_req_finish: the nodes the writes went through (bs->file, down its filters) grow
  if (file && next.fileLength !== undefined) growWrittenNodes(p, file, next.fileLength);
}

/**
 * The images a transaction's internal snapshots have written so far (per file), as its .abort
 * handlers find them: they run last action first, each on what the later ones left
 * (qmp_transaction -> tran_abort). One per transaction (commands/internal-snapshot.ts).
 */
export type SnapshotTxnImages = Map<string, Image>;

/**
 * What a created snapshot's internal_snapshot_abort needs: the qcow2 node, its in-memory table
 * right after the creation (the aborts of later actions, run first, leave it so), its bs->file and
 * the image's view key (graph/guest-image.ts).
 */
export interface CreatedSnapshot extends SnapshotEntry { q: string; table: SnapshotEntry[]; file?: string; image?: string; io?: MetaIo }

/**
 * bdrv_snapshot_create -> qcow2_snapshot_create: the id is find_new_snapshot_id's (highest numeric
 * id + 1) over the node's table. The metadata clusters the L1 copy and the table's rewrite take
 * (graph/snapshot-clusters.ts) are written through bs->file, where a level may refuse them
 * (writeRefusal): then the write's strerror, and what the failure leaves on the image (applied by
 * the caller as an abort residue, since the command fails: internal_snapshot_prepare words the
 * error); the node's table is the old one again (s->snapshots = old_snapshot_list). `txn`: the
 * transaction's images (the failure's residue starts from what earlier actions wrote).
 */
export function createSnapshot(p: Proc, bs: string, name: string, txn?: SnapshotTxnImages, vmState = false): CreatedSnapshot | { error: string; residue: (q: Proc) => void } {
  const q = snapshotNode(p, bs)!;
  const cur = p.node(q)!.snapshots ?? [];
  const max = cur.reduce((m, s) => Math.max(m, Number.parseInt(s.id, 10) || 0), 0);
  const sn: SnapshotEntry = { id: String(max + 1), name, ...(vmState ? { vm: true as const } : {}) };
  const list = [...cur, sn];
  const t = target(p, q);
  if (!t.img) {
    // bs->file shows no image the model knows: the table lives on in the node alone
    const error = t.refuse(0);
    if (error) return { error, residue: () => {} };
    setTable(p, q, list);
    return { ...sn, q, table: list };
  }
  const { result: laid, io } = withMetaIo(() => afterSnapshotCreate(t.img!, sn, list, t.refuse, allocOwner(p, q)));
  const key = t.view!.key;
  if ('error' in laid) {
    return {
      error: laid.error,
      residue: (r) => {
        const img = txn?.get(key) ?? readView(r, key);
        if (!img) return;
        const next = afterFailedCreate(img, laid);
        txn?.set(key, next);
        putImage(r, r.node(q) ? t.file : undefined, key, next);
        // the writes before the failing one went through bs->file (the L1 copy's)
        if (r.node(q)) accountIo(r, q, t.file, next, io);
      },
    };
  }
  // the L1 copy and the table go through bs->file: a backup's filter there sized its bitmaps
  // to the file's length at open (graph/jobs/cbw-growth.ts)
  refuseCbwMetadataGrowth(p, q, hostFileLength(t.img), hostFileLength(laid));
  // and a preallocate filter there preallocates past them (graph/preallocate-truncate.ts)
  notePreallocation(p, q, hostFileLength(t.img), hostFileLength(laid));
  // qcow2_write_snapshots writes the node's whole table
  const next: Image = { ...laid, snapshots: list };
  putImage(p, t.file, key, next);
  accountIo(p, q, t.file, next, io);
  txn?.set(key, next);
  setTable(p, q, list);
  return { ...sn, q, table: list, ...(t.file ? { file: t.file } : {}), image: key, io };
}

/**
 * internal_snapshot_abort: bdrv_snapshot_delete of the snapshot the action created, which
 * rewrites the table through bs->file and frees the snapshot's clusters: the file keeps the
 * length the creation gave it (the Draft's rollback would shrink it back). Applied as the
 * transaction's abort residue on the rolled-back state, where the node's table is already the
 * one without it; a failing rewrite is only reported by QEMU (error_reportf_err), its leaks stay.
 */
export function abortCreatedSnapshot(r: Proc, made: CreatedSnapshot, txn: SnapshotTxnImages): void {
  if (made.image === undefined) return;
  const img = txn.get(made.image) ?? readView(r, made.image);
  if (!img) return;
  // qcow2_snapshot_delete rewrites the node's in-memory table, which no longer holds what the
  // later actions' aborts removed, even where their rewrite failed and the disk still does
  const rest = made.table.filter((s) => s.id !== made.id);
  // tran_abort runs this before the aborts of the actions before it: the writes go down the
  // bs->file the creation wrote through. Where the rolled-back graph no longer leads there (an
  // earlier external snapshot's overlay under the node, gone with its abort: fuzz 3053736258),
  // the nodes on today's path were not written and do not grow
  const sameView = r.node(made.q) !== undefined && metadataView(r, made.q)?.key === made.image;
  const via = made.file !== undefined && sameView ? r.fileChild(made.q) : undefined;
  let refuse: WriteRefusal = () => undefined;
  if (via) {
    // what would make QEMU die here is not sent (a read-only qcow2 took no snapshot)
    refuse = (end) => { try { return writeRefusal(r, via, end); } catch { return undefined; } };
  }
  const { result: laid, io } = withMetaIo(() => afterSnapshotDelete(img, made.id, rest, refuse));
  let next: Image;
  if ('error' in laid) next = afterFailedDelete(img, made.id);
  else {
    next = { ...laid, snapshots: rest };
    if (!rest.length) delete next.snapshots;
  }
  txn.set(made.image, next);
  putImage(r, via?.child, made.image, next);
  if (!via) return;
  // the nodes' counters are no part of what the transaction undoes (BlockAcctStats, file-posix's
  // BDRVRawState.stats): the creation's writes and frees were counted, which the Draft's rollback
  // took away, and so are the delete's (qcow2_snapshot_delete: the table's rewrite, the snapshot's
  // L1 table and the old table freed as QCOW2_DISCARD_SNAPSHOT, passed to bs->file)
  if (made.io) accountIo(r, made.q, via.child, next, made.io);
  accountIo(r, made.q, via.child, next, io);
}

/**
 * bdrv_snapshot_delete -> qcow2_snapshot_delete (find_snapshot_by_id_and_name in the node's table,
 * then remove it). qmp_blockdev_snapshot_delete_internal_sync asks nothing of read-only nodes: the
 * table's rewrite through a read-only bs->file fails in bdrv_co_write_req_prepare (-EPERM).
 */
export function deleteSnapshot(p: Proc, bs: string, id: string | null, name: string | null): void {
  const q = snapshotNode(p, bs)!;
  const cur = p.node(q)!.snapshots ?? [];
  const i = cur.findIndex((s) => (id === null || s.id === id) && (name === null || s.name === name));
  if (i < 0) throw new QmpError("Can't find the snapshot");
  const gone = cur[i]!.id;
  const rest = cur.filter((_, j) => j !== i);
  const t = target(p, q);
  const ran = t.img ? withMetaIo(() => afterSnapshotDelete(t.img!, gone, rest, t.refuse, allocOwner(p, q))) : undefined;
  const laid = ran?.result;
  const error = laid ? ('error' in laid ? laid.error : undefined) : t.refuse(0);
  if (error) {
    // qcow2_write_snapshots failed: the entry is gone from the node's table all the same
    // (s->nb_snapshots-- is not undone), the image keeps the old table; what else stays is
    // afterFailedDelete's
    const key = t.view?.key;
    throw new QmpErrorAfterAbort(`Failed to remove snapshot from snapshot list: ${error}`, 'GenericError', (r) => {
      const img = key === undefined ? undefined : readView(r, key);
      if (img) putImage(r, undefined, key!, afterFailedDelete(img, gone));
      if (r.node(q)) setTable(r, q, (r.node(q)!.snapshots ?? []).filter((s) => s.id !== gone));
    });
  }
  if (laid && !('error' in laid)) {
    const next: Image = { ...laid, snapshots: rest };
    if (!rest.length) delete next.snapshots;
    putImage(p, t.file, t.view!.key, next);
    accountIo(p, q, t.file, next, ran!.io);
  }
  setTable(p, q, rest);
}
