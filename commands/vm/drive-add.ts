// Legacy drives (vm target): HMP drive_add without -n (block/monitor/block-hmp-cmds.c
// hmp_drive_add → blockdev.c drive_new → blockdev_init), drive_del (hmp_drive_del) and commit
// (hmp_commit → bdrv_commit, blk_commit_all). A drive is a *named* BlockBackend: blk_new_open
// with consistent-read only and everything shared, its root node auto-named (#blockN) unless
// node-name says otherwise, monitor_add_blk's name, and a DriveInfo (graph/types.ts LegacyDrive).
// Errors are printed by error_report_err (no "Error: ").
import { QmpError } from '../../errors/index.js';
import { PERM_ALL, PERM_R, PERM_U } from '../../graph/perm.js';
import { QemuAbortRefusal } from '../../graph/qemu-abort.js';
import { attachChild } from '../../graph/ops.js';
import { refuseLeftoverOption } from './drive-leftover-options.js';
import { nextAutoName } from '../../graph/id-counter.js';
import { hasProtocolPrefix, isProtocolDriver, jsonFilenameOptions, openNodeWithFlags, probeFormatByName } from '../../graph/open.js';
import { flatten } from '../../graph/reopen/qdict.js';
import { appendTempSnapshot } from '../../graph/temp-snapshot.js';
import type { Proc } from '../../graph/proc.js';
import type { BlockBackend, LegacyDrive } from '../../graph/types.js';
import { blkBs, blkByName, deviceOrNodeName } from '../../graph/named-blk.js';
import { opBlocker } from '../../graph/blockers.js';
import { removeBlockBackend } from '../exports.js';
import { removeBs } from '../../graph/devices/ops.js';
import { blkIsAvailable, devices } from '../../graph/devices/ops.js';
import { blockIoThrottleConfig } from '../throttle-group.js';
import { cowBs, skipFilters, skipImplicitFilters } from '../../graph/jobs/chain.js';
import { setReadOnly } from '../../graph/jobs/parts.js';
import { MAIN_CONTEXT } from '../../graph/aio.js';
import type { CommandCtx } from '../types.js';

/** if_name[] (blockdev.c), BlockInterfaceType order. */
export const IF_NAME = ['none', 'ide', 'scsi', 'floppy', 'pflash', 'mtd', 'sd', 'virtio', 'xen'];
/** if_max_devs[]: IDE two units a bus, SCSI seven; the others unbounded. */
const IF_MAX_DEVS: Record<number, number> = { 1: 2, 2: 7 };
export const IF_NONE = 0, IF_IDE = 1, IF_SCSI = 2, IF_FLOPPY = 3, IF_VIRTIO = 7;

/**
 * if_max_devs[type] as configure_blockdev leaves it: override_max_devs(block_default_type,
 * units_per_default_bus) — q35 (pc_q35_machine_options) sets 1, so an AHCI port is one IDE bus of
 * one unit (ide2-hd0 for index=2), for -drive and for every later drive_add alike; i440fx keeps 2.
 */
export function ifMaxDevs(p: Proc, type: number): number {
  if (type === IF_IDE && p.meta().machine !== 'pc') return 1;
  return IF_MAX_DEVS[type] ?? 0;
}

/** A failure drive_new / blockdev_init report (error_report_err: the text alone). */
export class DriveError extends QmpError {}

