// bdrv_reopen_prepare for one queue entry, with QEMU 7.2's checks in QEMU's order (the
// first error wins), including the staged replacement of `backing` and then `file`
// (bdrv_reopen_parse_file_or_backing + bdrv_set_file_or_backing_noperm).
import { reopenBitmapsRo } from '../bitmaps.js';
import { QmpError } from '../../errors/index.js';
import { attachAcrossContexts, refuseReopenAttachAcrossIothread, refuseReopenThrottleAcrossContexts } from '../aio.js';
import { driverInfo } from '../drivers.js';
import { refcount, attachChild } from '../ops.js';
import { ROLE_COW, ROLE_FILTERED, ROLE_PRIMARY } from '../perm.js';
import type { Proc } from '../proc.js';
import { rule } from '../rules.js';
import type { BdsNode } from '../types.js';
import { preallocateReopenRoDrop } from '../preallocate-bh.js';
import { COMMON_OPTIONS, GENERIC_ABSORBED, GENERIC_PUT_BACK, MUTABLE, driverPrepare } from './drivers.js';
import { optString, qdictKeys, qobjEqual, type Flat } from './qdict.js';
import { currentOptions, type QueueEntry } from './queue.js';
import { inheritsFromRecursive, unsetInheritsFrom } from '../inherits.js';
import { rawGetLength } from '../driver-options/raw.js';
import { getLength } from '../length.js';
import { imageBehind } from '../images.js';
import { L1_IMAGE } from '../qcow2-garbage-l2.js';
import { QemuAbortRefusal } from '../qemu-abort.js';
import { refuseDiamondAttach, refuseDiamondDetach } from './diamond.js';
import { movedIntoIothread } from './attach-abort.js';

export interface PreparedEntry {
  node: string;
  /** Old children detached by this entry (unreferenced after the reopen, as QEMU does in cleanup). */
  oldBacking: string | null;
  oldFile: string | null;
  /** Driver state to install at commit. */
  extra: Record<string, unknown> | undefined;
  /** The driver's new length for the node (raw slices), installed at commit. */
  size?: number;
}

const isUnmap = (v: unknown) => v === 'unmap' || v === 'on';

/**
 * What a failed reopen leaves behind once tran_abort and bdrv_reopen_abort have run.
 * `frozen`: the qcow2 nodes whose qcow2_reopen_bitmaps_ro ran: qcow2_reopen_abort does not undo
 * it, so their persistent bitmaps stay stored and readonly whatever fails after.
 * `detached`: the ids of the child links bdrv_set_file_or_backing_noperm removed, in removal
 * order: tran_abort puts each back (bdrv_replace_child_abort), and the re-attach inserts it at the
 * head of the parent's children and the child's parents lists (bdrv_replace_child_noperm ->
 * bdrv_child_cb_attach), so a restored link is newer than it was.
 */
export interface ReopenResidue {
  frozen: string[];
  detached: string[];
  /** preallocate entries whose prepare ran preallocate_drop_resize (10.0): data_end stays invalid */
  preallocDropped?: string[];
  /**
   * 7.2 (rule 'aio-context-lock-aborts'): main-loop nodes this reopen attached to a parent in an
   * iothread, which bdrv_attach_child_common moved there; a failure after it aborts
   * (graph/reopen/attach-abort.ts).
   */
  movedIn?: { child: string; parent: string; link: string; ctx: string }[];
}

