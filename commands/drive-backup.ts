// drive-backup (blockdev.c, 7.2): qmp_drive_backup runs one transaction action
// (blockdev_do_action). drive_backup_prepare opens the target image itself: created first unless
// mode is 'existing' (bdrv_img_create, like drive-mirror), then bdrv_open with the source's flags
// and read-write, without a backing chain only for sync 'none', whose target gets the source as
// its backing (bdrv_set_backing_hd); then do_backup_common as blockdev-backup, and the job alone
// holds the target (bdrv_unref).
import { sourceFlagOptions } from '../graph/source-flags.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { QmpError } from '../errors/index.js';
import { moveToContext } from '../graph/aio.js';
import { opBlocker } from '../graph/blockers.js';
import { drained } from '../graph/drain.js';
import { pseudoFilename, refreshFilenames } from '../graph/filename.js';
import { opensAsProtocol } from '../graph/drivers.js';
import { setBackingHd } from '../graph/jobs/backing.js';
import { cowBs, skipFilters, skipImplicitFilters } from '../graph/jobs/chain.js';
import { hasProtocolPrefix, openNode, probeFormatByName } from '../graph/open.js';
import { unrefIfUnused } from '../graph/ops.js';
import { prepareAfterMove } from './blockdev-backup.js';
import { lookupBs } from './job-lookup.js';
import { runTransaction, type ActionCtx, type PreparedAction } from './transaction.js';
import type { CommandDef } from './types.js';
import { getLength } from '../graph/length.js';
import { bdrvImgCreate } from './bdrv-img-create.js';

const fileOpens = opensAsProtocol;

/** drive_backup_prepare */
export function driveBackupPrepare(ctx: ActionCtx, d: Record<string, any>): PreparedAction {
  const { p } = ctx;
  const mode = String(d.mode ?? 'absolute-paths');
  const bs = lookupBs(p, String(d.device), String(d.device));
  const src = p.node(bs)!;
  // bdrv_drained_begin(bs), paired with .clean
  return drained(p, [bs], false, () => {
    const format = d.format !== undefined ? String(d.format) : mode === 'existing' ? undefined : src.driver;
    // early check to avoid creating the target
    const blocked = opBlocker(p, bs, 'backup-source');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);
    let sync = String(d.sync);
    let source: string | null = null;
    if (sync === 'top') {
      // backup replaces nothing: every filter is skipped looking for the first COW link
      source = cowBs(p, skipFilters(p, bs));
      if (!source) sync = 'full';
    }
    const noBacking = sync === 'none';
    if (noBacking) source = bs;
    const file = String(d.target);
    if (mode !== 'existing') {
      // bdrv_img_create, with the explicit backing's filename and format when there is a source
      const explicit = source ? p.node(skipImplicitFilters(p, source))! : null;
      if (explicit) refreshFilenames(p);
      const backingName = explicit ? pseudoFilename(p, explicit.name) : '';
      // then, without BDRV_O_NO_BACKING (a source but not sync 'none'), the backing file is opened
      // to check it: a file that is no longer the format its node was opened with fails here,
      // before the target is created; size = bdrv_getlength(bs) (graph/length.ts)
      bdrvImgCreate(p, {
        file, format: format!, size: getLength(p, bs),
        ...(explicit ? { backing: { name: backingName, format: explicit.driver } } : {}), openBacking: !noBacking,
      });
    }
    // bdrv_open(target, NULL, {discard, detect-zeroes, driver}, bs->open_flags | RDWR [| NO_BACKING]):
    // a protocol source's open_flags hold BDRV_O_PROTOCOL, and bdrv_fill_options keeps it unless
    // a driver is given (then the driver decides): the target is then a protocol node itself
    // (bdrv_find_protocol: 'file' for a plain name), not a format over one. A reopened source has
    // lost the flag (bdrv_reopen_queue_child clears it): the target's format is then probed.
    const protocol = format !== undefined ? fileOpens(format) : fileOpens(src.driver) && !src.protocolCleared;
    // update_options_from_flags (bdrv_open_inherit) turns the open flags into cache.*, read-only and
    // auto-read-only only: force-share is no flag, so the target's bs->options lack it and a later
    // blockdev-reopen that omits it passes bdrv_reset_options_allowed (fuzz 825187555)
    // the flags are bs->open_flags | RDWR: a source that is inactive (10.0's BDRV_O_INACTIVE) opens
    // an inactive target, which may then take it as its backing (bdrv_attach_child_noperm; fuzz 406768254)
    const inh = { parentOptions: sourceFlagOptions(src), parent: '', role: 'child' as const, ...(src.inactive === true ? { inactive: true } : {}) };
    const drv = format ?? 'file';
    const target = (protocol
      // bdrv_fill_options: a protocol driver's .bdrv_parse_filename takes the name apart (an NBD
      // URL given with format 'nbd': nbd_parse_filename); `file` keeps it as its filename
      ? drv === 'file' || drv === 'host_device'
        ? openNode(p, { discard: 'unmap', 'detect-zeroes': 'unmap', driver: drv, filename: file.replace(/^file:/, '') }, inh)
        : openNode(p, { discard: 'unmap', 'detect-zeroes': 'unmap', driver: drv }, { ...inh, filename: file })
      // another protocol prefix (an NBD URL): the file child is opened from the name, the format
      // probed through it (as drive-mirror's target, graph/open.ts probeFormatByName)
      : hasProtocolPrefix(file)
        ? openNode(p, {
          discard: 'unmap', 'detect-zeroes': 'unmap', driver: format ?? probeFormatByName(p, file),
          ...(noBacking ? { backing: null } : {}),
        }, { ...inh, filename: file })
        : openNode(p, {
          discard: 'unmap', 'detect-zeroes': 'unmap',
          driver: format ?? p.image(file)?.format ?? 'raw',
          file: { driver: 'file', filename: file },
          ...(noBacking ? { backing: null } : {}),
        }, inh)).name;
    // bdrv_open_inherit: bs->probed = !drv (find_image_format), as for drive-mirror's target; a
    // probed raw node guards its first sector (graph/jobs/target-write.ts probedHeaderWrite)
    if (format === undefined && !protocol) p.patchNode(target, { extra: { ...(p.node(target)!.extra ?? {}), probed: true } });
    try {
      // bdrv_try_change_aio_context(target_bs, aio_context)
      moveToContext(p, target, src.aio);
      if (noBacking) setBackingHd(p, target, source);
      return prepareAfterMove(ctx, { ...d, sync }, bs, target);
    } finally {
      // bdrv_unref(target_bs): the job's edges hold it now (gone again if it was not created)
      unrefIfUnused(p, target);
    }
  });
}

/** qmp_drive_backup: blockdev_do_action with one drive-backup action. */
export const driveBackup: CommandDef = {
  name: 'drive-backup',
  mutates: true,
  run({ p, args, emit }) {
    runTransaction(p, [{ type: 'drive-backup', data: args }], 'individual', emit);
    return {};
  },
};
