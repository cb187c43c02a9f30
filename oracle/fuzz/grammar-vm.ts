// The vm target's grammar (issue 17): the qemu-storage-daemon productions of grammar.ts plus guest
// devices — device_add / device_del of every modelled kind on the fuzz machine's buses (share-rw,
// empty CD-ROMs, wrong buses, duplicate ids), media commands on the CD-ROMs, throttling, stop —
// drawn over the devices the case has added so far. One process (the VM).
import type { JsonObject, Step, VmSpec } from '../format.js';
import { Generator, PRODUCTIONS_A } from './grammar.js';
import type { Production } from './production.js';
import type { Rng } from './rng.js';
import { connected, type ProcView, type World } from './world.js';
import { references } from './aborts.js';
import { RULES } from '../../graph/rules.js';
import { SETTLED_PROGRESS } from '../replies.js';
import { hmpEquivalent } from './hmp-equivalent.js';
import { VM_HMP_PRODUCTIONS } from './grammar-vm-hmp.js';
import type { QemuVersion } from '../../graph/version.js';

/** The machine of every vm fuzz case: hotplug slots, a main-loop and an iothread SCSI controller. */
export const FUZZ_VM: VmSpec = {
  version: 1,
  iothreads: ['io0'],
  'root-ports': ['rp0', 'rp1', 'rp2', 'rp3'],
  'scsi-controllers': [{ id: 'scsi0' }, { id: 'scsi1', iothread: 'io0' }],
};

/**
 * The i440fx variant (`fuzz --against vm --machine pc`): the same controllers on pci.0, which
 * hotplugs through ACPI (a device_del of a PCI device waits for a guest that never comes).
 */
export const FUZZ_VM_PC: VmSpec = {
  version: 1,
  machine: 'pc',
  iothreads: ['io0'],
  'scsi-controllers': [{ id: 'scsi0' }, { id: 'scsi1', iothread: 'io0' }],
};

/** The hotplug slots of a PCI disk on the fuzz machine. */
const pciBuses = (machine: 'q35' | 'pc') => (machine === 'pc' ? ['pci.0'] : ['rp0', 'rp1', 'rp2', 'rp3']);

const cmd = (execute: string, args: JsonObject): Step => ({ execute, arguments: args });

export class VmGenerator extends Generator {
  /** Devices this case added (id → driver), as device_add / device_del replies told. */
  readonly devices = new Map<string, string>();
  /** Throttle groups block_set_io_throttle named (the BlockBackends' groups). */
  readonly bbGroups = new Set<string>();
  /** Controllers this case hotplugged (id → 'usb' | 'scsi' | 'scsi-io0'), and each device on one's bus (id → controller). */
  readonly controllers = new Map<string, 'usb' | 'scsi' | 'scsi-io0'>();
  readonly onController = new Map<string, string>();
  private devCounter = 0;
  /** Legacy drives this case asked for (HMP drive_add: grammar-vm-hmp.ts); the graph says which are there. */
  readonly drives = new Set<string>();
  private driveCounter = 0;

  /** The QEMU fuzzed: the VM's abort guards follow its rules (vmAbort). */
  constructor(rng: Rng, world: World, readonly version: QemuVersion = '7.2', readonly machine: 'q35' | 'pc' = 'q35') {
    super(rng, world);
    this.singleProcess = true;
    this.prelude();
  }

