// bdrv_open_inherit for the drivers QSD offers: children are opened in QEMU's order
// (the `file` child before the node's own name is assigned, the backing after), so that
// the same error wins as in QEMU. Each node keeps its option QDicts as QEMU does
// (graph/options.ts): a child opened inline takes its sub-QDict with it.
import { noteWritePath } from './wr-highest.js';
import { parallelsInuseWriteEnd } from './other-format-data.js';
import { RefblockGrowth, refblockCoverage } from './qcow2-refblocks.js';
import { lookupBsNamed } from './named-blk.js';
import { refuseCorReadCrash } from './cor-read.js';
import { rule } from './rules.js';
import { QemuAbortRefusal, QemuHangRefusal } from './qemu-abort.js';
import { loadPersistentBitmaps } from './bitmaps.js';
import { QmpError, prependError } from '../errors/index.js';
import { freezeToBottom } from './cor-bottom.js';
import { refuseOwnFuseMount } from './fuse-self-open.js';
import { attachAcrossContexts, MAIN_CONTEXT, refuseCrossContextReference, tryMoveToContext } from './aio.js';
import { blockDriverCanCompress, driverInfo } from './drivers.js';
import { blkdebugAbsorb, blkdebugConfigCheck, blkdebugLimits, HOST_DEVICE_FILES } from './driver-options/blkdebug.js';
import { qcow2UpdateOptions } from './driver-options/qcow2.js';
import { type NegativeSizeText, rawApplyOptions, rawIsSlice } from './driver-options/raw.js';
import { preallocateAbsorbOpts } from './driver-options/preallocate.js';
import { filenameOf } from './filename.js';
import { getLength } from './length.js';
import { blkdebugRules, probeHeader, qcow2OpenReads } from './read.js';
import { luksOpen, qcow2LuksOpen } from './luks-open.js';
import { commitDebugState } from './blkdebug-state.js';
import { dirtyBitmapExists } from './bitmap-lookup.js';
import { nbdGetTlsCreds } from './tls-creds.js';
import { nbdConnect, nbdFilename } from './nbd-client.js';
import { addAnonBitmap, bcsKey, CBW_BITMAPS } from './anon-bitmaps.js';
import { blockCopyClusterSize } from './block-copy.js';
import { assignNodeName, attachChild, newNode, tryRefresh } from './ops.js';
import { hasParents, probeAttach, probeDetach } from './probe.js';
import { dropChildOptions, inheritOptions, optionsFromFlags, readOnlyOption, rootDefaults } from './options.js';
import { PERM_ALL, ROLE_COW, ROLE_DATA, ROLE_FILTERED, ROLE_IMAGE, ROLE_METADATA, ROLE_PRIMARY, permFromList } from './perm.js';
import { makeAbsoluteFilename } from './dirname.js';
import type { Proc } from './proc.js';
import { HOST } from './types.js';
import { alignment, refreshPerms } from './refresh.js';
import { drained } from './drain.js';
import { cloneInPlace, flatten, qdictKeys, type Flat } from './reopen/qdict.js';
import { throttleGroupExists } from './throttle-groups.js';
import type { BdsNode, Image } from './types.js';
import { pathCombine } from './host-path.js';
import { bitmapsExtSeen, readBackingName } from './qcow2-backing-name.js';
import { imageBehind, rawFill } from './images.js';
import { qedFileSize, qedOpenError } from './qed.js';
import { isOtherFormat, otherFormatOpenError } from './other-formats.js';
import { applyAutoReadOnly, readOnlyFormatOpenError, vvfatOpenChecks } from './read-only-formats.js';

export type Opts = Record<string, unknown>;

interface Inherit {
  parent: string;
  role: 'file' | 'backing' | 'child';
  /** The parent's bs->options: set before bdrv_open_inherit opens its children. */
  parentOptions: Flat;
  /** bdrv_open_inherit's `filename` argument (a backing file named in an image header). */
  filename?: string;
  /**
   * BDRV_O_INACTIVE in the parent's open_flags when this child is opened: bdrv_inherited_options
   * starts the child's flags from them and update_flags_from_options only ever adds the flag.
   * A `file` opened for probing sees the flags before the parent's bdrv_open_common (its own
   * `active` not yet applied); backing, data-file and drivers' children see them after.
   */
  inactive?: boolean;
  /**
   * An inline child's sub-QDict order: qdict_extract_subqdict walks the parent's flattened options
   * in qdict_first/qdict_next order, bucketed by the prefixed keys ("file.inject-error.0.event"),
   * and inserts each stripped key into the child's QDict in that order.
   */
  extractOrder?: string[];
}

const GIB = 1 << 30;
const truthy = (v: unknown) => v === true || v === 'on' || v === 'true';
const isUnmap = (v: unknown) => v === 'unmap' || v === 'on';
/** NBD_MAX_STRING_SIZE (include/block/nbd.h): the longest export name or meta context query a client sends. */
const NBD_MAX_STRING_SIZE = 4096;


/** A child given as a reference (string) or inline (dict): returns the child node's name. */
function openChildRef(p: Proc, ref: unknown, inh: Inherit, pending?: string[], key: string = inh.role): { name: string; inline: boolean } {
  if (typeof ref === 'string') {
    // bdrv_open_inherit with a reference and a file name
    if (inh.filename !== undefined) throw new QmpError('Cannot reference an existing block device with additional options or a new filename');
    // bdrv_lookup_bs(reference, reference): a legacy drive's name finds its medium (vm target)
    const node = lookupBsNamed(p, ref, ref);
    // an abort after the attach comes after the attach's own errors (permissions)
    const later = ctxLockHeld ? null : refuseCrossContextReference(p, node, inh.role, typeof inh.parentOptions.driver === 'string' ? inh.parentOptions.driver : undefined);
    if (later) pending?.push(later);
    return { name: node, inline: false };
  }
  // bdrv_open_child with neither options nor a reference: opened from the file name alone
  // (blkdebug's x-image), else "A block device must be specified for ..." (bdrv_open_child_bs)
  if (ref === undefined || ref === null) {
    if (inh.filename === undefined) throw new QmpError(`A block device must be specified for "${key}"`);
    return { name: openNode(p, {}, inh).name, inline: true };
  }
  const prefix = `${key}.`;
  const extractOrder = qdictKeys(flatten(ref as Opts, prefix)).map((k) => k.slice(prefix.length));
  return { name: openNode(p, ref as Opts, { ...inh, extractOrder }).name, inline: true };
}

/**
 * bdrv_open_child / bdrv_open_file_child -> bdrv_attach_child -> bdrv_attach_child_noperm ->
 * bdrv_attach_child_common: a new node starts in the main context (bdrv_new); where it and the
 * child differ, the child's component is first moved into the parent's context, and if that is
 * refused the parent side into the child's (graph/aio.ts attachAcrossContexts), before the
 * edge and its permission refresh. So a node opened over a child pinned in an iothread (a
 * fixed-iothread export) moves into that iothread, and its later children are attached there
 * (fuzz seed 4017359618: a backup's copy-before-write filter over a pinned source reaches its
 * target's permission check, "Block node is read-only"). bdrv_open_inherit's probing
 * BlockBackend on the `file` child, held while the driver opens, refuses to move
 * (graph/probe.ts probeHeld), so a further child pinned elsewhere cannot be reconciled either
 * way: the child-side error (fuzz seed 2902421031).
 */
function attachOpened(p: Proc, parent: string, child: string, name: string, role: number): void {
  attachAcrossContexts(p, { kind: 'node', node: parent }, child);
  attachChild(p, { kind: 'node', node: parent }, child, name, role);
  attachLog?.push(child);
}

/**
 * The nodes an open has attached as children, in order, each attach (bdrv_attach_child,
 * blk_insert_bs of the probing BlockBackend) a transaction of its own, committed at once with
 * bdrv_refresh_perms of the child's subtree: what a failure later in the open, or the caller's,
 * still finds refreshed, since taking the child away again refreshes it too
 * (bdrv_root_unref_child: bdrv_refresh_perms(child_bs, NULL, NULL)). The model rolls a failed
 * command back whole; openResidue gives those refreshes back.
 */
let attachLog: string[] | null = null;

/** Runs `open` with the children it attaches logged into `log` (attachLog). */
export function withAttachLog<T>(log: string[], open: () => T): T {
  const prev = attachLog;
  attachLog = log;
  try {
    return open();
  } finally {
    attachLog = prev;
  }
}

/**
 * What stays of a failed open on the rolled-back state: bdrv_open_inherit's fail path drops the
 * probing BlockBackend (blk_unref) and bdrv_unref closes the half-open node, whose bdrv_close
 * unrefs its children newest first; each refreshes the child's subtree (errors ignored). An
 * edge below whose perms were stale (computed before a bdrv_replace_node moved it off a
 * force-share node, say) comes out recomputed; nodes the open made are gone.
 */
export function openResidue(q: Proc, log: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of [...log].reverse()) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (q.node(n)) tryRefresh(q, [n]);
    // and each detach moves the node back to the main loop if it can go (bdrv_root_unref_child,
    // as the probing BlockBackend's blk_unref does on success: startProbe)
    if (q.node(n)) tryMoveToContext(q, n, MAIN_CONTEXT);
  }
}

/** Drivers with .bdrv_file_open: bdrv_fill_options treats them as protocols. */
const FILE_OPEN = new Set(['file', 'host_device', 'null-co', 'null-aio', 'blkdebug', 'blkverify', 'nbd']);

/** Whether bdrv_fill_options takes `driver` for a protocol (drv->bdrv_file_open): the file name is then its own `filename`. */
export const isProtocolDriver = (driver: string): boolean => FILE_OPEN.has(driver);

/**
 * bdrv_open_common: a driver with bdrv_needs_filename (file-posix's file and host_device) refuses
 * a missing or empty file name before it opens anything.
 */
