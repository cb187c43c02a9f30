// device_del (vm target): find_device_state, then qdev_unplug's checks and the unplug itself.
// Without a guest, native PCIe hotplug (root ports) and virtio-scsi unplug at once; the device
// unrealizes (virtio-blk-pci: its inner virtio-blk-device first, hence two DEVICE_DELETED),
// release_drive detaches its BlockBackend — except one the device made itself (an empty
// CD-ROM's), which qdev leaks: it stays, anonymous, holding any medium forever (flagged).
import { QmpError } from '../../errors/index.js';
import { removeBlockBackend } from '../exports.js';
import { PERIPHERAL, bus, buses, delBus, delDevice, device, devices, putBus, putDevice, setBbContext, setBbPerm } from '../../graph/devices/ops.js';
import { PERM_ALL } from '../../graph/perm.js';
import { BOARD_KINDS, CONTROLLER_KINDS, DEVICE_KINDS, type Device } from '../../graph/devices/types.js';
import type { Proc } from '../../graph/proc.js';
import type { CommandCtx, CommandDef } from '../types.js';
import { checkArgs } from './qapi.js';
import { rule } from '../../graph/rules.js';
import { cancel } from '../job-verbs.js';
import { bbRoot } from '../../graph/devices/ops.js';

/** object_resolve_path_at(/machine/peripheral, id): a plain id, or an absolute path. */
export function findDevice(p: Proc, id: string): { dev: Device; inner: boolean } | undefined {
  let rel = id;
  if (id.startsWith(`${PERIPHERAL}/`)) rel = id.slice(PERIPHERAL.length + 1);
  const inner = rel.endsWith('/virtio-backend');
  const base = inner ? rel.slice(0, -'/virtio-backend'.length) : rel;
  // object_resolve_path_at also reaches devices below a peripheral one, which have no qdev id
  // (a usb-storage's scsi-disk, kept under its QOM path: ID/ID.0/legacy[0])
  const dev = device(p, base) ?? (id.startsWith(`${PERIPHERAL}-anon/`) ? device(p, id) : undefined) ??
    (base.includes('/') ? device(p, `${PERIPHERAL}/${base}`) : undefined);
  if (!dev) return undefined;
  if (inner && !DEVICE_KINDS[dev.driver]?.backend) return undefined;
  return { dev, inner };
}

/**
 * find_device_state (softmmu/qdev-monitor.c): object_resolve_path_at(/machine/peripheral, id),
 * then object_dynamic_cast to TYPE_DEVICE. A path that reaches an object that is no device is
 * "ID is not a hotpluggable device" (10.0: "ID is not a device"; rule find-device-state-not-device),
 * a GenericError, not DeviceNotFound: the empty id (no path
 * component: the /machine/peripheral container itself), the root and the containers
 * (object_resolve_abs_path skips empty components, so "/machine//peripheral/" is the container
 * too), the machine, and a user object under /objects. Everything else as findDevice.
 */
export function findDeviceState(p: Proc, id: string): { dev: Device; inner: boolean } {
  const found = findDevice(p, id);
  if (found) return found;
  const parts = id.split('/').filter((x) => x !== '');
  const abs = id.startsWith('/');
  const container = !abs ? parts.length === 0
    : parts.length === 0 || (parts.length === 1 && ['machine', 'objects', 'chardevs'].includes(parts[0]!))
      || (parts.length === 2 && parts[0] === 'machine' && ['peripheral', 'peripheral-anon', 'unattached'].includes(parts[1]!))
      || (parts.length === 2 && parts[0] === 'objects' && p.object(parts[1]!) !== undefined);
  if (container) throw new QmpError(`${id} ${rule(p, 'find-device-state-not-device')}`);
  throw new QmpError(`Device '${id}' not found`, 'DeviceNotFound');
}

/** hw/usb/hcd-xhci-pci.c's devices (TYPE_XHCI_PCI and its subclasses). */
const XHCI_PCI = new Set(['qemu-xhci', 'nec-usb-xhci']);