/** QemuOpts text of the drive group (qemu_opts_parse, no implied key): pairs in order, `,,` a comma, a bare key "on". */
export function optsPairs(text: string): [string, string][] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') { cur += ','; i++; } else if (text[i] === ',') { parts.push(cur); cur = ''; } else cur += text[i];
  }
  parts.push(cur);
  return parts.filter((x) => x !== '').map((part) => {
    const eq = part.indexOf('=');
    // opts_do_parse: a bare "key" is key=on, "nokey" key=off
    if (eq < 0) return part.startsWith('no') ? [part.slice(2), 'off'] : [part, 'on'];
    return [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/** QemuOpts' last value of a key (qemu_opt_get). */
const get = (o: [string, string][], k: string): string | undefined => { for (let i = o.length - 1; i >= 0; i--) if (o[i]![0] === k) return o[i]![1]; return undefined; };
const has = (o: [string, string][], k: string) => o.some(([x]) => x === k);

/** parse_option_bool */
function bool(name: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === 'on' || v === 'yes' || v === 'true' || v === 'y') return true;
  if (v === 'off' || v === 'no' || v === 'false' || v === 'n') return false;
  throw new DriveError(`Parameter '${name}' expects 'on' or 'off'`);
}

/** parse_option_number (qemu_strtou64 base 0) */
function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new DriveError(`Parameter '${name}' expects a number`);
  return Number(v);
}

/** qemu_opt_rename's legacy names (drive_new's opt_renames). */
const RENAMES: [string, string][] = [
  ['iops', 'throttling.iops-total'], ['iops_rd', 'throttling.iops-read'], ['iops_wr', 'throttling.iops-write'],
  ['bps', 'throttling.bps-total'], ['bps_rd', 'throttling.bps-read'], ['bps_wr', 'throttling.bps-write'],
  ['iops_max', 'throttling.iops-total-max'], ['iops_rd_max', 'throttling.iops-read-max'], ['iops_wr_max', 'throttling.iops-write-max'],
  ['bps_max', 'throttling.bps-total-max'], ['bps_rd_max', 'throttling.bps-read-max'], ['bps_wr_max', 'throttling.bps-write-max'],
  ['iops_size', 'throttling.iops-size'], ['group', 'throttling.group'], ['readonly', 'read-only'],
];

/** bdrv_parse_cache_mode: the mode's BDRV_O_NOCACHE / BDRV_O_NO_FLUSH and writethrough. */
function cacheMode(v: string): { direct: boolean; noFlush: boolean; writethrough: boolean } | undefined {
  switch (v) {
    case 'off': case 'none': return { direct: true, noFlush: false, writethrough: false };
    case 'directsync': return { direct: true, noFlush: false, writethrough: true };
    case 'writeback': return { direct: false, noFlush: false, writethrough: false };
    case 'unsafe': return { direct: false, noFlush: true, writethrough: false };
    case 'writethrough': return { direct: false, noFlush: false, writethrough: true };
    default: return undefined;
  }
}

/** qemu_legacy_drive_opts: the keys drive_new absorbs for itself. */
const LEGACY = new Set(['bus', 'unit', 'index', 'media', 'if', 'file', 'read-only', 'rerror', 'werror', 'copy-on-read']);
/** qemu_common_drive_opts: the keys blockdev_init absorbs (the rest go to bdrv_open). */
const COMMON = new Set(['snapshot', 'aio', 'cache.writeback', 'format', 'rerror', 'werror', 'read-only', 'throttling.group',
  'copy-on-read', 'detect-zeroes', 'stats-account-invalid', 'stats-account-failed']);
const THROTTLE_KEY = /^throttling\.(bps|iops)-(total|read|write)(-max(-length)?)?$|^throttling\.iops-size$/;

/** The drives' DriveInfo, every BlockBackend that has one (drive_get walks them). */
export const drives = (p: Proc): BlockBackend[] => p.bbs().filter((b) => b.legacy);
export const driveGet = (p: Proc, type: number, bus: number, unit: number) =>
  drives(p).find((b) => b.legacy!.type === type && b.legacy!.bus === bus && b.legacy!.unit === unit);

/** parse_block_error_action */
function errorAction(v: string, isRead: boolean): void {
  if (['ignore', 'stop', 'report'].includes(v) || (v === 'enospc' && !isRead)) return;
  throw new DriveError(`'${v}' invalid ${isRead ? 'read' : 'write'} error action`);
}

/** The options bdrv_open reads as booleans from strings (the drive's QDict is all strings). */
const BOOL_OPTS = new Set(['read-only', 'auto-read-only', 'force-share', 'direct', 'no-flush']);

/** A flat string QDict as the nested options openNode takes (qdict_crumple), booleans typed. */
function crumple(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    const path = k.split('.');
    const last = path[path.length - 1]!;
    const val: unknown = BOOL_OPTS.has(last) ? (['on', 'yes', 'true'].includes(v) ? true : ['off', 'no', 'false'].includes(v) ? false : v) : v;
    let o = out;
    for (const c of path.slice(0, -1)) { o[c] = typeof o[c] === 'object' && o[c] !== null ? o[c] : {}; o = o[c] as Record<string, unknown>; }
    o[last] = val;
  }
  return out;
}

