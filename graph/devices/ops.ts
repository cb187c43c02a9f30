// Guest devices owning BlockBackends (vm target, issue 17), each rule as QEMU 7.2 does it:
// set_drive_helper (hw/core/qdev-properties-system.c) creates the BlockBackend, realize applies
// blkconf_apply_backend_options' fixed perms (hw/block/block.c), virtio_scsi_hotplug moves it to
// the controller's iothread, release_drive detaches it on unplug, and the media callbacks
// (blk_dev_change_media_cb) move the tray.
import { QmpError } from '../../errors/index.js';
import { moveToContext, planMove, tryMoveToContext, MAIN_CONTEXT } from '../aio.js';
import { attachChild, detachChild } from '../ops.js';
import { PERM_ALL, PERM_R, PERM_U, PERM_W, PERM_Z } from '../perm.js';
import type { Proc } from '../proc.js';
import { refreshPerms } from '../refresh.js';
import type { BlockBackend } from '../types.js';
import { DEVICE_KINDS, kindOf, type Bus, type Device } from './types.js';
import { rule } from '../rules.js';
import { QemuAbortRefusal } from '../qemu-abort.js';

export const PERIPHERAL = '/machine/peripheral';

// --- access (the Proc class stays QSD-shaped; devices live in their own collections)
export const device = (p: Proc, id: string) => p.d.get<Device>(p.name, 'devices', id);
export const devices = (p: Proc): Device[] => p.d.values<Device>(p.name, 'devices').sort((a, b) => a.at - b.at);
export const putDevice = (p: Proc, d: Device) => p.d.put(p.name, 'devices', d.id, d);

/**
 * block-backend.c blk_is_available: a medium inserted and no open tray (blk_dev_is_tray_open, the
 * attached device's tray). I/O through a BlockBackend that is not available fails with -ENOMEDIUM
 * (blk_check_byte_request) and qemu-io's command() does not extend its permissions.
 */
export function blkIsAvailable(p: Proc, bbId: string, root: string | null | undefined): boolean {
  return !!root && devices(p).find((d) => d.bb === bbId)?.tray?.open !== true;
}
export const delDevice = (p: Proc, id: string) => p.d.del(p.name, 'devices', id);
export const bus = (p: Proc, id: string) => p.d.get<Bus>(p.name, 'buses', id);
export const buses = (p: Proc): Bus[] => p.d.values<Bus>(p.name, 'buses').sort((a, b) => a.at - b.at);
export const putBus = (p: Proc, b: Bus) => p.d.put(p.name, 'buses', b.id, b);
export const delBus = (p: Proc, id: string) => p.d.del(p.name, 'buses', id);
export const isVm = (p: Proc) => p.meta().target === 'vm';

/**
 * blk_get_attached_dev_id: the device's id, or its QOM path when it has none; virtio-blk's
 * BlockBackend belongs to the inner virtio-blk-device, which has no id: its path.
 */
export function attachedName(d: Pick<Device, 'driver' | 'id' | 'path'>): string {
  if (DEVICE_KINDS[d.driver]?.backend) return `${d.path}/virtio-backend`;
  return d.path.startsWith(`${PERIPHERAL}/`) && !d.path.startsWith(`${PERIPHERAL}-anon`) ? d.id : d.path;
}

/**
 * blk_attach_dev's refusal of a legacy drive another device already holds (block/block-backend.c,
 * reached from set_drive_helper): a drive its if= connected to a board device says so.
 */
export function refuseHeldDrive(blk: Pick<BlockBackend, 'dev' | 'legacy'>, name: string): void {
  if (!blk.dev) return;
  throw new QmpError(blk.legacy && blk.legacy.type !== 0
    ? `Drive '${name}' is already in use because it has been automatically connected to another device (did you need 'if=none' in the drive options?)`
    : `Drive '${name}' is already in use by another device`);
}

/**
 * blk_attach_dev of a legacy drive's (named) BlockBackend: refused when a device holds it
 * (refuseHeldDrive); while an incoming migration is awaited the device's permissions are not
 * applied (blk->disable_perm = true; blk_root_activate applies them at cont or migration's end),
 * as for the BlockBackend set_drive_helper makes for a node (createDeviceBb). blk_detach_dev
 * never clears it.
 */
export function attachLegacyDrive(p: Proc, blk: BlockBackend, d: Device, name: string): void {
  refuseHeldDrive(blk, name);
  p.putBB({ ...blk, dev: attachedName(d), ...(p.meta().runState === 'inmigrate' ? { disablePerm: true } : {}) });
}

