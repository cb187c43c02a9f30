// HMP qemu-io (block/monitor/block-hmp-cmds.c hmp_qemu_io, qemu-io-cmds.c qemuio_command), 7.2
// and 10.0 alike: `-d` takes a qdev id (blk_by_qdev_id: the device's own BlockBackend), else a
// BlockBackend name (none without -drive) or a node name, which gets a temporary BlockBackend
// (blk_new(ctx, 0, BLK_PERM_ALL) + blk_insert_bs, blk_unref at the end). command() asks the
// BlockBackend for the command's permissions (write, writev, aio_write: BLK_PERM_WRITE) and
// keeps them ("Ugly, but it appears to be the lesser evil"): a device's BlockBackend keeps write.
// Modelled: reads and writes (the bytes written land as guest data), quiet or not: qemu-io's own
// report (print_report's timing, with the host clock) is printf to QEMU's stdout, not the monitor,
// so an HMP reply holds only error_report's lines (vm/vm-r-pflash-qemu-io-info-pc); other qemu-io
// commands are not modelled.
import { blkByName } from '../../graph/named-blk.js';
import { QmpError } from '../../errors/index.js';
import { getBlk } from './media.js';
import { blkIsAvailable, setBbPerm } from '../../graph/devices/ops.js';
import { writeGuestData } from '../../graph/jobs/guest-write.js';
import { attachChild } from '../../graph/ops.js';
import { PERM_ALL, PERM_W } from '../../graph/perm.js';
import type { Proc } from '../../graph/proc.js';
import { removeBlockBackend } from '../exports.js';
import type { CommandCtx } from '../types.js';

/** qemu-io's commands that need BLK_PERM_WRITE (their cmdinfo_t .perm). */
const WRITERS = new Set(['write', 'w', 'writev', 'aio_write']);
const READERS = new Set(['read', 'r', 'readv', 'aio_read']);
/** Every qemu-io command name and alias (qemu-io-cmds.c, 7.2 and 10.0: 10.0 adds the zone_* ones). */
const KNOWN = new Set(('read r readv write w writev aio_read aio_write aio_flush flush f zone_report zrp zone_open zo zone_close zc ' +
  'zone_finish zf zone_reset zrs zone_append zap truncate t length l info i discard d alloc a map reopen break remove_break resume ' +
  'wait_break abort sigraise sleep help ?').split(' '));

/** cvtnum: a number with an optional k/M/G/T/P/E suffix (bytes). */
function cvtnum(s: string): number | undefined {
  const m = /^(\d+)([kmgtpe]?)$/i.exec(s);
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50, e: 2 ** 60 };
  return Number(m[1]) * mult[m[2]!.toLowerCase()]!;
}

/** The line's words as qemu-io's parser splits them (white space; the line came unquoted). */
const words = (s: string): string[] => s.trim().split(/\s+/).filter((w) => w !== '');

/**
 * hmp_qemu_io: returns the printed text, or undefined where the model does not run the command.
 * `lookup` errors go through hmp_handle_error ("Error: …"), command()'s through error_report_err.
 */
export function hmpQemuIo(ctx: CommandCtx, a: Record<string, unknown>, attempt: (p: Proc, fn: () => void) => string): string | undefined {
  const { p } = ctx;
  const name = String(a.device);
  const argv = words(String(a.command));
  const cmd = argv[0] ?? '';
  const isWrite = WRITERS.has(cmd);
  // qemuio_command: an unknown name is "command … not found" on stderr: nothing printed, the
  // lookup (and a node's temporary BlockBackend) done all the same
  const unknown = cmd !== '' && !KNOWN.has(cmd);
  if (!isWrite && !READERS.has(cmd) && !unknown) return undefined;
  // -q or not, and off/len that cvtnum reads; anything else (vectored forms) is not modelled
  const flags = argv.slice(1).filter((w) => w.startsWith('-'));
  const rest = argv.slice(1).filter((w, i, all) => !w.startsWith('-') && !(i > 0 && all[i - 1] === '-P'));
  if (!unknown && (!flags.every((f) => f === '-q' || f === '-P') || rest.length !== 2)) return undefined;
  const off = unknown ? 0 : cvtnum(rest[0]!);
  const len = unknown ? 0 : cvtnum(rest[1]!);
  if (off === undefined || len === undefined) return undefined;

  let out = '';
  const lookup = attempt(p, () => {
    if (a.qdev === true) {
      // blk_by_qdev_id: find_device_state, then blk_by_dev, whose "Device does not have a block
      // device backend" (no id in it) also answers a virtio-blk-pci proxy, whose BlockBackend is
      // its inner virtio-blk-device's (media.ts getBlk; fuzz --against vm --qemu 10.0 1399650474)
      const { bb: bbId } = getBlk(p, undefined, name);
      const d = { bb: bbId };
      const bb = p.bb(d.bb)!;
      const root = p.children({ kind: 'bb', bb: d.bb })[0]?.child;
      // command(): `ct->perm && blk_is_available(blk)` — a device's open tray skips the permission,
      // and the write then fails with -ENOMEDIUM, printed on QEMU's stdout (fuzz --against vm
      // --qemu 10.0 1056330914: a scsi-cd's tray opened, then a write)
      const available = blkIsAvailable(p, d.bb, root);
      if (isWrite && available && !(bb.perm & PERM_W)) {
        // command(): blk_set_perm(orig_perm | ct->perm, orig_shared_perm); kept afterwards
        out = reportedOf(() => setBbPerm(p, d.bb!, bb.perm | PERM_W, bb.shared), p, attempt);
        if (out !== '') return;
      }
      if (isWrite && available) writeGuestData(p, root!, off, len);
      return;
    }
    // blk_by_name: a legacy drive's own BlockBackend, as a device's (its permission kept)
    const blk = blkByName(p, name);
    if (blk) {
      const root = p.children({ kind: 'bb', bb: blk.id })[0]?.child;
      const available = blkIsAvailable(p, blk.id, root);
      if (isWrite && available && !(blk.perm & PERM_W)) {
        out = reportedOf(() => setBbPerm(p, blk.id, blk.perm | PERM_W, blk.shared), p, attempt);
        if (out !== '') return;
      }
      if (isWrite && available) writeGuestData(p, root!, off, len);
      return;
    }
    // then bdrv_lookup_bs(NULL, device)
    const n = p.node(name);
    if (!n) throw new QmpError(`Cannot find device='' nor node-name='${name}'`);
    const bbId = 'bb' + p.nextSeq();
    p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'qemu-io' }, perm: 0, shared: PERM_ALL, allowAioChange: true, aio: n.aio, at: p.meta().seq });
    attachChild(p, { kind: 'bb', bb: bbId }, name, 'root', 0, { perm: 0, shared: PERM_ALL });
    if (isWrite) {
      out = reportedOf(() => setBbPerm(p, bbId, PERM_W, PERM_ALL), p, attempt);
      if (out === '') writeGuestData(p, name, off, len);
    }
    removeBlockBackend(p, bbId);
  });
  return lookup !== '' ? lookup : out;
}

/** command()'s blk_set_perm failure, printed by error_report_err (no "Error: "): undone, the rest goes on. */
function reportedOf(fn: () => void, p: Proc, attempt: (p: Proc, fn: () => void) => string): string {
  return attempt(p, fn).replace(/^Error: /, '');
}
