// bdrv_reopen_queue_child (QEMU 7.2): one entry per node, the listed node first and then,
// depth-first in bs->children order (newest first), every child this node opened itself
// (inherits_from). Option precedence: given now > an earlier entry's explicit options >
// inherited from the parent > (keep_old_opts only) the node's current options.
import { QmpError } from '../../errors/index.js';
import { explicitOptionsOf, inheritOptions } from '../options.js';
import { ROLE_COW } from '../perm.js';
import type { Proc } from '../proc.js';
import type { BdsNode } from '../types.js';
import { cloneInPlace, extractSub, flatten, joinOptions, type Flat } from './qdict.js';

export interface QueueEntry {
  node: string;
  /** Flattened options of the reopen, insertion-ordered (QEMU's reopen_state->options). */
  options: Flat;
  /** What was given explicitly (reopen_state->explicit_options). */
  explicit: Flat;
  /** New read-only state (from BDRV_O_RDWR of the entry's flags). */
  ro: boolean;
  /** BDRV_O_UNMAP carried in the flags (parent's or the node's own) when `discard` is absent. */
  unmap: boolean;
  /** `backing` (or `backing.driver`) absent in a non-keep-old entry. */
  backingMissing: boolean;
  keepOld: boolean;
  /** The node whose entry queued this one as an implicit child, null for a listed node. */
  via: string | null;
}

const truthy = (v: unknown) => v === true || v === 'on' || v === 'true';
const isUnmap = (v: unknown) => v === 'unmap' || v === 'on';

function withoutChildRefs(p: Proc, n: BdsNode, o: Flat): Flat {
  const childNames = new Set(p.childrenOf(n.name).map((e) => e.name));
  for (const k of Object.keys(o)) if (k === 'backing' || k === 'file' || childNames.has(k)) delete o[k];
  return o;
}

/**
 * The node's bs->options as QEMU keeps them: flattened, without child references, and with
 * `read-only` always present (update_options_from_flags at open).
 */
export function currentOptions(p: Proc, n: BdsNode): Flat {
  const o = withoutChildRefs(p, n, flatten(n.options ?? {}));
  if (!('read-only' in o)) o['read-only'] = n.ro;
  return o;
}

/** bs->explicit_options: what the node was given (blockdev-add, or its last reopen). */
export function currentExplicit(p: Proc, n: BdsNode): Flat {
  return withoutChildRefs(p, n, flatten(explicitOptionsOf(n)));
}

/** BDRV_O_UNMAP of the node now (bdrv_get_flags): kept in open_flags across reopens that omit discard. */
function unmapNow(n: BdsNode): boolean {
  if (n.unmap !== undefined) return n.unmap;
  const d = flatten(n.options ?? {}).discard;
  return d !== undefined ? isUnmap(d) : n.inheritsFrom !== null;
}

export class ReopenQueue {
  readonly entries: QueueEntry[] = [];
  /** bdrv_reopen_queue_child calls per node (10.0 drains the node on each one) */
  readonly calls = new Map<string, number>();
  constructor(private readonly p: Proc) {}

  find(node: string): QueueEntry | undefined {
    return this.entries.find((e) => e.node === node);
  }

  /** qmp_blockdev_reopen's loop body: one list element. */
  addListed(given: Record<string, unknown>): void {
    const name = given['node-name'];
    if (name === undefined) throw new QmpError('node-name not specified');
    const n = this.p.node(String(name));
    if (!n) throw new QmpError(`Failed to find node with node-name='${String(name)}'`);
    this.add(n, flatten(given), null, false);
  }

  /** bdrv_reopen(bs, opts, keep_old_opts = true), as bdrv_reopen_set_read_only queues it. */
  addKeepOld(node: string, given: Record<string, unknown>): void {
    const n = this.p.node(node);
    if (n) this.add(n, flatten(given), null, true);
  }

  private add(n: BdsNode, options: Flat, parent: { entry: QueueEntry; cow: boolean } | null, keepOld: boolean): void {
    const p = this.p;
    this.calls.set(n.name, (this.calls.get(n.name) ?? 0) + 1);
    const existing = this.find(n.name);
    if (existing || keepOld) joinOptions(options, existing ? existing.explicit : currentExplicit(p, n));
    // explicit_options = qdict_clone_shallow(options): keys sharing a bucket come out reversed,
    // the order a later keep-old reopen joins them back in (fuzz --qemu 10.0 2858682111)
    const explicit = cloneInPlace({ ...options });
    let unmap: boolean;
    if (parent) {
      inheritOptions(options, parent.entry.options, parent.cow);
      unmap = parent.entry.unmap;
    } else unmap = unmapNow(n);
    if (keepOld) joinOptions(options, currentOptions(p, n));
    const ro = truthy(options['read-only']);

    let entry: QueueEntry;
    if (existing) {
      entry = existing;
      Object.assign(entry, { options, explicit, ro, unmap });
    } else {
      entry = { node: n.name, options, explicit, ro, unmap, backingMissing: false, keepOld, via: parent?.entry.node ?? null };
      this.entries.push(entry);
    }
    if (!keepOld) entry.backingMissing = !('backing' in options) && !('backing.driver' in options);

    for (const c of p.childrenOf(n.name)) {
      const child = p.node(c.child);
      if (!child || child.inheritsFrom !== n.name) continue;
      let childOpts: Flat = {};
      let childKeepOld = keepOld;
      if (c.name in options) {
        // A reference to another node (or null) replaces the child: it is not reopened.
        if (options[c.name] !== child.name) continue;
        childKeepOld = true;
      } else {
        extractSub(explicit, c.name + '.');
        childOpts = extractSub(options, c.name + '.');
      }
      this.add(child, childOpts, { entry, cow: (c.role & ROLE_COW) !== 0 }, childKeepOld);
    }
  }
}