function needsFilename(driver: string, filename: unknown): void {
  if (filename === undefined || filename === '') throw new QmpError(`The '${driver}' block driver requires a file name`);
}

/**
 * bdrv_fill_options with a file name (a header's backing file handed to an inline backing
 * whose options name no `file.filename`): a protocol node takes it as its `filename` option
 * (refused when it has one) and parses it (.bdrv_parse_filename); a node without a driver is
 * probed as `file`.
 */
function fillFromFilename(eff: Flat, filename: string): void {
  const drv = eff.driver === undefined ? findProtocol(filename) : String(eff.driver);
  if (!FILE_OPEN.has(drv)) return;
  if ('filename' in eff) throw new QmpError("Can't specify 'file' and 'filename' options at the same time");
  eff.driver = drv;
  if (drv === 'file' || drv === 'host_device') {
    // raw_parse_filename / hdev_parse_filename: the protocol prefix is not part of the path
    const prefix = `${drv}:`;
    eff.filename = filename.startsWith(prefix) ? filename.slice(prefix.length) : filename;
  } else if (drv === 'null-co' || drv === 'null-aio') {
    // null_co_parse_filename / null_aio_parse_filename
    if (filename !== `${drv}://`) throw new QmpError(`The only allowed filename for this driver is '${drv}://'`);
  } else if (drv === 'blkdebug') {
    // blkdebug_parse_filename: without the "blkdebug:" prefix the whole name is the image's;
    // with it, "blkdebug:CONFIG:IMAGE" (an empty CONFIG sets no config option)
    if (!filename.startsWith('blkdebug:')) eff['x-image'] = filename;
    else {
      const rest = filename.slice('blkdebug:'.length);
      const c = rest.indexOf(':');
      if (c < 0) throw new QmpError('blkdebug requires both config file and image path');
      if (c > 0) eff.config = rest.slice(0, c);
      eff['x-image'] = rest.slice(c + 1);
    }
  } else if (drv === 'nbd') {
    nbdParseFilename(eff, filename);
  } else if (drv === 'blkverify') {
    // blkverify_parse_filename: without the "blkverify:" prefix the whole name is the test
    // image's; with it, "blkverify:RAW:IMAGE"
    if (!filename.startsWith('blkverify:')) eff['x-image'] = filename;
    else {
      const rest = filename.slice('blkverify:'.length);
      const c = rest.indexOf(':');
      if (c < 0) throw new QmpError('blkverify requires raw copy and original image path');
      eff['x-raw'] = rest.slice(0, c);
      eff['x-image'] = rest.slice(c + 1);
    }
  } else eff.filename = filename;
}

/**
 * nbd_parse_filename (block/nbd.c): a URL (nbd_parse_uri: "nbd[+tcp]://HOST[:PORT][/EXPORT]",
 * "nbd+unix://[/EXPORT]?socket=PATH"; anything else "No valid URL specified"), or the legacy
 * "nbd:unix:PATH[:exportname=EXPORT]" / "nbd:HOST:PORT[:exportname=EXPORT]". The server goes in
 * as server.* options, which nbd_open reads as blockdev-add's `server`.
 */
function nbdParseFilename(eff: Flat, filename: string): void {
  if (filename.includes('://')) {
    const m = /^(nbd|nbd\+tcp|nbd\+unix):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(filename);
    const bad = () => new QmpError('No valid URL specified');
    if (!m) throw bad();
    const [, scheme, authority, path, query] = m;
    const unix = scheme === 'nbd+unix';
    const exp = path!.replace(/^\//, '');
    const params = query ? query.split(/[&;]/).filter(Boolean).map((q) => q.split('=')) : [];
    if (params.length > 1 || (unix && !params.length) || (!unix && params.length)) throw bad();
    if (unix) {
      if (authority || params[0]![0] !== 'socket') throw bad();
      if (exp) eff.export = exp;
      eff['server.type'] = 'unix';
      eff['server.path'] = decodeURIComponent(params[0]![1] ?? '');
    } else {
      if (!authority) throw bad();
      if (exp) eff.export = exp;
      const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
      if (!hp) throw bad();
      eff['server.type'] = 'inet';
      eff['server.host'] = hp[1]!.replace(/^\[(.*)\]$/, '$1');
      eff['server.port'] = String(Number(hp[2] || 0) || 10809); // NBD_DEFAULT_PORT
    }
    return;
  }
  let file = filename;
  const en = file.indexOf(':exportname=');
  if (en >= 0) {
    if (en + ':exportname='.length === file.length) return;
    eff.export = file.slice(en + ':exportname='.length);
    file = file.slice(0, en);
  }
  if (!file.startsWith('nbd:')) throw new QmpError("File name string for NBD must start with 'nbd:'");
  const spec = file.slice('nbd:'.length);
  if (!spec) return;
  if (spec.startsWith('unix:')) {
    eff['server.type'] = 'unix';
    eff['server.path'] = spec.slice('unix:'.length);
  } else {
    const c = spec.lastIndexOf(':');
    eff['server.type'] = 'inet';
    eff['server.host'] = c < 0 ? spec : spec.slice(0, c);
    if (c >= 0) eff['server.port'] = spec.slice(c + 1);
  }
}

/**
 * The format driver bdrv_open gives an image named by file name alone (find_image_format: the
 * probes over the first bytes of the protocol node bdrv_find_protocol opens; the model knows a
 * qcow2 header or raw). A plain name is the catalogue image's format; an NBD URL reads the export
 * (nbd_parse_filename, then the exported node's bytes in its serving process: a format node's
 * guest data, which holds no header, probes raw); any other protocol reads as raw.
 */
export function probeFormatByName(p: Proc, filename: string): string {
  let drv: string;
  try { drv = findProtocol(filename); } catch { return 'raw'; }
  if (drv === 'file') return p.image(filename.replace(/^file:/, ''))?.format ?? 'raw';
  if (drv !== 'nbd') return 'raw';
  const eff: Flat = {};
  try { nbdParseFilename(eff, filename); } catch { return 'raw'; }
  const server = Object.fromEntries(Object.entries(eff).filter(([k]) => k.startsWith('server.')).map(([k, v]) => [k.slice('server.'.length), v]));
  try {
    const { proc: host, exp } = nbdConnect(p, server, eff.export !== undefined ? String(eff.export) : undefined, eff['tls-creds'] !== undefined);
    // (the open itself then fails where the connection does)
    return imageBehind(host, exp.node)?.format === 'qcow2' ? 'qcow2' : 'raw';
  } catch { return 'raw'; }
}

/** bdrv_find_protocol names a driver other than `file` for this name (a protocol prefix). */
export function hasProtocolPrefix(filename: string): boolean {
  try { return findProtocol(filename) !== 'file'; } catch { return true; }
}

/**
 * The meta contexts an NBD export answers NBD_OPT_SET_META_CONTEXT with (nbd/server.c
 * nbd_negotiate_meta_queries, 7.2): base:allocation always, qemu:allocation-depth where the
 * export was made with allocation-depth, qemu:dirty-bitmap:NAME for each bitmap it exports.
 */
function nbdOffersContext(exp: { allocationDepth?: boolean; bitmaps?: { name: string }[] }, ctx: string): boolean {
  if (ctx === 'base:allocation') return true;
  if (ctx === 'qemu:allocation-depth') return exp.allocationDepth === true;
  const pre = 'qemu:dirty-bitmap:';
  return ctx.startsWith(pre) && (exp.bitmaps ?? []).some((b) => b.name === ctx.slice(pre.length));
}

/** Protocol drivers by protocol_name (the model's drivers with .bdrv_file_open). */
const PROTOCOLS: Record<string, string> = { file: 'file', 'host_device': 'host_device', 'null-co': 'null-co', 'null-aio': 'null-aio', blkdebug: 'blkdebug', blkverify: 'blkverify', nbd: 'nbd', 'nbd+tcp': 'nbd', 'nbd+unix': 'nbd' };

/**
 * bdrv_find_protocol(filename, allow_protocol_prefix = true): a host device node is host_device
 * (find_hdev_driver: hdev_probe_device stats it); a name whose first ':' comes before any '/'
 * (path_has_protocol) names its driver by protocol_name, else "Unknown protocol"; else `file`.
 */
function findProtocol(filename: string): string {
  if (HOST_DEVICE_FILES.has(filename)) return 'host_device';
  const m = /^([^:/\\]*):/.exec(filename);
  if (!m) return 'file';
  const drv = PROTOCOLS[m[1]!];
  if (!drv) throw new QmpError(`Unknown protocol '${m[1]}'`);
  return drv;
}

/**
 * Set while a job opens its own filter (stream_start's bdrv_insert_node): qmp_block_stream holds
 * the node's AioContext lock then, so the crash-5 guards of blockdev-add do not apply.
 */
let ctxLockHeld = false;

/** openNode with the referenced nodes' AioContext lock held by the caller. */
export function openNodeInContext(p: Proc, opts: Opts, attached: string[] = []): BdsNode {
  const prev = ctxLockHeld;
  ctxLockHeld = true;
  try {
    // bdrv_insert_node -> bdrv_new_open_driver_opts: the driver opens at once, no probing BlockBackend
    return withAttachLog(attached, () => openNode(p, opts, undefined, false, false));
  } finally {
    ctxLockHeld = prev;
  }
}

/** Whether the tree being opened by blockdev-add is opened inactive (bds_tree_init during inmigrate). */
let openingInactive = false;

/**
 * bdrv_open_blockdev_ref: blockdev-add's root, with its generic defaults set first. A machine
 * waiting for an incoming migration (-incoming defer) opens the whole tree with BDRV_O_INACTIVE
 * (bds_tree_init: runstate_check(RUN_STATE_INMIGRATE)), its children inheriting the flag.
 */
export function openRoot(p: Proc, opts: Opts): BdsNode {
  const prev = openingInactive;
  openingInactive = p.meta().runState === 'inmigrate';
  try {
    return openNode(p, opts, undefined, true);
  } finally {
    openingInactive = prev;
  }
}

/**
 * bdrv_open with BDRV_O_INACTIVE in its flags (qmp_blockdev_change_medium: the BlockBackend's root
 * state, blk_get_open_flags_from_root_state, keeps an inactive old medium's flag): the whole new
 * tree opens inactive, its children inheriting the flag.
 */
export function openNodeWithFlags(p: Proc, opts: Opts, inactive: boolean): BdsNode {
  const prev = openingInactive;
  openingInactive = inactive;
  try {
    return openNode(p, opts);
  } finally {
    openingInactive = prev;
  }
}

export function openNode(p: Proc, opts: Opts, inh?: Inherit, root = false, probing = true): BdsNode {
  // bs->explicit_options: what this node was given (a child: its extracted sub-QDict)
  const flat = flatten(opts);
  const explicit: Flat = inh?.extractOrder ? {} : flat;
  if (inh?.extractOrder) {
    for (const k of inh.extractOrder) if (k in flat) explicit[k] = flat[k]!;
    for (const k of Object.keys(flat)) if (!(k in explicit)) explicit[k] = flat[k]!;
  }
  if (root) rootDefaults(explicit);
  // bs->options: + bdrv_inherited_options, + bdrv_fill_options (a protocol node opened from a
  // file name gets `driver` and `filename`), + update_options_from_flags
  const eff: Flat = { ...explicit };
  if (inh) inheritOptions(eff, inh.parentOptions, inh.role === 'backing');
  if (inh?.filename !== undefined) fillFromFilename(eff, inh.filename);
  const driver = String(eff.driver);
  const info = driverInfo(driver);
  if (!info) throw new QmpError(`Unknown driver '${driver}'`);
  const ro = readOnlyOption(eff);
  optionsFromFlags(eff, ro);
  const forceShare = truthy(eff['force-share']);

  // Non-protocol drivers: `file` is opened first (for probing), as bdrv_open_inherit does
  // (bdrv_open_child_bs: the `file.*` sub-QDict, or a reference, or the file name given).
  let file: { name: string; inline: boolean } | undefined;
  const pendingAborts: string[] = [];
  // A file name given to a format or filter node goes down to its file child.
  const down = !FILE_OPEN.has(driver) ? inh?.filename : undefined;
  if (info.kind !== 'protocol' && opts.file !== undefined) {
    file = openChildRef(p, opts.file, { parent: '', role: 'file', parentOptions: eff, filename: down, inactive: inh?.inactive }, pendingAborts);
  } else if (info.kind !== 'protocol' && down !== undefined) {
    file = { name: openNode(p, {}, { parent: '', role: 'file', parentOptions: eff, filename: down, inactive: inh?.inactive }).name, inline: true };
  }
  // blk_new(ctx, 0, BLK_PERM_ALL) + blk_insert_bs: the probing BlockBackend on `file` (graph/probe.ts)
  // (bdrv_insert_node -> bdrv_new_open_driver_opts opens a job's filter at once: no probe)
  const probe = file && probing ? startProbe(p, file.name) : undefined;
  try {
    return openNodeProbed(p, opts, inh, info, driver, explicit, eff, ro, forceShare, file, pendingAborts, probe);
  } finally {
    probe?.end();
  }
}

interface Probe { end(): void }

/**
 * bdrv_open_inherit's probing BlockBackend: blk_insert_bs refreshes the file node's perms with
 * it (bdrv_root_attach_child), blk_unref relaxes them again (bdrv_root_unref_child, errors
 * ignored). A perm-0 BLK_PERM_ALL parent changes nothing where the node already has a parent, so
 * the refreshes run only where it is the first (cbw_child_perm's QLIST_EMPTY(&bs->parents)).
 */
function startProbe(p: Proc, node: string): Probe {
  const first = !hasParents(p, node);
  probeAttach(p, node);
  attachLog?.push(node);
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    // blk_unref -> blk_drain, then blk_delete -> blk_remove_bs -> blk_drain: two drained sections
    // of the file node, each pausing and resuming the jobs above it (child_job_drained_end ->
    // job_resume: a sleeping speed-limited job runs an iteration)
    if (p.node(node) && rule(p, 'probe-blk-drain-wakes-jobs')) {
      drained(p, [node], false, () => undefined);
      drained(p, [node], false, () => undefined);
    }
    probeDetach(p, node);
    // blk_unref, on success and on bdrv_open_inherit's fail path alike
    if (p.node(node) && !hasParents(p, node)) tryRefresh(p, [node]);
    // blk_remove_bs -> bdrv_root_unref_child (7.2: bdrv_detach_child): "When the parent requiring
    // a non-default AioContext is removed, the node moves back to the main AioContext", errors
    // ignored: the file node and its component (the node just opened over it included) leave an
    // iothread nothing else pins them in (probed on 10.0: a backup of a raw or copy-before-write
    // node added over a node x-blockdev-set-iothread had put in io0 no longer dies in
    // bdrv_insert_node; combo-c15-b3-cbw-iothread-backup-chain)
    if (p.node(node)) tryMoveToContext(p, node, MAIN_CONTEXT);
  };
  if (first) {
    try {
      refreshPerms(p, [node]);
    } catch (e) {
      end();
      throw e;
    }
  }
  return { end };
}

