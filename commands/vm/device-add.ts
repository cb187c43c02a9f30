// device_add (vm target): qdev_device_add_from_qdict (softmmu/qdev-monitor.c) in its check order —
// driver, bus (lookup, type, hotplug), id, properties (drive: set_drive_helper), realize
// (blkconf_apply_backend_options: perms), then the bus's plug handler (virtio_scsi_hotplug: the
// controller's iothread). Any refusal unwinds the whole device, as err_del_dev does.
import { geometryGuessRead } from '../../graph/devices/geometry-read.js';
import { QmpError } from '../../errors/index.js';
import {
  PERIPHERAL, attachedName, bbRoot, bus as busOf, buses, changeMedia, checkIothread, createDeviceBb, device, devicePerms,
  attachLegacyDrive, deviceReadOnly, devices, putBus, putDevice, refuseIothreadLink, setBbContext, setBbPerm,
} from '../../graph/devices/ops.js';
import { CONTROLLERS, CONTROLLER_KINDS, DEVICE_KINDS, deviceRemovable, type Bus, type ControllerKind, type Device, type DeviceKind } from '../../graph/devices/types.js';
import { removeBlockBackend } from '../exports.js';
import { DEVICE_PROPS, readDevfn, readProp, type VqMapping } from '../../graph/devices/props.js';
import type { Proc } from '../../graph/proc.js';
import { opBlocker } from '../../graph/blockers.js';
import { rule } from '../../graph/rules.js';
import { blkByName, deviceOrNodeName } from '../../graph/named-blk.js';
import { attachChild, nameWellFormed } from '../../graph/ops.js';
import { bucketOf } from '../../graph/reopen/qdict.js';
import { heldDrainOver } from '../../graph/jobs/held-drain.js';
import { leakedDrainBelow } from '../../graph/reopen/drain-leak.js';
import { QemuAbortRefusal, QemuHangRefusal } from '../../graph/qemu-abort.js';
import { drained } from '../../graph/drain.js';
import { QmpErrorAfterAbort } from '../../graph/abort-residue.js';
import { MAIN_CONTEXT, tryMoveToContext } from '../../graph/aio.js';
import { PERM_ALL } from '../../graph/perm.js';
import type { CommandCtx, CommandDef } from '../types.js';
import { allocateNsid, checkNsidRange, registerCtrl } from './nvme-subsys.js';

// TYPE_PCI_BUS: q35's pcie.0 and root ports are PCIe buses (a subtype), i440fx's pci.0 is PCI itself
const busTypeFits = (busType: DeviceKind['busType'], b: Bus) => (busType === 'PCI' ? b.type === 'PCIE' || b.type === 'PCI' : b.type === busType);

/**
 * The device whose child bus `b` is: a controller's (owner), a pcie-root-port's secondary bus
 * (named after the port). The machine's own buses (ide.N of ich9-ahci / piix3-ide, floppy-bus.0)
 * belong to built-in devices the model does not keep.
 */
function busOwner(p: Proc, b: Bus): string | undefined {
  return b.owner ?? (device(p, b.id)?.driver === 'pcie-root-port' ? b.id : undefined);
}

/**
 * qbus_is_full: bus->full or BusClass max_dev reached. Of the bus types the model keeps (PCI,
 * SCSI, IDE, usb-bus, floppy-bus, nvme-bus) none sets max_dev (virtio-bus's 1 is the proxy's
 * inner bus, not kept) and none is marked full on q35 or pc: never full.
 */
const qbusIsFull = (_b: Bus): boolean => false;

/**
 * qbus_find_recursive(sysbus, NULL, type) (softmmu/qdev-monitor.c): depth first from the main
 * system bus, a bus that matches and is not full at once, else each device on it newest first
 * (bus_add_child: QTAILQ_INSERT_HEAD) and each of its child buses newest first
 * (qbus_init_internal: QLIST_INSERT_HEAD), the first full match kept as the pick. The root PCI
 * bus (q35's pcie.0, pc's pci.0) is the first PCI bus met. The built-in devices' buses come after
 * every -device and hotplugged one (they are the oldest children of the root bus), newest first.
 */
function defaultBus(p: Proc, busType: DeviceKind['busType']): Bus | undefined {
  const root = busOf(p, 'pcie.0') ?? busOf(p, 'pci.0');
  if (busType === 'PCI') return root;
  const all = buses(p).filter((b) => !b.hidden);
  const childBuses = (dev: string) => all.filter((b) => busOwner(p, b) === dev).sort((a, b) => b.at - a.at);
  const walk = (b: Bus, depth: number): Bus | undefined => {
    const match = busTypeFits(busType, b);
    if (match && !qbusIsFull(b)) return b;
    let pick = match ? b : undefined;
    if (depth > 64) return pick;
    for (const d of devices(p).filter((x) => x.bus === b.id).sort((x, y) => y.at - x.at)) {
      for (const c of childBuses(d.id)) {
        const ret = walk(c, depth + 1);
        if (ret && !qbusIsFull(ret)) return ret;
        if (ret && !pick) pick = ret;
      }
    }
    return pick;
  };
  const found = root ? walk(root, 0) : undefined;
  if (found) return found;
  return all.filter((b) => b.id !== root?.id && busOwner(p, b) === undefined && busTypeFits(busType, b)).sort((a, b) => b.at - a.at)[0];
}

/**
 * What qdev_device_add_from_qdict gets from a QMP device_add. On 7.2 (qmp_device_add →
 * qemu_opts_from_qdict → qdev_device_add(opts) → qemu_opts_to_qdict, from_json false) every value
 * is a string: qemu_opts_from_qdict_entry writes a number as qnum_to_string, a boolean as on/off
 * and silently drops a dict, list or null; qemu_opts_create takes `id` only when it is a string and
 * checks it first of all (id_wellformed). On 10.0 qmp_device_add passes the QDict itself (from_json
 * true): JSON types stay, `id` is never checked for form. Either way driver, bus and id are read
 * with qdict_get_try_str, so a non-string one counts as absent.
 */
function deviceAddArgs(p: Proc, args: Record<string, unknown>, cold: boolean, qemuOpts = false): Record<string, unknown> {
  if (cold || (!qemuOpts && rule(p, 'device-add-args') === 'json')) return args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === 'id') { if (typeof v === 'string') out.id = v; continue; }
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = String(v);
    else if (typeof v === 'boolean') out[k] = v ? 'on' : 'off';
  }
  if (typeof out.id === 'string' && !nameWellFormed(out.id)) throw new QmpError("Parameter 'id' expects an identifier");
  return out;
}

/**
 * fuzz 1471005996 (7.2 hangs): realize's blkconf_geometry (virtio-blk, scsi-hd, ide-hd; not the
 * CD-ROMs) guesses the geometry with hd_geometry_guess → guess_disk_lchs → blk_pread of sector 0,
 * synchronously in the main loop. A BlockBackend attached to a node a completed mirror or active
 * commit holds drained until its finalize (graph/jobs/held-drain.ts) starts quiesced
 * (bdrv_replace_child_noperm's drain_saldo), and a device's BlockBackend queues requests while
 * quiesced (blk_wait_while_drained): the read waits for a drained_end that only job-finalize could
 * bring, and QMP never answers. Refused whole.
 */
function refuseGeometryUnderHeldDrain(p: Proc, d: Device, props: Record<string, unknown>): void {
  if (DEVICE_KINDS[d.driver]?.removable || !d.bb) return;
  // blkconf_geometry guesses (and reads) only when no cyls, heads or secs was given
  if (num(props, 'cyls') || num(props, 'heads') || num(props, 'secs')) return;
  const root = bbRoot(p, d.bb);
  // fuzz --against vm --qemu 10.0 314375822 (10.0 hangs): a node a blockdev-reopen queued twice
  // stays drained for good (graph/reopen/drain-leak.ts, rule 'reopen-queue-drains-per-call'), and
  // quiesces every node above it: the geometry read of a disk there waits the same way
  const leaked = root ? leakedDrainBelow(p, root) : undefined;
  if (leaked !== undefined) {
    throw new QemuHangRefusal(
      `device_add of ${d.driver} '${d.id}' on node '${root!}', above node '${leaked}' which a blockdev-reopen left drained: QEMU hangs here ` +
      "(realize's blkconf_geometry → guess_disk_lchs reads sector 0 through the quiesced BlockBackend and waits for ever, " +
      'blk_wait_while_drained; bdrv_reopen_queue_child drained the node once per queueing, bdrv_reopen_queue_free ended one section); refused by blockgraph',
      'blkconf_geometry');
  }
  const job = root ? heldDrainOver(p, root) : undefined;
  if (job === undefined) return;
  throw new QemuHangRefusal(
    `device_add of ${d.driver} '${d.id}' on node '${root!}', which job '${job}' holds drained until it is finalized: QEMU hangs here ` +
    "(realize's blkconf_geometry → guess_disk_lchs reads sector 0 through the quiesced BlockBackend and waits for ever, " +
    'blk_wait_while_drained); refused by blockgraph: finalize or cancel the job first',
    'blkconf_geometry');
}