/** blkconf_apply_backend_options: perm R (+W unless read-only), shared R,U (+Z resizable, +W share-rw). */
export function devicePerms(readOnly: boolean, resizable: boolean, shareRw: boolean): { perm: number; shared: number } {
  return {
    perm: PERM_R | (readOnly ? 0 : PERM_W),
    shared: PERM_R | PERM_U | (resizable ? PERM_Z : 0) | (shareRw ? PERM_W : 0),
  };
}

/** blk_supports_write_perm + the device kind's own read-only (CD-ROMs). */
export function deviceReadOnly(p: Proc, d: Device, node: string | null): boolean {
  const k = kindOf(d.driver)!;
  if (k.readOnly) return true;
  const n = node ? p.node(node) : undefined;
  // blk_supports_write_perm without a medium: the root state's BDRV_O_RDWR (a read-only legacy drive's is off)
  return n ? n.ro : (d.bb ? p.bb(d.bb)?.rootRo === true && p.bb(d.bb)?.legacy !== undefined : false);
}

/** The node under a BlockBackend (blk_bs), or null. */
export function bbRoot(p: Proc, bbId: string): string | null {
  return p.children({ kind: 'bb', bb: bbId })[0]?.child ?? null;
}

/**
 * set_drive_helper for a node name: blk_new(ctx, 0, BLK_PERM_ALL) + blk_insert_bs. The
 * BlockBackend starts in the node's AioContext when the device is iothread-aware, else in the
 * main loop (a node elsewhere then has to move: bdrv_root_attach_child's reconciliation).
 */
export function createDeviceBb(p: Proc, d: Device, node: string | null): string {
  const k = kindOf(d.driver)!;
  const n = node ? p.node(node) : undefined;
  const ctx = n && k.iothreadAware ? n.aio : MAIN_CONTEXT;
  const id = 'bb' + p.nextSeq();
  p.step(`device ${d.id}: blk_new`);
  const bb: BlockBackend = {
    id, owner: { kind: 'device', id: d.id }, perm: 0, shared: PERM_ALL, allowAioChange: false, aio: ctx, at: p.meta().seq,
    dev: attachedName(d),
    // blk_attach_dev: while an incoming migration is awaited a guest device's permissions are not
    // applied (disable_perm; blk_root_activate applies them)
    ...(p.meta().runState === 'inmigrate' ? { disablePerm: true } : {}),
  };
  p.putBB(bb);
  if (node) {
    if (n && n.aio !== ctx) {
      // set_drive_helper holds no iothread lock: a node that *can* leave its iothread is moved and
      // bdrv_set_aio_context_commit releases a lock never taken — 7.2 aborts (found by the vm
      // fuzzer: virtio-blk on a node moved by x-blockdev-set-iothread). A pinned node refuses normally.
      // 10.0 has no AioContext lock and moves it (rule aio-context-lock-aborts;
      // qemu-10.0/aborts/abort-32-vm-virtio-blk-on-node-in-iothread)
      if (rule(p, 'aio-context-lock-aborts') && !planMove(p, { kind: 'node', node }, ctx).error) {
        throw new QmpError(
          `Cannot attach ${d.driver} '${d.id}' to node '${node}' in iothread '${n.aio}' ` +
          '(QEMU 7.2 aborts here: qemu_mutex_unlock_impl: Operation not permitted); refused by blockgraph',
        );
      }
      moveToContext(p, node, ctx);
    }
    attachChild(p, { kind: 'bb', bb: id }, node, 'root', 0, { perm: 0, shared: PERM_ALL });
  }
  return id;
}

/**
 * blk_set_perm: the root edge takes the BlockBackend's perms; the refresh below gives QEMU's
 * errors. blk_set_perm_locked touches the edge only when the BlockBackend's perms are not
 * disabled (disable_perm: a device's BlockBackend over an inactive node, graph/inactive.ts);
 * then it only stores them, for blk_root_activate to apply.
 */
export function setBbPerm(p: Proc, bbId: string, perm: number, shared: number): void {
  const bb = p.bb(bbId)!;
  p.putBB({ ...bb, perm, shared });
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (!root || bb.disablePerm) return;
  p.patchEdge(root.id, { perm, shared });
  refreshBelow(p, root.child);
}

function refreshBelow(p: Proc, node: string): void {
  refreshPerms(p, [node]);
}

/**
 * blk_set_aio_context(blk, ctx): the BlockBackend's own root edge is skipped in the walk
 * (bdrv_try_change_aio_context(bs, ctx, blk->root, …)), so it follows as the initiator;
 * every other parent must agree (another device's BlockBackend refuses: "Cannot change
 * iothread of active block backend").
 */