function openNodeProbed(
  p: Proc, opts: Opts, inh: Inherit | undefined, info: NonNullable<ReturnType<typeof driverInfo>>, driver: string, explicit: Flat, eff: Flat,
  ro: boolean, forceShare: boolean, file: { name: string; inline: boolean } | undefined, pendingAborts: string[], probe: Probe | undefined,
): BdsNode {
  if (forceShare && !ro) throw new QmpError('force-share=on can only be used with read-only images');
  // bdrv_open_common: discard (given or inherited "unmap") sets BDRV_O_UNMAP, which
  // detect-zeroes=unmap needs (bdrv_parse_detect_zeroes)
  const unmap = isUnmap(eff.discard);
  if (eff['detect-zeroes'] === 'unmap' && !unmap) {
    throw new QmpError('setting detect-zeroes to unmap is not allowed without setting discard operation to unmap');
  }
  const { name, auto } = assignNodeName(p, opts['node-name'] as string | undefined);
  p.step(`open ${name} (${driver})`);
  // update_flags_from_options: `active` off sets BDRV_O_INACTIVE (10.0's schema only; graph/inactive.ts)
  const inactive = openingInactive || inh?.inactive === true || (eff.active !== undefined && !truthy(eff.active));
  newNode(p, { name, auto, driver, ro, forceShare, options: eff, explicit, unmap, inheritsFrom: inh?.parent || null, ...(inactive ? { inactive: true } : {}) });
  if (file?.inline) p.patchNode(file.name, { inheritsFrom: name });
  const fileNode = () => (file ? p.node(file.name) : undefined);
  // the drivers' bdrv_open_file_child / bdrv_open_child(NULL, options, "file", …, allow_none
  // false): with neither `file` options nor a reference nor a file name, bdrv_open_child_bs
  // refuses. QAPI makes blockdev-add name one; a node opened from a "json:" file name holding
  // another driver's options does not (bdrv_img_create's backing check of a copy-before-write
  // node, whose file name is its child's: cbw_refresh_filename)
  const needFile = (): void => { if (!file) throw new QmpError('A block device must be specified for "file"'); };

  switch (driver) {
    case 'file': {
      needsFilename(driver, eff.filename);
      // raw_open_common: pr_manager_lookup comes before the file is opened; when it fails (no object
      // of that id, or one that is no pr-manager-helper), the fail path runs qemu_close(s->fd) while
      // s->fd is still 0 (the zeroed BDRVRawState; s->fd = -1 comes after): 7.2 and 10.0 close their
      // own stdin, the QMP monitor of a daemon started with it on stdio, and die (SIGSEGV)
      if (eff['pr-manager'] !== undefined && p.object(String(eff['pr-manager']))?.qomType !== 'pr-manager-helper') {
        throw new QemuAbortRefusal(
          `File node '${name}' names pr-manager '${String(eff['pr-manager'])}', which is no pr-manager-helper object ` +
          "(QEMU crashes here: raw_open_common's fail path after pr_manager_lookup closes fd 0, its own stdin, as s->fd is not yet set); refused by blockgraph",
          'raw_open_common',
        );
      }
      const fn = String(eff.filename);
      // raw_open_common's qemu_open of a path this daemon's main loop serves through FUSE hangs
      refuseOwnFuseMount(p, fn, 'raw_open_common');
      const img = p.image(fn);
      if (!img) {
        // raw_open_common's qemu_open: a directory of the image catalogue (a name other images sit
        // below) opened O_RDWR fails with EISDIR; opened read-only it succeeds and the later
        // S_ISREG check refuses it (not modelled: no transcript has it yet)
        const dir = fn.replace(/\/+$/, '');
        const isDir = !ro && p.d.values<Image>(HOST, 'images').some((i) => i.file.startsWith(`${dir}/`));
        throw new QmpError(`Could not open '${fn}': ${isDir ? 'Is a directory' : 'No such file or directory'}`);
      }
      // raw_open_common (CONFIG_LINUX_AIO): Linux AIO only works on files opened with O_DIRECT
      if (eff.aio === 'native' && eff['cache.direct'] !== true && eff['cache.direct'] !== 'on') {
        throw new QmpError('aio=native was specified, but it requires cache.direct=on, which was not specified.');
      }
      const locking = (opts.locking as string | undefined) ?? 'auto';
      p.patchNode(name, {
        filename: fn, size: hostFileLength(img),
        lock: locking === 'off' ? null : { perm: 0, shared: PERM_ALL },
      });
      break;
    }
    case 'host_device': {
      needsFilename(driver, eff.filename);
      // hdev_open -> raw_open_common(device = true): only a character or block device; the
      // model's host has the device nodes every Linux host has (/dev/null: empty)
      const fn = String(eff.filename);
      if (!HOST_DEVICE_FILES.has(fn)) {
        if (!p.image(fn)) throw new QmpError(`Could not open '${fn}': No such file or directory`);
        throw new QmpError(`'host_device' driver requires '${fn}' to be either a character or block device`);
      }
      p.patchNode(name, { filename: fn, size: 0, lock: null });
      break;
    }
    case 'null-co':
    case 'null-aio': {
      // null_file_open: qemu_opts_absorb_qdict(opts, options, &error_abort), so a negative size
      // (parse_option_size refuses it) kills the daemon; latency-ns is a QEMU_OPT_NUMBER, which
      // qemu_strtou64 wraps, and back in the int64_t latency_ns it is negative again
      if (opts.size !== undefined && Number(opts.size) < 0) {
        throw new QemuAbortRefusal(`null driver size ${String(opts.size)} for '${name}' (QEMU 7.2 aborts here: null_file_open's qemu_opts_absorb_qdict(&error_abort): Parameter 'size' expects a non-negative number below 2^64); refused by blockgraph`, 'null_file_open');
      }
      if (opts['latency-ns'] !== undefined && Number(opts['latency-ns']) < 0) throw new QmpError('latency-ns is invalid');
      p.patchNode(name, { size: Number(opts.size ?? GIB) });
      break;
    }
    case 'qcow2': {
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_IMAGE);
      formatLockIfNeeded(p, name);
      // qcow2_do_open reads the header through bs->file, whatever filters lie in between
      // (bdrv_pread(bs->file, 0, sizeof(QCowHeader))): a read a copy-on-read filter may crash on
      refuseCorReadCrash(p, file!.name, 0, 104, `Opening qcow2 node '${name}'`);
      // (graph/read.ts probeHeader): a failed read is "Could not read qcow2 header: <errno>",
      // a header without QCOW_MAGIC "Image is not in qcow2 format"
      const head = probeHeader(p, file!.name, commitDebugState(p));
      if ('errno' in head) throw new QmpError(`Could not read qcow2 header: ${head.errno}`);
      const img = 'image' in head ? head.image : undefined;
      // a qcow (v1) image has QCOW_MAGIC too, and qcow2_do_open's next check is the version
      if (img?.format === 'qcow') throw new QmpError('Unsupported qcow2 version 1');
      if (!img || img.format !== 'qcow2') throw new QmpError('Image is not in qcow2 format');
      // qcow2_do_open's next reads through bs->file: the L1 table, then (after the options) the
      // refcount table and the header extensions (graph/read.ts qcow2OpenReads)
      const reads = qcow2OpenReads(p, file!.name, img, commitDebugState(p));
      const l1 = reads.l1();
      if (l1) throw new QmpError(l1);
      qcow2UpdateOptions(eff, { clusterSize: img.clusterSize ?? 65536, virtualSize: img.size, compat: img.compat, encrypted: img.luks ? 'luks' : undefined }, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      const rest = reads.rest();
      if (rest) throw new QmpError(rest);
      // qcow2_read_extensions: the CRYPTO header extension opens the LUKS header (encrypt.key-secret)
      if (img.luks) {
        qcow2LuksOpen(p, img, eff['encrypt.key-secret']);
        // bs->encrypted (query-named-block-nodes' `encrypted`)
        p.patchNode(name, { extra: { ...(p.node(name)!.extra ?? {}), encrypted: true } });
      }
      // qcow2_read_extensions' bitmaps extension through a short file child (graph/qcow2-backing-name.ts)
      const bitmapsExt = bitmapsExtSeen(p, file!.name, img);
      if (bitmapsExt === 'zero') throw new QmpError('found bitmaps extension with zero bitmaps');
      // "read the backing file name" through bs->file: cut where the file child ends (graph/qcow2-backing-name.ts)
      const backingName = readBackingName(p, file!.name, img);
      const header = backingName ? { backing: backingName, backingFormat: img.backingFormat } : {};
      p.patchNode(name, { size: img.size, header });
      // qcow2_do_open -> qcow2_read_snapshots: the snapshot table, kept in memory from now on
      if (img.snapshots?.length) p.patchNode(name, { snapshots: img.snapshots });
      openDataFile(p, name, opts, eff, img, file!.name, pendingAborts);
      // qcow2_do_open → qcow2_load_dirty_bitmaps: the image's persistent bitmaps, only when the
      // node is opened active ("Open disk in inactive mode ...: bitmaps ... will be loaded on
      // invalidation": qcow2_co_invalidate_cache, graph/inactive.ts bdrvActivate); s->flags keeps
      // BDRV_O_INACTIVE (qcow2OpenedInactive)
      if (p.node(name)?.inactive) p.patchNode(name, { qcow2OpenedInactive: true });
      else {
        if (bitmapsExt === 'no-directory') throw new QmpError("Bitmap '' doesn't satisfy the constraints");
        if (bitmapsExt === 'all') loadPersistentBitmaps(p, name);
      }
      // bdrv_open_common has returned: blk_unref(file) comes before bdrv_open_backing_file
      probe?.end();
      openBacking(p, name, opts, eff);
      break;
    }
    case 'qed': {
      // bdrv_qed_open: bdrv_open_file_child (BDRV_CHILD_IMAGE), then bdrv_qed_do_open
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_IMAGE);
      formatLockIfNeeded(p, name);
      // bdrv_co_pread(bs->file, 0, sizeof(le_header)): "Failed to read QED header", then the magic
      const head = probeHeader(p, file!.name, commitDebugState(p));
      if ('errno' in head) throw new QmpError('Failed to read QED header');
      const img = 'image' in head ? head.image : undefined;
      if (!img || img.format !== 'qed') throw new QmpError('Image not in QED format');
      const bad = qedOpenError(img);
      if (bad) throw new QmpError(bad);
      // QED_F_BACKING_FILE: bs->backing_file / auto_backing_file from the header's string;
      // QED_F_BACKING_FORMAT_NO_PROBE: bs->backing_format "raw", else none (the backing is probed)
      const header = img.backing ? { backing: img.backing, ...(img.backingFormat === 'raw' ? { backingFormat: 'raw' } : {}) } : {};
      // bdrv_qed_getlength: header.image_size
      p.patchNode(name, { size: img.size, header });
      probe?.end();
      openBacking(p, name, opts, eff);
      break;
    }
    case 'vdi': case 'vpc': case 'vhdx': case 'parallels': case 'qcow': case 'vmdk': {
      // vdi_open, vpc_open, vhdx_open, parallels_open, qcow_open, vmdk_open: bdrv_open_file_child
      // (BDRV_CHILD_IMAGE), then the header through it
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_IMAGE);
      formatLockIfNeeded(p, name);
      const head = probeHeader(p, file!.name, commitDebugState(p));
      if ('errno' in head) throw new QmpError(`Could not open '${fileNode()?.filename ?? ''}': ${head.errno}`);
      // an empty file reads as zeroes (bdrv_aligned_preadv zero-fills past the end of the node)
      const behind = imageBehind(p, file!.name);
      const img = 'image' in head ? head.image : behind?.format === 'raw' && behind.size === 0 ? behind : undefined;
      // vpc_open: the footer read at 0 of a file shorter than it reads zeroes past the end (no
      // "conectix" cookie), then bdrv_getlength(bs->file->bs) < HEADER_SIZE
      if (driver === 'vpc' && !img && getLength(p, file!.name) < 512) throw new QmpError('File too small for a VHD header');
      const bad = otherFormatOpenError(driver, img, fileNode()?.filename ?? '');
      if (bad) throw new QmpError(bad);
      // qcow_open: the header's backing file name (no format: probed). vmdk_parent_open: the
      // descriptor's parentFileNameHint, with bs->backing_format "vmdk" (query-named-block-nodes'
      // backing-filename-format; bdrv_open_backing_file opens the backing with that driver). The
      // block or grain size .bdrv_get_info answers with is the open's state (s->block_size,
      // s->cluster_size), read from this header, not from whatever a later bdrv_append puts under
      // the node (fuzz 974893939)
      p.patchNode(name, {
        size: img!.size, header: img!.backing ? { backing: img!.backing, ...(driver === 'vmdk' ? { backingFormat: 'vmdk' } : {}) } : {},
        ...(img!.infoCluster !== undefined ? { extra: { ...(p.node(name)!.extra ?? {}), openInfoCluster: img!.infoCluster } } : {}),
      });
      if (driver === 'vmdk' && img!.extents) openVmdkExtents(p, name, eff, img!.extents, file!.name);
      // vmdk_open_sparse: s->create_type and the one extent are the open's state; a later reopen
      // that changes `file` moves the extent's BdrvChild (extent->file is bs->file) but reads no
      // new header (vmdk_get_specific_info; fuzz 2535523191)
      else if (driver === 'vmdk') p.patchNode(name, { extra: { ...(p.node(name)!.extra ?? {}), openVmdk: img!.features?.vmdkSubformat ?? 'monolithicSparse' } });
      // parallels_open: a writable, active node writes the header marked in use
      if (driver === 'parallels' && !p.node(name)!.ro && !p.node(name)!.inactive) noteWritePath(p, file!.name, 0, parallelsInuseWriteEnd(img!.size, rule(p, 'parallels-header-size-units')));
      probe?.end();
      if (driverInfo(driver)?.supportsBacking) openBacking(p, name, opts, eff);
      break;
    }
    case 'luks': {
      // block_crypto_open_generic: bdrv_open_file_child (BDRV_CHILD_IMAGE), then
      // qcrypto_block_open → qcrypto_block_luks_open (graph/luks-open.ts)
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_IMAGE);
      formatLockIfNeeded(p, name);
      // 10.0's detached header (9.0+: bdrv_open_child "header", BDRV_CHILD_METADATA, allow_none;
      // 7.2's schema has no `header`): the LUKS header is read from it, the payload from `file`
      let header: string | undefined;
      if (opts.header !== undefined && opts.header !== null) {
        header = openChildRef(p, opts.header, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive }, pendingAborts, 'header').name;
        attachOpened(p, name, header, 'header', ROLE_METADATA);
      }
      const payloadOffset = luksOpen(p, header ?? file!.name, eff['key-secret'], '', commitDebugState(p), header !== undefined);
      // refresh_total_sectors → block_crypto_getlength: the file's length less the payload
      // offset, -EIO when the file is shorter (a LUKS image with its own payload offset given as
      // a detached header over a smaller file); bs->encrypted = true (query-named-block-nodes' `encrypted`)
      const fileLength = getLength(p, file!.name);
      if (payloadOffset > fileLength) throw new QmpError('Could not refresh total sector count: Input/output error');
      p.patchNode(name, { size: fileLength - payloadOffset, extra: { ...(p.node(name)!.extra ?? {}), payloadOffset, encrypted: true } });
      break;
    }
    case 'raw': {
      // raw_open: raw_read_options (QAPI-checked here), then bdrv_open_child "file"
      needFile();
      attachOpened(p, name, file!.name, 'file', rawIsSlice(eff, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText) ? ROLE_DATA | ROLE_PRIMARY : ROLE_FILTERED | ROLE_PRIMARY);
      formatLockIfNeeded(p, name);
      // raw_apply_options: real_size = bdrv_getlength(bs->file->bs), which asks a variable-length
      // file child (a raw node, a filter) again: e.g. a raw node whose file blockdev-snapshot
      // replaced by a longer overlay (bdrv_replace_node) has the overlay's length (graph/length.ts)
      p.patchNode(name, { size: rawApplyOptions(eff, getLength(p, file!.name), rule(p, 'qemuopts-size-negative-text') as NegativeSizeText).size });
      break;
    }
    case 'throttle': {
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      // throttle_configure_tgm: no group at all (a throttle node opened by a drive-backup or
      // drive-mirror `format`, which QAPI does not make name one) is refused before a missing one
      if (opts['throttle-group'] === undefined) throw new QmpError('Please specify a throttle group');
      const group = String(opts['throttle-group']);
      // throttle_group_exists: an object's group or one a BlockBackend made (graph/throttle-groups.ts)
      if (!throttleGroupExists(p, group)) throw new QmpError(`Throttle group '${group}' does not exist`);
      // bdrv_open_driver -> refresh_total_sectors -> throttle_getlength: bdrv_getlength of the
      // file child, which a variable-length child answers afresh (graph/length.ts)
      p.patchNode(name, { size: getLength(p, file!.name), extra: { group } });
      break;
    }
    case 'copy-on-read': {
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const bottom = typeof eff.bottom === 'string' ? eff.bottom : undefined;
      // refresh_total_sectors -> cor_getlength: bdrv_getlength(bs->file->bs)
      p.patchNode(name, { size: getLength(p, file!.name), ...(bottom !== undefined ? { extra: { bottom } } : {}) });
      // cor_open: `bottom` freezes the chain down to it (graph/cor-bottom.ts); the node's length
      // is set first only so that a log records the node before the links, as it always has
      if (bottom !== undefined) freezeToBottom(p, name, bottom);
      break;
    }
    case 'preallocate': {
      // preallocate_open: bdrv_open_file_child (FILTERED | PRIMARY), then preallocate_absorb_opts
      // against bs->file->bs's request alignment
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const f = fileNode()!;
      preallocateAbsorbOpts(eff, alignment(p, f), rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      // refresh_total_sectors -> preallocate_getlength: bdrv_getlength(bs->file->bs) while
      // s->data_end is not yet valid (it is set once the filter has write and resize perms)
      p.patchNode(name, { size: getLength(p, f.name) });
      break;
    }
    case 'blklogwrites': {
      // blk_log_writes_open (block/blklogwrites.c): the file child (FILTERED | PRIMARY), then the
      // log child as plain metadata (bdrv_open_child "log", BDRV_CHILD_METADATA)
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const log = openChildRef(p, opts.log, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive }, pendingAborts, 'log');
      attachOpened(p, name, log.name, 'log', ROLE_METADATA);
      let sector = 512;
      if (truthy(eff['log-append'])) {
        if (eff['log-sector-size'] !== undefined) throw new QmpError('log-append and log-sector-size are mutually exclusive');
        // an empty log gets a fake superblock (sector size BDRV_SECTOR_SIZE); otherwise the
        // superblock is read: the model's images hold no log, so its magic never matches
        if (getLength(p, log.name) !== 0) throw new QmpError('Invalid log superblock magic');
      } else if (eff['log-sector-size'] !== undefined) sector = Number(eff['log-sector-size']);
      // blk_log_writes_sector_size_valid: a power of two, at least the superblock's and an
      // entry's size (32 bytes each), below 16 MiB
      if (!(sector > 0 && (sector & (sector - 1)) === 0 && sector >= 32 && sector < 2 ** 24)) throw new QmpError(`Invalid log sector size ${sector}`);
      const interval = eff['log-super-update-interval'] !== undefined ? Number(eff['log-super-update-interval']) : 4096;
      if (!interval) throw new QmpError(`Invalid log superblock update interval ${interval}`);
      // refresh_total_sectors -> blk_log_writes_getlength: bdrv_getlength(bs->file->bs);
      // blk_log_writes_refresh_limits: request_alignment = the log sector size
      p.patchNode(name, { size: getLength(p, file!.name), extra: { sectorSize: sector } });
      break;
    }
    case 'replication': {
      // replication_open (the same on 7.2 and 10.0): bdrv_open_file_child (a filter: FILTERED |
      // PRIMARY), then its runtime options; `mode` is QAPI's (ReplicationMode) and required
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      if (eff.mode === 'primary' && eff['top-id'] !== undefined) throw new QmpError('The primary side does not support option top-id');
      if (eff.mode === 'secondary' && eff['top-id'] === undefined) throw new QmpError('Missing the option top-id');
      // replication_getlength: bdrv_getlength(bs->file->bs)
      p.patchNode(name, { size: getLength(p, file!.name) });
      break;
    }
    case 'compress': {
      needFile();
      // compress_open (block/filter-compress.c): the file child, then block_driver_can_compress
      // of bs->file->bs->drv alone (not through filters: copy-on-read and throttle have
      // .bdrv_co_pwritev_compressed themselves, whatever lies below them)
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const f = fileNode()!;
      if (!blockDriverCanCompress(f.driver)) {
        // bdrv_get_format_name: the driver's format_name, protocols included ("file")
        throw new QmpError(`Compression is not supported for underlying format: ${f.driver}`);
      }
      // refresh_total_sectors -> compress_getlength: bdrv_getlength(bs->file->bs)
      p.patchNode(name, { size: getLength(p, f.name) });
      break;
    }
    case 'nbd': {
      // nbd_open: connect and negotiate (graph/nbd-client.ts); a read-only export makes the node
      // read-only where auto-read-only allows it (bdrv_apply_auto_read_only), else nbd_open
      // fails with -EACCES and no message of its own (bdrv_open_driver: "Could not open image")
      // (a server parsed from a file name, nbd_parse_filename, is in the flat server.* options)
      const fromName = eff['server.type'] === undefined ? undefined
        : Object.fromEntries(Object.entries(eff).filter(([k]) => k.startsWith('server.')).map(([k, v]) => [k.slice('server.'.length), v]));
      const server = (opts.server ?? fromName) as Record<string, unknown>;
      const exportName = opts.export !== undefined ? String(opts.export) : eff.export !== undefined ? String(eff.export) : undefined;
      // nbd_process_options: names longer than NBD_MAX_STRING_SIZE (4096 bytes) are refused
      // before any connection (iotests 143's over-long export name)
      if (exportName !== undefined && Buffer.byteLength(exportName) > NBD_MAX_STRING_SIZE) throw new QmpError('export name too long to send to server');
      // then tls-creds (nbd_get_tls_creds with the client endpoint), then the x-dirty-bitmap query
      const tlsCreds = opts['tls-creds'] ?? eff['tls-creds'];
      if (tlsCreds !== undefined) nbdGetTlsCreds(p, String(tlsCreds), 'client');
      if (eff['x-dirty-bitmap'] !== undefined && Buffer.byteLength(String(eff['x-dirty-bitmap'])) > NBD_MAX_STRING_SIZE) {
        throw new QmpError('x-dirty-bitmap query too long to send to server');
      }
      const { proc: host, exp } = nbdConnect(p, server, exportName, tlsCreds !== undefined);
      // nbd_handle_updated_info: x-dirty-bitmap is the one meta context the client asks for
      // (nbd_negotiate_simple_meta_context); a server that does not offer it leaves
      // base_allocation false, and the open fails -EINVAL with the message dropped (called with
      // errp NULL from nbd_co_do_establish_connection): "Could not open image: Invalid argument"
      const ctx = eff['x-dirty-bitmap'];
      if (ctx !== undefined && !nbdOffersContext(exp, String(ctx))) throw new QmpError('Could not open image: Invalid argument');
      let ro = p.node(name)!.ro;
      if (!exp.writable && !ro) {
        if (!truthy(eff['auto-read-only'])) throw new QmpError('Could not open image: Permission denied');
        ro = true;
      }
      p.patchNode(name, {
        // nbd_open: the size the server negotiates, its exp->size (commands/exports.ts)
        ro, size: exp.size ?? getLength(host, exp.node), filename: nbdFilename(server, exportName),
        extra: { nbd: { proc: host.name, export: exp.id, ...(exp.writable ? {} : { readOnly: true as const }) } },
      });
      break;
    }
    case 'copy-before-write': {
      // cbw_open -> cbw_parse_options: visit_type_BlockdevOptions of the whole QDict, before any
      // child opens: BlockdevOptionsCbw's required members in order (the base's `file` first;
      // a file opened from a file name is in the QDict by its node name again)
      if (!file) throw new QmpError("Parameter 'file' is missing");
      if (opts.target === undefined) throw new QmpError("Parameter 'target' is missing");
      // cbw_open (block/copy-before-write.c): bdrv_open_file_child, then the `target` child
      // (BDRV_CHILD_DATA), then the optional bitmap (block_dirty_bitmap_lookup)
      attachOpened(p, name, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const tgt = openChildRef(p, opts.target, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive }, pendingAborts);
      attachOpened(p, name, tgt.name, 'target', ROLE_DATA);
      const bm = opts.bitmap as { node?: string; name?: string } | undefined;
      if (bm) {
        if (!p.node(String(bm.node))) throw new QmpError(`Node '${bm.node}' not found`);
        if (!dirtyBitmapExists(p, String(bm.node), String(bm.name))) throw new QmpError(`Dirty bitmap '${bm.name}' not found`);
      }
      // cbw_open / snapshot_access_open: bs->total_sectors = bs->file->bs->total_sectors (no
      // .bdrv_getlength of their own). A variable-length child's total_sectors is what its last
      // bdrv_getlength refreshed: backup_job_create's just before bdrv_cbw_append, and
      // query-named-block-nodes' (bdrv_query_image_info) after every command the harness sends,
      // so it is taken as its current length (graph/length.ts getLength)
      p.patchNode(name, { size: getLength(p, file!.name) });
      // block_copy_state_new: 10.0's min-cluster-size (only from bdrv_cbw_append's options here:
      // graph/jobs/backup.ts cbwAppend) must be a power of 2 ("Cannot create block-copy-state: "
      // is cbw_open's error_prepend); block_copy_calculate_cluster_size takes the larger
      const minCs = typeof opts['min-cluster-size'] === 'string' ? BigInt(opts['min-cluster-size']) : 0n;
      if (minCs && (minCs & (minCs - 1n)) !== 0n) throw new QmpError('Cannot create block-copy-state: min-cluster-size needs to be a power of 2');
      const own = blockCopyClusterSize(p, tgt.name);
      const cs = minCs > BigInt(own) ? Number(minCs) : own;
      // bdrv_create_dirty_bitmap takes the granularity as a uint32_t: a cluster of 4 GiB or more
      // truncates to 0 and its assert(is_power_of_2(granularity)) kills the daemon (probed live on 10.0.2)
      if (cs > 0xffffffff) {
        throw new QemuAbortRefusal(
          `The block-copy cluster size ${cs} of copy-before-write filter '${name}' does not fit the dirty bitmaps' 32-bit granularity ` +
          "(QEMU aborts here: block_copy_state_new -> bdrv_create_dirty_bitmap: Assertion `is_power_of_2(granularity) && granularity >= BDRV_SECTOR_SIZE' failed); refused by blockgraph",
          'bdrv_create_dirty_bitmap',
        );
      }
      if (cs !== own) p.patchNode(name, { extra: { ...(p.node(name)!.extra ?? {}), bcsCluster: cs } });
      // the copy bitmap on the source; then done_bitmap and access_bitmap
      addAnonBitmap(p, rule(p, 'block-copy-bitmap-node') === 'source' ? file!.name : name, bcsKey(name), cs);
      for (const own of CBW_BITMAPS) addAnonBitmap(p, name, own, cs);
      p.patchNode(name, { extra: { ...(p.node(name)!.extra ?? {}), bcsSource: file!.name } });
      break;
    }
    case 'snapshot-access': {
      needFile();
      // snapshot_access_open: bdrv_open_child("file", BDRV_CHILD_DATA | BDRV_CHILD_PRIMARY)
      attachOpened(p, name, file!.name, 'file', ROLE_DATA | ROLE_PRIMARY);
      // cbw_open / snapshot_access_open: bs->total_sectors = bs->file->bs->total_sectors (no
      // .bdrv_getlength of their own). A variable-length child's total_sectors is what its last
      // bdrv_getlength refreshed: backup_job_create's just before bdrv_cbw_append, and
      // query-named-block-nodes' (bdrv_query_image_info) after every command the harness sends,
      // so it is taken as its current length (graph/length.ts getLength)
      p.patchNode(name, { size: getLength(p, file!.name) });
      break;
    }
    case 'blkdebug': {
      blkdebugAbsorb(eff, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      const take = permFromList((opts['take-child-perms'] as string[] | undefined) ?? []);
      const unshare = permFromList((opts['unshare-child-perms'] as string[] | undefined) ?? []);
      // blkdebug_open's add_rule: the inject-error and set-state rules a read meets (graph/read.ts)
      const rules = blkdebugRules(opts);
      p.patchNode(name, { extra: { take, unshare, ...(rules.length ? { rules } : {}) } });
      blkdebugConfigCheck(eff, (f) => p.image(f) !== undefined);
      // blkdebug_open: the image child gets the x-image file name (blkdebug_parse_filename)
      const xImage = eff['x-image'] === undefined ? undefined : String(eff['x-image']);
      const img = openChildRef(p, opts.image, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive, filename: xImage }, pendingAborts, 'image');
      attachOpened(p, name, img.name, 'image', ROLE_FILTERED | ROLE_PRIMARY);
      const child = p.node(img.name)!;
      // refresh_total_sectors -> blkdebug_getlength: bdrv_getlength(bs->file->bs)
      p.patchNode(name, { size: getLength(p, child.name), align: blkdebugLimits(eff, alignment(p, child)) });
      break;
    }
    case 'blkverify': {
      // blkverify_open: bdrv_open_file_child "raw" (the filtered child), then "test" as a
      // plain data child (BDRV_CHILD_DATA); the node's length is the test image's
      const raw = openChildRef(p, opts.raw, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive, filename: eff['x-raw'] === undefined ? undefined : String(eff['x-raw']) }, pendingAborts, 'raw');
      attachOpened(p, name, raw.name, 'raw', ROLE_FILTERED | ROLE_PRIMARY);
      // bdrv_inherited_options: a pure data child of a non-format node is format-probed
      // (BDRV_O_PROTOCOL cleared), so a test image named by x-image alone (blkverify_parse_filename:
      // a "blkverify:RAW:IMAGE" backing file name) is a format node over its file: find_image_format,
      // qcow2_probe's magic or raw (a protocol-prefixed name is left to the protocol)
      const xImage = eff['x-image'] === undefined ? undefined : String(eff['x-image']);
      const probed = opts.test === undefined && xImage !== undefined && findProtocol(xImage) === 'file' ? { driver: p.image(xImage.replace(/^file:/, ''))?.format === 'qcow2' ? 'qcow2' : 'raw' } : opts.test;
      const test = openChildRef(p, probed, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive, filename: xImage }, pendingAborts, 'test');
      attachOpened(p, name, test.name, 'test', ROLE_DATA);
      p.patchNode(name, { size: getLength(p, test.name) }); // blkverify_getlength
      break;
    }
    case 'quorum': {
      const children = (opts.children as unknown[]) ?? [];
      const threshold = Number(opts['vote-threshold']);
      if (children.length < 1) throw new QmpError('Number of provided children must be 1 or more');
      if (threshold < 1) throw new QmpError("Parameter 'vote-threshold' expects a value >= 1");
      if (threshold > children.length) throw new QmpError('threshold may not exceed children count');
      // quorum_open: blkverify and rewrite-corrupted are read only under read-pattern quorum (the
      // default; under fifo both stay false, so quorum_child_perm takes no WRITE for rewrites);
      // blkverify compares exactly two children, both of which must vote
      const blkverify = opts.blkverify === true || opts.blkverify === 'on';
      const quorumPattern = (opts['read-pattern'] ?? 'quorum') === 'quorum';
      if (quorumPattern && blkverify && (children.length !== 2 || threshold !== 2)) {
        throw new QmpError('blkverify=on can only be set if there are exactly two files and vote-threshold is 2');
      }
      if (quorumPattern && blkverify && (opts['rewrite-corrupted'] === true || opts['rewrite-corrupted'] === 'on')) {
        throw new QmpError('rewrite-corrupted=on cannot be used with blkverify=on');
      }
      // quorum_open: s->threshold, s->is_blkverify and s->next_child_index = s->num_children, which
      // x-blockdev-change's quorum_add_child / quorum_del_child read
      p.patchNode(name, { extra: { rewriteCorrupted: quorumPattern && Boolean(opts['rewrite-corrupted']), nextChild: children.length, threshold, blkverify: quorumPattern && blkverify } });
      const names: string[] = [];
      children.forEach((ref, i) => {
        const c = openChildRef(p, ref, { parent: name, role: 'child', parentOptions: eff, inactive: p.node(name)?.inactive }, pendingAborts);
        names.push(c.name);
        attachOpened(p, name, c.name, `children.${i}`, ROLE_DATA);
      });
      // bdrv_open_driver -> refresh_total_sectors -> quorum_getlength: children of different
      // lengths give -EIO. Their bdrv_getlength (graph/length.ts) is total_sectors * 512: a file
      // node over a 196616-byte image and a raw node over another such file are the same length
      const len = getLength(p, names[0]!); // quorum_getlength: children[0]'s
      if (names.some((c) => getLength(p, c) !== getLength(p, names[0]!))) throw new QmpError('Could not refresh total sector count: Input/output error');
      p.patchNode(name, { size: len });
      break;
    }
    case 'bochs': case 'cloop': case 'dmg': {
      // bochs_open, cloop_open, dmg_open: bdrv_apply_auto_read_only before the file child, then
      // bdrv_open_file_child and the header through it (graph/read-only-formats.ts)
      applyAutoReadOnly(ro, truthy(eff['auto-read-only']));
      needFile();
      attachOpened(p, name, file!.name, 'file', ROLE_IMAGE);
      const behind = imageBehind(p, file!.name);
      const zeroes = behind?.format === 'raw' && (behind.size === 0 || rawFill(behind, 0, behind.size) === 0);
      throw new QmpError(readOnlyFormatOpenError(driver, behind, zeroes, getLength(p, file!.name)));
    }
    case 'vvfat':
      vvfatOpenChecks(eff, ro, truthy(eff['auto-read-only']));
      break;
    default:
      throw new QmpError(`Unknown driver '${driver}'`);
  }
  probe?.end();
  if (pendingAborts.length) throw new QmpError(pendingAborts[0]!);
  // the end of bdrv_open_inherit: children's options and references leave the node's QDicts
  const kids = p.childrenOf(name).map((e) => e.name);
  // bs->explicit_options = qdict_clone_shallow(options): keys sharing a QDict bucket reversed, the
  // order a keep-old reopen (external_snapshot_commit's) joins them back in
  p.patchNode(name, { options: dropChildOptions(eff, kids), explicit: dropChildOptions(cloneInPlace(explicit), kids) });
  p.patchNode(name, { filename: filenameOf(p, name) });
  return p.node(name)!;
}

