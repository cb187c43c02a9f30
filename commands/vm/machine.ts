// x-blockgraph-machine (blockgraph's own; vm target): the machine qemu-system-x86_64 builds from
// its command line before QMP is up — q35's pcie.0 and AHCI ide.0..ide.5, `-object iothread`,
// pcie-root-ports, virtio-scsi-pci controllers, `-blockdev`s and cold-plugged `-device`s — as
// one logged command, so replay, recovery and audit see the machine like any other mutation.
import { QmpError } from '../../errors/index.js';
import { isVm, putBus, putDevice, device, refuseIothreadLink } from '../../graph/devices/ops.js';
import type { Device } from '../../graph/devices/types.js';
import { blockdevAdd } from '../blockdev-add.js';
import { validateCommand } from '../schema/index.js';
import { rule } from '../../graph/rules.js';
import type { CommandDef } from '../types.js';
import { addDevice, pciRegister } from './device-add.js';
import { boardDrives, openColdDrives, virtioDriveDevices } from './cold-drives.js';
import { objectAdd } from '../objects.js';
import { objectArgs } from './hmp.js';
import { atLocation, MachineStartError, reportLine } from './machine-start-error.js';
import { applyMachineFlash, BoardError, machineOptions, PflashDriveError, systemFirmwareInit } from './pflash.js';

const ID = /^[A-Za-z][A-Za-z0-9\-._]*$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ids(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && ID.test(x))) throw new QmpError(`${what} must be a list of ids`);
  return v as string[];
}