/**
 * drive_new + blockdev_init: the drive's BlockBackend, or a DriveError. Returns the interface
 * type: hmp_drive_add takes only if=none at runtime.
 */
export function driveNew(ctx: CommandCtx, pairs: [string, string][], warn: string[]): { bb: string; type: number } {
  const { p } = ctx;
  const all = pairs.filter(([k]) => k !== 'id');
  const optsId = get(pairs, 'id');
  // qemu_opt_rename: "'TO' and its alias 'FROM' can't be used at the same time"
  for (const [from, to] of RENAMES) {
    if (get(all, from) !== undefined && has(all, to)) throw new DriveError(`'${to}' and its alias '${from}' can't be used at the same time`);
    for (const e of all) if (e[0] === from) e[0] = to;
  }
  const cache = get(all, 'cache');
  if (cache !== undefined) {
    const m = cacheMode(cache);
    if (!m) throw new DriveError('invalid cache option');
    // specific options take precedence
    if (!has(all, 'cache.writeback')) all.push(['cache.writeback', m.writethrough ? 'off' : 'on']);
    if (!has(all, 'cache.direct')) all.push(['cache.direct', m.direct ? 'on' : 'off']);
    if (!has(all, 'cache.no-flush')) all.push(['cache.no-flush', m.noFlush ? 'on' : 'off']);
  }
  // qemu_opts_to_qdict: the last value of each key
  const opts: Record<string, string> = {};
  for (const [k, v] of all) if (k !== 'cache') opts[k] = v;
  const legacy: Record<string, string> = {};
  for (const k of Object.keys(opts)) if (LEGACY.has(k)) { legacy[k] = opts[k]!; delete opts[k]; }
  const bus0 = num('bus', legacy.bus, 0), unit0 = num('unit', legacy.unit, -1), index = num('index', legacy.index, -1);
  let readOnly = false;
  let cdrom = false;
  if (legacy.media !== undefined) {
    if (legacy.media === 'cdrom') { cdrom = true; readOnly = true; } else if (legacy.media !== 'disk') throw new DriveError(`'${legacy.media}' invalid media`);
  }
  readOnly = bool('read-only', legacy['read-only'], false) || readOnly;
  let cor = bool('copy-on-read', legacy['copy-on-read'], false);
  // warn_report: printed at once, whatever comes next
  if (readOnly && cor) { warn.push('warning: disabling copy-on-read on read-only drive\r\n'); cor = false; }
  opts['read-only'] = readOnly ? 'on' : 'off';
  opts['copy-on-read'] = cor ? 'on' : 'off';
  let type = 1; // mc->block_default_type: IF_IDE on q35 and pc
  if (legacy.if !== undefined) {
    type = IF_NAME.indexOf(legacy.if);
    if (type < 0) throw new DriveError(`unsupported bus type '${legacy.if}'`);
  }
  const maxDevs = ifMaxDevs(p, type);
  let bus = bus0, unit = unit0;
  if (index !== -1) {
    if (bus0 !== 0 || unit0 !== -1) throw new DriveError('index cannot be used with bus and unit');
    bus = maxDevs ? Math.floor(index / maxDevs) : 0;
    unit = maxDevs ? index % maxDevs : index;
  }
  if (unit === -1) {
    unit = 0;
    while (driveGet(p, type, bus, unit)) {
      unit++;
      if (maxDevs && unit >= maxDevs) { unit -= maxDevs; bus++; }
    }
  }
  if (maxDevs && unit >= maxDevs) throw new DriveError(`unit ${unit} too big (max is ${maxDevs - 1})`);
  if (driveGet(p, type, bus, unit)) throw new DriveError(`drive with bus=${bus}, unit=${unit} (index=${index}) exists`);
  // no id supplied: IFNAME[BUS][-cd|-hd]UNIT
  let id = optsId;
  if (id === undefined) {
    const media = type === IF_IDE || type === IF_SCSI ? (cdrom ? '-cd' : '-hd') : '';
    id = maxDevs ? `${IF_NAME[type]}${bus}${media}${unit}` : `${IF_NAME[type]}${media}${unit}`;
  }
  const filename = legacy.file;
  // werror/rerror: only the interfaces with error actions; parse_block_error_action is blockdev_init's
  for (const k of ['werror', 'rerror'] as const) {
    if (legacy[k] === undefined) continue;
    if (type !== IF_IDE && type !== IF_SCSI && type !== IF_VIRTIO && type !== IF_NONE) throw new DriveError(`${k} is not supported by this bus type`);
    opts[k] = legacy[k]!;
  }
  const bb = blockdevInit(ctx, filename, opts, id, { type, bus, unit, cdrom, ...(optsId !== undefined ? { optsId } : {}) });
  return { bb, type };
}

