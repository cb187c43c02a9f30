import { QmpError } from '../errors/index.js';
import { bdrvActivate } from '../graph/inactive.js';
import { attachChild, detachChild, nameWellFormed, nodeOrError } from '../graph/ops.js';
import { PERM_ALL, PERM_R, PERM_W, PERM_Z } from '../graph/perm.js';
import { refreshPerms } from '../graph/refresh.js';
import { noteJobAttach } from '../graph/jobs/attach-residue.js';
import type { Proc } from '../graph/proc.js';
import { HOST, type Image } from '../graph/types.js';
import { rule } from '../graph/rules.js';
import { MAIN_CONTEXT, moveToContext, tryMoveToContext } from '../graph/aio.js';
import type { CommandCtx, CommandDef } from './types.js';
import { nbdClientsOf } from '../graph/nbd-client.js';
import { BITMAP_ALLOW_RO, dirtyBitmapCheck, dirtyBitmapLookup, findDirtyBitmap, setDirtyBitmapBusy, type DirtyBitmap } from '../graph/bitmaps.js';
import { filterOrCowBs } from '../graph/jobs/chain.js';
import type { BitmapSource } from './block-dirty-bitmap.js';
import { getLength } from '../graph/length.js';
import { refuseChildlessCorLength } from '../graph/cor-length.js';
import { drained } from '../graph/drain.js';
import { flushDrainWakes } from '../graph/jobs/rate.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { refuseExportFailHang } from '../graph/export-fail-backup-hang.js';
import { nbdGetTlsCreds } from '../graph/tls-creds.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';

export const nbdServerStart: CommandDef = {
  name: 'nbd-server-start',
  mutates: true,
  run({ p, args }) {
    if (p.meta().nbd) throw new QmpError('NBD server already running');
    // nbd_server_start: the listener opens, then tls-creds is looked up (nbd_get_tls_creds with
    // the server endpoint); tls-authz is only kept, looked up when a client connects
    if (args['tls-creds'] !== undefined) nbdGetTlsCreds(p, String(args['tls-creds']), 'server');
    p.setMeta({ nbd: { addr: args.addr, ...(args['tls-creds'] !== undefined ? { tls: true as const } : {}) } });
    return {};
  },
};

export const nbdServerStop: CommandDef = {
  name: 'nbd-server-stop',
  mutates: true,
  run(ctx) {
    const { p } = ctx;
    if (!p.meta().nbd) throw new QmpError('NBD server not running');
    // qmp_nbd_server_stop -> blk_exp_close_all_type(BLOCK_EXPORT_TYPE_NBD): the order the
    // BLOCK_EXPORT_DELETED events come in differs by version (rule nbd-server-stop-export-order)
    const nbd = p.exports().filter((x) => x.type === 'nbd');
    const at = (x: { bb: string }) => p.bb(x.bb)?.at ?? 0;
    const how = rule(p, 'nbd-server-stop-export-order');
    const byAge = [...nbd].sort((a, b) => (how === 'newest-first' ? at(b) - at(a) : at(a) - at(b)));
    // An export with a connected NBD client comes first on both versions, for two reasons:
    // 7.2: the client keeps its reference through blk_exp_request_shutdown (client_close only
    // shuts the channel); its last blk_exp_unref comes from the client's coroutine, dispatched by
    // aio_poll's fd handlers before aio_bh_poll, so its delete BH is scheduled after every
    // client-less one and, LIFO, runs first.
    // 10.0: blk_exp_delete_bh's exp->drv->delete and blk_unref poll the main loop (nested
    // aio_bh_poll), so the first export's bottom half runs every other pending one, and the
    // deletions an NBD client's closing coroutine brings about meanwhile, before it sends its own
    // event (iotests 147: exp1 with a client before exp2, newer, without)
    const clients = (x: { id: string }) => nbdClientsOf(p, x.id).length > 0;
    const order = [...byAge.filter(clients), ...byAge.filter((x) => !clients(x))];
    for (const x of order) removeExport(ctx, x.id);
    p.setMeta({ nbd: null });
    return {};
  },
};

