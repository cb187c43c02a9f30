// qmp_drive_mirror (blockdev.c, 7.2): like blockdev-mirror, but the target is an image file that
// the command creates (unless mode is 'existing') and opens itself; the job alone holds it.
import { sourceFlagOptions } from '../graph/source-flags.js';
import { deviceOrNodeName } from '../graph/named-blk.js';
import { openedWithUnmap } from '../graph/jobs/mirror-dirty.js';
import { QmpError } from '../errors/index.js';
import { moveToContext } from '../graph/aio.js';
import { opBlocker } from '../graph/blockers.js';
import { pseudoFilename, refreshFilenames } from '../graph/filename.js';
import { cowBs, skipFilters, skipImplicitFilters } from '../graph/jobs/chain.js';
import { hasProtocolPrefix, openNode, probeFormatByName } from '../graph/open.js';
import { unrefIfUnused } from '../graph/ops.js';
import { blockdevMirrorCommon } from './blockdev-mirror.js';
import { getRootBs } from './job-lookup.js';
import type { CommandDef } from './types.js';
import { getLength } from '../graph/length.js';
import { bdrvImgCreate } from './bdrv-img-create.js';
import { opensAsProtocol } from '../graph/drivers.js';

export const driveMirror: CommandDef = {
  name: 'drive-mirror',
  mutates: true,
  run({ p, args, emit }) {
    const bs = getRootBs(p, String(args.device));
    // early check to avoid creating the target
    const blocked = opBlocker(p, bs, 'mirror-source');
    if (blocked) throw new QmpError(`Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}`);
    const mode = String(args.mode ?? 'absolute-paths');
    const src = p.node(bs)!;
    const format = args.format !== undefined ? String(args.format) : mode === 'existing' ? undefined : src.driver;
    let sync = String(args.sync);
    let targetBacking = cowBs(p, skipFilters(p, bs));
    if (!targetBacking && sync === 'top') sync = 'full';
    if (sync === 'none') targetBacking = bs;
    if (args.replaces !== undefined && args['node-name'] === undefined) {
      throw new QmpError('a node-name must be provided when replacing a named node of the graph');
    }
    const file = String(args.target);
    if (mode !== 'existing') {
      // bdrv_img_create: without a backing file for sync full (or nothing below), else the backing's name
      const explicit = targetBacking ? skipImplicitFilters(p, targetBacking) : null;
      const backing = sync !== 'full' && explicit ? p.node(explicit)! : null;
      // bdrv_refresh_filename(explicit_backing), then explicit_backing->filename: its json:
      // pseudo-filename when it has no plain name (the target's backing is then not overridden
      // only once the mirror links it to that same node)
      if (backing) refreshFilenames(p);
      const backingName = backing ? pseudoFilename(p, backing.name) : '';
      // BDRV_O_NO_BACKING ("Don't open backing image in create()"): no backing open; size =
      // bdrv_getlength(bs): whole sectors, a raw source asks its file again (graph/length.ts)
      bdrvImgCreate(p, {
        file, format: format!, size: getLength(p, bs),
        ...(backing ? { backing: { name: backingName, format: backing.driver } } : {}),
      });
    }
    // bdrv_open(target, NULL, {node-name, driver}, flags | RDWR | NO_BACKING): a protocol driver
    // given as `format` (or, without one, a source that still has BDRV_O_PROTOCOL in its open
    // flags) opens the target as a protocol node over the name itself, as drive_backup_prepare's
    // (bdrv_fill_options; commands/drive-backup.ts)
    const nodeName = args['node-name'] !== undefined ? { 'node-name': args['node-name'] } : {};
    const protocol = format !== undefined ? opensAsProtocol(format) : opensAsProtocol(src.driver) && !src.protocolCleared;
    // the open flags (RDWR) stand as the options a child inherits (update_options_from_flags)
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
        ? openNode(p, { driver: drv, filename: file.replace(/^file:/, ''), ...nodeName }, inh)
        : openNode(p, { driver: drv, ...nodeName }, { ...inh, filename: file })
      // a name with another protocol prefix (an NBD URL: iotests 281 TestNBDMirrorIOThread):
      // bdrv_fill_options hands it to the file child, whose driver bdrv_find_protocol names and
      // whose .bdrv_parse_filename parses it; without a format the image's is probed
      : hasProtocolPrefix(file)
        ? openNode(p, { driver: format ?? probeFormatByName(p, file), backing: null, ...nodeName }, { ...inh, filename: file })
        : openNode(p, {
          ...(format !== undefined ? { driver: format } : { driver: p.image(file)?.format ?? 'raw' }),
          file: { driver: 'file', filename: file }, backing: null, ...nodeName,
        }, inh)).name;
    // bdrv_open_inherit: bs->probed = !drv, a target opened without a format had it probed
    // (find_image_format); a probed raw node guards its first sector (raw_co_pwritev,
    // graph/jobs/target-write.ts probedHeaderWrite)
    if (format === undefined && !protocol) p.patchNode(target, { extra: { ...(p.node(target)!.extra ?? {}), probed: true } });
    // flags = bs->open_flags | BDRV_O_RDWR: the target has BDRV_O_UNMAP only where the source has it
    // (no discard=unmap default as for a child; mirror_dirty_init's bdrv_can_write_zeroes_with_unmap)
    p.patchNode(target, { unmap: openedWithUnmap(p, bs) });
    moveToContext(p, target, src.aio);
    blockdevMirrorCommon({ p, emit }, bs, target, { ...args, sync }, mode === 'existing' ? 'open' : 'source');
    // bdrv_unref(target_bs): the job's edges hold it now (gone again if the start failed)
    unrefIfUnused(p, target);
    return {};
  },
};