/** blockdev_init: the common options, the BlockBackend (empty or over a new tree), throttling, monitor_add_blk. */
function blockdevInit(ctx: CommandCtx, file: string | undefined, bsOpts: Record<string, string>, id: string, dinfo: LegacyDrive): string {
  const { p } = ctx;
  const common: Record<string, string> = {};
  for (const k of Object.keys(bsOpts)) if (COMMON.has(k) || THROTTLE_KEY.test(k)) { common[k] = bsOpts[k]!; delete bsOpts[k]; }
  // qemu_opts_absorb_qdict's typed options
  const snapshot = bool('snapshot', common.snapshot, false);
  bool('copy-on-read', common['copy-on-read'], false);
  const readOnly = bool('read-only', common['read-only'], false);
  const writethrough = !bool('cache.writeback', common['cache.writeback'], true);
  // account_get_opt: OnOffAuto (absent: auto)
  const acctOpt = (k: string) => (common[k] === undefined ? undefined : bool(k, common[k], true));
  const accountInvalid = acctOpt('stats-account-invalid');
  const accountFailed = acctOpt('stats-account-failed');
  // qdict_extract_subqdict(bs_opts, "stats-intervals.") and qdict_array_split: the entries 0, 1, …
  // in turn; anything left is refused
  const ivDict: Record<string, string> = {};
  for (const k of Object.keys(bsOpts)) if (k.startsWith('stats-intervals.')) { ivDict[k.slice('stats-intervals.'.length)] = bsOpts[k]!; delete bsOpts[k]; }
  const intervalList: string[] = [];
  for (let i = 0; String(i) in ivDict; i++) { intervalList.push(ivDict[String(i)]!); delete ivDict[String(i)]; }
  const ivLeft = Object.keys(ivDict);
  if (ivLeft.length) throw new DriveError(`Invalid option stats-intervals.${ivLeft[0]}`);
  const throttleArgs: Record<string, unknown> = { bps: 0, bps_rd: 0, bps_wr: 0, iops: 0, iops_rd: 0, iops_wr: 0 };
  for (const [k, v] of Object.entries(common)) {
    if (!THROTTLE_KEY.test(k)) continue;
    const n = num(k, v, 0);
    const m = /^throttling\.(bps|iops)-(total|read|write|size)(-max)?(-length)?$/.exec(k)!;
    const base = m[2] === 'size' ? 'iops_size' : `${m[1]}${m[2] === 'read' ? '_rd' : m[2] === 'write' ? '_wr' : ''}`;
    throttleArgs[`${base}${m[3] ? '_max' : ''}${m[4] ? '_length' : ''}`] = n;
  }
  // extract_common_blockdev_options: aio, throttle_is_valid, detect-zeroes
  const aio = common.aio;
  if (aio !== undefined && !['threads', 'native', 'io_uring'].includes(aio)) throw new DriveError('invalid aio option');
  let throttle: { enabled: boolean; limits: Record<string, number> };
  try { throttle = blockIoThrottleConfig(throttleArgs); } catch (e) { if (e instanceof QmpError) throw new DriveError(e.desc); throw e; }
  const dz = common['detect-zeroes'] ?? 'off';
  if (!['off', 'on', 'unmap'].includes(dz)) throw new DriveError(`invalid parameter value: ${dz}`);
  const format = common.format;
  if (format !== undefined) {
    if ('driver' in bsOpts) throw new DriveError("Cannot specify both 'driver' and 'format'");
    bsOpts.driver = format;
  }
  if (common.werror !== undefined) errorAction(common.werror, false);
  if (common.rerror !== undefined) errorAction(common.rerror, true);
  const bbId = 'bb' + p.nextSeq();
  const base: BlockBackend = {
    id: bbId, owner: { kind: 'drive', id }, perm: PERM_R, shared: PERM_ALL, allowAioChange: false, aio: MAIN_CONTEXT, at: p.meta().seq,
    legacy: dinfo, ...(writethrough ? { wce: false } : {}),
    // blk_set_on_error(blk, on_read_error, on_write_error): the drive's, kept where given (else blk_new's report/enospc)
    ...(common.werror !== undefined || common.rerror !== undefined ? { onError: { read: common.rerror ?? 'report', write: common.werror ?? 'enospc' } } : {}),
  };
  if ((file === undefined || file === '') && Object.keys(bsOpts).length === 0) {
    // blk_new(main, 0, ALL); the root state's open flags: BDRV_O_RDWR unless read-only
    p.step(`drive ${id}: blk_new`);
    p.putBB({ ...base, perm: 0, rootRo: readOnly });
  } else {
    // qdict_set_default_str: cache.direct, cache.no-flush off, read-only, auto-read-only on
    const o: Record<string, string> = { 'cache.direct': 'off', 'cache.no-flush': 'off', 'read-only': readOnly ? 'on' : 'off', 'auto-read-only': 'on', ...bsOpts };
    if (aio === 'native' && !bool('cache.direct', o['cache.direct'], false)) {
      throw new DriveError('aio=native was specified, but it requires cache.direct=on, which was not specified.');
    }
    // blk_new_open(file, NULL, bs_opts): bdrv_open with the file name, bdrv_fill_options giving it
    // to the protocol driver or to the format's `file` child (a format probed when none is named)
    let f = file === '' ? undefined : file;
    // bdrv_fill_options: a "json:{…}" name is parse_json_filename's options, joined under the
    // drive's own (qdict_join(options, json_options, false): the ones given win); no name is left
    const json = f !== undefined ? jsonFilenameOptions(f) : undefined;
    if (json) {
      for (const [k, v] of Object.entries(flatten(json))) if (!(k in o)) o[k] = v as string;
      f = undefined;
    }
    if (f !== undefined) {
      const drv = o.driver;
      if (drv !== undefined && isProtocolDriver(drv)) o.filename = f;
      else {
        if (drv === undefined && !hasProtocolPrefix(f)) o.driver = probeFormatByName(p, f);
        if (o.driver === undefined) { o.driver = 'file'; o.filename = f; } else {
          if (!('file.driver' in o)) o['file.driver'] = 'file';
          o['file.filename'] = f;
        }
      }
    }
    p.step(`drive ${id}: blk_new_open`);
    const inactive = p.meta().runState === 'inmigrate';
    // BDRV_O_SNAPSHOT (bdrv_open_inherit): the overlay takes the drive's read-only and discard
    // (bdrv_temp_snapshot_options), the image itself is opened read-only as a backing file
    const parentRo = bool('read-only', o['read-only'], false);
    const parentDiscard = o.discard;
    if (snapshot) o['read-only'] = 'on';
    const opened = openNodeWithFlags(p, crumple(o), inactive);
    // bdrv_open_inherit: an option the driver left in the QDict fails the open
    refuseLeftoverOption(o, isProtocolDriver(String(o.driver)));
    const n = snapshot
      ? p.node(appendTempSnapshot(p, opened.name, { readOnly: parentRo, ...(parentDiscard !== undefined ? { discard: parentDiscard } : {}) }, inactive))!
      : opened;
    // BDRV_O_COPY_ON_READ in blk_new_open's flags: bdrv_open_common's bdrv_enable_copy_on_read
    // (disabled with a warning on a read-only drive by drive_new)
    if (bool('copy-on-read', common['copy-on-read'], false)) p.patchNode(n.name, { copyOnRead: true });
    // bs->detect_zeroes set after the open (no discard check: bdrv_open_common never saw it)
    if (dz !== 'off') p.patchNode(n.name, { options: { ...p.node(n.name)!.options, 'detect-zeroes': dz } });
    // block_acct_setup (OnOffAuto over block_acct_init's true) and parse_stats_intervals: a string
    // entry is parse_uint_full base 10, above 0 and at most UINT_MAX (an empty drive sets neither)
    const intervals = intervalList.map((v) => {
      const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n > 0 && n <= 0xffffffff)) throw new DriveError(`Invalid interval length: ${v}`);
      return n;
    });
    const acct = accountInvalid !== undefined || accountFailed !== undefined || intervals.length
      ? { acct: { invalid: accountInvalid ?? true, failed: accountFailed ?? true, intervals } } : {};
    p.putBB({ ...base, ...acct });
    // blk_new_open: perm consistent-read (no BDRV_O_RDWR in its flags), shared all
    attachChild(p, { kind: 'bb', bb: bbId }, n.name, 'root', 0, { perm: PERM_R, shared: PERM_ALL });
  }
  if (throttle.enabled) {
    // blk_io_limits_enable(blk, group ?: id) + blk_set_io_limits: the group takes the config
    const group = common['throttling.group'] ?? id;
    p.putBB({ ...p.bb(bbId)!, throttle: { group, limits: throttle.limits } });
    // throttle_group_config: the group's one config, every member's alike
    for (const o of p.bbs()) if (o.id !== bbId && o.throttle?.group === group) p.putBB({ ...o, throttle: { group, limits: throttle.limits } });
    const obj = p.object(group);
    if (obj?.qomType === 'throttle-group') p.putObject({ ...obj, config: throttle.limits, limitSets: [] });
  }
  // monitor_add_blk
  if (blkByName(p, id)) throw new DriveError(`Device with id '${id}' already exists`);
  if (p.node(id)) throw new DriveError(`Device name '${id}' conflicts with an existing node name`);
  p.putBB({ ...p.bb(bbId)!, name: id });
  return bbId;
}