/**
 * fuzz --against vm --qemu 10.0 785820337: scsi_generic_realize and scsi_block_realize ask
 * blk_ioctl(SG_GET_VERSION_NUM) before anything else reads; blk_co_do_ioctl starts with
 * blk_wait_while_drained, so above a node a blockdev-reopen left drained (10.0) or a completed
 * job holds drained until its finalize the ioctl waits for ever, as the disks' geometry read
 * does (refuseGeometryUnderHeldDrain). Refused whole.
 */
function refuseIoctlUnderDrain(p: Proc, d: Device): void {
  if (!d.bb) return;
  const root = bbRoot(p, d.bb);
  const leaked = root ? leakedDrainBelow(p, root) : undefined;
  const job = root && leaked === undefined ? heldDrainOver(p, root) : undefined;
  if (leaked === undefined && job === undefined) return;
  const why = leaked !== undefined ? `above node '${leaked}' which a blockdev-reopen left drained` : `which job '${job!}' holds drained until it is finalized`;
  throw new QemuHangRefusal(
    `device_add of ${d.driver} '${d.id}' on node '${root!}', ${why}: QEMU hangs here ` +
    "(realize's blk_ioctl(SG_GET_VERSION_NUM) waits in blk_co_do_ioctl → blk_wait_while_drained for ever); refused by blockgraph",
    'blk_wait_while_drained');
}

/** `qemuOpts`: HMP's device_add (hmp_device_add: qemu_opts_from_qdict + qdev_device_add(opts) on 7.2 and 10.0 alike), strings as QMP's on 7.2. */
export function addDevice(ctx: Pick<CommandCtx, 'p' | 'emit'>, args: Record<string, unknown>, cold: boolean, how: { qemuOpts?: boolean; path?: string } = {}): void {
  const held: Held = { ...(how.qemuOpts ? { qemuOpts: true } : {}), ...(how.path !== undefined ? { path: how.path } : {}) };
  try {
    addDeviceRefusals(ctx, args, cold, held);
  } catch (e) {
    // qdev_set_id's `static int anon_count` is never given back: a device refused after it took
    // device[N] leaves the next id-less device device[N+1]
    const next = held.anonNext;
    if (next !== undefined && e instanceof QmpError && !(e instanceof QemuAbortRefusal)) {
      const prev = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { prev?.(q); q.setMeta({ anonDevices: next }); });
    }
    throw e;
  }
}

/**
 * qdev_set_id (hw/core/qdev.c) for a device without an id: its name under
 * /machine/peripheral-anon is device[anon_count++], a counter of the whole process.
 */
function anonId(p: Proc, held: Held): string {
  const n = p.meta().anonDevices ?? 0;
  p.setMeta({ anonDevices: n + 1 });
  held.anonNext = n + 1;
  return `${PERIPHERAL}-anon/device[${n}]`;
}

/**
 * qbus_init_internal (hw/core/bus.c): a bus the controller does not name (virtio-scsi names its
 * own `ID.0` only when the proxy has an id) is its parent's `ID.N` when the parent has an id,
 * else the bus type's name in lower case and its BusClass's automatic_ids counter ("scsi.0",
 * "usb-bus.0"), one counter per bus type, never given back.
 */
function childBusName(p: Proc, d: Device, type: 'SCSI' | 'usb-bus'): string {
  if (!d.path.startsWith(`${PERIPHERAL}-anon/`)) return `${d.id}.0`;
  const ids = p.meta().busAutoIds ?? {};
  const n = ids[type] ?? 0;
  p.setMeta({ busAutoIds: { ...ids, [type]: n + 1 } });
  return `${type.toLowerCase()}.${n}`;
}

function addDeviceRefusals(ctx: Pick<CommandCtx, 'p' | 'emit'>, args: Record<string, unknown>, cold: boolean, held: Held): void {
  const { p } = ctx;
  try {
    addDeviceInner(ctx, args, cold, held);
  } catch (e) {
    // usb_claim_port's usb-hub is realized on its own (usb_realize_and_unref): a device refused
    // after it leaves it on the bus, its ports free
    if (held.hub && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && !(e instanceof QmpErrorAfterAbort)) {
      const hub = held.hub;
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => chainHub(q, hub.bus, hub.at));
    }
    if (held.leak && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && !(e instanceof QmpErrorAfterAbort)) {
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => leakNvme(q, held.leak!));
    }
    // an empty scsi-cd refused after scsi_cd_realize made its own BlockBackend (blk_new +
    // blk_attach_dev): err_del_dev's unparent → release_drive → blk_detach_dev drops only the
    // device's reference, blk_new's stays — the same leak as its unplug (device-del.ts), here
    // of an empty BlockBackend in the main loop (fuzz --against vm --qemu 10.0 2368406022)
    if (held.ownBb && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && !(e instanceof QmpErrorAfterAbort)) {
      const id = typeof args.id === 'string' ? args.id : 'anonymous';
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => {
        q.putBB({
          id: 'bb' + q.nextSeq(), owner: { kind: 'leak', id }, perm: 0, shared: PERM_ALL, allowAioChange: false,
          aio: MAIN_CONTEXT, at: q.meta().seq, dev: '',
        });
      });
    }
    // a named drive the refused device had attached (set_drive_helper's blk_attach_dev):
    // err_del_dev's unparent → release_drive → blk_detach_dev sets its perms to 0/ALL
    // (blk_set_perm(blk, 0, BLK_PERM_ALL)); the drive stays the monitor's (blockdev_auto_del
    // deletes only one blockdev_mark_auto_del marked, at unrealize), its perms no longer
    // drive_add's (fuzz --against vm --qemu 10.0 1119894182)
    if (held.attached && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && !(e instanceof QmpErrorAfterAbort)) {
      const bb = held.attached;
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { if (q.bb(bb)) setBbPerm(q, bb, 0, PERM_ALL); });
    }
    // qdev_device_add's unwinding once set_drive_helper put a BlockBackend on a node:
    // object_unparent -> release_drive -> blk_detach_dev -> blk_unref -> blk_drain, then
    // blk_delete -> blk_remove_bs -> blk_drain: two drained sections of the node, each pausing and
    // resuming the jobs above it, so a sleeping speed-limited job wakes although the device is
    // refused (found by fuzz --against vm 4089815415; the refused command keeps its wake-ups)
    if (held.node && e instanceof QmpError && !(e instanceof QemuAbortRefusal) && p.node(held.node)) {
      drained(p, [held.node], false, () => undefined);
      drained(p, [held.node], false, () => undefined);
    }
    throw e;
  }
}

interface Held {
  node?: string;
  /** set_drive_helper's blk_attach_dev put the device on this named drive's BlockBackend */
  attached?: string;
  /** qdev_set_id took /machine/peripheral-anon/device[N]: the next N, kept by a refused device_add too. */
  anonNext?: number;
  /** usb_claim_port chained a usb-hub onto this bus (chainHub), for a device made at `at`. */
  hub?: { bus: string; at: number };
  ownBb?: boolean;
  /** An nvme refused in its namespace setup: what QEMU keeps of it (leakNvme). */
  leak?: NvmeLeak;
  /** HMP's device_add: QemuOpts strings whatever the version's QMP path (addDevice). */
  qemuOpts?: boolean;
  /** A device the board makes itself (qdev_new without an id): its /machine/unattached/device[N]. */
  path?: string;
}