/** blk_exp_add + nbd_export_create, in their order. */
export const blockExportAdd: CommandDef = {
  name: 'block-export-add',
  mutates: true,
  run({ p, args }) {
    const id = String(args.id);
    if (!nameWellFormed(id)) throw new QmpError('Invalid block export id');
    if (p.export(id)) throw new QmpError(`Block export id '${id}' is already in use`);
    const nodeName = String(args['node-name']);
    const node = nodeOrError(p, nodeName);
    const writable = Boolean(args.writable);
    if (node.ro && writable) throw new QmpError('Cannot export read-only node as writable');
    const fixed = Boolean(args['fixed-iothread']);
    const ctxBefore = node.aio;
    let ctxName = node.aio;
    if (args.iothread !== undefined) {
      const io = String(args.iothread);
      if (p.object(io)?.qomType !== 'iothread') throw new QmpError(`iothread "${io}" not found`);
      p.step('aio-context');
      // Errors are ignored unless fixed-iothread=true (then they fail the export).
      const moved = fixed ? (moveToContext(p, nodeName, io, { log: true }), true) : tryMoveToContext(p, nodeName, io, { log: true });
      if (moved) ctxName = io;
    }
    // blk_exp_add (10.0): allow-inactive needs an export driver that supports it (NBD only);
    // without it the node is activated first (bdrv_activate, graph/inactive.ts)
    const allowInactive = args['allow-inactive'] === true;
    // bdrv_activate is no transaction: when the export fails after it (blk_insert_bs, the
    // driver's create), the nodes stay active (fuzz 4238152659, 1438784146), and when it fails
    // itself the nodes it activated before the failing one stay active (bdrv_activate,
    // graph/inactive.ts bdrvActivate; wt-inact35). Both come after the iothread move, which
    // blk_exp_add's fail path does not undo
    const activated = !allowInactive && subtreeInactive(p, nodeName);
    const stage = { inserted: false };
    try {
      if (allowInactive && args.type !== 'nbd') throw new QmpError('Export type does not support inactive exports');
      if (!allowInactive) bdrvActivate(p, nodeName);
      return exportAfterActivate(p, args, { id, nodeName, writable, fixed, ctxName, allowInactive, stage });
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      // Where the node's AioContext ends up: blk_exp_add's bdrv_try_change_aio_context is not
      // undone by its fail path. When blk_insert_bs failed (a permission conflict) the
      // BlockBackend has no root and blk_unref moves nothing: the node stays in the export's
      // iothread (fuzz 1301381308: a later x-blockdev-change there killed 7.2). Once inserted,
      // blk_unref -> blk_remove_bs -> bdrv_root_unref_child (bdrv_detach_child on 7.2) moves the
      // node back to the main loop if it can, whatever context it had before the command.
      const ctxAfter = stage.inserted ? MAIN_CONTEXT : ctxName;
      if (!activated && ctxAfter === ctxBefore) throw e;
      const before = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
      const residue = (q: Proc) => {
        if (!q.node(nodeName)) return;
        if (ctxName !== ctxBefore) tryMoveToContext(q, nodeName, ctxName);
        if (activated) {
          try { bdrvActivate(q, nodeName); } catch (x) { if (!(x instanceof QmpError) || x instanceof QemuAbortRefusal) throw x; }
        }
        if (stage.inserted && ctxName !== MAIN_CONTEXT) tryMoveToContext(q, nodeName, MAIN_CONTEXT);
        before?.(q);
      };
      throw Object.assign(new QmpErrorAfterAbort(e.desc, e.cls, residue),
        (e as { failEvents?: unknown }).failEvents ? { failEvents: (e as { failEvents?: unknown }).failEvents } : {});
    }
  },
};