export function setBbContext(p: Proc, bbId: string, ctx: string, opts: { ignoreErrors?: boolean } = {}): void {
  const bb = p.bb(bbId)!;
  if (bb.aio === ctx) return;
  const node = bbRoot(p, bbId);
  if (node) {
    p.putBB({ ...bb, allowAioChange: true });
    try {
      if (opts.ignoreErrors) tryMoveToContext(p, node, ctx);
      else moveToContext(p, node, ctx);
    } finally {
      const now = p.bb(bbId)!;
      p.putBB({ ...now, allowAioChange: false });
    }
    if (p.node(node)?.aio !== ctx) return; // refused and ignored
  }
  p.putBB({ ...p.bb(bbId)!, aio: ctx });
}

/** blk_remove_bs: the BlockBackend keeps existing, empty (its perms stay as the device set them). */
export function removeBs(p: Proc, bbId: string): void {
  const root = p.children({ kind: 'bb', bb: bbId })[0];
  if (!root) return;
  // blk_update_root_state: a later blockdev-change-medium opens with the old medium's read-only flag
  const ro = p.node(root.child)?.ro ?? false;
  // (open_flags whole: an inactive medium's BDRV_O_INACTIVE goes into the root state too)
  const inactive = p.node(root.child)?.inactive === true;
  const { rootInactive: _i, ...rest } = p.bb(bbId)!;
  p.putBB({ ...rest, rootRo: ro, ...(inactive ? { rootInactive: true } : {}) });
  detachChild(p, root.id);
}

/** blk_insert_bs with the BlockBackend's perms (blk->perm / blk->shared_perm). */
export function insertBs(p: Proc, bbId: string, node: string): void {
  const bb = p.bb(bbId)!;
  const n = p.node(node)!;
  if (n.aio !== bb.aio) {
    // blockdev-insert-medium holds no iothread's lock: bdrv_root_attach_child moving a node out
    // of its iothread (into the main loop or another iothread) releases a lock never taken in
    // bdrv_set_aio_context_commit — 7.2 aborts, as crash 5 (rule aio-context-lock-aborts;
    // qemu-aborts/abort-32-vm-insert-medium-node-in-other-iothread). A pinned node refuses normally.
    if (rule(p, 'aio-context-lock-aborts') && n.aio !== MAIN_CONTEXT && !planMove(p, { kind: 'node', node }, bb.aio).error) {
      throw new QemuAbortRefusal(
        `Cannot insert node '${node}' (iothread '${n.aio}') as the medium of a BlockBackend in ` +
        `${bb.aio === MAIN_CONTEXT ? 'the main loop' : `iothread '${bb.aio}'`} (QEMU 7.2 aborts here: qemu_mutex_unlock_impl: ` +
        'Operation not permitted); refused by blockgraph: move it to the device\'s AioContext first', 'bdrv_set_aio_context_commit');
    }
    // bdrv_root_attach_child: the node moves to the BlockBackend's context (devices do not follow)
    moveToContext(p, node, bb.aio);
  }
  attachChild(p, { kind: 'bb', bb: bbId }, node, 'root', 0, { perm: bb.perm, shared: bb.shared });
}

/**
 * blk_dev_change_media_cb: a device with a tray moves it (scsi_cd_change_media_cb: tray_open =
 * !load) and DEVICE_TRAY_MOVED is sent when it did, named by blk_name ("") and the device.
 */
export function changeMedia(p: Proc, d: Device, load: boolean, emit: (ev: string, data: Record<string, unknown>) => void): void {
  if (!d.tray) return;
  const open = !load;
  if (d.tray.open === open) return;
  putDevice(p, { ...d, tray: { open } });
  // qapi_event_send_device_tray_moved(blk_name(blk), …): a legacy drive's name, else ""
  emit('DEVICE_TRAY_MOVED', { device: (d.bb ? p.bb(d.bb)?.name : undefined) ?? '', 'tray-open': open, id: attachedName(d) });
}

export function checkIothread(p: Proc, id: string): boolean {
  return p.object(id)?.qomType === 'iothread';
}

/**
 * A link<iothread> property (virtio-blk's, virtio-scsi's) set from a device's options:
 * object_set_link_property → object_resolve_link (qom/object.c) resolves the value as a partial
 * path of type iothread; something else by that name is the wrong type, nothing at all is
 * DeviceNotFound. The same on the command line (a JSON -device) and in device_add.
 */
export function refuseIothreadLink(p: Proc, io: string): void {
  if (checkIothread(p, io)) return;
  if (p.object(io) || device(p, io)) throw new QmpError(`Invalid parameter type for 'iothread', expected: iothread`);
  throw new QmpError(`Device '${io}' not found`, 'DeviceNotFound');
}

export function noMedium(): never {
  throw new QmpError('Device has no medium');
}
