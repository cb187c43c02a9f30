// The vvfat driver's refusals (block/vvfat.c vvfat_open), for QEMU 10.0's tests/vvfat set-up on a
// daemon (iotests port 11): what bdrv_open_common checks before the driver (force-share on a
// writable node, detect-zeroes unmap without discard unmap, the node name) and then vvfat_open's
// own checks, in its order. The FAT image a successful open builds over the directory
// (init_directories) is not modelled: the model refuses such an open as before (Unknown driver).
import { QmpError } from '../errors/index.js';
import { assignNodeName } from './ops.js';
import type { Proc } from './proc.js';

type Flat = Record<string, unknown>;

const truthy = (v: unknown): boolean => v === true || v === 'on' || v === 'true';

/** Throws QEMU's error for a vvfat open it refuses; returns when QEMU would go on to read the directory. */
export function vvfatRefusal(p: Proc, opts: Flat, eff: Flat, ro: boolean): void {
  // bdrv_open_common: force-share needs a read-only node; detect-zeroes unmap needs BDRV_O_UNMAP
  if (truthy(eff['force-share']) && !ro) throw new QmpError('force-share=on can only be used with read-only images');
  if (eff['detect-zeroes'] === 'unmap' && eff.discard !== 'unmap' && eff.discard !== 'on') {
    throw new QmpError('setting detect-zeroes to unmap is not allowed without setting discard operation to unmap');
  }
  // bdrv_open_common -> bdrv_assign_node_name (an automatic name is drawn from the counter even so)
  assignNodeName(p, opts['node-name'] as string | undefined);
  // vvfat_open: 'dir' (QAPI makes it mandatory), then the label
  if (eff.dir === undefined) throw new QmpError("vvfat block driver requires a 'dir' option");
  if (eff.label !== undefined && Buffer.byteLength(String(eff.label)) > 11) throw new QmpError('vvfat label cannot be longer than 11 bytes');
  // fat-type 0 (absent) is 12 on a floppy and 16 on a disk; anything but 12, 16, 32 is refused
  const fat = eff['fat-type'] === undefined ? 0 : Number(eff['fat-type']);
  if (fat !== 0 && fat !== 12 && fat !== 16 && fat !== 32) throw new QmpError('Valid FAT types are only 12, 16 and 32');
  if (truthy(eff.rw)) {
    // rw on a read-only node; on a writable one enable_write_target makes its qcow overlay
    if (ro) throw new QmpError("Unable to set VVFAT to 'rw' when drive is read-only");
  } else if (!ro && !truthy(eff['auto-read-only'])) {
    // bdrv_apply_auto_read_only(bs, NULL, errp): a writable node without auto-read-only
    throw new QmpError('Image is read-only');
  }
}
