// The vm target's machine (issue 17): buses and guest devices of a q35 VM, plain JSON in the
// process scope beside nodes and BlockBackends (collections `buses` and `devices`).

/** A qdev bus: its QOM type name as QEMU prints it in "can't go on X bus". */
/** pc (i440fx): its root bus is a conventional `PCI` one, and its isa-fdc has a `floppy-bus`. */
/** nvme-bus: an nvme controller's or nvme-subsys's own bus (qbus_init in nvme_realize / nvme_subsys_realize), which takes nvme-ns and never hotplugs. */
/** usb-bus: a USB host controller's bus (usb_bus_new, named `ID.0`), whose ports devices claim. */
export type BusType = 'PCIE' | 'PCI' | 'SCSI' | 'IDE' | 'floppy-bus' | 'nvme-bus' | 'usb-bus';

export interface Bus {
  id: string;              // bus->name: pcie.0 / pci.0, the root port's id, `<controller>.0`, ide.N, floppy-bus.0
  type: BusType;
  hotplug: boolean;        // qbus_is_hotpluggable: a hotplug handler (root port, virtio-scsi)
  /**
   * virtio-scsi's s->ctx (virtio_scsi_dataplane_setup): its iothread's context, else the main
   * loop's (ioeventfd is on by default) — devices plugged here move to it. null: no such handler.
   */
  iothread: string | null;
  at: number;              // creation order (qbus_find_recursive meets the newest first)
  /**
   * Not below the main system bus, so qbus_find never reaches it by name or type: an nvme-subsys's
   * bus (the subsystem is a bus-less device); only nvme_ns_realize's reparenting puts devices there.
   */
  hidden?: boolean;
  /** The device whose child bus this is (a controller's, a usb-storage's or usb-uas's): it goes with it. */
  owner?: string;
  /**
   * A usb-bus's ports (usb_register_port: paths "1".."N", a usb-hub's "P.1".."P.8"), each list in
   * QEMU's QTAILQ order: usb_claim_port takes the first free one, usb_release_port appends.
   */
  usb?: { free: string[]; used: string[] };
  /** A SCSI bus's SCSIBusInfo limits (scsi_bus_check_address); virtio-scsi's when absent. */
  scsiMax?: { channel: number; target: number; lun: number };
}

export interface Device {
  id: string;              // qdev id (or /machine/peripheral-anon/device[N])
  driver: string;          // virtio-blk-pci, scsi-hd, scsi-cd, ide-hd, ide-cd, pcie-root-port, virtio-scsi-pci
  bus: string;
  path: string;            // QOM path: /machine/peripheral/ID
  bb: string | null;       // the BlockBackend (conf.blk) or null
  /** The BlockBackend was created by the device itself (an empty scsi-cd): qdev leaks it on unplug. */
  ownBb: boolean;
  shareRw: boolean;
  iothread: string | null; // virtio-blk-pci's own iothread property (used only by a running guest's dataplane)
  tray: { open: boolean } | null; // removable media with a tray (CD-ROMs, a scsi-hd with removable=on)
  cold: boolean;           // from the command line
  /**
   * device_del asked the guest to eject it through ACPI (acpi_pcihp_device_unplug_request_cb sets
   * pending_deleted_event): without a guest it stays, in use, for the life of the process.
   * 'blocks': another device_del is refused (pending_deleted_expires_ms 0: asked before the VM
   * ever ran); 'expired': another device_del repeats the request (commands/vm/device-del.ts).
   */
  unplugPending?: 'blocks' | 'expired';
  at: number;
  /** bootindex >= 0: its entry in fw_boot_order (add_boot_device_path), which no other device may take. */
  bootindex?: number;
  /** The qdev properties device_add set, as their setters read them (qom-get answers them). */
  props?: Record<string, unknown>;
  /** A SCSI device's address on its bus (scsi_qdev_realize: scsi-id and lun assigned when not given). */
  scsi?: { channel: number; id: number; lun: number };
  /** An nvme-subsys: the serial its first controller registered with (NvmeSubsystem.serial, nvme_subsys_register_ctrl). */
  nvmeSerial?: string;
  /** A USB device's claimed port (usb_claim_port). */
  usbPort?: string;
  /** On the machine's root PCI bus: the devfn do_pci_register_device gave it (slot << 3 | function). */
  devfn?: number;
}

