// Removable media (vm target), as block/qapi-sysemu.c: blockdev-open-tray / -close-tray,
// blockdev-insert-medium / -remove-medium, eject and blockdev-change-medium, each with
// qmp_get_blk's lookup (`device` is a BlockBackend name — there are none without -drive —
// or `id` a qdev id) and the tray callbacks' DEVICE_TRAY_MOVED.
import { QmpError } from '../../errors/index.js';
import { QmpErrorAfterAbort } from '../../graph/abort-residue.js';
import { QemuAbortRefusal } from '../../graph/qemu-abort.js';
import type { QmpEvent } from '../protocol.js';
import { opBlocker } from '../../graph/blockers.js';
import { blkByName, deviceOrNodeName } from '../../graph/named-blk.js';
import { bbRoot, changeMedia, device, devices, devicePerms, deviceReadOnly, insertBs, removeBs, setBbPerm } from '../../graph/devices/ops.js';
import { PERM_ALL } from '../../graph/perm.js';
import { DEVICE_KINDS, deviceRemovable, type Device } from '../../graph/devices/types.js';
import { hasProtocolPrefix, isProtocolDriver, openNodeWithFlags, probeFormatByName } from '../../graph/open.js';
import { unrefIfUnused } from '../../graph/ops.js';
import type { Proc } from '../../graph/proc.js';
import type { CommandCtx, CommandDef } from '../types.js';
import { findDeviceState } from './device-del.js';
import { checkArgs, type Member } from './qapi.js';

const DEVICE_ID: Member[] = [['device', false, 'str'], ['id', false, 'str']];

type Ctx = Pick<CommandCtx, 'p' | 'emit'>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** qmp_get_blk: exactly one of device/id; blk_by_qdev_id (find_device_state, blk_by_dev). */
export function getBlk(p: Proc, blkName: string | undefined, qdevId: string | undefined): { bb: string; dev: Device | undefined } {
  if ((blkName === undefined) === (qdevId === undefined)) throw new QmpError("Need exactly one of 'device' and 'id'");
  if (qdevId !== undefined) {
    const f = findDeviceState(p, qdevId);
    // virtio-blk-pci's BlockBackend belongs to its inner device: the proxy has none
    const k = DEVICE_KINDS[f.dev.driver];
    if (!f.dev.bb || (k?.backend && !f.inner)) throw new QmpError('Device does not have a block device backend');
    return { bb: f.dev.bb, dev: f.dev };
  }
  // blk_by_name: a legacy drive (the device attached to it, if any: blk_get_attached_dev)
  const blk = blkByName(p, blkName!);
  if (blk) return { bb: blk.id, dev: devices(p).find((d) => d.bb === blk.id) };
  throw new QmpError(`Device '${blkName}' not found`, 'DeviceNotFound');
}

// blk_dev_has_removable_media: no device (a legacy drive alone) or one with change_media_cb
const removable = (d: Device | undefined) => !d || deviceRemovable(d);
const hasTray = (d: Device | undefined) => Boolean(d?.tray);

/** do_open_tray; returns 'nosys' for a device without a tray (callers ignore that). */
function doOpenTray(ctx: Ctx, blkName: string | undefined, id: string | undefined): 'ok' | 'nosys' {
  const { p } = ctx;
  const { dev } = getBlk(p, blkName, id);
  const name = id ?? blkName;
  if (!removable(dev)) throw new QmpError(`Device '${name}' is not removable`);
  if (!hasTray(dev)) return 'nosys';
  if (dev!.tray!.open) return 'ok';
  // no guest ever locks the medium: the tray opens at once
  changeMedia(p, device(p, dev!.id)!, false, ctx.emit);
  return 'ok';
}

function closeTray(ctx: Ctx, blkName: string | undefined, id: string | undefined): void {
  const { p } = ctx;
  const { dev } = getBlk(p, blkName, id);
  if (!removable(dev)) throw new QmpError(`Device '${blkName ?? id}' is not removable`);
  if (!hasTray(dev)) return;
  const d = device(p, dev!.id)!;
  if (!d.tray!.open) return;
  changeMedia(p, d, true, ctx.emit);
}

function removeMedium(ctx: Ctx, blkName: string | undefined, id: string | undefined): void {
  const { p } = ctx;
  const { bb, dev } = getBlk(p, blkName, id);
  if (dev && !removable(dev)) throw new QmpError(`Device '${blkName ?? id}' is not removable`);
  if (dev && hasTray(dev) && !device(p, dev.id)!.tray!.open) throw new QmpError(`Tray of device '${blkName ?? id}' is not open`);
  const node = bbRoot(p, bb);
  if (!node) return;
  const blocked = opBlocker(p, node, 'eject');
  if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, node)}' is busy: ${blocked}`);
  p.step('blk_remove_bs');
  removeBs(p, bb);
  // a tray-less device's medium leaves here: blk_dev_change_media_cb(blk, false) after blk_remove_bs
  if (dev && !hasTray(dev)) traylessMediaCb(p, device(p, dev.id)!, false);
}