/** hmp_drive_add without -n: the drive, "OK" for if=none; another interface is taken out again. */
export function hmpDriveAdd(ctx: CommandCtx, text: string, attempt: (p: Proc, fn: () => void) => string): string {
  const { p } = ctx;
  const pairs = optsPairs(text);
  // qemu_opts_parse_noisily → qemu_opts_create(drive opts, id, fail_if_exists)
  const id = get(pairs, 'id');
  if (id !== undefined) {
    // id_wellformed, and qemu_opts_create's hint
    if (!/^[A-Za-z][A-Za-z0-9\-._]*$/.test(id)) return "Parameter 'id' expects an identifier\r\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\r\n";
    if (drives(p).some((b) => b.legacy!.optsId === id)) return `Duplicate ID '${id}' for drive\r\n`;
  }
  let printed = '';
  let type = IF_NONE;
  const warn: string[] = [];
  const err = attempt(p, () => {
    const r = driveNew(ctx, pairs, warn);
    type = r.type;
    // hmp_drive_add: only if=none at runtime; the drive goes again (monitor_remove_blk, blk_unref)
    if (type !== IF_NONE) throw new QmpError(`Can't hot-add drive to type ${type}`);
  });
  printed += warn.join('');
  if (err !== '') return printed + err.replace(/^Error: /, '');
  return `${printed}OK\r\n`;
}