/** bdrv_activate's work to do: an inactive node below, or a BlockBackend with its perms disabled. */
function subtreeInactive(p: Proc, node: string): boolean {
  if (p.node(node)?.inactive) return true;
  if (p.parents(node).some((e) => e.parent.kind === 'bb' && p.bb(e.parent.bb)?.disablePerm)) return true;
  return p.childrenOf(node).some((c) => subtreeInactive(p, c.child));
}

interface ExportArgs {
  id: string; nodeName: string; writable: boolean; fixed: boolean; ctxName: string; allowInactive: boolean;
  /** Set once blk_insert_bs has attached the BlockBackend (what the fail path undoes differs). */
  stage: { inserted: boolean };
}

/** blk_exp_add from blk_new on. */
function exportAfterActivate(p: Proc, args: Record<string, unknown>, { id, nodeName, writable, fixed, ctxName, allowInactive, stage }: ExportArgs): Record<string, unknown> {
  {
    p.step('attach-bb');
    const perm = PERM_R | (writable ? PERM_W : 0);
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'export', id }, perm, shared: PERM_ALL, allowAioChange: !fixed, aio: ctxName, at: p.meta().seq, ...(allowInactive ? { forceAllowInactivate: true } : {}) });
    const root = attachChild(p, { kind: 'bb', bb: bbId }, nodeName, 'root', 0, { perm, shared: PERM_ALL });
    // blk_insert_bs's attach is committed on its own: what its refresh and blk_unref's recompute
    // of the subtree stays when the export is refused after it (graph/jobs/attach-residue.ts)
    noteJobAttach(p, nodeName);
    stage.inserted = true;
    {
      try {
        // drv->create
        if (args.type === 'nbd') nbdExportCreate(p, args, id, nodeName, writable, bbId, root.id, fixed);
        else if (args.type === 'vhost-user-blk') vuBlkExpCreate(p, args, id, nodeName, writable, bbId, fixed);
        else if (args.type === 'fuse') fuseExportCreate(p, args, id, nodeName, writable, bbId, root.id, fixed);
        else if (args.type === 'vduse-blk') vduseBlkExpCreate(p, args, id);
        else p.putExport({ id, type: String(args.type), node: nodeName, name: nodeName, writable, bb: bbId, iothread: (args.iothread as string | undefined) ?? null, fixed });
      } catch (e) {
        // blk_exp_add's fail path after blk_insert_bs: QEMU 10.0 may hang in its blk_unref
        if (e instanceof QmpError && !(e instanceof QemuAbortRefusal)) {
          refuseExportFailHang(p, nodeName, ctxName, e.desc);
          // blk_exp_add's fail path: blk_unref -> blk_drain, then blk_delete -> blk_remove_bs ->
          // blk_drain: two drained sections of the node, each pausing and resuming the jobs
          // above it, so a sleeping speed-limited job wakes although the export is refused
          // (found by fuzz --against vm 2870838011; the refused command keeps its wake-ups)
          drained(p, [nodeName], false, () => undefined);
          drained(p, [nodeName], false, () => undefined);
        }
        throw e;
      }
    }
    return {};
  }
}

/**
 * check_block_size (util/block-helpers.c): 0 means unset; otherwise within
 * [MIN_BLOCK_SIZE, MAX_BLOCK_SIZE] (QERR_PROPERTY_VALUE_OUT_OF_RANGE) and a power of 2.
 */
function checkBlockSize(p: Proc, id: string, name: string, value: number): void {
  const MIN = 512, MAX = 2 * 1024 * 1024;
  const bad = (value && (value < MIN || value > MAX)) || (value & (value - 1)) !== 0;
  // QEMU 10.0 has one text for both (graph/rules.ts 'check-block-size-text')
  if (bad && rule(p, 'check-block-size-text') === 'parameter') throw new QmpError(`parameter ${name} must be a power of 2 between ${MIN} and ${MAX}`);
  if (value && (value < MIN || value > MAX)) throw new QmpError(`Property ${id}.${name} doesn't take value ${value} (minimum: ${MIN}, maximum: ${MAX})`);
  if (value && (value & (value - 1)) !== 0) throw new QmpError(`Property ${id}.${name} doesn't take value '${value}', it's not a power of 2`);
}