function addDeviceInner(ctx: Pick<CommandCtx, 'p' | 'emit'>, given: Record<string, unknown>, cold: boolean, held: Held): void {
  const { p } = ctx;
  const args = deviceAddArgs(p, given, cold, held.qemuOpts);
  if (typeof args.driver !== 'string') throw new QmpError("Parameter 'driver' is missing");
  const driver = args.driver;
  const kind = DEVICE_KINDS[driver];
  if (cold && driver === 'nvme-subsys') { addNvmeSubsys(p, args); return; }
  const ck = CONTROLLER_KINDS[driver];
  if (ck) { addController(ctx, args, cold, driver, ck, held); return; }
  if (!kind) {
    if ((CONTROLLERS as readonly string[]).includes(driver)) throw new QmpError(`blockgraph: hotplugging a ${driver} is not modelled`, 'GenericError');
    throw new QmpError(`'${driver}' is not a valid device model name`);
  }
  const b = findBus(p, args, kind.busType, driver, cold);
  // qdev_set_id
  let id: string;
  let path: string;
  if (held.path !== undefined) {
    // device_set_realized: realized without a parent, it goes to /machine/unattached
    id = held.path;
    path = held.path;
  } else if (typeof args.id === 'string') {
    id = args.id;
    if (device(p, id)) throw new QmpError(`Duplicate device ID '${id}'`);
    path = `${PERIPHERAL}/${id}`;
  } else {
    id = anonId(p, held);
    path = id;
  }
  // properties (object_set_properties_from_keyval)
  // object_set_properties_from_qdict walks dev->opts (a qdict_clone_shallow) with
  // qdict_first/qdict_next: by tdb_hash bucket, so which bad property is named first follows the
  // hash, not the order given (fuzz --against vm --qemu 10.0 3241002824: drive 'nosuch' before a
  // string share-rw). Each property is found, visited and set before the next one.
  const props: Record<string, unknown> = {};
  const d: Device = {
    id, driver, bus: b.id, path, bb: null, ownBb: false, shareRw: false,
    iothread: null, tray: kind.removable && !kind.trayless ? { open: false } : null, cold, at: p.nextSeq(),
  };
  p.step(`device_add ${id}`);
  putDevice(p, d);
  // 7.2: QemuOpts strings for a keyval visitor; 10.0 and -device JSON: the QObject input visitor
  const keyval = !cold && (held.qemuOpts === true || rule(p, 'device-add-args') === 'qemu-opts');
  const keys = Object.keys(args).filter((k) => k !== 'driver' && k !== 'bus' && k !== 'id');
  for (const k of keys.sort((x, y) => bucketOf(x) - bucketOf(y))) {
    const type = (k === 'iothread-vq-mapping' && !rule(p, 'virtio-blk-iothread-vq-mapping')) || (k === 'scsi' && kind.backend && !rule(p, 'virtio-blk-scsi-property'))
      ? undefined : DEVICE_PROPS[driver]?.[k];
    // object_property_find_err on the device itself: the proxy's typename (aliases only forward what the
    // inner virtio-blk-device has; vm/vm-e-virtio-blk-vq-mapping #9)
    if (!type) throw new QmpError(`Property '${driver}.${k}' not found`);
    // virtio-blk-pci's block properties are aliases onto its virtio-blk-device, which has no id
    props[k] = k === 'addr' ? readDevfn(args[k], keyval, driver)
      : readProp(k, type, args[k], keyval, kind.driveOwner && kind.backend ? '' : (typeof args.id === 'string' ? id : ''),
        kind.driveOwner ?? driver, rule(p, 'check-block-size-text'));
    // device_set_bootindex: check_boot_index against fw_boot_order, then add_boot_device_path
    // (a negative index takes no entry)
    if (k === 'bootindex' && (props.bootindex as number) >= 0 &&
      (devices(p).some((o) => o.bootindex === props.bootindex) || (p.meta().leakedBootIndexes ?? []).includes(props.bootindex as number))) {
      throw new QmpError(`The bootindex ${String(props.bootindex)} has already been used`);
    }
    // set_drive_helper: blk_by_name finds no named BlockBackend (no -drive here), a node name
    // makes a new one, blk_new + blk_insert_bs, right here in the property walk: the attach's
    // permission refresh over the node (a conflict already there) fails this property's set
    // before any property after it in the QDict's order is read (fuzz --against vm --qemu 10.0
    // 1998111866); an unknown name fails it too
    // A legacy drive's name comes first (blk_by_name), then node names (bdrv_lookup_bs)
    if (k === 'drive' && props.drive !== '') {
      const drive = String(props.drive);
      const blk = blkByName(p, drive);
      if (blk) {
        p.step(`device ${d.id}: blk_attach_dev ${drive}`);
        attachLegacyDrive(p, blk, d, drive);
        d.bb = blk.id;
        held.attached = blk.id;
      } else {
        if (!p.node(drive)) throw new QmpError(`Property '${kind.driveOwner}.drive' can't find value '${drive}'`);
        d.bb = createDeviceBb(p, d, drive);
        held.node = drive;
      }
    }
    // a link<iothread> property (refuseIothreadLink)
    if (k === 'iothread') refuseIothreadLink(p, String(props.iothread));
    // nvme's link<nvme-subsys> (and link<memory-backend> pmrdev, none of which exist here):
    // object_resolve_link, as for iothread
    if (kind.nvme === 'ctrl' && (k === 'subsys' || k === 'pmrdev')) {
      const v = String(props[k]);
      const found = device(p, v);
      if (k === 'pmrdev' || found?.driver !== 'nvme-subsys') {
        if (found || p.object(v)) throw new QmpError(`Invalid parameter type for '${k}', expected: ${k === 'subsys' ? 'nvme-subsys' : 'memory-backend'}`);
        throw new QmpError(`Device '${v}' not found`, 'DeviceNotFound');
      }
    }
  }
  d.shareRw = props['share-rw'] === true;
  if (((props.bootindex as number | undefined) ?? -1) >= 0) d.bootindex = props.bootindex as number;
  if (Object.keys(props).length) d.props = { ...props };
  // scsi_realize: removable=on gives a scsi-hd the CD's tray callbacks (deviceRemovable)
  if (!d.tray && !kind.trayless && deviceRemovable(d)) d.tray = { open: false };
  putDevice(p, d);
  if (props.iothread !== undefined) {
    const io = String(props.iothread);
    refuseIothreadLink(p, io);
    d.iothread = io;
  }
  // realize: pci_qdev_realize → do_pci_register_device comes before the device's own realize
  if (kind.busType === 'PCI') pciRegister(p, d, props.addr as number | undefined);
  if (!cold && kind.busType === 'PCI') refuseFunction0Taken(p, d);
  // usb_qdev_realize: usb_claim_port, then the device's own realize
  if (kind.busType === 'usb-bus') usbClaimPort(p, b, d, props.port as string | undefined, held);
  if (kind.usbStorage) { usbStorageRealize(p, d, props); return; }
  if (kind.nvme) { nvmeRealize(p, d, props, held); return; }
  if (driver === 'floppy') { floppyRealize(p, d, props, held); return; }
  if (kind.busType === 'IDE') ideUnit(p, d, props);
  // qdev_realize → qdev_set_parent_bus: scsi_bus_check_address, then scsi_qdev_realize
  if (kind.busType === 'SCSI') d.scsi = scsiAddress(p, d, props);
  // scsi_hd_realize: blkconf_blocksizes before scsi_realize's own checks (when it has a drive)
  if (driver === 'scsi-hd' && d.bb) blkconfBlocksizes(props);
  if (!d.bb) {
    if (!kind.removable) throw new QmpError('drive property not set');
    // scsi_cd_realize / ide_dev_initfn: an empty drive gets an anonymous BlockBackend of its own,
    // which qdev never releases (blk_new's reference is leaked on unplug)
    d.bb = createDeviceBb(p, d, null);
    d.ownBb = true;
    held.ownBb = true;
  }
  // scsi_realize / virtio_blk_device_realize: a disk on an empty drive (a legacy drive without a
  // medium); IDE checks it later, in ide_init_drive after its perms (below)
  if (kind.busType !== 'IDE' && !kind.removable && !deviceRemovable(d) && !bbRoot(p, d.bb)) throw new QmpError('Device needs media, but drive is empty');
  // scsi_block_realize / scsi_generic_realize: blk_ioctl(SG_GET_VERSION_NUM) on an image node is
  // -ENOTSUP (bdrv_co_ioctl: no bdrv_co_ioctl below the format), error_setg_errno's strerror
  if (kind.sgIo) {
    refuseIoctlUnderDrain(p, d);
    throw new QmpError('cannot get SG_IO version number: Operation not supported');
  }
  putDevice(p, d);
  const node = p.children({ kind: 'bb', bb: d.bb })[0]?.child ?? null;
  // ide_dev_initfn: blkconf_apply_backend_options(conf, kind == IDE_CD, …): an IDE disk asks for
  // write whatever its node is (blk_supports_write_perm is not asked), so a read-only node refuses
  // it in the perm update ("Block node is read-only")
  const ro = kind.busType === 'IDE' ? kind.readOnly : deviceReadOnly(p, d, node);
  const perms = devicePerms(ro, kind.resizable, d.shareRw);
  // virtio_blk_device_realize's own checks before blkconf_apply_backend_options
  if (kind.backend) virtioBlkQueues(props);
  // scsi_realize: blkconf_blocksizes, then (scsi-hd) blkconf_geometry, before
  // blkconf_apply_backend_options; virtio-blk: geometry, then block sizes, after it
  if (kind.busType === 'SCSI') {
    blkconfBlocksizes(props);
    // scsi_realize: a BlockBackend in an iothread (set_drive_helper's blk_new in its node's
    // context) needs an HBA that supports them: only virtio-scsi's pre-hotplug handler sets
    // hba_supports_iothread (an lsi53c895a's bus has no context of its own; fuzz --against vm
    // --qemu 10.0 4168858478: a second disk on a node a disk of the iothread controller holds)
    if ((p.bb(d.bb)?.aio ?? 'main') !== 'main' && b.iothread === null) throw new QmpError('HBA does not support iothreads');
    if (!kind.removable) { blkconfGeometry(props); refuseGeometryUnderHeldDrain(p, d, props); guessGeometry(p, d, props); }
  }
  p.step(`device ${id}: blkconf_apply_backend_options`);
  setBbPerm(p, d.bb, perms.perm, perms.shared);
  if (kind.busType !== 'SCSI') {
    if (kind.busType === 'PCI') blkconfGeometry(props);
    refuseGeometryUnderHeldDrain(p, d, props);
    // ide_dev_initfn: blkconf_geometry for a disk (not a CD-ROM)
    if (kind.busType === 'PCI' || (kind.busType === 'IDE' && !kind.removable)) guessGeometry(p, d, props);
    if (kind.busType === 'PCI') blkconfBlocksizes(props);
  }
  // ide_init_drive (IDE_HD), after the perms: an empty drive, then !blk_is_writable
  if (driver === 'ide-hd' && !bbRoot(p, d.bb)) throw new QmpError('Device needs media, but drive is empty');
  if (driver === 'ide-hd' && p.node(bbRoot(p, d.bb) ?? '')?.ro) throw new QmpError("Can't use a read-only drive");
  if (kind.backend) virtioBlkMaxSectors(props);
  if (kind.busType === 'SCSI') scsiSerialLength(p, props);
  // virtio_blk_device_realize → virtio_add_queue per queue: abort() past VIRTIO_QUEUE_MAX
  if (kind.backend && virtioNumQueues(props) > VIRTIO_QUEUE_MAX) {
    throw new QemuAbortRefusal(
      `device_add of virtio-blk-pci '${id}' with num-queues ${virtioNumQueues(props)}: QEMU aborts here ` +
      `(virtio_blk_device_realize adds one virtqueue per queue and virtio_add_queue aborts past VIRTIO_QUEUE_MAX, ${VIRTIO_QUEUE_MAX}); refused by blockgraph`,
      'virtio_add_queue');
  }
  if (kind.backend) virtioBlkVqAioContextInit(p, props);
  if (kind.removable && node) changeMedia(p, device(p, id)!, true, () => undefined);
  // virtio_blk_device_realize → virtio_blk_data_plane_create (hw/block/dataplane/virtio-blk.c):
  // with an `iothread` the dataplane op blocker is checked at realize, guest or not ("If
  // dataplane is (re-)enabled while the guest is running there could be block jobs that can
  // conflict"): blk_op_is_blocked(BLOCK_OP_TYPE_DATAPLANE), error prefixed; nothing moves yet
  // (QEMU 10.0 has no dataplane op blocker: graph/rules.ts dataplane-op-blocker)
  if (d.iothread !== null && driver.startsWith('virtio-blk') && rule(p, 'dataplane-op-blocker')) {
    const root = bbRoot(p, d.bb);
    const blocked = root ? opBlocker(p, root, 'dataplane') : null;
    if (blocked) throw new QmpError(`cannot start virtio-blk dataplane: Node '${deviceOrNodeName(p, root!)}' is busy: ${blocked}`);
  }
  // plug: virtio_scsi_hotplug checks the dataplane blocker, then moves the disk to the
  // controller's context (s->ctx: its iothread, or the main loop); errors fail device_add.
  // QEMU 10.0: no blocker, and only a controller with an iothread moves it, a refusal ignored
  // (graph/rules.ts dataplane-op-blocker, virtio-scsi-hotplug-context)
  if (b.iothread && kind.busType === 'SCSI') {
    const root = bbRoot(p, d.bb);
    const blocked = root && rule(p, 'dataplane-op-blocker') ? opBlocker(p, root, 'dataplane') : null;
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, root!)}' is busy: ${blocked}`);
    if (rule(p, 'virtio-scsi-hotplug-context') === 'always-strict') {
      p.step(`device ${id}: aio context ${b.iothread}`);
      setBbContext(p, d.bb, b.iothread);
    } else if (b.iothread !== 'main') {
      p.step(`device ${id}: aio context ${b.iothread}`);
      setBbContext(p, d.bb, b.iothread, { ignoreErrors: true });
    }
  }
  // virtio_device_realize → virtio_bus_device_plugged → virtio_blk_get_features, once realize is
  // done: a modern device (virtio-pci's default, VIRTIO_F_VERSION_1) refuses VIRTIO_BLK_F_SCSI
  if (kind.backend && props.scsi === true) throw new QmpError('Please set scsi=off for virtio-blk devices in order to use virtio 1.0');
  void attachedName;
}

