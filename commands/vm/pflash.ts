// The firmware's flash on the pc machines (stop 43): hw/i386/pc_sysfw.c and hw/block/pflash_cfi01.c.
// pc_machine_initfn → pc_system_flash_create makes two cfi.pflash01 devices, children of the
// machine (/machine/system.flash0, /machine/system.flash1, no id, on the main system bus), and
// aliases the machine's `pflash0` / `pflash1` properties to their `drive`. `-machine pflash0=NODE`
// sets that drive (qemu_apply_machine_options, after configure_blockdev); machine init's
// pc_system_firmware_init maps the legacy `-drive if=pflash,unit=N` drives onto them, rejects gaps,
// and pc_system_flash_map sizes and realizes each flash in turn. Everything here happens before
// QMP is up, as part of x-blockgraph-machine (commands/vm/machine.ts); a refusal stops QEMU.
import { QmpError } from '../../errors/index.js';
import { attachLegacyDrive, createDeviceBb, bbRoot, putDevice, setBbPerm } from '../../graph/devices/ops.js';
import type { Device } from '../../graph/devices/types.js';
import { getLength } from '../../graph/length.js';
import { blkByName } from '../../graph/named-blk.js';
import { PERM_ALL, PERM_R, PERM_W } from '../../graph/perm.js';
import type { Proc } from '../../graph/proc.js';
import { driveGet, optsPairs } from './drive-add.js';

export const PFLASH_DRIVER = 'cfi.pflash01';
const IF_PFLASH = 4;
/** pc_sysfw.c FLASH_SECTOR_SIZE */
const FLASH_SECTOR_SIZE = 4096;
/** pc_machine_initfn: pcms->max_fw_size = 8 * MiB (the machine's max-fw-size) */
const MAX_FW_SIZE = 8 * 1024 * 1024;

/** A machine-init refusal without a location (error_report with loc none): its lines as printed. */
export class BoardError extends QmpError {
  constructor(readonly lines: string[]) { super(lines[0]!); }
}

/** A refusal at a -drive's location (qemu_opts_loc_restore(dinfo->opts)). */
export class PflashDriveError extends QmpError {
  constructor(readonly drive: string, desc: string) { super(desc); }
}

const flashPath = (i: number) => `/machine/system.flash${i}`;

/**
 * The `-machine` text: keyval pairs (keyval_parse). Only the flash aliases are modelled; anything
 * else is refused as not modelled. Returns pflash0/pflash1's values in the order given.
 */
export function machineOptions(text: unknown): [number, string][] {
  if (text === undefined) return [];
  if (typeof text !== 'string') throw new QmpError('machine-options must be a string');
  const out: [number, string][] = [];
  for (const [k, v] of optsPairs(text)) {
    const m = /^pflash([01])$/.exec(k);
    if (!m) throw new QmpError(`blockgraph: -machine ${k} is not modelled`);
    out.push([Number(m[1]), v]);
  }
  return out;
}

function flashDevice(p: Proc, i: number): Device {
  return {
    id: flashPath(i), driver: PFLASH_DRIVER, bus: 'main-system-bus', path: flashPath(i), bb: null, ownBb: false, shareRw: false,
    iothread: null, tray: null, cold: true, at: p.nextSeq(),
  };
}

/**
 * set_drive_helper for the flash's `drive` (hw/core/qdev-properties-system.c): a legacy drive's
 * name first (blk_by_name), else a node name (blk_new(main loop, 0, BLK_PERM_ALL) + blk_insert_bs),
 * else "can't find value"; then blk_attach_dev. An empty value sets nothing.
 */
function setDrive(p: Proc, d: Device, value: string): void {
  if (value === '') return;
  const blk = blkByName(p, value);
  if (blk) {
    attachLegacyDrive(p, blk, d, value);
    d.bb = blk.id;
    return;
  }
  if (!p.node(value)) throw new QmpError(`Property '${PFLASH_DRIVER}.drive' can't find value '${value}'`);
  d.bb = createDeviceBb(p, d, value);
}

/**
 * The machine's `pflash0=` / `pflash1=` (qemu_apply_machine_options → object_set_properties_from_keyval
 * → the alias's set_drive_helper), each on its flash device. Returns the devices, indexed by unit.
 */
export function applyMachineFlash(p: Proc, opts: [number, string][]): (Device | undefined)[] {
  const flash: (Device | undefined)[] = [undefined, undefined];
  for (const [i, v] of opts) {
    const d = flash[i] ?? flashDevice(p, i);
    if (d.bb) throw new QmpError('blockgraph: setting a flash drive twice is not modelled');
    setDrive(p, d, v);
    if (d.bb) flash[i] = d;
  }
  return flash;
}

/**
 * pc_system_firmware_init (pci-enabled pc machines, both): pflash_cfi01_legacy_drive for each unit
 * ("clashes with -machine" at the drive's location), "pflashN requires pflashN-1", then
 * pc_system_flash_map when pflash0 has a drive: for each flash in turn, its length
 * (blk_getlength: "can't get size of block device NAME: No medium found"), a non-zero multiple of
 * FLASH_SECTOR_SIZE (error_report + info_report), the combined size within max-fw-size, then
 * realize (pflash_cfi01_realize: read-only unless blk_supports_write_perm, blk_set_perm(consistent
 * read + write, all shared); blk_check_size_and_read_all agrees: num-blocks came from the length).
 * Without pflash0 the BIOS ROM is used and the flash devices go (pc_system_flash_cleanup_unused).
 */
export function systemFirmwareInit(p: Proc, flash: (Device | undefined)[]): void {
  for (const i of [0, 1]) {
    const dinfo = driveGet(p, IF_PFLASH, 0, i);
    if (!dinfo) continue;
    if (flash[i]) throw new PflashDriveError(dinfo.id, 'clashes with -machine');
    const d = flashDevice(p, i);
    try { setDrive(p, d, dinfo.name!); } catch (e) { if (e instanceof QmpError) throw new PflashDriveError(dinfo.id, e.desc); throw e; }
    flash[i] = d;
  }
  if (flash[1] && !flash[0]) throw new BoardError(['pflash1 requires pflash0']);
  if (!flash[0]) return;
  let total = 0;
  for (const i of [0, 1]) {
    const d = flash[i];
    if (!d?.bb) break;
    const bb = p.bb(d.bb)!;
    const name = bb.name ?? '';
    const node = bbRoot(p, d.bb);
    if (!node) throw new BoardError([`can't get size of block device ${name}: No medium found`]);
    const size = getLength(p, node);
    if (size === 0 || size % FLASH_SECTOR_SIZE !== 0) {
      throw new BoardError([`system firmware block device ${name} has invalid size ${size}`, `info: its size must be a non-zero multiple of 0x${FLASH_SECTOR_SIZE.toString(16)}`]);
    }
    if (total + size > MAX_FW_SIZE) throw new BoardError([`combined size of system firmware exceeds ${MAX_FW_SIZE} bytes`]);
    total += size;
    // pflash_cfi01_realize: pfl->ro = !blk_supports_write_perm(blk)
    const ro = p.node(node)!.ro;
    putDevice(p, d);
    setBbPerm(p, d.bb, PERM_R | (ro ? 0 : PERM_W), PERM_ALL);
  }
}