/**
 * hmp_drive_del: a node name is blockdev-del's; else blk_by_name, a BlockBackend without DriveInfo
 * refused, the drive-del op blocker, blk_remove_bs, monitor_remove_blk; a drive no device holds
 * is released (blk_unref), one a device holds stays, anonymous and empty, until the device goes.
 */
export function hmpDriveDel(ctx: CommandCtx, id: string, blockdevDel: () => string, attempt: (p: Proc, fn: () => void) => string): string {
  const { p } = ctx;
  if (p.node(id)) return blockdevDel();
  const blk = blkByName(p, id);
  if (!blk) return `Device '${id}' not found\r\n`;
  if (!blk.legacy) return 'Deleting device added with blockdev-add is not supported\r\n';
  const bs = blkBs(p, blk.id);
  if (bs) {
    const blocked = opBlocker(p, bs, 'drive-del');
    if (blocked) return `Node '${deviceOrNodeName(p, bs)}' is busy: ${blocked}\r\n`;
  }
  const held = devices(p).some((d) => d.bb === blk.id);
  return attempt(p, () => {
    p.step(`drive_del ${id}`);
    if (bs) removeBs(p, blk.id);
    const { name: _n, ...anon } = p.bb(blk.id)!;
    // blockdev.c qmp_drive_del / hmp_drive_del: a BlockBackend a device still holds gets
    // blk_set_on_error(REPORT, REPORT) ("Further I/O must not pause the guest"), over the
    // device's rerror/werror: blk_iostatus_is_enabled is false from then on, and query-block
    // lists no io-status (fuzz --against vm 2026120804, 434381203)
    p.putBB(held ? { ...anon, onError: { read: 'report', write: 'report' }, onErrorLast: true } : anon);
    if (!held) removeBlockBackend(p, blk.id);
  }).replace(/^Error: /, '');
}