/**
 * The functions of the machine's root bus that are not -devices (query-pci of a fresh
 * `-nodefaults` machine): q35's mch and the ICH9 LPC, AHCI and SMBus at 1f.0/.2/.3; pc's i440FX,
 * PIIX3, its IDE and (with ACPI) PIIX4_PM at 1.0/.1/.3. devfn → PCIDevice name (its type).
 */
function builtinPci(p: Proc): Map<number, string> {
  if (p.meta().machine !== 'pc') return new Map([[0, 'mch'], [0xf8, 'ICH9-LPC'], [0xfa, 'ich9-ahci'], [0xfb, 'ICH9-SMB']]);
  const m = new Map([[0, 'i440FX'], [8, 'PIIX3'], [9, 'piix3-ide']]);
  if (busOf(p, 'pci.0')?.hotplug) m.set(11, 'PIIX4_PM');
  return m;
}

/**
 * do_pci_register_device (hw/pci/pci.c) on the machine's root bus (pcie.0 / pci.0): no `addr`
 * takes the first slot whose function 0 is free (devfn_min 0, stepping by PCI_FUNC_MAX); a given
 * one must be free ("in use by TYPE,id=ID", a device without id printing "(null)"), and a
 * hotplugged function other than 0 needs its slot's function 0 empty. The devfn is the device's
 * until it is unrealized. (A root port's secondary bus: refuseFunction0Taken.)
 */
export function pciRegister(p: Proc, d: Device, addr: number | undefined): void {
  if (d.bus !== 'pcie.0' && d.bus !== 'pci.0') return;
  const taken = new Map<number, { name: string; id: string }>();
  for (const [devfn, name] of builtinPci(p)) taken.set(devfn, { name, id: '(null)' });
  for (const o of devices(p)) {
    if (o.id !== d.id && o.bus === d.bus && o.devfn !== undefined) taken.set(o.devfn, { name: o.driver, id: o.path.startsWith(`${PERIPHERAL}/`) ? o.id : '(null)' });
  }
  let devfn = addr ?? -1;
  if (devfn < 0) {
    for (devfn = 0; devfn < 256 && taken.has(devfn); devfn += 8);
    if (devfn >= 256) throw new QmpError(`PCI: no slot/function available for ${d.driver}, all in use or reserved`);
  } else {
    const slot = devfn >> 3, fn = devfn & 7;
    const t = taken.get(devfn);
    if (t) throw new QmpError(`PCI: slot ${slot} function ${fn} not available for ${d.driver}, in use by ${t.name},id=${t.id}`);
    const f0 = taken.get(devfn & ~7);
    if (!d.cold && fn !== 0 && f0) throw new QmpError(`PCI: slot ${slot} function 0 already occupied by ${f0.name}, new func ${d.driver} cannot be exposed to guest.`);
  }
  d.devfn = devfn;
  putDevice(p, d);
}

/**
 * QEMU 10.0's do_pci_register_device (graph/rules.ts pci-hotplug-function-0): a hotplugged PCI
 * device whose function 0 is taken is refused, also with an auto-assigned devfn; under a
 * pcie-root-port (an upstream PCIe port) pci_get_function_0 is the port's only slot,
 * bus->devices[0]: the device first plugged there. 7.2 skips the check for an auto-assigned devfn.
 */
function refuseFunction0Taken(p: Proc, d: Device): void {
  if (!rule(p, 'pci-hotplug-function-0') || device(p, d.bus)?.driver !== 'pcie-root-port') return;
  const f0 = devices(p).find((x) => x.bus === d.bus && x.id !== d.id);
  if (f0) throw new QmpError(`PCI: slot 0 function 0 already occupied by ${f0.driver}, new func ${d.driver} cannot be exposed to guest.`);
}

export const deviceAdd: CommandDef = {
  name: 'device_add',
  mutates: true,
  run(ctx) {
    addDevice(ctx, ctx.args, false);
    return {};
  },
};

const num = (props: Record<string, unknown>, k: string, dflt = 0): number => (typeof props[k] === 'number' ? props[k] : dflt);

/** include/hw/virtio/virtio.h */
const VIRTIO_QUEUE_MAX = 1024;
const VIRTQUEUE_MAX_SIZE = 1024;
/** VIRTIO_BLK_AUTO_NUM_QUEUES (UINT16_MAX): virtio_blk_pci_realize picks virtio_pci_optimal_num_queues, one per vCPU (one here). */
const virtioNumQueues = (props: Record<string, unknown>): number => {
  const n = num(props, 'num-queues', 0xffff);
  return n === 0xffff ? 1 : n;
};

/**
 * QEMU 10.0's virtio_blk_vq_aio_context_init, the last check of virtio_blk_device_realize (after
 * blkconf_apply_backend_options: a permission conflict is named first): iothread and
 * iothread-vq-mapping exclude each other, then iothread_vq_mapping_validate against num_queues.
 * The virtqueues' AioContexts are only used once a guest starts the dataplane, so nothing moves
 * here. (A 7.2 device never has the property: rule virtio-blk-iothread-vq-mapping.)
 */