/**
 * Seed 002: where the protocol leaf cannot lock (a file node with locking=off), a format node
 * locks the image itself, when the process enables format locking. Where the protocol locks,
 * format locking would be superfluous, so it is not taken.
 */
function formatLockIfNeeded(p: Proc, name: string): void {
  if (!p.meta().formatLocking) return;
  const fe = p.fileChild(name);
  const leaf = fe ? p.node(fe.child) : undefined;
  if (leaf?.driver !== 'file' || leaf.lock) return;
  p.patchNode(name, { lock: { perm: 0, shared: PERM_ALL } });
  refreshPerms(p, [name]);
}

/**
 * The on-disk length of a qcow2 image as qemu-img creates it (qcow2_co_create): header,
 * refcount table and one refcount block (a cluster each), then the L1 table (8 bytes per L2
 * table; an empty image's file ends where the L1 table ends). Data written afterwards
 * (qemu-io, the scenario's `data`) appends after the L1 table's clusters one L2 table per
 * L2-covered region it touches and its data clusters (checked with qemu-img 7.2: 16M written
 * into a 16M image gives 17104896 bytes, 64k gives 393216).
 */
/**
 * The length of an image's host file, as raw_open (file-posix) finds it (bdrv_getlength of a new
 * file node): a raw image's size; a qcow2 image's layout (qcow2FileSize) or, after a truncate of
 * the file (coTruncate), the length it was cut or grown to (raw_regular_truncate's ftruncate:
 * shorter than the layout too), which later cluster allocations extend (withAllocation).
 */
