// device_add (vm target): qdev_device_add_from_qdict (softmmu/qdev-monitor.c) in its check order —
// driver, bus (lookup, type, hotplug), id, properties (drive: set_drive_helper), realize
// (blkconf_apply_backend_options: perms), then the bus's plug handler (virtio_scsi_hotplug: the
// controller's iothread). Any refusal unwinds the whole device, as err_del_dev does.
import { QmpError } from '../../errors/index.js';
import {
  PERIPHERAL, attachedName, bbRoot, bus as busOf, buses, changeMedia, checkIothread, createDeviceBb, device, devicePerms,
  deviceReadOnly, devices, putDevice, setBbContext, setBbPerm,
} from '../../graph/devices/ops.js';
import { CONTROLLERS, DEVICE_KINDS, type Bus, type Device } from '../../graph/devices/types.js';
import type { Proc } from '../../graph/proc.js';
import { opBlocker } from '../../graph/blockers.js';
import { rule } from '../../graph/rules.js';
import { nameWellFormed } from '../../graph/ops.js';
import { bucketOf } from '../../graph/reopen/qdict.js';
import { heldDrainOver } from '../../graph/jobs/held-drain.js';
import { leakedDrainBelow } from '../../graph/reopen/drain-leak.js';
import { QemuAbortRefusal, QemuHangRefusal } from '../../graph/qemu-abort.js';
import { drained } from '../../graph/drain.js';
import type { CommandCtx, CommandDef } from '../types.js';

const busTypeFits = (busType: 'PCI' | 'SCSI' | 'IDE', b: Bus) => (busType === 'PCI' ? b.type === 'PCIE' : b.type === busType);

/** qbus_find_recursive(sysbus, NULL, type): depth first, newest child first; pcie.0 for PCI. */
function defaultBus(p: Proc, busType: 'PCI' | 'SCSI' | 'IDE'): Bus | undefined {
  if (busType === 'PCI') return busOf(p, 'pcie.0');
  return buses(p).filter((b) => busTypeFits(busType, b)).sort((a, b) => b.at - a.at)[0];
}

/** The qdev property types device_add's arguments are checked against (the ones the model reads). */
const PROP_TYPES: Record<string, 'bool' | 'str'> = { 'share-rw': 'bool', removable: 'bool', drive: 'str', iothread: 'str', serial: 'str' };

/**
 * What qdev_device_add_from_qdict gets from a QMP device_add. On 7.2 (qmp_device_add →
 * qemu_opts_from_qdict → qdev_device_add(opts) → qemu_opts_to_qdict, from_json false) every value
 * is a string: qemu_opts_from_qdict_entry writes a number as qnum_to_string, a boolean as on/off
 * and silently drops a dict, list or null; qemu_opts_create takes `id` only when it is a string and
 * checks it first of all (id_wellformed). On 10.0 qmp_device_add passes the QDict itself (from_json
 * true): JSON types stay, `id` is never checked for form. Either way driver, bus and id are read
 * with qdict_get_try_str, so a non-string one counts as absent.
 */