function virtioBlkVqAioContextInit(p: Proc, props: Record<string, unknown>): void {
  const list = props['iothread-vq-mapping'] as VqMapping[] | null | undefined;
  if (!list) return;
  if (props.iothread !== undefined) throw new QmpError('iothread and iothread-vq-mapping properties cannot be set at the same time');
  const numQueues = virtioNumQueues(props);
  const seen = new Set<string>();
  const assigned = new Set<number>();
  list.forEach((m, i) => {
    if (!checkIothread(p, m.iothread)) throw new QmpError(`IOThread "${m.iothread}" object does not exist`);
    if (seen.has(m.iothread)) throw new QmpError(`duplicate IOThread name "${m.iothread}" in iothread-vq-mapping`);
    seen.add(m.iothread);
    if (i > 0 && !!m.vqs !== !!list[0]!.vqs) throw new QmpError('either all items in iothread-vq-mapping must have vqs or none of them must have it');
    for (const vq of m.vqs ?? []) {
      if (vq >= numQueues) throw new QmpError(`vq index ${vq} for IOThread "${m.iothread}" must be less than num_queues ${numQueues} in iothread-vq-mapping`);
      if (assigned.has(vq)) throw new QmpError(`cannot assign vq ${vq} to IOThread "${m.iothread}" because it is already assigned`);
      assigned.add(vq);
    }
  });
  if (list[0]!.vqs) {
    for (let i = 0; i < numQueues; i++) if (!assigned.has(i)) throw new QmpError(`missing vq ${i} IOThread assignment in iothread-vq-mapping`);
  }
}

/** virtio_blk_device_realize (hw/block/virtio-blk.c): num-queues and queue-size, in its order. */
function virtioBlkQueues(props: Record<string, unknown>): void {
  if (virtioNumQueues(props) === 0) throw new QmpError('num-queues property must be larger than 0');
  const qs = num(props, 'queue-size', 256);
  if (qs <= 2) throw new QmpError(`invalid queue-size property (${qs}), must be > 2`);
  if ((qs & (qs - 1)) !== 0 || qs > VIRTQUEUE_MAX_SIZE) {
    throw new QmpError(`invalid queue-size property (${qs}), must be a power of 2 (max ${VIRTQUEUE_MAX_SIZE})`);
  }
}

/** include/block/block-common.h BDRV_REQUEST_MAX_SECTORS: MIN(SIZE_MAX >> 9, INT_MAX >> 9) on a 64-bit host. */
const BDRV_REQUEST_MAX_SECTORS = 4194303;

/**
 * virtio_blk_device_realize, after blkconf_blocksizes: with the feature on (both are, by
 * default) max-discard-sectors and max-write-zeroes-sectors must be 1..BDRV_REQUEST_MAX_SECTORS
 * (their defaults are that maximum); with discard=off / write-zeroes=off nothing is checked.
 */
function virtioBlkMaxSectors(props: Record<string, unknown>): void {
  for (const [feature, k] of [['discard', 'max-discard-sectors'], ['write-zeroes', 'max-write-zeroes-sectors']] as const) {
    if (props[feature] === false) continue;
    const v = num(props, k, BDRV_REQUEST_MAX_SECTORS);
    if (v === 0 || v > BDRV_REQUEST_MAX_SECTORS) throw new QmpError(`invalid ${k} property (${v}), must be between 1 and ${BDRV_REQUEST_MAX_SECTORS}`);
  }
}

/**
 * blkconf_blocksizes (hw/block/block.c): unset sizes become 512 (backend_defaults auto probes
 * only host block devices, blk_probe_blocksizes; an image file answers -ENOTSUP), then the checks.
 */
function blkconfBlocksizes(props: Record<string, unknown>): void {
  const log = num(props, 'logical_block_size') || 512;
  const phys = num(props, 'physical_block_size') || 512;
  if (log > phys) throw new QmpError('logical_block_size > physical_block_size not supported');
  const min = num(props, 'min_io_size');
  if (min % log !== 0) throw new QmpError('min_io_size must be a multiple of logical_block_size');
  if (min / log > 0xffff) throw new QmpError(`min_io_size must not exceed ${0xffff} logical blocks`);
  if (num(props, 'opt_io_size') % log !== 0) throw new QmpError('opt_io_size must be a multiple of logical_block_size');
  // DEFINE_PROP_SIZE32's default -1 (UINT32_MAX) is "unset"
  const dg = num(props, 'discard_granularity', 0xffffffff);
  if (dg !== 0xffffffff && dg % log !== 0) throw new QmpError('discard_granularity must be a multiple of logical_block_size');
}

/** blkconf_geometry(conf, NULL, 65535, 255, 255) of virtio-blk and scsi-hd: given values only. */
/** blkconf_geometry without cyls/heads/secs: hd_geometry_guess reads the first sector (graph/devices/geometry-read.ts). */
function guessGeometry(p: Proc, d: Device, props: Record<string, unknown>): void {
  if (!num(props, 'cyls') && !num(props, 'heads') && !num(props, 'secs') && d.bb) geometryGuessRead(p, d.bb);
}

function blkconfGeometry(props: Record<string, unknown>): void {
  const [cyls, heads, secs] = [num(props, 'cyls'), num(props, 'heads'), num(props, 'secs')];
  if (!cyls && !heads && !secs) return;
  if (cyls < 1 || cyls > 65535) throw new QmpError('cyls must be between 1 and 65535');
  if (heads < 1 || heads > 255) throw new QmpError('heads must be between 1 and 255');
  if (secs < 1 || secs > 255) throw new QmpError('secs must be between 1 and 255');
}

/** virtio-scsi's SCSIBusInfo (a bus without `scsiMax`): max_channel 0, max_target VIRTIO_SCSI_MAX_TARGET, max_lun VIRTIO_SCSI_MAX_LUN. */
const SCSI_MAX_CHANNEL = 0;
const SCSI_MAX_TARGET = 255;
const SCSI_MAX_LUN = 16383;
const UNSET = 0xffffffff;

/**
 * scsi_bus_check_address (hw/scsi/scsi-bus.c, from qdev_set_parent_bus), then scsi_qdev_realize's
 * assignment of a missing scsi-id (the first free one, lun 0 when unset) or lun (the first free
 * one). The properties are uint32 with default -1, printed with %d.
 */
function scsiAddress(p: Proc, d: Device, props: Record<string, unknown>): { channel: number; id: number; lun: number } {
  const max = busOf(p, d.bus)?.scsiMax ?? { channel: SCSI_MAX_CHANNEL, target: SCSI_MAX_TARGET, lun: SCSI_MAX_LUN };
  const channel = num(props, 'channel');
  let id = num(props, 'scsi-id', UNSET);
  let lun = num(props, 'lun', UNSET);
  const asInt = (v: number) => (v >= 0x80000000 ? v - 0x100000000 : v);
  if (channel > max.channel) throw new QmpError(`bad scsi channel id: ${asInt(channel)}`);
  if (id !== UNSET && id > max.target) throw new QmpError(`bad scsi device id: ${asInt(id)}`);
  if (lun !== UNSET && lun > max.lun) throw new QmpError(`bad scsi device lun: ${asInt(lun)}`);
  const onBus = devices(p).filter((o) => o.id !== d.id && o.bus === d.bus && o.scsi);
  const user = (c: number, i: number, l: number) => onBus.find((o) => o.scsi!.channel === c && o.scsi!.id === i && o.scsi!.lun === l);
  if (id !== UNSET && lun !== UNSET) {
    const u = user(channel, id, lun);
    if (u) throw new QmpError(`lun already used by '${u.path.startsWith(`${PERIPHERAL}/`) ? u.id : '(null)'}'`);
  }
  if (id === UNSET) {
    if (lun === UNSET) lun = 0;
    id = -1;
    let free = false;
    do { id++; free = !user(channel, id, lun); } while (!free && id < max.target);
    if (!free) throw new QmpError('no free target');
  } else if (lun === UNSET) {
    lun = -1;
    let free = false;
    do { lun++; free = !user(channel, id, lun); } while (!free && lun < max.lun);
    if (!free) throw new QmpError('no free lun');
  }
  return { channel, id, lun };
}

/**
 * QEMU 10.0's scsi_realize (graph/rules.ts scsi-serial-length): a serial longer than
 * MAX_SERIAL_LEN, or used as the default device_id and longer than MAX_SERIAL_LEN_FOR_DEVID, is
 * refused after the perms are applied; 7.2 takes any serial (device_id gets its first 20).
 */
function scsiSerialLength(p: Proc, props: Record<string, unknown>): void {
  const lim = rule(p, 'scsi-serial-length');
  if (!lim || typeof props.serial !== 'string') return;
  if (props.serial.length > lim.serial) throw new QmpError(`The serial number can't be longer than ${lim.serial} characters`);
  if (props.device_id === undefined && props.serial.length > lim.deviceId) {
    throw new QmpError(`The serial number can't be longer than ${lim.deviceId} characters when it is also used as the default for device_id`);
  }
}