/**
 * The change_media_cb of a tray-less device (the floppy's fd_change_cb): unloading drops its
 * perms to 0/ALL (blk_set_perm), loading applies blkconf_apply_backend_options again with
 * read_only = !blk_supports_write_perm (the new node's), not resizable.
 */
function traylessMediaCb(p: Proc, d: Device, load: boolean): void {
  if (d.driver !== 'floppy' || !d.bb) return;
  if (!load) { setBbPerm(p, d.bb, 0, PERM_ALL); return; }
  const perms = devicePerms(deviceReadOnly(p, d, bbRoot(p, d.bb)), false, d.shareRw);
  setBbPerm(p, d.bb, perms.perm, perms.shared);
}

function insertAnonMedium(ctx: Ctx, bb: string, dev: Device | undefined, node: string): void {
  const { p } = ctx;
  if (dev && !removable(dev)) throw new QmpError('Device is not removable');
  if (dev && hasTray(dev) && !device(p, dev.id)!.tray!.open) throw new QmpError('Tray of the device is not open');
  if (bbRoot(p, bb)) throw new QmpError('There already is a medium in the device');
  p.step('blk_insert_bs');
  insertBs(p, bb, node);
  // qmp_blockdev_insert_anon_medium: a tray-less device loads it at once (a refusal removes it again)
  if (dev && !hasTray(dev)) traylessMediaCb(p, device(p, dev.id)!, true);
}

/**
 * The steps of qmp_eject and qmp_blockdev_change_medium run one after the other and none is
 * undone when a later one fails: a tray do_open_tray opened stays open (its DEVICE_TRAY_MOVED
 * sent) when blockdev_remove_medium then refuses a busy medium (BLOCK_OP_TYPE_EJECT), and a
 * medium it removed stays out when qmp_blockdev_insert_anon_medium fails. Runs `stages` in
 * order; a refusal in stage k keeps stages 0..k-1 (a residue on the pre-command state) and the
 * events they sent.
 */
function inStages(ctx: Ctx, stages: ((c: Ctx) => void)[]): void {
  const sent: QmpEvent[] = [];
  const emit = (event: string, data: Record<string, unknown>) => { sent.push({ event, data }); ctx.emit(event, data); };
  for (const [k, stage] of stages.entries()) {
    try {
      stage({ p: ctx.p, emit });
    } catch (e) {
      if (k === 0 || !(e instanceof QmpError) || e instanceof QemuAbortRefusal || e instanceof QmpErrorAfterAbort) throw e;
      const done = stages.slice(0, k);
      const residue = (q: Proc) => { for (const st of done) st({ p: q, emit: () => undefined }); };
      throw Object.assign(new QmpErrorAfterAbort(e.desc, e.cls, residue), { failEvents: [...sent] });
    }
  }
}

export const blockdevOpenTray: CommandDef = {
  name: 'blockdev-open-tray',
  mutates: true,
  run(ctx) {
    checkArgs(ctx.args, [...DEVICE_ID, ['force', false, 'bool']]);
    doOpenTray(ctx, str(ctx.args.device), str(ctx.args.id));
    return {};
  },
};

export const blockdevCloseTray: CommandDef = {
  name: 'blockdev-close-tray',
  mutates: true,
  run(ctx) {
    checkArgs(ctx.args, DEVICE_ID);
    closeTray(ctx, str(ctx.args.device), str(ctx.args.id));
    return {};
  },
};

export const blockdevRemoveMedium: CommandDef = {
  name: 'blockdev-remove-medium',
  mutates: true,
  run(ctx) {
    checkArgs(ctx.args, [['id', true, 'str']]);
    removeMedium(ctx, undefined, String(ctx.args.id));
    return {};
  },
};

export const blockdevInsertMedium: CommandDef = {
  name: 'blockdev-insert-medium',
  mutates: true,
  run(ctx) {
    const { p, args } = ctx;
    checkArgs(args, [['id', true, 'str'], ['node-name', true, 'str']]);
    const { bb, dev } = getBlk(p, undefined, String(args.id));
    const nodeName = String(args['node-name']);
    if (!p.node(nodeName)) throw new QmpError(`Node '${nodeName}' not found`);
    if (p.parents(nodeName).some((e) => e.parent.kind === 'bb')) throw new QmpError(`Node '${nodeName}' is already in use`);
    insertAnonMedium(ctx, bb, dev, nodeName);
    return {};
  },
};