export function hostFileLength(img: Image): number {
  if (img.format === 'raw') return img.size;
  if (img.format === 'qed') return qedFileSize(img);
  // (vdi, vpc, vhdx, parallels, qcow, vmdk: their files' layouts are not modelled; the virtual size)
  if (isOtherFormat(img.format)) return img.fileLength ?? img.size;
  // luks: the header and key slots, then the payload (block_crypto_co_create_generic)
  if (img.format === 'luks') return img.fileLength ?? (img.luks?.payloadOffset ?? 0) + img.size;
  // a LUKS-encrypted qcow2: qcow2_set_up_encryption runs after the truncate that wrote the L1
  // table, and qcow2_crypto_hdr_init_func allocates the LUKS header in the clusters after it and
  // zeroes them whole (bdrv_pwrite_zeroes of size_to_clusters(headerlen) clusters): 1M with the
  // default cipher, 2,359,296 bytes (qemu-img 7.2 and 10.0; specs/qmp/luks-query.spec.ts)
  if (img.luks) {
    const cs = img.clusterSize ?? 65536;
    return img.fileLength ?? Math.ceil(qcow2FileSize(img) / cs) * cs + Math.ceil(img.luks.payloadOffset / cs) * cs;
  }
  // qcow2_store_persistent_dirty_bitmaps' writes past the layout (graph/qcow2-bitmap-clusters.ts)
  return Math.max(img.fileLength ?? qcow2FileSize(img), img.bitmapEnd ?? 0);
}