  /**
   * What a VM user starts from (libvirt's -blockdev + -device): most cases open an image (a
   * chain: top.qcow2 over mid and base) and plug a disk onto it, sometimes a CD-ROM with a
   * medium beside it, so that the draws after it meet a guest device at once.
   */
  private prelude(): void {
    const r = this.rng;
    if (!r.chance(0.8)) return;
    const p = this.world.proc('A');
    let node: string;
    if (r.chance(0.25)) {
      // stop 42: libvirt's older way, a legacy drive (HMP drive_add: a named BlockBackend, its
      // nodes auto-named) that the disk then takes by the drive's name (grammar-vm-hmp.ts)
      node = this.freshDrive();
      const image = r.pick(['top.qcow2', 'a.qcow2', 'mid.qcow2']);
      this.queue.push(cmd('human-monitor-command', { 'command-line': `drive_add 0 if=none,id=${node},file=${image},format=qcow2${r.chance(0.2) ? ',readonly=on' : ''}` }));
    } else {
      node = this.fresh('n', p);
      const add: JsonObject = { driver: 'qcow2', 'node-name': node, file: { driver: 'file', filename: r.pick(['top.qcow2', 'top.qcow2', 'a.qcow2', 'mid.qcow2']) } };
      if (r.chance(0.2)) add['read-only'] = true;
      this.queue.push(cmd('blockdev-add', add));
    }
    const driver = r.pick(['virtio-blk-pci', 'virtio-blk-pci', 'scsi-hd', 'scsi-hd']);
    const dev: JsonObject = { driver, id: this.freshDevice(driver === 'scsi-hd' ? 'sd' : 'vd'), drive: node };
    dev.bus = driver === 'scsi-hd' ? r.pick(['scsi0.0', 'scsi1.0']) : r.pick(pciBuses(this.machine));
    if (driver === 'virtio-blk-pci' && r.chance(0.2)) dev.iothread = 'io0';
    if (r.chance(0.2)) dev['share-rw'] = true;
    this.queue.push(cmd('device_add', dev));
    if (r.chance(0.3)) {
      const m = this.fresh('n', p);
      this.queue.push(cmd('blockdev-add', { driver: 'raw', 'node-name': m, 'read-only': true, file: { driver: 'file', filename: 'r.raw' } }));
      this.queue.push(cmd('device_add', { driver: 'scsi-cd', id: this.freshDevice('cd'), drive: m, bus: 'scsi0.0' }));
    }
  }

  protected override productions(): [Production, number][] { return VM_PRODUCTIONS; }

  /**
   * A reference target biased towards the nodes guest devices use (a VM user's jobs, snapshots,
   * reopens, iothreads, exports and bitmaps go to the disk's node), so that every QSD production
   * meets the devices' BlockBackends with its own guards unchanged.
   */
  override ref(p: ProcView, pred?: (n: string) => boolean): string {
    if (this.devices.size && this.rng.chance(0.3)) {
      const roots = deviceRoots(p).filter((n) => !pred || pred(n));
      if (roots.length) return this.rng.pick(roots);
    }
    return super.ref(p, pred);
  }

  freshDevice(prefix: string): string {
    return `${prefix}${this.devCounter++}`;
  }

  /** A new drive id (`dr0`, …): a name no node, device or job of the case uses. */
  freshDrive(): string {
    const p = this.world.proc('A');
    let id: string;
    do id = `dr${this.driveCounter++}`; while (p.used.has(id));
    p.used.add(id);
    this.drives.add(id);
    return id;
  }

  override followUp(step: Step, ok: boolean): void {
    super.followUp(step, ok);
    if (!ok || 'wait' in step) return;
    const a = step.arguments ?? {};
    if (step.execute === 'device_add' && typeof a.id === 'string') {
      // a removable scsi-hd takes the media commands as a CD-ROM does (scsi_disk_removable_block_ops)
      this.devices.set(a.id, a.driver === 'scsi-hd' && a.removable === true ? REMOVABLE_HD : String(a.driver));
      // a disk on the iothread controller moves its node there: the crash guards must know
      // (no bus: qbus_find_recursive meets the newest SCSI bus first, scsi1.0)
      const scsi = a.driver === 'scsi-hd' || a.driver === 'scsi-cd';
      // (or a hotplugged virtio-scsi with an iothread)
      const ctl = typeof a.bus === 'string' ? a.bus.replace(/\.0$/, '') : '';
      if ((a.bus === 'scsi1.0' || (scsi && a.bus === undefined) || this.controllers.get(ctl) === 'scsi-io0') && typeof a.drive === 'string') this.world.proc('A').moved.add(a.drive);
      if (CONTROLLER_DRIVERS.has(String(a.driver))) this.controllers.set(a.id, a.driver === 'virtio-scsi-pci' || a.driver === 'lsi53c895a' ? (a.iothread === 'io0' ? 'scsi-io0' : 'scsi') : 'usb');
      if (this.controllers.has(ctl)) this.onController.set(a.id, ctl);
    }
    if (step.execute === 'device_del' && typeof a.id === 'string') {
      this.devices.delete(a.id);
      // a controller's unplug takes the devices on its bus (bus_unparent); the i440fx's ACPI
      // request leaves them (a later device_del of one is answered either way)
      if (this.controllers.delete(a.id) && this.machine === 'q35') {
        for (const [d, c] of this.onController) if (c === a.id) { this.devices.delete(d); this.onController.delete(d); }
      }
    }
    // a throttled BlockBackend's ThrottleGroup (named by `group`, else the id given): throttle
    // nodes and object-add may name it (graph/throttle-groups.ts); its BlockBackend may be gone
    // since, the productions only draw names from it
    if (step.execute === 'block_set_io_throttle' && QMP_LIMITS.some((k) => Number(a[k]) > 0)) {
      const group = typeof a.group === 'string' ? a.group : String(a.id);
      this.bbGroups.add(group);
      this.world.proc('A').throttleGroups.add(group);
    }
  }