export function prepareEntry(p: Proc, entry: QueueEntry, residue: ReopenResidue = { frozen: [], detached: [] }): PreparedEntry {
  const n = p.node(entry.node)!;
  const o: Flat = { ...entry.options };
  const info = driverInfo(n.driver);

  // 1. generic options (bdrv_runtime_opts): absorbed; node-name, driver, force-share come back as strings
  const unmap = 'discard' in o ? isUnmap(o.discard) : entry.unmap;
  if (o['detect-zeroes'] === 'unmap' && !unmap) {
    throw new QmpError('setting detect-zeroes to unmap is not allowed without setting discard operation to unmap');
  }
  for (const k of GENERIC_ABSORBED) delete o[k];
  for (const k of GENERIC_PUT_BACK) {
    if (!(k in o)) continue;
    const v = o[k];
    delete o[k];
    o[k] = optString(v);
  }

  // 3. a driver without .bdrv_reopen_prepare
  if (!info?.reopen) {
    throw new QmpError(`Block format '${n.driver}' used by node '${n.name}' does not support reopening files`);
  }

  // 4. omitted options are reset to their defaults: only allowed for mutable ones
  const old = currentOptions(p, n);
  const mutable = MUTABLE[n.driver] ?? [];
  for (const k of qdictKeys(old)) {
    if (!(k in o) && !COMMON_OPTIONS.includes(k) && !mutable.includes(k)) {
      throw new QmpError(`Option '${k}' cannot be reset to its default value`);
    }
  }

  // 5. the driver's own prepare
  const drv = driverPrepare(p, n, o, entry.ro);
  // preallocate_reopen_prepare to read-only (10.0): preallocate_drop_resize (graph/preallocate-bh.ts)
  // (the residue is kept on both versions, 7.2 without the truncate: its preallocate_child_perm
  // never reads the flag, and replay/upgrade.ts diffs whole states)
  const held = n.driver === 'preallocate' && (n.extra as { preallocHeld?: boolean } | undefined)?.preallocHeld === true;
  if (n.driver === 'preallocate' && entry.ro) preallocateReopenRoDrop(p, n.name);
  if (held && entry.ro) (residue.preallocDropped ??= []).push(n.name);
  // qcow2_reopen_prepare to read-only: qcow2_reopen_bitmaps_ro stores and freezes the persistent bitmaps
  if (n.driver === 'qcow2' && entry.ro) {
    reopenBitmapsRo(p, n.name);
    residue.frozen.push(n.name);
  }

  // 6. `backing` must be given when there is one (or the header names one)
  if (info.supportsBacking && entry.backingMissing && (p.backing(n.name) || n.header?.backing)) {
    throw new QmpError(`backing is missing for '${n.name}'`);
  }

  // 7./8. backing, then file
  const oldBacking = replaceChild(p, n, o, true, residue);
  delete o.backing;
  const oldFile = replaceChild(p, n, o, false, residue);
  delete o.file;
  // qcow2_reopen_prepare reads no L1 table: the node keeps the one qcow2_do_open read from the
  // image its first file showed, whatever the new file holds (graph/qcow2-garbage-l2.ts)
  let extra = drv.extra;
  if (n.driver === 'qcow2' && oldFile && n.extra?.[L1_IMAGE] === undefined) {
    const was = imageBehind(p, oldFile);
    if (was?.format === 'qcow2') extra = { ...(extra ?? {}), [L1_IMAGE]: was.file };
  }
  // raw_getlength: the length follows the new file from now on (graph/driver-options/raw.ts)
  let size = drv.size;
  const newFile = oldFile ? p.fileChild(n.name) : undefined;
  if (drv.layout && newFile) size = rawGetLength(drv.layout, getLength(p, newFile.child));

  // 9. everything left must be unchanged; a reference to the current child is fine
  for (const k of qdictKeys(o)) {
    const v = o[k];
    if (typeof v === 'string') {
      const c = p.childrenOf(n.name).find((e) => e.name === k);
      if (c && c.child === v) continue;
    }
    if (!qobjEqual(v, old[k])) {
      refuseDanglingDataFile(p, n, oldFile, k);
      throw new QmpError(`Cannot change the option '${k}'`);
    }
  }
  return { node: n.name, oldBacking: oldBacking ?? null, oldFile: oldFile ?? null, extra, ...(size !== undefined ? { size } : {}) };
}