/**
 * A qcow2 image after clusters were allocated in it (`next`, from `prev`): qcow2_alloc_clusters
 * hands out clusters past the last one its refcounts mark used (the layout's end), and the
 * pwrite there extends a file cut shorter than that (qcow2FileSize of the new layout); a file
 * grown past it keeps its length.
 */
export function withAllocation(prev: Image, next: Image): Image {
  if (prev.fileLength === undefined || next.format !== 'qcow2') return next;
  const grown = qcow2FileSize(next);
  return { ...next, fileLength: qcow2FileSize(prev) < grown ? Math.max(prev.fileLength, grown) : prev.fileLength };
}

/**
 * The layout qcow2FileSize assumes (qcow2_co_create's four metadata clusters and L1 table, then
 * the data written in ascending guest order: qcow2_alloc_cluster_offset hands out the next free
 * cluster, an L2 table first where a write enters a new L2-covered region), walked cluster by
 * cluster: `visit(guestCluster, hostCluster, l2Cluster)` gets each data cluster's guest and host
 * cluster numbers, and the L2 table's host cluster when that cluster is the first of its region;
 * the walk stops at the first visit that returns a value, and hands it back.
 */
export function walkQcow2Layout<T>(img: Image, visit: (c: number, host: number, l2: number | undefined) => T | undefined): T | undefined {
  return walkQcow2Runs(img, (c0, c1, host0, l2) => {
    for (let c = c0; c < c1; c++) {
      const r = visit(c, host0 + c - c0, c === c0 ? l2 : undefined);
      if (r !== undefined) return r;
    }
    return undefined;
  });
}

