// -drive on the command line (the vm member's `drives`): softmmu/vl.c configure_blockdev runs
// blockdev.c drive_new for each (after every -blockdev), then the board claims its interfaces'
// drives in machine init (hw/i386/pc.c pc_superio_init's floppies, pc_piix.c / pc_q35.c's IDE),
// drive_check_orphaned refuses what nothing claimed, and qemu_create_cli_devices makes the
// virtio-blk devices drive_new queued for if=virtio. Everything here happens before QMP is up,
// as one step of x-blockgraph-machine (commands/vm/machine.ts).
import { QmpError } from '../../errors/index.js';
import { putBus, bus as busById } from '../../graph/devices/ops.js';
import { rule } from '../../graph/rules.js';
import type { CommandCtx } from '../types.js';
import { addDevice } from './device-add.js';
import { atLocation, MachineStartError, reportLine } from './machine-start-error.js';
import { driveGet, driveNew, drives, IF_FLOPPY, IF_IDE, IF_NAME, IF_NONE, IF_VIRTIO, ifMaxDevs, optsPairs } from './drive-add.js';

/** A -drive QEMU refuses: qemu_init reports it and exits (the recorder cannot start such a VM). */
export class ColdDriveError extends QmpError {}

const ID = /^[A-Za-z][A-Za-z0-9\-._]*$/;

/**
 * configure_blockdev's drive part: qemu_opts_parse of each -drive (done when the command line is
 * read: "Duplicate ID", an id that is no identifier), then drive_init_func → drive_new in order.
 * Returns the names of the if=virtio drives, in order: drive_new queued a `-device virtio-blk,drive=NAME`
 * QemuOpts for each.
 */
export function openColdDrives(ctx: CommandCtx, texts: unknown, driveText: Map<string, string> = new Map()): string[] {
  const { p } = ctx;
  if (texts === undefined) return [];
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) throw new QmpError('drives must be a list of strings');
  const ids = new Set<string>();
  const virtio: string[] = [];
  // qemu_opts_create(qemu_find_opts("drive"), id, 1) while the command line is read: the
  // QemuOpts checks of every -drive come before any drive is opened, each at its own location
  for (const text of texts as string[]) {
    const pairs = optsPairs(text);
    const id = [...pairs].reverse().find(([k]) => k === 'id')?.[1];
    if (id === undefined) continue;
    atLocation(`-drive ${text}`, () => {
      if (!ID.test(id)) throw new ColdDriveError("Parameter 'id' expects an identifier");
      if (ids.has(id)) throw new ColdDriveError(`Duplicate ID '${id}' for drive`);
    });
    ids.add(id);
  }
  for (const text of texts as string[]) {
    const r = atLocation(`-drive ${text}`, () => driveNew(ctx, optsPairs(text), []));
    driveText.set(r.bb, text);
    if (r.type === IF_VIRTIO) virtio.push(p.bb(r.bb)!.name!);
  }
  return virtio;
}

/**
 * Machine init's drive devices: the floppies pc_superio_init finds with drive_get(IF_FLOPPY, 0, i)
 * (an isa-fdc on q35 only for them: create_fdctrl |= !!fd[i]; fdctrl_init_drives), and the IDE
 * disks and CD-ROMs of ide_drive_get (drive_get_by_index(IF_IDE, i): q35's six AHCI ports,
 * ahci_ide_create_devs; i440fx's two buses of two, pci_ide_create_devs), each an ide-hd or ide-cd
 * by the drive's media (ide_create_drive: qdev_new, unit, drive, qdev_realize_and_unref). They have
 * no id: /machine/unattached/device[N], N from rule board-drive-devices. Then drive_check_orphaned.
 */
export function boardDrives(ctx: CommandCtx, driveLoc: (bb: string) => string = () => ''): void {
  const { p } = ctx;
  const pc = p.meta().machine === 'pc';
  const at = rule(p, 'board-drive-devices')[pc ? 'pc' : 'q35'];
  const name = (bb: { name?: string } | undefined) => bb?.name;
  const fds = [0, 1].map((u) => driveGet(p, IF_FLOPPY, 0, u));
  const nFd = fds.filter(Boolean).length;
  // q35 makes no isa-fdc (no_floppy) unless a floppy drive asks for one; i440fx always has it
  const newFdc = !pc && nFd > 0;
  const maxIde = ifMaxDevs(p, IF_IDE);
  const ports = pc ? 4 : 6;
  const hd = Array.from({ length: ports }, (_, i) => driveGet(p, IF_IDE, Math.floor(i / maxIde), i % maxIde));
  const nIde = hd.filter(Boolean).length;
  const floppyFirst = at.first === 'floppy';
  let k = 0;
  const makeFloppies = () => {
    if (newFdc && !busById(p, 'floppy-bus.0')) putBus(p, { id: 'floppy-bus.0', type: 'floppy-bus', hotplug: false, iothread: null, at: p.nextSeq() });
    fds.forEach((bb, unit) => {
      if (!bb) return;
      const n = at.floppy + (floppyFirst ? 0 : nIde) + k++;
      addDevice(ctx, { driver: 'floppy', bus: 'floppy-bus.0', unit, 'drive-type': 'auto', drive: name(bb) }, true, { path: `/machine/unattached/device[${n}]` });
    });
  };
  const makeIde = () => {
    let j = 0;
    hd.forEach((bb, i) => {
      if (!bb) return;
      const n = at.ide + (floppyFirst ? nFd + (newFdc ? 1 : 0) : 0) + j++;
      addDevice(ctx, { driver: bb.legacy!.cdrom ? 'ide-cd' : 'ide-hd', bus: `ide.${Math.floor(i / maxIde)}`, unit: i % maxIde, drive: name(bb) }, true,
        { path: `/machine/unattached/device[${n}]` });
    });
  };
  // realized with error_fatal during machine init: no location
  atLocation(undefined, () => { if (floppyFirst) { makeFloppies(); makeIde(); } else { makeIde(); makeFloppies(); } });
  // the machine's later id-less devices (rule machine-unattached-devices) come after these
  const made = nFd + nIde + (newFdc ? 1 : 0);
  if (made) p.setMeta({ unattachedNext: rule(p, 'machine-unattached-devices')[pc ? 'pc' : 'q35'] + made });
  // drive_check_orphaned: if=none stays for device_add, if=virtio is left to its -device; every
  // orphan is reported, each at its drive's location, in the BlockBackends' order, then exit(1)
  const orphans: string[] = [];
  for (const bb of drives(p)) {
    const d = bb.legacy!;
    if (d.type === IF_NONE || d.type === IF_VIRTIO || bb.dev) continue;
    orphans.push(reportLine(driveLoc(bb.id), `machine type does not support if=${IF_NAME[d.type]},bus=${d.bus},unit=${d.unit}`));
  }
  if (orphans.length) throw new MachineStartError(orphans);
}

/** qemu_create_cli_devices: drive_new's `-device virtio-blk,drive=NAME` (virtio-blk-pci on x86), id-less, on the root bus. */
export function virtioDriveDevices(ctx: CommandCtx, names: string[], driveLoc: (bb: string) => string = () => ''): void {
  // device_init_func at the QemuOpts' location, which drive_new saved: the drive's
  for (const drive of names) {
    const bb = ctx.p.bbs().find((b) => b.name === drive)!;
    atLocation(driveLoc(bb.id), () => addDevice(ctx, { driver: 'virtio-blk-pci', drive }, true));
  }
}