export function unplugDevice(ctx: Pick<CommandCtx, 'p' | 'emit'>, d: Device, viaParent = false): void {
  const { p } = ctx;
  p.step(`device_del ${d.id}`);
  const b = bus(p, d.bus);
  // a device with buses of its own (a controller, a usb-storage, a usb-uas): device_unparent →
  // bus_unparent unrealizes and unparents what is on them first, newest first (bus_add_child
  // inserts at the head), without their bus's hotplug handler (no hotunplug callback)
  const own = buses(p).filter((x) => x.owner === d.id);
  const kids = own.flatMap((x) => devices(p).filter((k) => k.bus === x.id)).sort((x, y) => y.at - x.at);
  for (const k of kids) if (device(p, k.id)) unplugDevice(ctx, device(p, k.id)!, true);
  for (const x of own) delBus(p, x.id);
  // usb_hub_unrealize → usb_unregister_port for each of its ports: the device on one is
  // unparented (port order), and the port leaves the bus
  if (d.driver === 'usb-hub' && d.usbPort !== undefined && b?.usb) {
    const up = d.usbPort;
    const mine = (port: string) => port.startsWith(`${up}.`) && !port.slice(up.length + 1).includes('.');
    const ports = [...b.usb.free, ...b.usb.used].filter(mine).sort((x, y) => Number(x.split('.').pop()) - Number(y.split('.').pop()));
    for (const port of ports) {
      const on = devices(p).find((k) => k.bus === d.bus && k.usbPort === port);
      if (on) unplugDevice(ctx, on, true);
      const now = bus(p, d.bus)!;
      putBus(p, { ...now, usb: { free: now.usb!.free.filter((x) => x !== port), used: now.usb!.used.filter((x) => x !== port) } });
    }
  }
  // usb_qdev_unrealize → usb_release_port: the port goes back, at the end of the free list
  const nowBus = bus(p, d.bus);
  if (d.usbPort !== undefined && nowBus?.usb) {
    putBus(p, { ...nowBus, usb: { free: [...nowBus.usb.free, d.usbPort], used: nowBus.usb.used.filter((x) => x !== d.usbPort) } });
  }
  if (d.bb && p.bb(d.bb)) {
    // virtio_scsi_hotunplug: back to the main loop first (errors ignored); QEMU 10.0 only from a
    // controller with an iothread (graph/rules.ts virtio-scsi-hotplug-context)
    const moves = !viaParent && b?.iothread && (rule(p, 'virtio-scsi-hotplug-context') === 'always-strict' || b.iothread !== 'main');
    if (moves) setBbContext(p, d.bb, 'main', { ignoreErrors: true });
    const blk = p.bb(d.bb)!;
    if (blk.legacy) {
      // a legacy drive: scsi_unrealize / virtio_blk_device_unrealize → blockdev_mark_auto_del
      // cancels (soft) every block job that has the drive's node (block_job_has_bdrv) and marks
      // it; release_drive → blockdev_auto_del: monitor_remove_blk and the monitor's reference
      // dropped, then blk_detach_dev drops the device's: the drive goes with the device
      if (DEVICE_KINDS[d.driver]?.backend || DEVICE_KINDS[d.driver]?.busType === 'SCSI') {
        const bs = bbRoot(p, d.bb);
        for (const j of p.jobs().slice().reverse()) {
          const job = p.job(j.id);
          if (!bs || !job || job.cancelled || job.status === 'concluded' || job.status === 'null') continue;
          if (!p.children({ kind: 'job', job: j.id }).some((e) => e.child === bs)) continue;
          p.step(`device_del ${d.id}: blockdev_mark_auto_del cancels ${j.id}`);
          cancel(ctx, job, false);
        }
        if (p.bb(d.bb)) removeBlockBackend(p, d.bb);
      } else {
        // blk_detach_dev only: perms back to 0/ALL, the drive stays the monitor's
        const { dev: _d, ...rest } = p.bb(d.bb)!;
        p.putBB(rest);
        setBbPerm(p, d.bb, 0, PERM_ALL);
      }
    } else if (d.ownBb) {
      // release_drive → blk_detach_dev: perms back to 0/ALL and the device's reference dropped;
      // blk_new's reference stays (QEMU leak): the BlockBackend lives on, anonymous
      const bb = p.bb(d.bb)!;
      p.putBB({ ...bb, owner: { kind: 'leak', id: d.id }, dev: '' });
      setBbPerm(p, d.bb, 0, PERM_ALL);
    } else {
      removeBlockBackend(p, d.bb);
    }
  }
  delDevice(p, d.id);
  // the controller's nvme-bus (qbus_init in nvme_realize) goes with it
  if (DEVICE_KINDS[d.driver]?.nvme === 'ctrl' && bus(p, d.id)?.type === 'nvme-bus') delBus(p, d.id);
  if (DEVICE_KINDS[d.driver]?.backend || CONTROLLER_KINDS[d.driver]?.backend) ctx.emit('DEVICE_DELETED', { path: `${d.path}/virtio-backend` });
  // a USB host controller unplugged with devices on its bus is never finalized (its
  // DEVICE_DELETED, sent by device_finalize, never comes: seen on 7.2.22 and 10.0.2, whatever
  // holds the reference); an empty one is
  if (CONTROLLER_KINDS[d.driver]?.child === 'usb-bus' && kids.length) return;
  // an xHCI PCI device is never finalized at all, empty or not: usb_xhci_pci_realize sets its
  // XHCIState child's "host" link to itself, a qdev link property (create_link_property:
  // OBJ_PROP_LINK_STRONG) — a reference cycle that object_unparent never breaks (seen on 7.2.22
  // and 10.0.2 for a qemu-xhci that never had a device and for one emptied before the unplug)
  if (XHCI_PCI.has(d.driver)) return;
  // device_finalize names a device without a qdev id by its QOM path only
  const idless = d.path.startsWith(`${PERIPHERAL}-anon`) || d.id === d.path;
  ctx.emit('DEVICE_DELETED', idless ? { path: d.path } : { device: d.id, path: d.path });
}