/** vu_blk_exp_create (block/export/vhost-user-blk-server.c, 7.2): its checks before the server starts. */
function vuBlkExpCreate(p: Proc, args: Record<string, unknown>, id: string, nodeName: string, writable: boolean, bbId: string, fixed: boolean): void {
  // logical-block-size defaults to VIRTIO_BLK_SECTOR_SIZE (512)
  checkBlockSize(p, id, 'logical-block-size', args['logical-block-size'] !== undefined ? Number(args['logical-block-size']) : 512);
  // num-queues defaults to VHOST_USER_BLK_NUM_QUEUES_DEFAULT (1)
  if (args['num-queues'] !== undefined && Number(args['num-queues']) === 0) throw new QmpError('num-queues must be greater than 0');
  p.putExport({ id, type: 'vhost-user-blk', node: nodeName, name: nodeName, writable, bb: bbId, iothread: (args.iothread as string | undefined) ?? null, fixed });
}

/** VIRTQUEUE_MAX_SIZE (include/hw/virtio/virtio.h): the largest queue-size vduse_blk_exp_create takes. */
const VIRTQUEUE_MAX_SIZE = 1024;

/**
 * vduse_blk_exp_create (block/export/vduse-blk.c, 7.2 and 10.0): num-queues, queue-size (more than
 * 2, a power of 2, at most VIRTQUEUE_MAX_SIZE) and, only when given, logical-block-size
 * (check_block_size) are checked, then vduse_dev_create (subprojects/libvduse) opens
 * /dev/vduse/control, which a host without the kernel's vduse module (the recording host, and
 * containers in general) does not have: it returns NULL and the export fails with blk_exp_add's
 * fail path (blk_unref: the BlockBackend goes, the node returns to the main loop). The model takes
 * that host: no vduse-blk export is ever created (combo-c14-b3-vduse-blk-*, both versions).
 */
function vduseBlkExpCreate(p: Proc, args: Record<string, unknown>, id: string): void {
  if (args['num-queues'] !== undefined && Number(args['num-queues']) === 0) throw new QmpError('num-queues must be greater than 0');
  if (args['queue-size'] !== undefined) {
    const q = Number(args['queue-size']);
    if (q <= 2 || (q & (q - 1)) !== 0 || q > VIRTQUEUE_MAX_SIZE) throw new QmpError('queue-size is invalid');
  }
  if (args['logical-block-size'] !== undefined) checkBlockSize(p, id, 'logical-block-size', Number(args['logical-block-size']));
  throw new QmpError('failed to create vduse device');
}

/**
 * fuse_export_create (block/export/fuse.c, 7.2): a growable or writable export adds RESIZE to
 * its BlockBackend's perms (blk_set_perm, which can fail), then the mountpoint must not carry a
 * FUSE export already (the same path string) and must be a regular file (is_regular_file: stat).
 * The model's host is its image catalogue: an image is a regular file, a directory is one an
 * image lies below.
 */
function fuseExportCreate(p: Proc, args: Record<string, unknown>, id: string, nodeName: string, writable: boolean, bbId: string, rootId: string, fixed: boolean): void {
  if (args.growable === true || writable) {
    const bb = p.bb(bbId)!;
    p.putBB({ ...bb, perm: bb.perm | PERM_Z });
    // blk_set_perm_locked: a BlockBackend whose perms are disabled (over an inactive node) keeps its edge at 0/all
    if (!bb.disablePerm) {
      p.patchEdge(rootId, { perm: bb.perm | PERM_Z });
      refreshPerms(p, [nodeName]);
    }
  }
  const mp = String(args.mountpoint);
  if (p.exports().some((x) => x.type === 'fuse' && x.mountpoint === mp)) throw new QmpError(`There already is a FUSE export on '${mp}'`);
  if (!p.image(mp)) {
    const dir = mp.replace(/\/+$/, '');
    const isDir = mp === '.' || p.d.values<Image>(HOST, 'images').some((i) => i.file.startsWith(`${dir}/`));
    throw new QmpError(isDir ? `'${mp}' is not a regular file` : `Failed to stat '${mp}': No such file or directory`);
  }
  p.putExport({ id, type: 'fuse', node: nodeName, name: nodeName, writable, bb: bbId, iothread: (args.iothread as string | undefined) ?? null, fixed, mountpoint: mp });
}