  /** The QSD crash guards, plus the VM's own (vmAbort). */
  override next(): Step | undefined {
    for (let tries = 0; tries < 20; tries++) {
      const s = super.next();
      if (!s || !vmAbort(hmpEquivalent(s, this.world.proc('A').graph) ?? s, this)) return s;
    }
    return undefined;
  }

  /** The devices with removable media: the CD-ROMs and removable scsi-hds. */
  cdroms(): string[] { return [...this.devices].filter(([, d]) => d === 'scsi-cd' || d === REMOVABLE_HD).map(([id]) => id); }
}

const asVm = (g: Generator) => g as VmGenerator;
/** How `devices` records a scsi-hd plugged with removable=on. */
const REMOVABLE_HD = 'scsi-hd(removable)';

/** The nodes the guest devices' BlockBackends sit on (their root edges). */
function deviceRoots(p: ProcView): string[] {
  return [...new Set(p.graph.edges.filter((e) => e.parent.startsWith('dev:') && e.name === 'root').map((e) => e.child))].filter((n) => !/[.#]/.test(n));
}

/** block_set_io_throttle's bucket averages (BlockIOThrottle), in BucketType order. */
const QMP_LIMITS = ['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_rd', 'iops_wr'] as const;

/**
 * Inputs on which qemu-system-x86_64 7.2.22 aborts (found by this fuzzer), never sent: a device
 * whose BlockBackend starts in the main loop (virtio-blk, ide) on a node that may be in an
 * iothread (set_drive_helper moves it without the iothread's lock: qemu_mutex_unlock_impl).
 * The model refuses it with that reason (graph/devices/ops.ts createDeviceBb).
 */
export function vmAbort(step: Step, g: VmGenerator): string | undefined {
  if ('wait' in step) return undefined;
  const a = step.arguments ?? {};
  const aio = inIothreadWithJobs(g.world.proc('A'));
  // 10.0 has no AioContext lock to release: the move is carried out (rule aio-context-lock-aborts)
  const unlockedMoveAborts = RULES['aio-context-lock-aborts'][g.version].value;
  // (nvme's DEFINE_BLOCK_PROPERTIES drive starts in the main loop as virtio-blk's does)
  // (so does usb-storage's, before it hands the node to its scsi-disk)
  if (unlockedMoveAborts && step.execute === 'device_add' && (a.driver === 'virtio-blk-pci' || a.driver === 'ide-hd' || a.driver === 'nvme' || a.driver === 'usb-storage') && typeof a.drive === 'string' && aio.has(a.drive)) {
    return `virtio-blk/ide/nvme/usb-storage on '${a.drive}' in an iothread`;
  }
  // the same unlocked move as device_add's (blk_insert_bs): 7.2 aborts
  // (qemu-aborts/abort-32-vm-insert-medium-node-in-other-iothread; the model refuses it, graph/devices/ops.ts insertBs)
  if (unlockedMoveAborts && step.execute === 'blockdev-insert-medium' && typeof a['node-name'] === 'string' && aio.has(a['node-name'])) {
    return `insert-medium of '${a['node-name']}' in an iothread`;
  }
  // crash 5 (aborts.ts), where a job carried the node into the iothread with a disk's chain
  if (step.execute === 'blockdev-add') {
    const r = references(a).find((n) => aio.has(n));
    if (r) return `crash 5: blockdev-add references '${r}' in an iothread`;
  }
  return undefined;
}


/** ProcView.inIothread, with a job's nodes moving together (a mirror target joins its source's context). */
function inIothreadWithJobs(p: ProcView): Set<string> {
  // a job's edges link its nodes; devices and BlockBackends do not move with them
  return connected(p.graph, [...p.inIothread()], (parent) => !parent.startsWith('dev:') && !parent.startsWith('bb:'));
}

const deviceAdd: Production = (g, p) => {
  const v = asVm(g);
  const r = g.rng;
  // now and then a model this VM cannot take: SCSI passthrough refused at realize, no USB bus
  const driver = r.chance(0.04) ? r.pick(['scsi-block', 'scsi-generic', 'usb-storage'])
    : r.pick(['virtio-blk-pci', 'scsi-hd', 'scsi-hd', 'scsi-cd', 'virtio-blk-pci', 'ide-hd', 'nvme']);
  const o: JsonObject = { driver };
  o.id = r.chance(0.05) && v.devices.size ? r.pick([...v.devices.keys()]) : v.freshDevice(driver.startsWith('virtio') ? 'vd' : driver === 'scsi-cd' ? 'cd' : driver === 'ide-hd' ? 'ide' : driver === 'nvme' ? 'nv' : 'sd');
  const bus = driver === 'virtio-blk-pci' || driver === 'nvme' ? r.pick(pciBuses(v.machine))
    : driver === 'ide-hd' ? 'ide.0' : r.pick(['scsi0.0', 'scsi1.0']);
  if (r.chance(0.9)) o.bus = r.chance(0.05) ? r.pick(['nosuch', 'pcie.0', 'scsi0.0', 'rp0']) : bus;
  if (driver !== 'scsi-cd' || r.chance(0.5)) o.drive = g.ref(p);
  // mostly a JSON bool; sometimes a string or number, which 7.2 reads through QemuOpts (on/off
  // parsed) and 10.0 refuses by type (rule device-add-args)
  if (r.chance(0.35)) o['share-rw'] = r.chance(0.85) ? true : r.pick(['on', 'off', 'yes', false, 1]);
  if (driver === 'virtio-blk-pci' && r.chance(0.15)) o.iothread = 'io0';
  // QEMU 9.0's virtqueue mapping (7.2 drops a list argument; rule virtio-blk-iothread-vq-mapping)
  if (driver === 'virtio-blk-pci' && r.chance(0.08)) {
    o['iothread-vq-mapping'] = r.pick([[{ iothread: 'io0' }], [{ iothread: 'io0', vqs: [0] }], [{ iothread: 'nosuch' }], [{ iothread: 'io0' }, { iothread: 'io0' }], [], 'io0']);
  }
  if (driver === 'scsi-hd' && r.chance(0.12)) o.removable = true;
  // nvme (vm/vm-f-nvme-*): a serial is required (nvme_check_constraints), its queue limits
  if (driver === 'nvme') {
    if (r.chance(0.9)) o.serial = r.pick(['nv-1', 'nv-2']);
    if (r.chance(0.1)) o.max_ioqpairs = r.pick([0, 4]);
    if (r.chance(0.1)) o.msix_qsize = r.pick([0, 2049, 16]);
    if (r.chance(0.05)) o.num_queues = r.pick([1, 4]);
  }
  if (r.chance(0.3)) libvirtProps(g, driver, o);
  return cmd('device_add', o);
};

/**
 * The properties a libvirt domain XML sets on a disk (serial, cache, error policy, block sizes,
 * boot order, SCSI address, queues, geometry), mostly well-formed; sometimes a value of the wrong
 * JSON type or out of range, which 7.2 reads as a QemuOpts string and 10.0 by JSON type
 * (graph/devices/props.ts), or a duplicate bootindex / SCSI address. Never more than
 * VIRTIO_QUEUE_MAX queues: QEMU aborts there (qemu-aborts/abort-32-vm-virtio-blk-num-queues-over-max).
 */
function libvirtProps(g: Generator, driver: string, o: JsonObject): void {
  const r = g.rng;
  const bad = () => r.chance(0.15);
  if (r.chance(0.4)) o.serial = bad() ? r.pick([7, 'S'.repeat(40), 'S'.repeat(30)]) : r.pick(['S1', 'disk-0001']);
  if (r.chance(0.3)) o['write-cache'] = bad() ? r.pick(['maybe', true, 1]) : r.pick(['on', 'off', 'auto']);
  if (r.chance(0.3)) o.werror = bad() ? r.pick(['bogus', 1, 'STOP']) : r.pick(['stop', 'report', 'enospc', 'ignore']);
  if (r.chance(0.3)) o.rerror = bad() ? r.pick(['bogus', true]) : r.pick(['stop', 'report', 'ignore']);
  if (r.chance(0.25)) o.logical_block_size = bad() ? r.pick([513, 256, '512', 'abc', 4194304]) : r.pick([512, 4096]);
  if (r.chance(0.25)) o.physical_block_size = bad() ? r.pick([1.5, 1000, '4096']) : r.pick([512, 4096]);
  if (r.chance(0.3)) o.bootindex = bad() ? r.pick(['x', '2', 2147483648]) : r.int(4) - 1;
  if (driver.startsWith('scsi') && r.chance(0.3)) {
    o['scsi-id'] = bad() ? r.pick([256, -1, 'x']) : r.int(3);
    if (r.chance(0.6)) o.lun = bad() ? r.pick([16384, -1]) : r.int(2);
    if (r.chance(0.1)) o.channel = r.pick([0, 1]);
  }
  if (driver === 'virtio-blk-pci' && r.chance(0.2)) o['num-queues'] = bad() ? r.pick([0, '2', true, 1024]) : r.pick([1, 2, 4]);
  if (driver === 'virtio-blk-pci' && r.chance(0.1)) o['queue-size'] = bad() ? r.pick([2, 100, 2048]) : r.pick([128, 256]);
  if (driver !== 'scsi-cd' && r.chance(0.08)) {
    o.cyls = bad() ? r.pick([0, 100000]) : 16;
    if (r.chance(0.8)) o.heads = bad() ? 300 : 16;
    if (r.chance(0.8)) o.secs = 63;
  }
  if (r.chance(0.1)) o.min_io_size = bad() ? 513 : 4096;
  if (r.chance(0.1)) o.discard_granularity = bad() ? 100 : 4096;
}

const deviceDel: Production = (g) => {
  const v = asVm(g);
  const ids = [...v.devices.keys()];
  const id = ids.length && g.rng.chance(0.9) ? g.rng.pick(ids) : g.rng.pick(['nosuch', 'rp0', 'scsi0']);
  return cmd('device_del', { id });
};

const media: Production = (g, p) => {
  const v = asVm(g);
  const r = g.rng;
  const cds = v.cdroms();
  const all = [...v.devices.keys()];
  const id = cds.length && r.chance(0.85) ? r.pick(cds) : all.length ? r.pick(all) : 'nosuch';
  const k = r.next();
  if (k < 0.2) return cmd('blockdev-open-tray', { id });
  if (k < 0.35) return cmd('blockdev-close-tray', { id });
  if (k < 0.55) return cmd('blockdev-insert-medium', { id, 'node-name': g.ref(p) });
  if (k < 0.7) return cmd('blockdev-remove-medium', { id });
  if (k < 0.85) return cmd('eject', { id });
  const o: JsonObject = { id, filename: r.pick(['a.qcow2', 'r.raw', 't1.qcow2']) };
  // without a format bdrv_open probes the image (find_image_format)
  if (r.chance(0.8)) o.format = o.filename === 'r.raw' ? 'raw' : 'qcow2';
  if (r.chance(0.3)) o['read-only-mode'] = r.pick(['retain', 'read-only', 'read-write']);
  return cmd('blockdev-change-medium', o);
};

/** A device's id as block_set_io_throttle and the media commands take it (virtio-blk: its backend's path). */
const blkId = (id: string, driver: string) => (driver === 'virtio-blk-pci' ? `/machine/peripheral/${id}/virtio-backend` : id);

/**
 * block_set_io_throttle as a VM user sends it: a limit on total or read/write bytes or ops, with a
 * burst (`_max`, `_max_length`), an `iops_size`, a `group` shared with other devices or with a
 * throttle-group object; sometimes all zero (off), an invalid config (throttle_is_valid) or a QAPI
 * error. query-block beside it (its answer is not compared; the model must not crash on it).
 */
const throttleRun: Production = (g) => {
  const v = asVm(g);
  const r = g.rng;
  const k = r.next();
  if (k < 0.75 && v.devices.size) {
    const [id, driver] = r.pick([...v.devices]);
    const o: JsonObject = { id: blkId(id, driver) };
    for (const q of QMP_LIMITS) o[q] = 0;
    const m = r.next();
    if (m < 0.2) {
      // off (or a BlockBackend's first throttle being none)
    } else if (m < 0.85) {
      const base = r.pick([...QMP_LIMITS]);
      o[base] = base.startsWith('bps') ? r.pick([1048576, 4096]) : r.pick([100, 10]);
      if (r.chance(0.2)) {
        o[`${base}_max`] = Number(o[base]) * r.pick([2, 1]);
        if (r.chance(0.5)) o[`${base}_max_length`] = r.pick([1, 5]);
      }
      if (base.startsWith('iops') && r.chance(0.15)) o.iops_size = 4096;
    } else {
      // throttle_is_valid's refusals
      const bad = r.pick(['total+rd', 'negative', 'max-no-avg', 'max-below', 'size-no-iops', 'burst-no-max', 'burst-0']);
      if (bad === 'total+rd') { o.bps = 4096; o.bps_rd = 4096; }
      else if (bad === 'negative') o.iops = -1;
      else if (bad === 'max-no-avg') o.bps_max = 4096;
      else if (bad === 'max-below') { o.bps = 4096; o.bps_max = 1024; }
      else if (bad === 'size-no-iops') { o.bps = 4096; o.iops_size = 512; }
      else if (bad === 'burst-no-max') { o.iops = 10; o.iops_max_length = 5; }
      else { o.iops = 10; o.iops_max = 20; o.iops_max_length = 0; }
    }
    if (r.chance(0.35)) {
      const others = [...v.devices].filter(([d]) => d !== id).map(([d, drv]) => blkId(d, drv));
      o.group = r.pick([...v.bbGroups, ...others, 'tg0', 'tg1', 'g0']);
    }
    if (r.chance(0.03)) delete o[r.pick([...QMP_LIMITS])];
    if (r.chance(0.02)) o.bps = '1';
    return cmd('block_set_io_throttle', o);
  }
  if (k < 0.9) return cmd('query-block', {});
  // no `cont`: a running guest (SeaBIOS) could take part in PCIe hotplug and make device_del wait
  return cmd('stop', {});
};

/**
 * throttle-group objects named like the BlockBackends' groups (object-add refuses a name in use:
 * throttle_group_obj_complete) and object-del of a group a BlockBackend is in.
 */
const groupObjects: Production = (g) => {
  const v = asVm(g);
  const r = g.rng;
  const id = r.pick([...v.bbGroups, 'tg0', 'tg1']);
  if (r.chance(0.6)) return cmd('object-add', { 'qom-type': 'throttle-group', id, ...(r.chance(0.5) ? { limits: { 'iops-total': 100 } } : {}) });
  return cmd('object-del', { id });
};

/** Process A's QSD productions, with the guest-device ones beside them. */
/** Hotpluggable controllers (graph/devices/types.ts CONTROLLER_KINDS) the generator adds. */
const CONTROLLER_DRIVERS = new Set(['qemu-xhci', 'usb-ehci', 'piix3-usb-uhci', 'virtio-scsi-pci', 'lsi53c895a']);

/**
 * Controllers on a hotplug slot (vm/vm-g-*: USB host controllers, virtio-scsi with or without an
 * iothread, lsi53c895a) and disks on their buses: usb-storage (named ports, removable, share-rw),
 * scsi-hd and scsi-cd on a hotplugged SCSI bus (scsi-id/lun within and past the HBA's limits).
 */
const controllerRun: Production = (g, p) => {
  const v = asVm(g);
  const r = g.rng;
  const usb = [...v.controllers].filter(([, k]) => k === 'usb').map(([id]) => id);
  const scsi = [...v.controllers].filter(([, k]) => k !== 'usb').map(([id]) => id);
  const k = r.next();
  if (k < 0.3 || (!usb.length && !scsi.length)) {
    const driver = r.pick(['qemu-xhci', v.machine === 'pc' ? 'piix3-usb-uhci' : 'usb-ehci', 'virtio-scsi-pci', 'virtio-scsi-pci', 'lsi53c895a']);
    const o: JsonObject = { driver, id: v.freshDevice(driver.startsWith('virtio') || driver.startsWith('lsi') ? 'hs' : 'usb'), bus: r.pick(pciBuses(v.machine)) };
    if (driver === 'virtio-scsi-pci' && r.chance(0.3)) o.iothread = 'io0';
    if (driver === 'qemu-xhci' && r.chance(0.3)) { o.p2 = 1; o.p3 = 1; }
    return cmd('device_add', o);
  }
  if (usb.length && (k < 0.65 || !scsi.length)) {
    const o: JsonObject = { driver: 'usb-storage', id: v.freshDevice('us'), bus: `${r.pick(usb)}.0`, drive: g.ref(p) };
    if (r.chance(0.2)) o.removable = true;
    if (r.chance(0.3)) o['share-rw'] = true;
    if (r.chance(0.15)) o.port = r.pick(['1', '2', '1.1', '9']);
    return cmd('device_add', o);
  }
  const driver = r.chance(0.25) ? 'scsi-cd' : 'scsi-hd';
  const o: JsonObject = { driver, id: v.freshDevice(driver === 'scsi-cd' ? 'cd' : 'sd'), bus: `${r.pick(scsi)}.0` };
  if (driver === 'scsi-hd' || r.chance(0.5)) o.drive = g.ref(p);
  if (r.chance(0.3)) o['scsi-id'] = r.pick([0, 1, 7, 8]);
  if (r.chance(0.2)) o.lun = r.pick([0, 1]);
  if (r.chance(0.3)) o['share-rw'] = true;
  return cmd('device_add', o);
};

/**
 * Stop 41: HMP's block `info` printers (block/monitor/block-hmp-cmds.c hmp_info_block,
 * hmp_info_blockstats, hmp_info_block_jobs), whose text a vm fuzz case compares (`"hmp-text": true`,
 * run-case.ts runCase): `info block` over the BlockBackends, `-n` over the named nodes, an argument
 * naming a node (a device's BlockBackend is anonymous, so its node name is what matches). `-v`
 * (bdrv_image_info_dump: the host's disk sizes) is not drawn: the model does not print it.
 */
const hmpInfo: Production = (g, p) => {
  const r = g.rng;
  const k = r.next();
  // stop 42 (fuzz --against vm --qemu 10.0 2026120704: 298904945, 1864575008): `info block-jobs`
  // prints each job's progress, which for a job still copying is how far its coroutine got before
  // the line was read (a speed-limited stream past its allocated chunks, a mirror's first run):
  // the same field oracle/replies.ts strips from query-block-jobs while a job copies. Asked only
  // while no job of the case may be copying.
  const copying = [...p.jobs.values()].some((j) => !SETTLED_PROGRESS.has(j.status));
  const line = k < 0.35 ? 'info block' : k < 0.5 ? 'info block -n' : k < 0.6 ? `info block ${g.ref(p)}` : k < 0.9 || copying ? 'info blockstats' : 'info block-jobs';
  return cmd('human-monitor-command', { 'command-line': line });
};

export const VM_PRODUCTIONS: [Production, number][] = [
  ...PRODUCTIONS_A, [deviceAdd, 18], [deviceDel, 7], [media, 10], [throttleRun, 6], [groupObjects, 2], [controllerRun, 5], [hmpInfo, 8],
  // stop 42: legacy drives and the HMP block commands over them (grammar-vm-hmp.ts)
  ...VM_HMP_PRODUCTIONS,
];