function deviceAddArgs(p: Proc, args: Record<string, unknown>, cold: boolean): Record<string, unknown> {
  if (cold || rule(p, 'device-add-args') === 'json') return args;
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
 * One property's value as object_set_properties_from_keyval's visitor reads it: 7.2's keyval
 * visitor parses a boolean from its string (qapi_bool_parse), 10.0's QObject input visitor wants
 * the JSON type (qobject_input_type_bool / _str: QERR_INVALID_PARAMETER_TYPE).
 */
function propValue(p: Proc, k: string, v: unknown, cold: boolean): unknown {
  const t = PROP_TYPES[k];
  if (t === undefined) return v;
  if (cold || rule(p, 'device-add-args') === 'json') {
    if (t === 'bool' && typeof v !== 'boolean') throw new QmpError(`Invalid parameter type for '${k}', expected: boolean`);
    if (t === 'str' && typeof v !== 'string') throw new QmpError(`Invalid parameter type for '${k}', expected: string`);
    return v;
  }
  if (t === 'str') return v;
  if (['on', 'yes', 'true', 'y'].includes(String(v))) return true;
  if (['off', 'no', 'false', 'n'].includes(String(v))) return false;
  throw new QmpError(`Parameter '${k}' expects 'on' or 'off'`);
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
function refuseGeometryUnderHeldDrain(p: Proc, d: Device): void {
  if (DEVICE_KINDS[d.driver]?.removable || !d.bb) return;
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

export function addDevice(ctx: Pick<CommandCtx, 'p' | 'emit'>, args: Record<string, unknown>, cold: boolean): void {
  const { p } = ctx;
  const held: { node?: string } = {};
  try {
    addDeviceInner(ctx, args, cold, held);
  } catch (e) {
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

function addDeviceInner(ctx: Pick<CommandCtx, 'p' | 'emit'>, given: Record<string, unknown>, cold: boolean, held: { node?: string }): void {
  const { p } = ctx;
  const args = deviceAddArgs(p, given, cold);
  if (typeof args.driver !== 'string') throw new QmpError("Parameter 'driver' is missing");
  const driver = args.driver;
  const kind = DEVICE_KINDS[driver];
  if (!kind) {
    if ((CONTROLLERS as readonly string[]).includes(driver)) throw new QmpError(`blockgraph: hotplugging a ${driver} is not modelled`, 'GenericError');
    throw new QmpError(`'${driver}' is not a valid device model name`);
  }
  // find bus
  let b: Bus | undefined;
  if (typeof args.bus === 'string') {
    const path = args.bus;
    b = busOf(p, path);
    if (!b) throw new QmpError(`Bus '${path}' not found`);
    if (!busTypeFits(kind.busType, b)) throw new QmpError(`Device '${driver}' can't go on ${b.type} bus`);
  } else {
    b = defaultBus(p, kind.busType);
    if (!b) throw new QmpError(`No '${kind.busType}' bus found for device '${driver}'`);
  }
  if (!cold && !b.hotplug) throw new QmpError(`Bus '${b.id}' does not support hotplugging`);
  // qdev_set_id
  let id: string;
  let path: string;
  if (typeof args.id === 'string') {
    id = args.id;
    if (device(p, id)) throw new QmpError(`Duplicate device ID '${id}'`);
    path = `${PERIPHERAL}/${id}`;
  } else {
    const n = p.meta().anonDevices ?? 0;
    p.setMeta({ anonDevices: n + 1 });
    id = `${PERIPHERAL}-anon/device[${n}]`;
    path = id;
  }
  // properties (object_set_properties_from_keyval)
  // object_set_properties_from_qdict walks dev->opts (a qdict_clone_shallow) with
  // qdict_first/qdict_next: by tdb_hash bucket, so which bad property is named first follows the
  // hash, not the order given (fuzz --against vm --qemu 10.0 3241002824: drive 'nosuch' before a
  // string share-rw). Each property is found, visited and set before the next one.
  const props: Record<string, unknown> = {};
  const keys = Object.keys(args).filter((k) => k !== 'driver' && k !== 'bus' && k !== 'id');
  for (const k of keys.sort((x, y) => bucketOf(x) - bucketOf(y))) {
    if (!kind.props.includes(k)) throw new QmpError(`Property '${kind.driveOwner ?? driver}.${k}' not found`);
    props[k] = propValue(p, k, args[k], cold);
    // set_drive_helper: blk_by_name finds no named BlockBackend (no -drive here), a node name
    // makes a new one (below); an unknown name fails this property's set
    if (k === 'drive' && props.drive !== '' && !p.node(String(props.drive))) {
      throw new QmpError(`Property '${kind.driveOwner}.drive' can't find value '${String(props.drive)}'`);
    }
    // a link<iothread> property: object_set_link_property → object_resolve_link (qom/object.c)
    // resolves the value as a partial path of type iothread; something else by that name is the
    // wrong type, nothing at all is DeviceNotFound
    if (k === 'iothread' && !checkIothread(p, String(props.iothread))) {
      const io = String(props.iothread);
      if (p.object(io) || device(p, io)) throw new QmpError(`Invalid parameter type for 'iothread', expected: iothread`);
      throw new QmpError(`Device '${io}' not found`, 'DeviceNotFound');
    }
  }
  const d: Device = {
    id, driver, bus: b.id, path, bb: null, ownBb: false, shareRw: props['share-rw'] === true,
    iothread: null, tray: kind.removable ? { open: false } : null, cold, at: p.nextSeq(),
  };
  p.step(`device_add ${id}`);
  putDevice(p, d);
  if (props.drive !== undefined && props.drive !== '') {
    const drive = String(props.drive);
    // blk_by_name finds no named BlockBackend (no -drive here); a node name makes a new one
    if (!p.node(drive)) throw new QmpError(`Property '${kind.driveOwner}.drive' can't find value '${drive}'`);
    d.bb = createDeviceBb(p, d, drive);
    held.node = drive;
  }
  if (props.iothread !== undefined) {
    const io = String(props.iothread);
    // a link<iothread> property: object_set_link_property → object_resolve_link (qom/object.c)
    // resolves the value as a partial path of type iothread; something else by that name is the
    // wrong type, nothing at all is DeviceNotFound
    if (!checkIothread(p, io)) {
      if (p.object(io) || device(p, io)) throw new QmpError(`Invalid parameter type for 'iothread', expected: iothread`);
      throw new QmpError(`Device '${io}' not found`, 'DeviceNotFound');
    }
    d.iothread = io;
  }
  // realize: pci_qdev_realize → do_pci_register_device comes before the device's own realize
  if (!cold && kind.busType === 'PCI') refuseFunction0Taken(p, d);
  if (!d.bb) {
    if (!kind.removable) throw new QmpError('drive property not set');
    // scsi_cd_realize / ide_dev_initfn: an empty drive gets an anonymous BlockBackend of its own,
    // which qdev never releases (blk_new's reference is leaked on unplug)
    d.bb = createDeviceBb(p, d, null);
    d.ownBb = true;
  }
  putDevice(p, d);
  const node = p.children({ kind: 'bb', bb: d.bb })[0]?.child ?? null;
  const ro = deviceReadOnly(p, d, node);
  const perms = devicePerms(ro, kind.resizable, d.shareRw);
  // scsi_realize runs blkconf_geometry before blkconf_apply_backend_options, virtio-blk after it
  if (kind.busType === 'SCSI') refuseGeometryUnderHeldDrain(p, d);
  p.step(`device ${id}: blkconf_apply_backend_options`);
  setBbPerm(p, d.bb, perms.perm, perms.shared);
  if (kind.busType !== 'SCSI') refuseGeometryUnderHeldDrain(p, d);
  if (kind.removable && node) changeMedia(p, device(p, id)!, true, () => undefined);
  // virtio_blk_device_realize → virtio_blk_data_plane_create (hw/block/dataplane/virtio-blk.c):
  // with an `iothread` the dataplane op blocker is checked at realize, guest or not ("If
  // dataplane is (re-)enabled while the guest is running there could be block jobs that can
  // conflict"): blk_op_is_blocked(BLOCK_OP_TYPE_DATAPLANE), error prefixed; nothing moves yet
  // (QEMU 10.0 has no dataplane op blocker: graph/rules.ts dataplane-op-blocker)
  if (d.iothread !== null && driver.startsWith('virtio-blk') && rule(p, 'dataplane-op-blocker')) {
    const root = bbRoot(p, d.bb);
    const blocked = root ? opBlocker(p, root, 'dataplane') : null;
    if (blocked) throw new QmpError(`cannot start virtio-blk dataplane: Node '${root}' is busy: ${blocked}`);
  }
  // plug: virtio_scsi_hotplug checks the dataplane blocker, then moves the disk to the
  // controller's context (s->ctx: its iothread, or the main loop); errors fail device_add.
  // QEMU 10.0: no blocker, and only a controller with an iothread moves it, a refusal ignored
  // (graph/rules.ts dataplane-op-blocker, virtio-scsi-hotplug-context)
  if (b.iothread && kind.busType === 'SCSI') {
    const root = bbRoot(p, d.bb);
    const blocked = root && rule(p, 'dataplane-op-blocker') ? opBlocker(p, root, 'dataplane') : null;
    if (blocked) throw new QmpError(`Node '${root}' is busy: ${blocked}`);
    if (rule(p, 'virtio-scsi-hotplug-context') === 'always-strict') {
      p.step(`device ${id}: aio context ${b.iothread}`);
      setBbContext(p, d.bb, b.iothread);
    } else if (b.iothread !== 'main') {
      p.step(`device ${id}: aio context ${b.iothread}`);
      setBbContext(p, d.bb, b.iothread, { ignoreErrors: true });
    }
  }
  void attachedName;
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