/**
 * What one device_del takes away. On a pcie-root-port the slot is powered off without a guest, so
 * pcie_cap_slot_unplug_request_cb → pcie_cap_slot_do_unplug unplugs *every* device on the port's
 * secondary bus (pci_for_each_device_under_bus, devfn order), not just the one named. A second
 * device hotplugged onto a port gets the next free slot (do_pci_register_device's auto-assign skips
 * the function-0 check), so the named one may take its neighbours with it. Devfn order is
 * creation order: slots are auto-assigned lowest first and a port only ever empties as a whole
 * (`addr` is not modelled). Elsewhere (virtio-scsi) only the device itself goes.
 */
function slotDevices(p: Proc, d: Device): Device[] {
  if (device(p, d.bus)?.driver !== 'pcie-root-port') return [d];
  return devices(p).filter((x) => x.bus === d.bus);
}

/**
 * Whether an ACPI unplug request made now blocks the next device_del (qmp_device_del refuses while
 * pending_deleted_expires_ms is 0 or ahead of the virtual clock). acpi_pcihp_device_unplug_request_cb
 * sets it to the virtual clock's milliseconds at the request ("acpi: pcihp: allow repeating
 * hot-unplug requests": QEMU 10.0, and 7.2 from the 7.2.3 stable release Debian's 7.2.22 carries;
 * 7.2.0's source never set it): 0 in a VM that never ran (-S, no cont yet), which blocks for good;
 * otherwise `expires > now` is already false at the next request (a VM that ran under 1 ms in all
 * would still read 0: not modelled).
 */
function requestBlocks(p: Proc): boolean {
  return p.meta().runState === 'prelaunch';
}

export const deviceDel: CommandDef = {
  name: 'device_del',
  mutates: true,
  run(ctx) {
    const { p, args } = ctx;
    checkArgs(args, [['id', true, 'str']]);
    const id = args.id;
    const found = findDeviceState(p, id);
    // qmp_device_del: a device whose unplug is pending refuses another request while
    // pending_deleted_expires_ms has not passed (requestBlocks)
    if (!found.inner && found.dev.unplugPending === 'blocks') throw new QmpError(`Device ${id} is already in the process of unplug`);
    if (found.inner) throw new QmpError("Bus 'virtio-bus' does not support hotplugging");
    const b = bus(p, found.dev.bus);
    if (b && !b.hotplug) throw new QmpError(`Bus '${b.id}' does not support hotplugging`);
    // qdev_unplug: a board device on the main system bus (the firmware's flash, commands/vm/pflash.ts),
    // which has no hotplug handler
    if (!b && BOARD_KINDS[found.dev.driver]) throw new QmpError(`Bus '${found.dev.bus}' does not support hotplugging`);
    // i440fx: the root bus's hotplug handler is PIIX4's ACPI (piix4_device_unplug_request_cb →
    // acpi_pcihp_device_unplug_request_cb, acpi-root-pci-hotplug on by default): the same wait
    const pcRoot = p.meta().machine === 'pc' && b?.type === 'PCI';
    if (pcRoot || (p.meta().acpiPciHotplug && device(p, found.dev.bus)?.driver === 'pcie-root-port')) {
      // the root port's hotplug handler is ICH9's ACPI (ich9_pm_device_unplug_request_cb →
      // acpi_pcihp_device_unplug_request_cb): it sets pending_deleted_event, raises the GPE and
      // returns; the device goes only when the guest ejects it, so nothing else changes here
      p.step(`device_del ${found.dev.id}: ACPI unplug request`);
      putDevice(p, { ...found.dev, unplugPending: requestBlocks(p) ? 'blocks' : 'expired' });
      return {};
    }
    for (const d of slotDevices(p, found.dev)) unplugDevice(ctx, d);
    return {};
  },
};
