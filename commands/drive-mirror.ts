// qmp_drive_mirror (blockdev.c, 7.2): like blockdev-mirror, but the target is an image file that
// the command creates (unless mode is 'existing') and opens itself; the job alone holds it.
import { BlockgraphError, QmpError } from '../errors/index.js';
import { moveToContext } from '../graph/aio.js';
import { opBlocker } from '../graph/blockers.js';
import { createImage } from '../graph/images.js';
import { pseudoFilename, refreshFilenames } from '../graph/filename.js';
import { consumeAutoNames, creationOpens } from '../graph/id-counter.js';
import { cowBs, skipFilters, skipImplicitFilters } from '../graph/jobs/chain.js';
import { openNode } from '../graph/open.js';
import { unrefIfUnused } from '../graph/ops.js';
import { blockdevMirrorCommon } from './blockdev-mirror.js';
import { getRootBs } from './job-lookup.js';
import type { CommandDef } from './types.js';
import { getLength } from '../graph/length.js';
import { imgCreateChecks } from '../graph/img-create.js';
import { rawCreateLocks } from './blockdev-create.js';
import { opensAsProtocol } from '../graph/drivers.js';

export const driveMirror: CommandDef = {
  name: 'drive-mirror',
  mutates: true,
  run({ p, args, emit }) {
    const bs = getRootBs(p, String(args.device));
    // early check to avoid creating the target
    const blocked = opBlocker(p, bs, 'mirror-source');
    if (blocked) throw new QmpError(`Node '${bs}' is busy: ${blocked}`);
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
      // bdrv_img_create's checks (graph/img-create.ts), then bdrv_create's raw_co_create locks;
      // BDRV_O_NO_BACKING ("Don't open backing image in create()"): no backing open
      const kind = imgCreateChecks(format!, backingName || null, file);
      rawCreateLocks(p, file.replace(/^file:/, ''));
      try {
        createImage(p.d, {
          // size = bdrv_getlength(bs): whole sectors, a raw source asks its file again (graph/length.ts)
          file, format: kind, size: getLength(p, bs),
          ...(backingName ? { backing: backingName, 'backing-format': backing!.driver } : {}),
        } as never);
        // qcow2_co_create_opts: the nodes it opens take #block names (graph/id-counter.ts)
        consumeAutoNames(p, creationOpens(format!, 'img-create'));
      } catch (e) {
        if (e instanceof BlockgraphError && e.code === 'BG_BAD_INPUT') throw new QmpError(e.message);
        throw e;
      }
    }
    // bdrv_open(target, NULL, {node-name, driver}, flags | RDWR | NO_BACKING): a protocol driver
    // given as `format` (or, without one, a source that still has BDRV_O_PROTOCOL in its open
    // flags) opens the target as a protocol node over the name itself, as drive_backup_prepare's
    // (bdrv_fill_options; commands/drive-backup.ts)
    const nodeName = args['node-name'] !== undefined ? { 'node-name': args['node-name'] } : {};
    const protocol = format !== undefined ? opensAsProtocol(format) : opensAsProtocol(src.driver) && !src.protocolCleared;
    const target = openNode(p, protocol
      ? { driver: format ?? 'file', filename: file.replace(/^file:/, ''), ...nodeName }
      : {
        ...(format !== undefined ? { driver: format } : { driver: p.image(file)?.format ?? 'raw' }),
        file: { driver: 'file', filename: file }, backing: null, ...nodeName,
      // the open flags (RDWR) stand as the options a child inherits (update_options_from_flags)
      }, { parentOptions: { 'read-only': 'off', 'force-share': 'off' }, parent: '', role: 'child' }).name;
    moveToContext(p, target, src.aio);
    blockdevMirrorCommon({ p, emit }, bs, target, { ...args, sync }, mode === 'existing' ? 'open' : 'source');
    // bdrv_unref(target_bs): the job's edges hold it now (gone again if the start failed)
    unrefIfUnused(p, target);
    return {};
  },
};