/** What survives an nvme refused in its namespace setup (nvmeRealize). */
interface NvmeLeak { id: string; name: string; node: string | null; bootindex?: number }

/**
 * nvme_realize (hw/nvme/ctrl.c) after pci_qdev_realize's slot check, and nvme_ns_realize
 * (hw/nvme/ns.c) for a cold-plugged nvme-ns.
 *
 * The controller: nvme_check_constraints (the legacy `drive` namespace beside a subsys,
 * max_ioqpairs — num_queues, deprecated, overrides it as num_queues - 1 —, msix_qsize, serial),
 * qbus_init of its nvme-bus (named by its id), nvme_init_subsys, nvme_init_pci, nvme_init_ctrl,
 * then with a drive the namespace, nsid 1: nvme_ns_setup → nvme_ns_check_constraints ("block
 * backend not configured" cannot happen here), nvme_ns_init_blk: blkconf_blocksizes, then
 * blkconf_apply_backend_options(read_only = !blk_supports_write_perm, resizable = false).
 * nvme_realize has no error path: by then nvme_init_pci has registered the BARs
 * (memory_region_add_subregion takes a reference on the owner), so a refused namespace leaves
 * the device for ever unfinalized: qdev's err_del_dev unparents it ("Device 'ID' not found"
 * after), but release_drive never runs — its BlockBackend stays on the node under the device's
 * name, with the perms it had (blk_new's 0/ALL: both checks fail before any blk_set_perm
 * succeeds), and its bootindex keeps its fw_boot_order entry (vm/vm-f-nvme-props,
 * vm/vm-f-hotplug-kinds-holders). The constraint checks come before all that and unwind cleanly.
 */
function nvmeRealize(p: Proc, d: Device, props: Record<string, unknown>, held: Held): void {
  const kind = DEVICE_KINDS[d.driver]!;
  if (kind.nvme === 'ctrl') {
    if (d.bb && props.subsys !== undefined) throw new QmpError("subsystem support is unavailable with legacy namespace ('drive' property)");
    const numQueues = num(props, 'num_queues');
    const maxIoqpairs = numQueues ? (numQueues - 1) >>> 0 : num(props, 'max_ioqpairs', 64);
    if (maxIoqpairs < 1 || maxIoqpairs > NVME_MAX_IOQPAIRS) throw new QmpError(`max_ioqpairs must be between 1 and ${NVME_MAX_IOQPAIRS}`);
    const msix = num(props, 'msix_qsize', 65);
    if (msix < 1 || msix > PCI_MSIX_FLAGS_QSIZE + 1) throw new QmpError(`msix_qsize must be between 1 and ${PCI_MSIX_FLAGS_QSIZE + 1}`);
    if (typeof props.serial !== 'string') throw new QmpError('serial property not set');
    if (!d.path.startsWith(`${PERIPHERAL}-anon`)) putBus(p, { id: d.id, type: 'nvme-bus', hotplug: false, iothread: null, at: p.nextSeq() });
    registerCtrl(p, props);
    if (!d.bb) return;
    held.leak = { id: d.id, name: attachedName(d), node: bbRoot(p, d.bb), ...(d.bootindex !== undefined ? { bootindex: d.bootindex } : {}) };
  } else {
    // nvme_ns_realize: a namespace of a controller linked to a subsystem is reparented onto the
    // subsystem's bus (qdev_set_parent_bus)
    const ctrl = d.bus;
    const subsys = device(p, ctrl)?.props?.subsys;
    if (typeof subsys === 'string') { d.bus = subsys; putDevice(p, d); }
    // 7.2's nvme_ns_realize without a subsystem (10.0 always has one: rule nvme-ns-detached-needs-subsys)
    else if (props.detached === true && rule(p, 'nvme-ns-detached-needs-subsys')) {
      throw new QmpError('detached requires that the nvme device is linked to an nvme-subsys device');
    }
    if (!d.bb) throw new QmpError('block backend not configured');
    checkNsidRange(props);
    nsSetupBlk(p, d, kind, props);
    // nvme_ns_realize: the namespace id, once nvme_ns_setup has taken the drive's permissions
    allocateNsid(p, d, ctrl);
    putDevice(p, d);
    return;
  }
  nsSetupBlk(p, d, kind, props);
  held.leak = undefined;
}

/** nvme_ns_init_blk: blkconf_blocksizes, then blkconf_apply_backend_options(read_only, resizable = false). */
function nsSetupBlk(p: Proc, d: Device, kind: DeviceKind, props: Record<string, unknown>): void {
  blkconfBlocksizes(props);
  const node = bbRoot(p, d.bb!);
  const perms = devicePerms(deviceReadOnly(p, d, node), kind.resizable, d.shareRw);
  p.step(`device ${d.id}: blkconf_apply_backend_options`);
  setBbPerm(p, d.bb!, perms.perm, perms.shared);
}

/** include/block/nvme.h NVME_MAX_IOQPAIRS, include/hw/pci/pci_regs.h PCI_MSIX_FLAGS_QSIZE. */
const NVME_MAX_IOQPAIRS = 0xffff;
const PCI_MSIX_FLAGS_QSIZE = 0x07ff;

/** The residue of a refused nvme (nvmeRealize): set_drive_helper's BlockBackend, and the boot entry. */
function leakNvme(q: Proc, leak: NvmeLeak): void {
  if (leak.node && q.node(leak.node)) {
    const id = 'bb' + q.nextSeq();
    q.putBB({ id, owner: { kind: 'leak', id: leak.id }, perm: 0, shared: PERM_ALL, allowAioChange: false, aio: MAIN_CONTEXT, at: q.meta().seq, dev: leak.name });
    if (q.node(leak.node)!.aio !== MAIN_CONTEXT) tryMoveToContext(q, leak.node, MAIN_CONTEXT);
    attachChild(q, { kind: 'bb', bb: id }, leak.node, 'root', 0, { perm: 0, shared: PERM_ALL });
  }
  if (leak.bootindex !== undefined) q.setMeta({ leakedBootIndexes: [...(q.meta().leakedBootIndexes ?? []), leak.bootindex] });
}

/**
 * A cold-plugged nvme-subsys (nvme_subsys_realize): a bus-less device with an nvme-bus of its own
 * named by its id, which qbus_find never reaches (not below the system bus); its namespaces get
 * there by nvme_ns_realize's reparenting. Not hotpluggable (dc->hotpluggable = false; device_add of
 * one is not modelled).
 */
function addNvmeSubsys(p: Proc, args: Record<string, unknown>): void {
  if (typeof args.id !== 'string') throw new QmpError('blockgraph: an nvme-subsys needs an id');
  if (device(p, args.id)) throw new QmpError(`Duplicate device ID '${args.id}'`);
  const { driver: _d, id: _i, ...props } = args;
  putDevice(p, {
    id: args.id, driver: 'nvme-subsys', bus: '', path: `${PERIPHERAL}/${args.id}`, bb: null, ownBb: false, shareRw: false,
    iothread: null, tray: null, cold: true, at: p.nextSeq(), props,
  });
  putBus(p, { id: args.id, type: 'nvme-bus', hotplug: false, iothread: null, at: p.nextSeq(), hidden: true });
}

/**
 * ide_qdev_realize (hw/ide/qdev.c; 10.0 hw/ide/ide-dev.c), before the kind's own realize
 * (ide_dev_initfn): an unset unit is the master's place unless the bus has one; a unit past the
 * bus's max_units — one on q35's AHCI ports (ahci_realize's ide_bus_init(…, 1)), two on the PIIX
 * buses — is refused, and so is a place a device already holds, the board's own IDE devices on
 * its -drive if=ide drives included ("IDE unit 0 is in use"). The unit is written back.
 */
function ideUnit(p: Proc, d: Device, props: Record<string, unknown>): void {
  const maxUnits = p.meta().machine === 'pc' ? 2 : 1;
  const holders = devices(p).filter((o) => o.id !== d.id && o.bus === d.bus && DEVICE_KINDS[o.driver]?.busType === 'IDE');
  const taken = (u: number) => holders.some((o) => o.props?.unit === u);
  let unit = num(props, 'unit', UNSET);
  if (unit === UNSET) unit = taken(0) ? 1 : 0;
  if (unit >= maxUnits) throw new QmpError(`Can't create IDE unit ${unit}, bus supports only ${maxUnits} units`);
  if (taken(unit)) throw new QmpError(`IDE unit ${unit} is in use`);
  d.props = { ...(d.props ?? {}), unit };
}

/** hw/block/fdc.c MAX_FD: an isa-fdc's floppy-bus has units 0 and 1. */
const MAX_FD = 2;