export const eject: CommandDef = {
  name: 'eject',
  mutates: true,
  run(ctx) {
    checkArgs(ctx.args, [...DEVICE_ID, ['force', false, 'bool']]);
    const blk = str(ctx.args.device), id = str(ctx.args.id);
    // qmp_eject: do_open_tray, then blockdev_remove_medium (a busy medium leaves the tray open)
    inStages(ctx, [(c) => { doOpenTray(c, blk, id); }, (c) => removeMedium(c, blk, id)]);
    return {};
  },
};

/**
 * qmp_blockdev_change_medium: bdrv_open(filename, {driver: format}) with the BlockBackend's
 * root-state flags (read-write unless the old medium was read-only, or `read-only-mode`), then
 * open tray, remove, insert, close tray; the new tree is anonymous (#block names) and goes with
 * the medium.
 */
export const blockdevChangeMedium: CommandDef = {
  name: 'blockdev-change-medium',
  mutates: true,
  run(ctx) {
    const { p, args } = ctx;
    checkArgs(args, [...DEVICE_ID, ['filename', true, 'str'], ['format', false, 'str'], ['force', false, 'bool'],
      ['read-only-mode', false, 'enum', ['retain', 'read-only', 'read-write']]]);
    const blkName = str(args.device), id = str(args.id);
    const { bb, dev } = getBlk(p, blkName, id);
    const old = bbRoot(p, bb);
    const b = p.bb(bb)!;
    // blk_new leaves root_state.open_flags 0: no BDRV_O_RDWR, a first medium opens read-only
    let ro = old ? p.node(old)!.ro : (b.rootRo ?? true);
    // blk_get_open_flags_from_root_state keeps BDRV_O_INACTIVE (an old medium inactive after a
    // migration, -incoming defer or blockdev-set-active): bdrv_open opens the new one inactive
    const inactive = old ? p.node(old)!.inactive === true : b.rootInactive === true;
    if (args['read-only-mode'] === 'read-only') ro = true;
    if (args['read-only-mode'] === 'read-write') ro = false;
    p.step('bdrv_open medium');
    const filename = String(args.filename);
    // without `format`, bdrv_open leaves the options without a driver: bdrv_fill_options names
    // the protocol from the file name (bdrv_find_protocol: `file`) and, BDRV_O_PROTOCOL unset,
    // bdrv_open_inherit opens that as the `file` child and find_image_format probes the format
    // over it (a raw image: raw over file, a qcow2 one: qcow2 with its backing chain)
    // With `format` naming a protocol driver (file, host_device, null-co…), bdrv_fill_options sets
    // BDRV_O_PROTOCOL and hands it the file name as its own `filename`: the medium is that one node
    const probed = args.format === undefined && !hasProtocolPrefix(filename);
    const protocolFormat = args.format !== undefined && isProtocolDriver(String(args.format));
    const opts: Record<string, unknown> = protocolFormat
      ? { driver: String(args.format), filename, 'read-only': ro, 'detect-zeroes': 'off' }
      : args.format !== undefined || probed
        ? { driver: args.format !== undefined ? String(args.format) : probeFormatByName(p, filename), file: { driver: 'file', filename }, 'read-only': ro, 'detect-zeroes': 'off' }
        : { driver: 'file', filename, 'read-only': ro, 'detect-zeroes': 'off' };
    const medium = openNodeWithFlags(p, opts, inactive);
    // our reference, dropped at the end whether or not the medium went in (bdrv_unref)
    p.patchNode(medium.name, { extra: { ...(medium.extra ?? {}), refs: 1 } });
    // open, remove, insert, close: a failure keeps what came before it (the new medium is
    // dropped either way: bdrv_unref at `fail`)
    inStages(ctx, [
      (c) => { doOpenTray(c, blkName, id); },
      (c) => removeMedium(c, blkName, id),
      (c) => { insertAnonMedium(c, bb, dev, medium.name); closeTray(c, blkName, id); },
    ]);
    const m = p.node(medium.name)!;
    const { refs: _r, ...extra } = (m.extra ?? {}) as Record<string, unknown>;
    p.patchNode(medium.name, { extra });
    unrefIfUnused(p, medium.name);
    return {};
  },
};

export const mediaCommands = [blockdevOpenTray, blockdevCloseTray, blockdevRemoveMedium, blockdevInsertMedium, eject, blockdevChangeMedium];