/** What each modelled device kind is, after hw/block (realize → blkconf_apply_backend_options). */
export interface DeviceKind {
  /**
   * DeviceClass.bus_type as qdev_device_add names it ("No '%s' bus found"). A q35 VM started with
   * -nodefaults has no usb-bus (no USB controller), no floppy-bus (q35 makes no isa-fdc) and no
   * free virtio-bus (each virtio-pci proxy's bus holds its own device): those kinds never plug.
   */
  busType: 'PCI' | 'SCSI' | 'IDE' | 'usb-bus' | 'floppy-bus' | 'virtio-bus' | 'nvme-bus' | 'System';
  /**
   * usb-storage (hw/usb/dev-storage-classic.c usb_msd_storage_realize): a USB device that applies
   * its drive's perms, detaches it and hands its node to a `scsi-disk` it makes on its own SCSI bus
   * (scsi_bus_legacy_add_drive: `ID.0/legacy[0]`), which then owns the BlockBackend.
   */
  usbStorage?: boolean;
  /** The QOM type that owns the `drive` property (virtio-blk-pci aliases it to its virtio-blk-device). */
  driveOwner: string | null;
  /** blkconf_apply_backend_options(readonly = …) for a node that is writable. */
  readOnly: boolean;
  resizable: boolean;
  removable: boolean;
  /** set_drive_helper(iothread = true): the BlockBackend is created in the node's AioContext. */
  iothreadAware: boolean;
  /** The BlockBackend belongs to an inner device (`ID/virtio-backend`), which is what it is called by. */
  backend: boolean;
  /**
   * SCSI passthrough (scsi-block, scsi-generic): realize asks the drive for SG_GET_VERSION_NUM
   * (blk_ioctl) right after its "drive property not set" check. Only a host_device node answers
   * ioctls (hdev_co_ioctl); an image node's bdrv_co_ioctl is -ENOTSUP (raw_co_ioctl passes it to
   * a file node, which has no bdrv_co_ioctl), so each is refused with strerror(ENOTSUP).
   */
  sgIo?: boolean;
  /**
   * hw/nvme: the controller (`nvme`, a PCI device whose `drive` is a legacy namespace, nsid 1) or a
   * namespace (`nvme-ns` on an nvme-bus). Realize is nvme_realize / nvme_ns_realize, not
   * blkconf's usual sequence (commands/vm/device-add.ts nvmeRealize).
   */
  nvme?: 'ctrl' | 'ns';
  /**
   * Removable without a tray (blk_dev_has_tray false: the floppy's fd_block_ops has a
   * change_media_cb only): open/close-tray are no-ops, the medium goes and comes at once, and the
   * callback runs inside remove/insert (block/qapi-sysemu.c).
   */
  trayless?: boolean;
}

/**
 * Devices the board makes itself and no -device or device_add can (not user_creatable): the pc
 * machines' firmware flash, cfi.pflash01 on the main system bus (hw/i386/pc_sysfw.c,
 * commands/vm/pflash.ts). A plain DEFINE_PROP_DRIVE; its perms are pflash_cfi01_realize's own.
 */
export const BOARD_KINDS: Record<string, DeviceKind> = {
  'cfi.pflash01': {
    busType: 'System', driveOwner: 'cfi.pflash01', readOnly: false, resizable: false, removable: false,
    iothreadAware: false, backend: false,
  },
};

/** A device's kind, a board device's too. */
export const kindOf = (driver: string): DeviceKind | undefined => DEVICE_KINDS[driver] ?? BOARD_KINDS[driver];