/** nbd_export_create, after blk_exp_add's blk_insert_bs. */
function nbdExportCreate(p: Proc, args: { name?: unknown; description?: unknown; bitmaps?: unknown; iothread?: string | null; 'allocation-depth'?: unknown }, id: string, nodeName: string, writable: boolean, bbId: string, rootId: string, fixed: boolean): void {
  if (!p.meta().nbd) throw new QmpError('NBD server not running');
  const name = args.name !== undefined ? String(args.name) : nodeName;
  if (name.length > 4096) throw new QmpError(`export name '${name}' too long`);
  // nbd_export_create checks the description's strlen against NBD_MAX_STRING_SIZE right after the
  // name's, before the name's uniqueness (both 7.2 and 10.0): its export is never made
  if (typeof args.description === 'string' && args.description.length > 4096) throw new QmpError(`description '${args.description}' too long`);
  if (p.exports().some((x) => x.type === 'nbd' && x.name === name)) throw new QmpError(`NBD server already has export named '${name}'`);
  // nbd_export_create's blk_getlength comes next, before the permission change
  refuseChildlessCorLength(p, nodeName, 'nbd_export_create');
  p.step('nbd-no-resize');
  // NBD forbids resize while it serves the node.
  p.putBB({ ...p.bb(bbId)!, shared: PERM_ALL & ~PERM_Z });
  // blk_set_perm_locked: only the variables while blk->disable_perm (an inactive node, allow-inactive)
  if (!p.bb(bbId)!.disablePerm) {
    p.patchEdge(rootId, { shared: PERM_ALL & ~PERM_Z });
    refreshPerms(p, [nodeName]);
  }
  const bitmaps = exportBitmaps(p, nodeName, !writable, (args.bitmaps ?? []) as BitmapSource[]);
  p.putExport({
    id, type: 'nbd', node: nodeName, name, writable, bb: bbId, iothread: args.iothread ?? null, fixed,
    ...(bitmaps.length ? { bitmaps } : {}),
    ...(args['allocation-depth'] === true ? { allocationDepth: true } : {}),
    // nbd_export_create: exp->size = QEMU_ALIGN_DOWN(blk_getlength(blk), BDRV_SECTOR_SIZE),
    // what a client negotiates (a raw node over a file resized below it: the file's length, 7.2)
    size: getLength(p, nodeName),
  });
}

/**
 * nbd_export_create's bitmaps: a name is looked for on the exported node and down its
 * filter/backing chain (bdrv_filter_or_cow_bs), then an enabled one on a writable node refuses a
 * read-only export; node+name is block_dirty_bitmap_lookup. Each must pass BDRV_BITMAP_ALLOW_RO;
 * then all are marked busy (until nbd_export_delete).
 */