/** strerror of the errnos bdrv_commit returns. */
const STRERROR: Record<string, string> = { ENOMEDIUM: 'No medium found', ENOTSUP: 'Operation not supported', EBUSY: 'Device or resource busy', EACCES: 'Permission denied', EPERM: 'Operation not permitted' };

/**
 * bdrv_commit's refusals (the data it copies is not followed: the graph ends as it began): no
 * COW child (-ENOTSUP), the commit op blockers (-EBUSY), a read-only backing file that cannot be
 * reopened read-write (-EACCES).
 */
function bdrvCommit(p: Proc, bs: string, print: (line: string) => void): string | undefined {
  const backing = cowBs(p, bs);
  if (!backing) return 'ENOTSUP';
  if (opBlocker(p, bs, 'commit-source') || opBlocker(p, backing, 'commit-target')) return 'EBUSY';
  // ro = bdrv_is_read_only(backing_file_bs): bdrv_reopen_set_read_only(backing_file_bs, false,
  // NULL) comes before the BlockBackends, its error dropped (NULL errp) for -EACCES: a read-only
  // drive's backing whose file another node of the same image holds unshared (a qcow2's `file`
  // never shares write) cannot take the write lock (fuzz --against vm 1430966589); ro_cleanup
  // reopens it read-only again, so the graph ends as it began
  let stage: 'reopen' | 'insert' = 'reopen';
  // blk_insert_bs(src, bs): a BlockBackend asking consistent read and write-unchanged (for
  // bdrv_make_empty), everything shared; when the node refuses it (an inactive node on 10.0:
  // "Permission … unavailable on inactive node", a parent unsharing them) bdrv_commit prints the
  // error (error_report_err) and returns blk_insert_bs's -EPERM (fuzz --against vm --qemu 10.0
  // 3211027341). Tried and undone: the copy itself is not followed.
  try {
    p.d.trial(() => {
      if (p.node(backing)!.ro) setReadOnly(p, backing, false);
      stage = 'insert';
      const bbId = 'bb' + p.nextSeq();
      const perm = { perm: PERM_R | PERM_U, shared: PERM_ALL };
      p.putBB({ id: bbId, owner: { kind: 'tmp', id: 'commit' }, ...perm, allowAioChange: true, aio: p.node(bs)!.aio, at: p.meta().seq });
      attachChild(p, { kind: 'bb', bb: bbId }, bs, 'root', 0, perm);
    });
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
    if (stage === 'reopen') return 'EACCES';
    print(`${e.desc}\r\n`);
    return 'EPERM';
  }
  // then bdrv_new_open_driver(&bdrv_commit_top, NULL, ...) inserts the commit_top node above the
  // backing file: bdrv_open_driver's bdrv_assign_node_name gives it an id_generate(ID_BLOCK) name,
  // and ro_cleanup unrefs it again, but the counter has moved on (fuzz --against vm 4114067181:
  // after `commit all` QEMU's next anonymous node is one number further)
  nextAutoName(p);
  return undefined;
}

/** hmp_commit: "all" is blk_commit_all (every BlockBackend with a medium over a COW child), else blk_by_name's drive. */
export function hmpCommit(ctx: CommandCtx, device: string): string {
  const { p } = ctx;
  let err: string | undefined;
  // what bdrv_commit printed itself (error_report_err) before hmp_commit's own line
  let printed = '';
  const print = (line: string) => { printed += line; };
  if (device === 'all') {
    for (const b of p.bbs()) {
      const root = blkBs(p, b.id);
      if (!root) continue;
      const unfiltered = skipFilters(p, root);
      if (!unfiltered || !cowBs(p, unfiltered)) continue;
      err = bdrvCommit(p, unfiltered, print);
      if (err) break;
    }
  } else {
    const blk = blkByName(p, device);
    if (!blk) return `Device '${device}' not found\r\n`;
    const root = blkBs(p, blk.id);
    if (!blkIsAvailable(p, blk.id, root)) return `Device '${device}' has no medium\r\n`;
    err = bdrvCommit(p, skipImplicitFilters(p, root!) ?? root!, print);
  }
  return printed + (err ? `'commit' error for '${device}': ${STRERROR[err]}\r\n` : '');
}