/**
 * floppy_drive_realize (hw/block/fdc.c; the floppy-bus never hotplugs, so only from the command
 * line): the unit (the first one without a drive when unset), then an empty drive gets its own
 * BlockBackend (blk_create_empty_drive + blk_attach_dev) and is read-only "to allow attaching a
 * read-only node later"; a drive is read-only when its node is. blkconf_blocksizes, 512-byte
 * blocks only, then blkconf_apply_backend_options(read_only, resizable = false).
 */
function floppyRealize(p: Proc, d: Device, props: Record<string, unknown>, held: Held): void {
  const taken = (u: number) => devices(p).some((o) => o.id !== d.id && o.bus === d.bus && o.driver === 'floppy' && o.props?.unit === u);
  let unit = num(props, 'unit', UNSET);
  if (unit === UNSET) for (unit = 0; unit < MAX_FD && taken(unit); unit++);
  if (unit >= MAX_FD) throw new QmpError(`Can't create floppy unit ${unit >= 0x80000000 ? unit - 0x100000000 : unit}, bus supports only ${MAX_FD} units`);
  if (taken(unit)) throw new QmpError(`Floppy unit ${unit} is in use`);
  d.props = { ...(d.props ?? {}), unit };
  let ro: boolean;
  if (!d.bb) {
    d.bb = createDeviceBb(p, d, null);
    d.ownBb = true;
    held.ownBb = true;
    ro = true;
  } else {
    ro = deviceReadOnly(p, d, bbRoot(p, d.bb));
  }
  putDevice(p, d);
  blkconfBlocksizes(props);
  if ((num(props, 'logical_block_size') || 512) !== 512 || (num(props, 'physical_block_size') || 512) !== 512) {
    throw new QmpError('Physical and logical block size must be 512 for floppy');
  }
  const perms = devicePerms(ro, false, d.shareRw);
  p.step(`device ${d.id}: blkconf_apply_backend_options`);
  setBbPerm(p, d.bb, perms.perm, perms.shared);
}

/** The main system bus's devices of a `-nodefaults` machine (`info qtree`, 7.2 and 10.0): the PCI host's child bus is the root bus. */
const SYSBUS_DEVICES = ['ps2-mouse', 'ps2-kbd', 'hpet', 'ioapic', 'q35-pcihost', 'i440FX-pcihost', 'fw_cfg_io', 'kvmvapic'];
/** qdev_alias_table's aliases on a VIRTIO_PCI machine, of the devices the model has. */
const QDEV_ALIASES: Record<string, string> = { 'virtio-blk-pci': 'virtio-blk', 'virtio-scsi-pci': 'virtio-scsi' };

const pathNotModelled = (path: string, why: string) => new QmpError(`blockgraph: bus path '${path}' is not modelled (${why})`);

/**
 * qbus_find (softmmu/qdev-monitor.c) of a bus path with a '/': from the main system bus when it
 * starts with '/', else from the bus its first element names (qbus_find_recursive); then device
 * and bus names in turn. A device is found on its bus by id, then by type name, then by alias
 * (qbus_find_dev): none is DeviceNotFound; a path that ends on a device takes its only child bus.
 * The model walks the PCI host, the root bus, root ports and the SCSI / USB controllers it keeps;
 * the machine's own functions and a virtio proxy's virtio-bus are not modelled.
 */
function qbusFind(p: Proc, path: string): Bus | undefined {
  const elems = path.split('/').filter((e) => e !== '');
  let bus: Bus | 'sysbus';
  if (path.startsWith('/')) bus = 'sysbus';
  else {
    const first = elems.shift()!;
    const b = busOf(p, first);
    if (!b || b.hidden) throw new QmpError(`Bus '${first}' not found`);
    bus = b;
  }
  const root = p.meta().machine === 'pc' ? 'pci.0' : 'pcie.0';
  while (elems.length) {
    const name = elems.shift()!;
    // qbus_find_dev: the device, and the buses below it
    let children: Bus[];
    if (bus === 'sysbus') {
      const host = p.meta().machine === 'pc' ? 'i440FX-pcihost' : 'q35-pcihost';
      if (!SYSBUS_DEVICES.includes(name) || (name.endsWith('-pcihost') && name !== host)) throw new QmpError(`Device '${name}' not found`, 'DeviceNotFound');
      if (name !== host) throw pathNotModelled(path, `the children of ${name}`);
      children = [busOf(p, root)!];
    } else {
      const on = devices(p).filter((d) => d.bus === (bus as Bus).id).sort((a, b) => a.at - b.at);
      const d = on.find((x) => x.path === `${PERIPHERAL}/${x.id}` && x.id === name) ?? on.find((x) => x.driver === name) ?? on.find((x) => QDEV_ALIASES[x.driver] === name);
      if (!d) {
        if (bus.id === root && Array.from(builtinPci(p).values()).includes(name)) throw pathNotModelled(path, `the machine's own ${name}`);
        throw new QmpError(`Device '${name}' not found`, 'DeviceNotFound');
      }
      if (CONTROLLER_KINDS[d.driver]?.backend || DEVICE_KINDS[d.driver]?.backend) throw pathNotModelled(path, `${d.driver}'s virtio-bus`);
      children = buses(p).filter((b) => b.owner === d.id || (d.driver === 'pcie-root-port' && b.id === d.id));
    }
    const busName = elems.shift();
    if (busName === undefined) {
      if (children.length === 1) return children[0];
      throw new QmpError(children.length ? `Device '${name}' has multiple child buses` : `Device '${name}' has no child bus`);
    }
    const next = children.find((b) => b.id === busName);
    if (!next) throw new QmpError(`Bus '${busName}' not found`);
    bus = next;
  }
  if (bus === 'sysbus') throw pathNotModelled(path, 'the main system bus');
  return bus;
}

/** qdev_device_add_from_qdict's bus: `bus` by name (qbus_find), else the newest bus of the type. */
function findBus(p: Proc, args: Record<string, unknown>, busType: DeviceKind['busType'], driver: string, cold: boolean): Bus {
  let b: Bus | undefined;
  if (typeof args.bus === 'string') {
    const path = args.bus;
    b = path.includes('/') ? qbusFind(p, path) : busOf(p, path);
    if (!b || b.hidden) throw new QmpError(`Bus '${path}' not found`);
    if (!busTypeFits(busType, b)) throw new QmpError(`Device '${driver}' can't go on ${b.type} bus`);
  } else {
    b = defaultBus(p, busType);
    if (!b) throw new QmpError(`No '${busType}' bus found for device '${driver}'`);
  }
  if (!cold && !b.hotplug) throw new QmpError(`Bus '${b.id}' does not support hotplugging`);
  return b;
}

/**
 * A device with a bus of its own (graph/devices/types.ts CONTROLLER_KINDS), hotplugged or cold:
 * the same bus, id and property steps as any device, pci_qdev_realize's slot check, a USB
 * device's port, then the realize that makes its bus `ID.0` (scsi_bus_init / usb_bus_new):
 * virtio-scsi's with its hotplug handler and s->ctx (its iothread, else the main loop), the
 * lsi53c895a's and usb-uas's without a context of their own, a USB host controller's with its
 * ports (usb_register_port: "1".."N").
 */
function addController(ctx: Pick<CommandCtx, 'p' | 'emit'>, given: Record<string, unknown>, cold: boolean, driver: string, ck: ControllerKind, held: Held): void {
  const { p } = ctx;
  const args = deviceAddArgs(p, given, cold, held.qemuOpts);
  const b = findBus(p, args, ck.busType, driver, cold);
  // qdev_set_id: an id-less controller is /machine/peripheral-anon/device[N], and that path is its id here
  let id: string;
  if (typeof args.id === 'string') {
    id = args.id;
    if (device(p, id)) throw new QmpError(`Duplicate device ID '${id}'`);
  } else {
    id = anonId(p, held);
  }
  const d: Device = {
    id, driver, bus: b.id, path: id.startsWith('/') ? id : `${PERIPHERAL}/${id}`, bb: null, ownBb: false, shareRw: false, iothread: null, tray: null, cold, at: p.nextSeq(),
  };
  p.step(`device_add ${id}`);
  putDevice(p, d);
  const keyval = !cold && (held.qemuOpts === true || rule(p, 'device-add-args') === 'qemu-opts');
  const props: Record<string, unknown> = {};
  const keys = Object.keys(args).filter((k) => k !== 'driver' && k !== 'bus' && k !== 'id');
  for (const k of keys.sort((x, y) => bucketOf(x) - bucketOf(y))) {
    const type = DEVICE_PROPS[driver]?.[k];
    if (!type) throw new QmpError(`Property '${driver}.${k}' not found`);
    props[k] = k === 'addr' ? readDevfn(args[k], keyval, driver) : readProp(k, type, args[k], keyval, id, driver, rule(p, 'check-block-size-text'));
    // virtio-scsi's link<iothread> (object_resolve_link), as virtio-blk's
    if (k === 'iothread') refuseIothreadLink(p, String(props.iothread));
  }
  if (Object.keys(props).length) d.props = { ...props };
  putDevice(p, d);
  if (ck.busType === 'PCI') pciRegister(p, d, props.addr as number | undefined);
  if (!cold && ck.busType === 'PCI') refuseFunction0Taken(p, d);
  if (ck.busType === 'usb-bus') usbClaimPort(p, b, d, props.port as string | undefined, held);
  if (ck.child === null) {
    // usb_hub_realize: its ports go on the bus it is plugged into, after the free ones
    const now = busOf(p, b.id)!;
    const port = device(p, id)!.usbPort!;
    const ports = Array.from({ length: ck.usbPorts!(props) }, (_, i) => `${port}.${i + 1}`);
    p.step(`device ${id}: hub ports on ${b.id}`);
    putBus(p, { ...now, usb: { free: [...now.usb!.free, ...ports], used: now.usb!.used } });
    return;
  }
  const child: Bus = { id: childBusName(p, d, ck.child), type: ck.child, hotplug: true, iothread: null, at: p.nextSeq(), owner: id };
  if (ck.child === 'SCSI') {
    if (ck.backend) child.iothread = props.iothread === undefined ? 'main' : String(props.iothread);
    if (ck.scsiMax) child.scsiMax = ck.scsiMax;
  } else {
    const n = ck.usbPorts!(props);
    child.usb = { free: Array.from({ length: n }, (_, i) => String(i + 1)), used: [] };
  }
  p.step(`device ${id}: bus ${child.id}`);
  putBus(p, child);
}