/**
 * walkQcow2Layout a run at a time: each run of a data extent's clusters within one L2 region,
 * `[c0, c1)` at host clusters from `host0`, with `l2` the region's table when the run is its
 * first (a lookup by offset need not visit every cluster before it: a job maps every task it
 * writes, and a walk per task made a 1 GiB backup quadratic).
 */
function walkQcow2Runs<T>(img: Image, visit: (c0: number, c1: number, host0: number, l2: number | undefined) => T | undefined, end?: (next: number) => T): T | undefined {
  const cs = img.clusterSize ?? 65536;
  const perRegion = cs / 8;
  let next = 3 + Math.ceil((8 * Math.ceil(img.size / ((cs * cs) / 8))) / cs);
  const l2 = new Set<number>();
  // alloc_refcount_block: a run past the first refcount block's range adds blocks after it
  const refblocks = new RefblockGrowth(refblockCoverage(img));
  for (const [s, e] of img.data ?? []) {
    for (let c = Math.floor(s / cs), end = Math.ceil(e / cs); c < end;) {
      const region = Math.floor(c / perRegion);
      const stop = Math.min(end, (region + 1) * perRegion);
      let table: number | undefined;
      if (!l2.has(region)) {
        l2.add(region);
        table = next++;
        next += refblocks.afterRun(table, 1, next);
      }
      const r = visit(c, stop, next, table);
      if (r !== undefined) return r;
      const first = next;
      next += stop - c;
      next += refblocks.afterRun(first, stop - c, next);
      c = stop;
    }
  }
  return end?.(next);
}

/** Where guest byte `guest` of a qcow2 image lies in its host file (walkQcow2Layout), or undefined when no cluster holds it. */
export function qcow2HostOffset(img: Image, guest: number): number | undefined {
  const cs = img.clusterSize ?? 65536;
  const g = Math.floor(guest / cs);
  return walkQcow2Runs(img, (c0, c1, host0) => (g >= c0 && g < c1 ? (host0 + g - c0) * cs + (guest - g * cs) : undefined));
}

/**
 * The host offset of the L2 table that maps guest offset `guest` (walkQcow2Layout: allocated just
 * before the first data cluster of its region), or undefined when the region holds no data (L1
 * entry 0: unallocated).
 */
export function qcow2L2Offset(img: Image, guest: number): number | undefined {
  const cs = img.clusterSize ?? 65536;
  const want = Math.floor(guest / ((cs * cs) / 8));
  return walkQcow2Layout(img, (c, _host, l2) => (l2 !== undefined && Math.floor(c / (cs / 8)) === want ? l2 * cs : undefined));
}

export function qcow2FileSize(img: Image): number {
  const cs = img.clusterSize ?? 65536;
  const l2Span = (cs * cs) / 8;
  const l1Bytes = 8 * Math.ceil(img.size / l2Span);
  if (!img.data?.length) return 3 * cs + l1Bytes;
  // the walk's first free cluster at its end: metadata, L2 tables, data and grown refcount blocks
  return walkQcow2Runs(img, () => undefined, (next) => next)! * cs;
}

/**
 * qcow2_do_open's external data file: `data-file` (a reference or inline) is opened as a DATA
 * child (bdrv_open_child, BDRV_CHILD_DATA); an image whose header has QCOW2_INCOMPAT_DATA_FILE
 * opens the file named there when none is given, and its `file` child then carries metadata only
 * (bs->file->role &= ~BDRV_CHILD_DATA, perms refreshed); any other image refuses a data file.
 */