// Their qdev properties and types: graph/devices/props.ts DEVICE_PROPS.
export const DEVICE_KINDS: Record<string, DeviceKind> = {
  'virtio-blk-pci': {
    // DEFINE_BLOCK_PROPERTIES: a plain DEFINE_PROP_DRIVE, so its BlockBackend starts in the main loop
    busType: 'PCI', driveOwner: 'virtio-blk-device', readOnly: false, resizable: true, removable: false,
    iothreadAware: false, backend: true,
  },
  'scsi-hd': {
    busType: 'SCSI', driveOwner: 'scsi-hd', readOnly: false, resizable: true, removable: false,
    iothreadAware: true, backend: false,
  },
  'scsi-cd': {
    busType: 'SCSI', driveOwner: 'scsi-cd', readOnly: true, resizable: false, removable: true,
    iothreadAware: true, backend: false,
  },
  'ide-hd': {
    busType: 'IDE', driveOwner: 'ide-hd', readOnly: false, resizable: true, removable: false,
    iothreadAware: false, backend: false,
  },
  'ide-cd': {
    busType: 'IDE', driveOwner: 'ide-cd', readOnly: true, resizable: false, removable: true,
    iothreadAware: false, backend: false,
  },
  // scsi_block_realize (hw/scsi/scsi-disk.c), scsi_generic_realize (hw/scsi/scsi-generic.c): a
  // plain DEFINE_PROP_DRIVE; never realized on an image (sgIo)
  'scsi-block': {
    busType: 'SCSI', driveOwner: 'scsi-block', readOnly: false, resizable: false, removable: false,
    iothreadAware: false, backend: false, sgIo: true,
  },
  'scsi-generic': {
    busType: 'SCSI', driveOwner: 'scsi-generic', readOnly: false, resizable: false, removable: false,
    iothreadAware: false, backend: false, sgIo: true,
  },
  // usb_msd_storage_realize: blkconf_apply_backend_options(!blk_supports_write_perm, resizable)
  // on its own BlockBackend, which then goes to a legacy scsi-disk (usbStorage)
  'usb-storage': {
    busType: 'usb-bus', driveOwner: 'usb-storage', readOnly: false, resizable: true, removable: false,
    iothreadAware: false, backend: false, usbStorage: true,
  },
  // TYPE_SCSI_DISK (hw/scsi/scsi-disk.c scsi_disk_realize): what scsi_bus_legacy_add_drive makes
  // (a disk unless its node is a host CD-ROM); DEFINE_PROP_DRIVE_IOTHREAD like scsi-hd
  'scsi-disk': {
    busType: 'SCSI', driveOwner: 'scsi-disk', readOnly: false, resizable: true, removable: false,
    iothreadAware: true, backend: false,
  },
  // floppy_drive_realize (hw/block/fdc.c): blkconf_apply_backend_options(read_only, resizable = false)
  'floppy': {
    busType: 'floppy-bus', driveOwner: 'floppy', readOnly: false, resizable: false, removable: true,
    iothreadAware: false, backend: false, trayless: true,
  },
  // nvme_ns_init_blk: blkconf_apply_backend_options(read_only = !blk_supports_write_perm,
  // resizable = false); DEFINE_BLOCK_PROPERTIES' plain DEFINE_PROP_DRIVE (the main loop); the
  // BlockBackend is attached to the controller (blk_get_attached_dev_id: its id)
  'nvme': {
    busType: 'PCI', driveOwner: 'nvme', readOnly: false, resizable: false, removable: false,
    iothreadAware: false, backend: false, nvme: 'ctrl',
  },
  'nvme-ns': {
    busType: 'nvme-bus', driveOwner: 'nvme-ns', readOnly: false, resizable: false, removable: false,
    iothreadAware: false, backend: false, nvme: 'ns',
  },
  'virtio-blk-device': {
    busType: 'virtio-bus', driveOwner: 'virtio-blk-device', readOnly: false, resizable: true, removable: false,
    iothreadAware: false, backend: false,
  },
};

