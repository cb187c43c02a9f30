// bdrv_open_inherit for the drivers QSD offers: children are opened in QEMU's order
// (the `file` child before the node's own name is assigned, the backing after), so that
// the same error wins as in QEMU.
import { QmpError } from '../errors/index.js';
import { attachAcrossContexts, refuseCrossContextReference } from './aio.js';
import { driverInfo } from './drivers.js';
import { assignNodeName, attachChild, newNode } from './ops.js';
import { PERM_ALL, ROLE_COW, ROLE_DATA, ROLE_FILTERED, ROLE_IMAGE, ROLE_PRIMARY, permFromList } from './perm.js';
import type { Proc } from './proc.js';
import { refreshPerms } from './refresh.js';
import type { BdsNode } from './types.js';

export type Opts = Record<string, unknown>;

interface Inherit { ro?: boolean; forceShare?: boolean; parent: string; role: 'file' | 'backing' | 'child' }

const GIB = 1 << 30;

/** Drivers with .bdrv_co_pwritev_compressed(_part) among those modelled (block_driver_can_compress). */
const COMPRESSING_FORMATS = new Set(['qcow2']);

/** Options an implicit child takes from its parent unless given itself. */
function inherited(opts: Opts, inh: Inherit | undefined): { ro: boolean; forceShare: boolean } {
  let ro = opts['read-only'] as boolean | undefined;
  if (ro === undefined && inh) ro = inh.role === 'backing' ? true : inh.ro;
  let fs = opts['force-share'] as boolean | undefined;
  if (fs === undefined && inh) fs = inh.forceShare;
  return { ro: ro ?? false, forceShare: fs ?? false };
}

/** A child given as a reference (string) or inline (dict): returns the child node's name. */
function openChildRef(p: Proc, ref: unknown, inh: Inherit, pending?: string[]): { name: string; inline: boolean } {
  if (typeof ref === 'string') {
    if (!p.node(ref)) throw new QmpError(`Cannot find device='${ref}' nor node-name='${ref}'`);
    // an abort after the attach comes after the attach's own errors (permissions)
    const later = ctxLockHeld ? null : refuseCrossContextReference(p, ref, inh.role);
    if (later) pending?.push(later);
    return { name: ref, inline: false };
  }
  return { name: openNode(p, ref as Opts, inh).name, inline: true };
}

/**
 * Set while a job opens its own filter (stream_start's bdrv_insert_node): qmp_block_stream holds
 * the node's AioContext lock then, so the crash-5 guards of blockdev-add do not apply.
 */
let ctxLockHeld = false;

/** openNode with the referenced nodes' AioContext lock held by the caller. */
export function openNodeInContext(p: Proc, opts: Opts): BdsNode {
  const prev = ctxLockHeld;
  ctxLockHeld = true;
  try {
    return openNode(p, opts);
  } finally {
    ctxLockHeld = prev;
  }
}