/** bdrv_recurse_has_child(from, target): `target` is `from` or below it. */
export function reaches(p: Proc, from: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const cur = stack.pop()!;
    if (cur === target) return true;
    if (seen.has(cur)) continue;
    seen.add(cur);
    for (const e of p.childrenOf(cur)) stack.push(e.child);
  }
  return false;
}

/** bdrv_skip_implicit_filters */
function skipImplicitFilters(p: Proc, node: string): string {
  let cur = node;
  for (let i = 0; i < 1000; i++) {
    const n = p.node(cur);
    if (!n?.implicit) return cur;
    const f = p.childrenOf(cur).find((e) => e.role & ROLE_PRIMARY || e.role & ROLE_FILTERED || e.name === 'backing');
    if (!f) return cur;
    cur = f.child;
  }
  return cur;
}

/**
 * Returns the old child's name when the link changes (undefined when it stays): the old edge
 * is removed and the new one attached now, the permission refresh comes later for the whole queue.
 */
function replaceChild(p: Proc, n: BdsNode, o: Flat, isBacking: boolean, residue: ReopenResidue): string | null | undefined {
  const detached = residue.detached;
  const key = isBacking ? 'backing' : 'file';
  if (!(key in o)) return undefined;
  const v = o[key];
  let target: string | null = null;
  if (v !== null) {
    const s = String(v);
    if (!p.node(s)) throw new QmpError(`Cannot find device='' nor node-name='${s}'`);
    if (reaches(p, s, n.name)) throw new QmpError(`Making '${s}' a ${key} child of '${n.name}' would create a cycle`);
    target = s;
  }
  const oldEdge = isBacking ? p.backing(n.name) : p.fileChild(n.name);
  const old = oldEdge?.child ?? null;
  if (old === target) return undefined;
  if (old !== null) {
    if (skipImplicitFilters(p, old) === target) return undefined;
    if (p.node(old)?.implicit) throw new QmpError(`Cannot replace implicit ${key} child of ${n.name}`);
  }
  const info = driverInfo(n.driver)!;
  const isFilter = info.kind === 'filter';
  if (isFilter && old === null) {
    throw new QmpError(`'${n.name}' is a ${n.driver} filter node that does not support a ${key} child`);
  }

  // bdrv_set_file_or_backing_noperm
  const updateInherits = target !== null && inheritsFromRecursive(p, target, n.name);
  if (oldEdge?.frozen) throw new QmpError(`Cannot change frozen '${oldEdge.name}' link from '${n.name}' to '${old}'`);
  if (old !== null) refuseQemuAborts(p, n.name, old);
  if (isBacking && !isFilter && !info.supportsBacking) {
    throw new QmpError(`Driver '${n.driver}' of node '${n.name}' does not support backing files`);
  }
  let role: number;
  if (isFilter) role = ROLE_FILTERED | ROLE_PRIMARY;
  else if (isBacking) role = ROLE_COW;
  else {
    if (!oldEdge) throw new QmpError('Cannot set file child to format node without file child');
    role = oldEdge.role;
  }
  if (oldEdge) {
    // bdrv_remove_child's detach ends the subtree drain link by link (fuzz 1224044685)
    refuseDiamondDetach(p, n.name, oldEdge.child, key);
    unsetInheritsFrom(p, n.name, oldEdge);
    // bdrv_remove_child: a failure from here on re-attaches it (ReopenResidue)
    p.delEdge(oldEdge.id);
    detached.push(oldEdge.id);
  }
  if (target !== null) {
    const parent = { kind: 'node' as const, node: n.name };
    refuseReopenAttachAcrossIothread(p, n.name, target, key);
    refuseReopenThrottleAcrossContexts(p, n.name, target, key);
    refuseDiamondAttach(p, n.name, target, key);
    const moved = movedIntoIothread(p, n.name, target, key);
    attachAcrossContexts(p, parent, target);
    if (moved) (residue.movedIn ??= []).push(moved);
    attachChild(p, parent, target, key, role, undefined, { refresh: false });
    if (updateInherits) p.patchNode(target, { inheritsFrom: n.name });
  }
  return old;
}