/**
 * blk_dev_has_removable_media: the device set dev_ops with a change_media_cb. The CD-ROMs, and a
 * scsi-hd with removable=on: scsi_realize gives it scsi_disk_removable_block_ops, the CD's own
 * tray callbacks (scsi_cd_change_media_cb, scsi_cd_is_tray_open), so the media commands take it
 * like a scsi-cd (vm/vm-e-removable-scsi-hd-media). It stays a TYPE_DISK (geometry, write perms),
 * and still needs a drive (only scsi_cd_realize makes an empty one): `DeviceKind.removable` is
 * the CD-ROM kind, this is the device.
 */
export function deviceRemovable(d: Device): boolean {
  return Boolean(DEVICE_KINDS[d.driver]?.removable) || ((d.driver === 'scsi-hd' || d.driver === 'scsi-disk') && d.props?.removable === true);
}

/** Controllers that only come from the command line here (`vm` member; an nvme-subsys from `devices`). */
export const CONTROLLERS = ['pcie-root-port', 'nvme-subsys'] as const;

/**
 * Devices that own a bus other devices plug into, hotplugged or cold (`vm.devices`): device_add
 * makes the device and its bus `ID.0`; device_del takes what is on that bus with it (bus_unparent:
 * newest first), then the device.
 */
export interface ControllerKind {
  busType: 'PCI' | 'usb-bus';
  /** null: a usb-hub, whose ports join its own bus (usb_hub_realize → usb_register_port). */
  child: 'SCSI' | 'usb-bus' | null;
  /** virtio-scsi-pci's inner virtio-scsi-device (`ID/virtio-backend`), unrealized before the proxy. */
  backend?: boolean;
  /** usb_register_port count of a host controller (its properties may change it). */
  usbPorts?: (props: Record<string, unknown>) => number;
  /** The child SCSI bus's SCSIBusInfo. */
  scsiMax?: { channel: number; target: number; lun: number };
}

const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);

export const CONTROLLER_KINDS: Record<string, ControllerKind> = {
  // virtio_scsi_device_realize → virtio_scsi_common_realize: the bus, its hotplug handler the device
  'virtio-scsi-pci': { busType: 'PCI', child: 'SCSI', backend: true, scsiMax: { channel: 0, target: 255, lun: 16383 } },
  // lsi_scsi_realize: lsi_scsi_info (max_target LSI_MAX_DEVS 7, max_lun 0: "LUN support is buggy")
  'lsi53c895a': { busType: 'PCI', child: 'SCSI', scsiMax: { channel: 0, target: 7, lun: 0 } },
  // usb_xhci_realize → usb_xhci_init: MAX(numports_2, numports_3) ports (p2, p3 default 4)
  'qemu-xhci': { busType: 'PCI', child: 'usb-bus', usbPorts: (pr) => Math.max(num(pr.p2, 4), num(pr.p3, 4)) },
  'nec-usb-xhci': { busType: 'PCI', child: 'usb-bus', usbPorts: (pr) => Math.max(num(pr.p2, 4), num(pr.p3, 4)) },
  // usb_ehci_realize: NB_PORTS 6
  'usb-ehci': { busType: 'PCI', child: 'usb-bus', usbPorts: () => 6 },
  'ich9-usb-ehci1': { busType: 'PCI', child: 'usb-bus', usbPorts: () => 6 },
  // usb_uhci_common_realize: NB_PORTS 2
  'piix3-usb-uhci': { busType: 'PCI', child: 'usb-bus', usbPorts: () => 2 },
  // usb_hub_realize: `ports` (8) ports "P.1".."P.N" on the bus it is plugged into
  'usb-hub': { busType: 'usb-bus', child: null, usbPorts: (pr) => num(pr.ports, 8) },
  // usb_uas_realize: a SCSI bus of one target (usb_uas_scsi_info: max_target 0, max_lun 255)
  'usb-uas': { busType: 'usb-bus', child: 'SCSI', scsiMax: { channel: 0, target: 0, lun: 255 } },
};