export function openNode(p: Proc, opts: Opts, inh?: Inherit): BdsNode {
  const driver = String(opts.driver);
  const info = driverInfo(driver);
  if (!info) throw new QmpError(`Unknown driver '${driver}'`);
  const { ro, forceShare } = inherited(opts, inh);

  // Non-protocol drivers: `file` is opened first (for probing), as bdrv_open_inherit does.
  let file: { name: string; inline: boolean } | undefined;
  const pendingAborts: string[] = [];
  if (info.kind !== 'protocol' && opts.file !== undefined) {
    file = openChildRef(p, opts.file, { ro, forceShare, parent: '', role: 'file' }, pendingAborts);
  }
  if (forceShare && !ro) throw new QmpError('force-share=on can only be used with read-only images');
  if (opts['detect-zeroes'] === 'unmap' && opts.discard !== 'unmap') {
    throw new QmpError('setting detect-zeroes to unmap is not allowed without setting discard operation to unmap');
  }
  const { name, auto } = assignNodeName(p, opts['node-name'] as string | undefined);
  p.step(`open ${name} (${driver})`);
  const stored: Opts = { ...opts, 'node-name': name };
  newNode(p, { name, auto, driver, ro, forceShare, options: stored, inheritsFrom: inh?.parent || null });
  if (file?.inline) p.patchNode(file.name, { inheritsFrom: name });
  if (file) stored.file = file.name;
  const fileNode = () => (file ? p.node(file.name) : undefined);

  switch (driver) {
    case 'file': {
      const fn = String(opts.filename);
      const img = p.image(fn);
      if (!img) throw new QmpError(`Could not open '${fn}': No such file or directory`);
      const locking = (opts.locking as string | undefined) ?? 'auto';
      p.patchNode(name, {
        filename: fn, size: img.format === 'raw' ? img.size : qcow2FileSize(img.size),
        lock: locking === 'off' ? null : { perm: 0, shared: PERM_ALL },
      });
      break;
    }
    case 'null-co':
    case 'null-aio':
      p.patchNode(name, { filename: `${driver}://`, size: Number(opts.size ?? GIB) });
      break;
    case 'qcow2': {
      attachChild(p, { kind: 'node', node: name }, file!.name, 'file', ROLE_IMAGE);
      formatLockIfNeeded(p, name);
      const f = fileNode()!;
      const img = p.image(f.filename);
      if (!img || img.format !== 'qcow2') throw new QmpError('Image is not in qcow2 format');
      const header = img.backing ? { backing: img.backing, backingFormat: img.backingFormat } : {};
      p.patchNode(name, { filename: f.filename, size: img.size, header });
      openBacking(p, name, opts, { ro, forceShare });
      // bdrv_backing_overridden: a header backing file suppressed by backing=null makes the
      // filename a json:{…} pseudo-filename (reported as none).
      if (header.backing && !p.backing(name)) p.patchNode(name, { filename: '' });
      break;
    }
    case 'raw': {
      const sliced = opts.offset !== undefined || opts.size !== undefined;
      attachChild(p, { kind: 'node', node: name }, file!.name, 'file', sliced ? ROLE_DATA | ROLE_PRIMARY : ROLE_FILTERED | ROLE_PRIMARY);
      formatLockIfNeeded(p, name);
      const f = fileNode()!;
      const size = opts.size !== undefined ? Number(opts.size) : f.size - Number(opts.offset ?? 0);
      // Over another format or filter node the name is a json:{…} pseudo-filename (reported as none).
      const protocol = driverInfo(f.driver)?.kind === 'protocol';
      p.patchNode(name, { filename: sliced || !protocol ? '' : f.filename, size });
      break;
    }
    case 'throttle': {
      attachChild(p, { kind: 'node', node: name }, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const group = String(opts['throttle-group']);
      if (p.object(group)?.qomType !== 'throttle-group') throw new QmpError(`Throttle group '${group}' does not exist`);
      p.patchNode(name, { size: fileNode()!.size, extra: { group } });
      break;
    }
    case 'copy-on-read': {
      attachChild(p, { kind: 'node', node: name }, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      p.patchNode(name, { size: fileNode()!.size });
      break;
    }
    case 'compress': {
      // compress_open (block/filter-compress.c): the file child, then block_driver_can_compress
      attachChild(p, { kind: 'node', node: name }, file!.name, 'file', ROLE_FILTERED | ROLE_PRIMARY);
      const f = fileNode()!;
      if (!COMPRESSING_FORMATS.has(f.driver)) {
        // bdrv_get_format_name: the driver's format_name, protocols included ("file")
        throw new QmpError(`Compression is not supported for underlying format: ${f.driver}`);
      }
      p.patchNode(name, { size: f.size });
      break;
    }
    case 'blkdebug': {
      const take = permFromList((opts['take-child-perms'] as string[] | undefined) ?? []);
      const unshare = permFromList((opts['unshare-child-perms'] as string[] | undefined) ?? []);
      p.patchNode(name, { extra: { take, unshare }, align: Number(opts.align ?? 1) });
      const img = openChildRef(p, opts.image, { ro, forceShare, parent: name, role: 'child' }, pendingAborts);
      stored.image = img.name;
      attachChild(p, { kind: 'node', node: name }, img.name, 'image', ROLE_FILTERED | ROLE_PRIMARY);
      const child = p.node(img.name)!;
      // Options that do not fit a "blkdebug:CONFIG:IMAGE" file name make QEMU fall back to json:{…}.
      const plain = opts.config === undefined && opts.align === undefined;
      p.patchNode(name, { size: child.size, filename: plain && child.filename ? `blkdebug::${child.filename}` : '' });
      break;
    }
    case 'quorum': {
      const children = (opts.children as unknown[]) ?? [];
      const threshold = Number(opts['vote-threshold']);
      if (children.length < 1) throw new QmpError('Number of provided children must be 1 or more');
      if (threshold < 1) throw new QmpError("Parameter 'vote-threshold' expects a value >= 1");
      if (threshold > children.length) throw new QmpError('threshold may not exceed children count');
      p.patchNode(name, { extra: { rewriteCorrupted: Boolean(opts['rewrite-corrupted']), nextChild: children.length } });
      const names: string[] = [];
      children.forEach((ref, i) => {
        const c = openChildRef(p, ref, { ro, forceShare, parent: name, role: 'child' }, pendingAborts);
        names.push(c.name);
        attachChild(p, { kind: 'node', node: name }, c.name, `children.${i}`, ROLE_DATA);
      });
      stored.children = names;
      p.patchNode(name, { size: p.node(names[0]!)!.size });
      break;
    }
    default:
      throw new QmpError(`Unknown driver '${driver}'`);
  }
  if (pendingAborts.length) throw new QmpError(pendingAborts[0]!);
  p.patchNode(name, { options: stored });
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

/** qcow2's on-disk size for an empty image of this virtual size (header + tables). */
function qcow2FileSize(virtual: number): number {
  return 196608 + Math.ceil(virtual / (512 * 1024 * 1024)) * 65536;
}

/** bdrv_open_backing_file */
function openBacking(p: Proc, name: string, opts: Opts, parent: { ro: boolean; forceShare: boolean }): void {
  const b = opts.backing;
  if (b === null) return;
  const node = p.node(name)!;
  let childName: string;
  if (typeof b === 'string') {
    if (!p.node(b)) throw new QmpError(`Could not open backing file: Cannot find device='${b}' nor node-name='${b}'`);
    // bdrv_set_backing_hd's cycle check: the new node's own name is already registered (found by fuzzing)
    if (b === name) throw new QmpError(`Making '${b}' a backing child of '${name}' would create a cycle`);
    if (!ctxLockHeld) refuseCrossContextReference(p, b, 'backing');
    // bdrv_attach_child_common: a reference pinned in an iothread takes the new node there
    attachAcrossContexts(p, { kind: 'node', node: name }, b);
    childName = b;
  } else {
    let bopts: Opts;
    if (b === undefined) {
      const hdr = node.header?.backing;
      if (!hdr) return;
      bopts = { driver: node.header?.backingFormat ?? p.image(hdr)?.format ?? 'raw', file: { driver: 'file', filename: hdr } };
    } else bopts = b as Opts;
    try {
      childName = openNode(p, bopts, { ro: parent.ro, forceShare: parent.forceShare, parent: name, role: 'backing' }).name;
    } catch (e) {
      if (e instanceof QmpError) throw new QmpError(`Could not open backing file: ${e.desc}`, e.cls);
      throw e;
    }
    p.patchNode(childName, { inheritsFrom: name });
  }
  const stored = { ...p.node(name)!.options, backing: childName };
  p.patchNode(name, { options: stored });
  attachChild(p, { kind: 'node', node: name }, childName, 'backing', ROLE_COW);
}