function openDataFile(p: Proc, name: string, opts: Opts, eff: Flat, img: Image, fileName: string, pending: string[]): void {
  let child: string | undefined;
  if (opts['data-file'] !== undefined && opts['data-file'] !== null) {
    child = openChildRef(p, opts['data-file'], { parent: name, role: 'file', parentOptions: eff, inactive: p.node(name)?.inactive }, pending).name;
    attachOpened(p, name, child, 'data-file', ROLE_DATA);
  }
  if (img.dataFile !== undefined) {
    if (child === undefined) {
      try {
        child = openNode(p, {}, { parent: name, role: 'file', parentOptions: eff, inactive: p.node(name)?.inactive, filename: img.dataFile }).name;
      } catch (e) {
        if (e instanceof QmpError) throw new QmpError(`Could not open data file: ${e.desc}`);
        throw e;
      }
      p.patchNode(child, { inheritsFrom: name });
      attachOpened(p, name, child, 'data-file', ROLE_DATA);
    }
    const fe = p.childrenOf(name).find((e) => e.name === 'file' && e.child === fileName);
    if (fe) {
      p.patchEdge(fe.id, { role: fe.role & ~ROLE_DATA });
      refreshPerms(p, [fileName]);
    }
  } else if (child !== undefined) {
    throw new QmpError("'data-file' can only be set for images with an external data file");
  }
}

/**
 * vmdk_open over a descriptor file (no sparse magic at offset 0: a flat or split image): its file
 * child carries no data (bs->file->role &= ~BDRV_CHILD_DATA, perms refreshed), then
 * vmdk_open_desc_file -> vmdk_parse_extents opens each extent line's file, relative to the
 * descriptor's directory (bdrv_dirname of the file node), as child "extents.N" (bdrv_open_child,
 * child_of_bds): BDRV_CHILD_DATA for a FLAT extent, DATA | METADATA for a SPARSE one.
 */
function openVmdkExtents(p: Proc, name: string, eff: Flat, extents: NonNullable<Image['extents']>, fileName: string): void {
  const fe = p.childrenOf(name).find((e) => e.name === 'file' && e.child === fileName);
  if (fe) {
    p.patchEdge(fe.id, { role: fe.role & ~ROLE_DATA });
    refreshPerms(p, [fileName]);
  }
  const desc = String(p.node(fileName)?.filename ?? '');
  extents.forEach((x, i) => {
    const child = openNode(p, {}, { parent: name, role: 'file', parentOptions: eff, inactive: p.node(name)?.inactive, filename: pathCombine(desc, x.file) }).name;
    p.patchNode(child, { inheritsFrom: name });
    attachOpened(p, name, child, `extents.${i}`, x.sparse ? ROLE_DATA | ROLE_METADATA : ROLE_DATA);
  });
}

/**
 * bdrv_open_backing_file(bs, NULL, "backing") called on an open node: its header's backing file,
 * the node's own options as the parent options the child inherits from (bdrv_open_inherit).
 * mirror_exit_common calls it for MIRROR_OPEN_BACKING_CHAIN (drive-mirror mode existing).
 * Nothing to do when the node has a backing already or its header names none.
 */
export function openBackingFile(p: Proc, name: string): void {
  const node = p.node(name)!;
  if (p.backing(name)) return;
  openBacking(p, name, {}, node.options as Flat);
}

/**
 * bdrv_get_full_backing_filename(bs, errp): the header's backing file made absolute in
 * bdrv_dirname's directory, the primary child's down to a node with an exact name
 * (graph/dirname.ts; a qcow2 over a copy-on-read filter resolves in its file's directory). A
 * relative name over a node without one (an NBD client, quorum, blkverify on the way) fails the
 * open with bdrv_dirname's error as it is ("Cannot generate a base directory for NBD nodes"):
 * bdrv_open_backing_file returns it before bdrv_open_inherit, so without "Could not open backing
 * file: ".
 */
function fullBackingFilename(p: Proc, name: string, hdr: string): string {
  return makeAbsoluteFilename(p, name, hdr, pathCombine);
}

/**
 * The files whose header backing is being followed by the open in progress, outermost first.
 * bdrv_open_backing_file opens a header's backing file with bdrv_open_inherit, which opens that
 * image's own backing the same way, with no check that the chain comes back to a file it is
 * already opening: a header that names its own file, or a file further up (another process's
 * blockdev-create can write one), makes QEMU 7.2 recurse without end (QSD stops answering;
 * probed live, fuzz seed 4016260769). The model refuses that open instead of recursing with it.
 */
const headerChain: string[] = [];

/** bdrv_open_backing_file */
function openBacking(p: Proc, name: string, opts: Opts, parentOptions: Flat): void {
  const b = opts.backing;
  if (b === null) return;
  const node = p.node(name)!;
  let childName: string;
  if (typeof b === 'string') {
    if (!p.node(b)) throw new QmpError(`Could not open backing file: Cannot find device='${b}' nor node-name='${b}'`);
    // bdrv_set_backing_hd's cycle check: the new node's own name is already registered (found by fuzzing)
    if (b === name) throw new QmpError(`Making '${b}' a backing child of '${name}' would create a cycle`);
    if (!ctxLockHeld) refuseCrossContextReference(p, b, 'backing');
    childName = b;
  } else {
    let bopts: Opts;
    let filename: string | undefined;
    let followed = false;
    if (b === undefined) {
      // the header's backing file: its format as the explicit `driver`, the file by name
      const hdr = node.header?.backing;
      if (!hdr) return;
      const json = jsonFilenameOptions(hdr);
      if (json) {
        // bdrv_fill_options: a "json:" name is parsed (parse_json_filename) and joined under the
        // options given (qdict_join(options, json_options, false)): bdrv_open_backing_file's
        // backing_format `driver` wins; the name itself is dropped (a header written from a
        // json: pseudo-filename: external_snapshot_prepare, stream_prepare, drive-mirror)
        bopts = { ...json, ...(node.header?.backingFormat ? { driver: node.header.backingFormat } : {}) };
      } else {
        // bdrv_get_full_backing_filename: the name relative to the overlay's own filename
        // (path_combine; a plain name in the daemon's directory stays as it is)
        filename = fullBackingFilename(p, name, hdr);
        bopts = { driver: node.header?.backingFormat ?? p.image(filename)?.format ?? 'raw' };
        const fileEdge = p.fileChild(name);
        const self = (fileEdge ? p.node(fileEdge.child)?.filename : undefined) || node.filename;
        if (filename === self || headerChain.includes(filename)) {
          throw new QemuHangRefusal(`The backing chain of '${name}' comes back to '${filename}', which this open is already reading: QEMU hangs here (bdrv_open_backing_file -> bdrv_open_inherit recurses without end)`, 'bdrv_open_backing_file');
        }
        if (self) { headerChain.push(self); followed = true; }
      }
    } else {
      bopts = b as Opts;
      // bdrv_open_backing_file: an inline backing that names no file.filename is opened with
      // the header's backing file name (bdrv_get_full_backing_filename)
      // (options that name no file.filename still ask bdrv_get_full_backing_filename, which
      // can fail: a `file` given by reference)
      const hdr = node.header?.backing;
      if (hdr && !('file.filename' in flatten(bopts))) filename = fullBackingFilename(p, name, hdr);
    }
    try {
      childName = openNode(p, bopts, { parent: name, role: 'backing', parentOptions, inactive: p.node(name)?.inactive, filename }).name;
    } catch (e) {
      if (e instanceof QemuHangRefusal && e.qemuFn === 'bdrv_open_backing_file') throw e;
      // bdrv_open_inherit's error_prepend: a lock error's hint ("Is another process using the
      // image [F]?") stays, and HMP's drive_add prints it (fuzz --against vm 2026120804, 1254671675)
      if (e instanceof QmpError) throw prependError(e, 'Could not open backing file: ');
      throw e;
    } finally {
      if (followed) headerChain.pop();
    }
    p.patchNode(childName, { inheritsFrom: name });
    // bdrv_open_backing_file: an implicit backing (no options given, auto_backing_file equal to
    // backing_file) makes the opened node's filename the auto_backing_file, so a header naming
    // it through a protocol prefix ("file:base.img") is not an override
    const opened = p.node(childName)!.filename;
    if (b === undefined && opened && opened !== node.header?.backing) {
      p.patchNode(name, { header: { ...node.header!, auto: opened } });
    }
  }
  attachOpened(p, name, childName, 'backing', ROLE_COW);
}

/**
 * bdrv_img_create's check of the new image's backing file when its flags lack BDRV_O_NO_BACKING
 * (drive-backup's sync 'top'): bdrv_open(full_backing, NULL, {driver: backing_fmt, force-share:
 * on}, flags without RDWR | BDRV_O_NO_IO), which reads its header and opens its own backing chain
 * before anything is created. Run as a trial: the nodes are unref'd at once, only the names they
 * took from the id counter stay (graph/id-counter.ts). Throws bdrv_open's error as QEMU returns it
 * (the "Could not open backing image." hint is not part of the reply).
 */
export function checkCreateBacking(p: Proc, filename: string, format: string): void {
  const json = jsonFilenameOptions(filename);
  const opts: Opts = { ...(json ?? {}), driver: format, 'force-share': 'on' };
  p.d.trial(() => openNode(p, opts, { parent: '', role: 'child', parentOptions: { 'read-only': 'on' }, ...(json ? {} : { filename }) }));
}

/**
 * parse_json_filename: the options of a "json:{…}" file name, or undefined for any other name
 * (and for one that does not parse, e.g. cut at PATH_MAX: opened as a plain name, not modelled).
 */
export function jsonFilenameOptions(name: string): Opts | undefined {
  if (!name.startsWith('json:')) return undefined;
  try {
    const v: unknown = JSON.parse(name.slice(5));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Opts) : undefined;
  } catch {
    return undefined;
  }
}
