// A node's option QDicts as QEMU 7.2 keeps them (block.c):
// - bs->explicit_options: what the node itself was given, flattened (bdrv_open_inherit clones
//   its `options` before inheriting anything);
// - bs->options: the effective options: the explicit ones, plus what bdrv_inherited_options
//   copied from the parent, plus what bdrv_fill_options / update_options_from_flags added.
// Both lose every child's sub-QDict (`file.*`, `backing.*`, `image.*`, `children.0.*`) and
// reference at the end of bdrv_open_inherit: a child's options live in the child, extracted by
// qdict_extract_subqdict in bdrv_open_child_bs / bdrv_open_backing_file. blockdev-reopen compares
// against these (bdrv_reset_options_allowed, the "Cannot change the option" loop of
// bdrv_reopen_prepare), so they must hold exactly what QEMU's hold.
import type { Flat } from './reopen/qdict.js';
import type { BdsNode } from './types.js';

const truthy = (v: unknown) => v === true || v === 'on' || v === 'true';

/**
 * bdrv_inherited_options (child_of_bds.inherit_options): what a child takes from its
 * parent's options unless it has the option itself. COW (backing) children are read-only
 * by default; every child defaults to discard=unmap.
 */
export function inheritOptions(child: Flat, parent: Flat, cow: boolean): void {
  const copy = (k: string) => { if (!(k in child) && k in parent) child[k] = parent[k]; };
  copy('cache.direct');
  copy('cache.no-flush');
  copy('force-share');
  if (cow) {
    if (!('read-only' in child)) child['read-only'] = 'on';
    if (!('auto-read-only' in child)) child['auto-read-only'] = 'off';
  } else {
    copy('read-only');
    copy('auto-read-only');
  }
  if (!('discard' in child)) child.discard = 'unmap';
}

/**
 * bdrv_open_blockdev_ref: a root opened by blockdev-add gets these defaults as strings before
 * bdrv_open, so they are part of its explicit options too.
 */
export function rootDefaults(o: Flat): void {
  for (const k of ['cache.direct', 'cache.no-flush', 'read-only', 'auto-read-only']) if (!(k in o)) o[k] = 'off';
}

/** update_options_from_flags (from bdrv_fill_options): the generic flags as typed options. */
export function optionsFromFlags(o: Flat, ro: boolean): void {
  if (!('cache.direct' in o)) o['cache.direct'] = false;
  if (!('cache.no-flush' in o)) o['cache.no-flush'] = false;
  if (!('read-only' in o)) o['read-only'] = ro;
  if (!('auto-read-only' in o)) o['auto-read-only'] = false;
}

/** bdrv_open_inherit's BDRV_O_RDWR decision: read-only is "on" or true. */
export const readOnlyOption = (o: Flat): boolean => truthy(o['read-only']);

/**
 * The end of bdrv_open_inherit (and bdrv_reopen_commit): every child's sub-QDict and
 * reference leaves the node's options; `backing` always goes (a null backing is no child).
 */
export function dropChildOptions(o: Flat, childNames: readonly string[]): Flat {
  for (const c of childNames) {
    for (const k of Object.keys(o)) if (k.startsWith(c + '.')) delete o[k];
    delete o[c];
  }
  delete o.backing;
  return o;
}

/** bs->explicit_options of a node (nodes made by job code have only their effective options). */
export function explicitOptionsOf(n: BdsNode): Flat {
  return n.explicit ?? n.options ?? {};
}