function exportBitmaps(p: Proc, node: string, readonly: boolean, list: readonly BitmapSource[]): { node: string; name: string }[] {
  const out: { node: string; name: string }[] = [];
  for (const s of list) {
    let found: { node: string; bitmap: DirtyBitmap } | undefined;
    if (typeof s === 'string') {
      for (let bs: string | undefined = node, i = 0; bs !== undefined && i < 10000; i++) {
        const bm = findDirtyBitmap(p, bs, s);
        if (bm) { found = { node: bs, bitmap: bm }; break; }
        bs = filterOrCowBs(p, bs) ?? undefined;
      }
      if (!found) throw new QmpError(`Bitmap '${s}' is not found`);
      if (readonly && !p.node(found.node)!.ro && !found.bitmap.disabled) {
        throw new QmpError(`Enabled bitmap '${s}' incompatible with readonly export`);
      }
    } else {
      found = dirtyBitmapLookup(p, s.node, s.name);
    }
    dirtyBitmapCheck(found.bitmap, BITMAP_ALLOW_RO);
    out.push({ node: found.node, name: found.bitmap.name });
  }
  // "Mark bitmaps busy in a separate loop, to simplify roll-back concerns."
  for (const b of out) setDirtyBitmapBusy(p, b.node, b.name, true);
  return out;
}

/** Export teardown: the BlockBackend goes, and its node returns to the main loop if it can. */
export function removeExport(ctx: Pick<CommandCtx, 'p' | 'emit'>, id: string): void {
  const { p } = ctx;
  const x = p.export(id)!;
  const bb = p.bb(x.bb);
  // nbd_export_delete: its bitmaps are no longer busy
  for (const b of x.bitmaps ?? []) if (findDirtyBitmap(p, b.node, b.name)) setDirtyBitmapBusy(p, b.node, b.name, false);
  p.delExport(id);
  if (bb) unrefBlockBackend(p, bb.id);
  // blk_exp_delete_bh sends BLOCK_EXPORT_DELETED after blk_unref: its drained sections have ended
  // by then (child_job_drained_end -> job_resume), and a speed-limited job they woke has run its
  // next iterations (on 7.2 a mirror that copied its data goes ready first:
  // combo-c14-export-del-during-mirror; on 10.0 the wake-up sleeps again, rule
  // wake-ends-rate-limit-sleep): the wake-ups so far run before the event, not at the command's end
  flushDrainWakes(ctx);
  ctx.emit('BLOCK_EXPORT_DELETED', { id });
}

/**
 * blk_unref of a BlockBackend's last reference (block/block-backend.c, 7.2 and 10.0): blk_drain
 * first, then blk_delete -> blk_remove_bs, which drains again: two drained sections of the root
 * node, so a speed-limited job with a node below takes two wake-ups (7.2: a stream over an exported
 * intermediate copies two more chunks at block-export-del, combo-c14-b2-export-ro-in-frozen-stream-chain;
 * as bdrv_open_inherit's probing BlockBackend does, graph/open.ts).
 */
export function unrefBlockBackend(p: Proc, bbId: string): void {
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (root) drained(p, [root.child], false, () => undefined);
  removeBlockBackend(p, bbId);
}

/** blk_remove_bs and the BlockBackend's end (what blk_delete does once blk_unref's own drain is done). */
export function removeBlockBackend(p: Proc, bbId: string): void {
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (!root) { p.delBB(bbId); return; }
  const child = root.child;
  // blk_remove_bs: blk_drain(blk) (bdrv_drained_begin/end of the root node) before
  // bdrv_root_unref_child, so a job with a node in that section is paused and resumed: a
  // speed-limited job sleeping in its rate limit wakes (iotests 040 test_hot_unplug's unplug)
  drained(p, [child], false, () => undefined);
  p.delBB(bbId);
  detachChild(p, root.id);
  if (p.node(child)) tryMoveToContext(p, child, 'main');
}

export const blockExportDel: CommandDef = {
  name: 'block-export-del',
  mutates: true,
  run(ctx) {
    const id = String(ctx.args.id);
    if (!ctx.p.export(id)) throw new QmpError(`Export '${id}' is not found`);
    // qmp_block_export_del, mode 'safe' (the default): an NBD client still holds a reference
    const mode = String(ctx.args.mode ?? 'safe');
    if (mode === 'safe' && nbdClientsOf(ctx.p, id).length > 0) throw new QmpError(`export '${id}' still in use`);
    removeExport(ctx, id);
    return {};
  },
};