/**
 * Detaching `old` from `parent` is where QEMU 7.2 itself aborts in two known cases; the model
 * refuses instead of producing a graph QEMU could never reach.
 * - reference §7.6: `old` (e.g. a named commit filter) loses its last reference while one of
 *   its own links is frozen: bdrv_replace_child_noperm asserts '!child->frozen' (7.2.22 block.c:2838
 *   and 10.0.2 block.c:2948 alike: the 245 port of stop 36, a commit held at pending).
 * - oracle crash 3: `old` has its own file node as backing too (X -file-> F, X -backing-> F);
 *   moving the parent's backing away from X fails an assertion in bdrv_parent_drained_end_single_no_poll.
 */
function refuseQemuAborts(p: Proc, parent: string, old: string): void {
  const o = p.node(old);
  if (!o) return;
  const kids = p.childrenOf(old);
  const lastRef = refcount(p, old) <= 1;
  const frozen = kids.find((e) => e.frozen);
  if (lastRef && frozen) {
    throw new QmpError(
      `Cannot detach '${old}' from '${parent}': it would be closed while its '${frozen.name}' link is frozen ` +
      "(QEMU 7.2 and 10.0 abort here: bdrv_replace_child_noperm: Assertion '!child->frozen' failed)",
    );
  }
  const file = kids.find((e) => e.name === 'file');
  // 7.2 only: 10.0 drains the old backing's parents correctly and carries the reopen out
  // (graph/rules.ts 'reopen-drop-self-file-backing-aborts')
  if (file && kids.some((e) => e.name === 'backing' && e.child === file.child) && rule(p, 'reopen-drop-self-file-backing-aborts')) {
    throw new QmpError(
      `Cannot change the backing link of '${parent}' away from '${old}', whose backing is its own file node ` +
      "(QEMU 7.2 aborts here: Assertion 'c->parent_quiesce_counter > 0' failed)",
    );
  }
}

/**
 * Fuzz seed 3103340992 (7.2 and 10.0): a qcow2 entry whose `file` change was staged and which then
 * fails the unchanged-options check. bdrv_reopen_prepare's error path calls the driver's abort
 * at once (drv_prepared), before bdrv_reopen_multiple's tran_abort undoes the file change:
 * qcow2_reopen_abort re-syncs s->data_file (cleared by qcow2_reopen_prepare when there is no
 * external data file) to bs->file, which is still the *new* BdrvChild; tran_abort then frees that
 * child (bdrv_attach_child_common_abort → bdrv_child_free) and puts the old one back. The reply is
 * QEMU's "Cannot change the option", but s->data_file now dangles and has_data_file() is true:
 * the node's close (qcow2_do_close → bdrv_unref_child(bs, s->data_file)) and its data I/O use
 * freed memory (recorded: blockdev-del dies with SIGSEGV). Later failures (another entry, the
 * permission refresh) are safe: tran_abort runs before bdrv_reopen_abort there, and so is an
 * image with an external data file (its s->data_file is never cleared).
 */
function refuseDanglingDataFile(p: Proc, n: BdsNode, oldFile: string | null | undefined, key: string): void {
  if (n.driver !== 'qcow2' || oldFile === undefined) return;
  if (p.childrenOf(n.name).some((e) => e.name === 'data-file')) return;
  throw new QemuAbortRefusal(
    `Cannot change the option '${key}' (QEMU leaves qcow2 node '${n.name}' with a dangling data file here: ` +
    'bdrv_reopen_prepare runs qcow2_reopen_abort while its new file child is still staged, tran_abort then frees that child; ' +
    "the node's close crashes: qcow2_do_close → bdrv_unref_child on the freed BdrvChild); refused by blockgraph",
    'qcow2_reopen_abort',
  );
}