export const xBlockgraphMachine: CommandDef = {
  name: 'x-blockgraph-machine',
  mutates: true,
  run(ctx) {
    const { p, args } = ctx;
    if (isVm(p) || p.nodes().length || p.bbs().length) throw new QmpError('x-blockgraph-machine: the process already has a machine or a graph');
    if (args.version !== 1) throw new QmpError('x-blockgraph-machine: version must be 1');
    const machine = args.machine ?? 'q35';
    if (machine !== 'q35' && machine !== 'pc') throw new QmpError("machine must be 'q35' or 'pc'");
    const pc = machine === 'pc';
    if (pc && (args['root-ports'] !== undefined || args['acpi-pci-hotplug'] !== undefined)) throw new QmpError("a 'pc' machine has no root-ports or acpi-pci-hotplug");
    if (args.acpi !== undefined && (!pc || args.acpi !== false)) throw new QmpError("acpi may only be false, on a 'pc' machine");
    // -M pc,acpi=off (libvirt's -no-acpi): pc_init1 creates no PIIX4_PM, so pci.0 has no hotplug handler
    const pcAcpi = pc && args.acpi !== false;
    p.step(`machine ${machine}${pc && !pcAcpi ? ' acpi=off' : ''}`);
    const acpi = args['acpi-pci-hotplug'];
    if (acpi !== undefined && typeof acpi !== 'boolean') throw new QmpError('acpi-pci-hotplug must be a boolean');
    // -name guest=NAME (query-name) and the command line's -chardevs (query-chardev: libvirt's
    // monitor socket, whose filename qemu_chr_socket_address gives as unix:PATH,server=on)
    const name = args.name;
    if (name !== undefined && typeof name !== 'string') throw new QmpError('name must be a string');
    const chardevs = args.chardevs ?? [];
    if (!Array.isArray(chardevs) || !chardevs.every((c) => isObj(c) && typeof c.label === 'string' && typeof c.filename === 'string')) {
      throw new QmpError('chardevs: each needs a label and a filename');
    }
    if (args.incoming !== undefined && args.incoming !== true) throw new QmpError('incoming may only be true');
    p.setMeta({
      // -incoming defer: qemu_init's qemu_start_incoming_migration leaves the machine in inmigrate
      target: 'vm', runState: args.incoming === true ? 'inmigrate' : 'prelaunch', ...(acpi === true ? { acpiPciHotplug: true } : {}), ...(pc ? { machine: 'pc' as const } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(chardevs.length ? { chardevs: chardevs.map((c: Record<string, unknown>) => ({ label: String(c.label), filename: String(c.filename), 'frontend-open': c['frontend-open'] !== false })) } : {}),
    });
    // q35 (pc_q35_init): pcie.0, ICH9 AHCI's six one-unit buses. pc (pc_init1): i440fx's pci.0,
    // whose hotplug handler is PIIX4's ACPI (so it hotplugs; without ACPI it has none: "Bus
    // 'pci.0' does not support hotplugging"), the PIIX IDE's two buses of two
    // units, and an isa-fdc (pc_superio_init: create_fdctrl is true on i440fx) whose floppy-bus
    // does not hotplug
    const root = pc ? 'pci.0' : 'pcie.0';
    putBus(p, { id: root, type: pc ? 'PCI' : 'PCIE', hotplug: pcAcpi, iothread: null, at: p.nextSeq() });
    for (let i = 0; i < (pc ? 2 : 6); i++) putBus(p, { id: `ide.${i}`, type: 'IDE', hotplug: false, iothread: null, at: p.nextSeq() });
    if (pc) putBus(p, { id: 'floppy-bus.0', type: 'floppy-bus', hotplug: false, iothread: null, at: p.nextSeq() });
    // Each part of the start at the command-line location QEMU reports its errors at (the
    // recorder's argv, oracle/qemu-vm.ts vmArgs): a refusal stops the machine (MachineStartError).
    // object_option_parse while the command line is read: the "object" QemuOpts list refuses an id
    // given twice (qemu_opts_create: "Duplicate ID"), at the second -object; then
    // object_option_foreach_add(object_create_early) creates them in order, at no location
    const iothreads = ids(args.iothreads, 'iothreads');
    const objects = args.objects ?? [];
    if (!Array.isArray(objects) || !objects.every((o) => typeof o === 'string')) throw new QmpError('objects must be a list of strings');
    const objTexts = [...iothreads.map((io) => `iothread,id=${io}`), ...(objects as string[])];
    const objIds = new Set<string>();
    for (const text of objTexts) {
      const id = objectArgs(text).id;
      if (typeof id !== 'string') continue;
      if (objIds.has(id)) throw new MachineStartError([reportLine(`-object ${text}`, `Duplicate ID '${id}' for object`)]);
      objIds.add(id);
    }
    // -blockdev JSON is visited while the command line is read (qemu_init: qobject_input_visitor_new_str
    // + visit_type_BlockdevOptions, &error_fatal), before any object is created or node opened:
    // QAPI's refusals ("Parameter 'throttle-group' is missing") at that -blockdev's location
    const blockdevs = ((args.blockdevs ?? []) as unknown[]).map((b) => {
      if (!isObj(b)) throw new QmpError('blockdevs: each must be an object');
      const loc = `-blockdev ${JSON.stringify(b)}`;
      const v = validateCommand('blockdev-add', b, rule(p, 'qapi-schema'));
      if (!v.ok) throw new MachineStartError([reportLine(loc, v.desc)]);
      return { loc, value: v.value as Record<string, unknown> };
    });
    for (const text of objTexts) atLocation(undefined, () => objectAdd.run({ ...ctx, args: objectArgs(text) }));
    const flashOpts = machineOptions(args['machine-options']);
    const controller = (id: string, driver: string) => {
      if (device(p, id)) throw new QmpError(`Duplicate device ID '${id}'`);
      const d: Device = {
        id, driver, bus: root, path: `/machine/peripheral/${id}`, bb: null, ownBb: false, shareRw: false,
        iothread: null, tray: null, cold: true, at: p.nextSeq(),
      };
      putDevice(p, d);
      pciRegister(p, d, undefined);
    };
    for (const rp of ids(args['root-ports'], 'root-ports')) {
      controller(rp, 'pcie-root-port');
      putBus(p, { id: rp, type: 'PCIE', hotplug: true, iothread: null, at: p.nextSeq() });
    }
    // configure_blockdev: the -blockdevs, each at its own location (loc_push_restore(&bdo->loc))
    for (const b of blockdevs) atLocation(b.loc, () => blockdevAdd.run({ ...ctx, args: b.value }));
    // then every -drive (drive_init_func at the drive's QemuOpts location); machine init's floppies
    // and IDE devices claim theirs; then the -device list, whose QemuOpts part (after the command
    // line's own) holds the virtio-blk each if=virtio drive queued, before the JSON -devices
    const driveText = new Map<string, string>();
    const virtio = openColdDrives(ctx, args.drives, driveText);
    const driveLoc = (bb: string) => `-drive ${driveText.get(bb) ?? ''}`;
    // qemu_apply_machine_options (after configure_blockdev): -machine pflash0=/pflash1= set the
    // flash devices' drive (no location: the options are applied as one QDict)
    const flash = atLocation(undefined, () => applyMachineFlash(p, flashOpts));
    // machine init: pc_memory_init → pc_system_firmware_init comes before the board's drive devices
    try {
      systemFirmwareInit(p, flash);
    } catch (e) {
      if (e instanceof BoardError) throw new MachineStartError(e.lines.map((l) => reportLine(undefined, l)));
      if (e instanceof PflashDriveError) throw new MachineStartError([reportLine(driveLoc(e.drive), e.desc)]);
      throw e;
    }
    if (args.drives !== undefined) boardDrives(ctx, driveLoc);
    virtioDriveDevices(ctx, virtio, driveLoc);
    const scsi = args['scsi-controllers'] ?? [];
    if (!Array.isArray(scsi)) throw new QmpError('scsi-controllers must be a list');
    for (const c of scsi) {
      if (!isObj(c) || typeof c.id !== 'string' || !ID.test(c.id)) throw new QmpError('scsi-controllers: each needs an id');
      const io = c.iothread === undefined ? null : String(c.iothread);
      const json = JSON.stringify({ driver: 'virtio-scsi-pci', id: c.id, bus: pc ? 'pci.0' : 'pcie.0', ...(io !== null ? { iothread: io } : {}) });
      atLocation(`-device ${json}`, () => {
        // the controller is a JSON -device: its link<iothread> is resolved as device_add's (refuseIothreadLink)
        if (io !== null) refuseIothreadLink(p, io);
        controller(c.id as string, 'virtio-scsi-pci');
      });
      putBus(p, { id: `${c.id}.0`, type: 'SCSI', hotplug: true, iothread: io ?? 'main', at: p.nextSeq(), owner: c.id });
    }
    for (const d of (args.devices ?? []) as unknown[]) {
      if (!isObj(d)) throw new QmpError('devices: each must be an object');
      atLocation(`-device ${JSON.stringify(d)}`, () => addDevice(ctx, d, true));
    }
    return {};
  },
};