/** usb_claim_port (hw/usb/bus.c): a named port must be free; otherwise the first free one, a usb-hub chained on when one is left. */
function usbClaimPort(p: Proc, b: Bus, d: Device, portPath: string | undefined, held: Held): void {
  let port: string;
  if (portPath !== undefined) {
    if (!b.usb!.free.includes(portPath)) throw new QmpError(`usb port ${portPath} (bus ${b.id}) not found (in use?)`);
    port = portPath;
  } else {
    if (b.usb!.free.length === 1 && d.driver !== 'usb-hub') {
      chainHub(p, b.id, d.at);
      held.hub = { bus: b.id, at: d.at };
    }
    const now = busOf(p, b.id)!;
    if (now.usb!.free.length === 0) throw new QmpError(`tried to attach usb device ${USB_PRODUCT[d.driver] ?? d.driver} to a bus with no free ports`);
    port = now.usb!.free[0]!;
  }
  const now = busOf(p, b.id)!;
  putBus(p, { ...now, usb: { free: now.usb!.free.filter((x) => x !== port), used: [...now.usb!.used, port] } });
  putDevice(p, { ...d, usbPort: port });
  d.usbPort = port;
}

/** usb_device_get_product_desc: the product string of a device's USB descriptor. */
const USB_PRODUCT: Record<string, string> = { 'usb-storage': 'QEMU USB MSD', 'usb-uas': 'USB Attached SCSI HBA' };

/**
 * usb_claim_port's usb-hub (usb_try_new + usb_realize_and_unref): an id-less device QEMU makes
 * itself, so /machine/unattached/device[N] (N after the machine's own: graph/rules.ts
 * machine-unattached-devices), on the bus's last free port; usb_hub_realize registers its 8
 * ports on the same bus ("P.1".."P.8"). Its DEVICE_DELETED comes right after the device that
 * chained it (`at` just below it: bus_unparent order).
 */
function chainHub(p: Proc, busId: string, at: number): void {
  const b = busOf(p, busId)!;
  const start = rule(p, 'machine-unattached-devices')[p.meta().machine === 'pc' ? 'pc' : 'q35'];
  const n = p.meta().unattachedNext ?? start;
  p.setMeta({ unattachedNext: n + 1 });
  const path = `/machine/unattached/device[${n}]`;
  const port = b.usb!.free[0]!;
  p.step(`usb-hub ${path} on ${busId} port ${port}`);
  putDevice(p, {
    id: path, driver: 'usb-hub', bus: busId, path, bb: null, ownBb: false, shareRw: false, iothread: null, tray: null, cold: false,
    at: at - 0.5, usbPort: port,
  });
  const hubPorts = Array.from({ length: USB_HUB_PORTS }, (_, i) => `${port}.${i + 1}`);
  putBus(p, { ...b, usb: { free: [...b.usb!.free.slice(1), ...hubPorts], used: [...b.usb!.used, port] } });
}

/** hw/usb/dev-hub.c NUM_PORTS. */
const USB_HUB_PORTS = 8;

/**
 * usb_msd_storage_realize (hw/usb/dev-storage-classic.c): "drive property not set",
 * blkconf_blocksizes, blkconf_apply_backend_options(!blk_supports_write_perm, resizable) on its
 * own BlockBackend (a conflict names the usb-storage), then the "hack": blk_detach_dev (perms
 * back to 0/ALL), scsi_bus_init of its SCSI bus `ID.0`, and scsi_bus_legacy_add_drive: a
 * scsi-disk `ID.0/legacy[0]` (scsi-id 0, removable, share-rw) whose drive property is set with
 * the node's name (qdev_prop_set_drive_err: an anonymous BlockBackend has no name), so
 * set_drive_helper makes a new BlockBackend on the node, and scsi_realize applies the same perms
 * to it; blk_unref then frees the usb-storage's own. The disk's BlockBackend is called by its
 * QOM path; the usb-storage has none (media and throttling by its id: "Device does not have a
 * block device backend"). QEMU 10.0 skips the first blocksizes and perms: the scsi-disk's
 * scsi_realize is the first to apply them (graph/rules.ts usb-storage-own-perms).
 */
/**
 * What scsi_bus_legacy_add_drive gives the legacy scsi-disk of the usb-storage's BlockConf besides
 * the drive (graph/rules.ts usb-storage-legacy-conf): 7.2 sets its rerror and werror
 * (qdev_prop_set_enum), 10.0 copies the whole conf (`s->conf = *conf`: write-cache and the
 * accounting switches too), which the disk's blkconf_apply_backend_options then applies.
 */
function legacyConf(p: Proc, props: Record<string, unknown>): Record<string, unknown> {
  const keys = rule(p, 'usb-storage-legacy-conf') === 'conf' ? ['rerror', 'werror', 'write-cache', 'account-invalid', 'account-failed'] : ['rerror', 'werror'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (props[k] !== undefined) out[k] = props[k];
  return out;
}

function usbStorageRealize(p: Proc, d: Device, props: Record<string, unknown>): void {
  if (!d.bb) throw new QmpError('drive property not set');
  const node = bbRoot(p, d.bb);
  // QEMU 10.0 leaves both to the scsi-disk (graph/rules.ts usb-storage-own-perms)
  if (rule(p, 'usb-storage-own-perms')) {
    blkconfBlocksizes(props);
    const perms = devicePerms(deviceReadOnly(p, d, node), true, d.shareRw);
    p.step(`device ${d.id}: blkconf_apply_backend_options`);
    setBbPerm(p, d.bb, perms.perm, perms.shared);
  }
  p.step(`device ${d.id}: blk_detach_dev`);
  setBbPerm(p, d.bb, 0, PERM_ALL);
  const own = d.bb;
  d.bb = null;
  putDevice(p, d);
  const busId = childBusName(p, d, 'SCSI');
  putBus(p, { id: busId, type: 'SCSI', hotplug: true, iothread: null, at: p.nextSeq(), owner: d.id, scsiMax: { channel: 0, target: 0, lun: 0 } });
  const path = `${d.path}/${busId}/legacy[0]`;
  const removable = props.removable === true;
  const legacy: Device = {
    id: path, driver: 'scsi-disk', bus: busId, path, bb: null, ownBb: false, shareRw: d.shareRw, iothread: null,
    tray: removable ? { open: false } : null, cold: d.cold, at: p.nextSeq(), props: { 'scsi-id': 0, removable, 'share-rw': d.shareRw, ...legacyConf(p, props) },
    scsi: { channel: 0, id: 0, lun: 0 },
  };
  putDevice(p, legacy);
  if (node) {
    legacy.bb = createDeviceBb(p, legacy, node);
    putDevice(p, legacy);
    // scsi_realize: blkconf_blocksizes (the usb-storage's conf), then the perms
    if (!rule(p, 'usb-storage-own-perms')) blkconfBlocksizes(props);
    // scsi_realize's blkconf_geometry for the TYPE_DISK it is (removable or not; usb-storage has
    // no CHS properties, so guess_disk_lchs reads sector 0): above a held drain it waits for ever
    // as a scsi-hd's does (fuzz --against vm --qemu 10.0 1713296165)
    refuseGeometryUnderHeldDrain(p, legacy, {});
    const lperms = devicePerms(deviceReadOnly(p, legacy, node), true, legacy.shareRw);
    p.step(`device ${path}: blkconf_apply_backend_options`);
    setBbPerm(p, legacy.bb, lperms.perm, lperms.shared);
  }
  p.step(`device ${d.id}: blk_unref`);
  removeBlockBackend(p, own);
}
