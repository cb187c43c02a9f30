// bdrv_dirname (block.c, 7.2 and 10.0): the directory a node's relative names (a backing file
// name given to a job, the header's backing file) are made absolute in. Not the node's own
// filename: a driver without .bdrv_dirname asks its primary child (bdrv_primary_bs), down to a
// node with none, whose exact_filename gives the directory (path_combine(exact_filename, "")).
// So a qcow2 node over a copy-on-read filter (its own name a json:{...} one) resolves in its
// file's directory (fuzz 4061474418). Where it fails, bdrv_make_absolute_filename fails for a
// relative name only (absolute and protocol names are taken as they are).
import { ROLE_PRIMARY } from './perm.js';
import type { Proc } from './proc.js';
import { QmpError } from '../errors/index.js';
import { hasProtocol } from './host-path.js';

/** The .bdrv_dirname that always refuses, and its text: nbd_dirname, quorum_dirname, blkverify_dirname. */
const NO_DIRNAME: Record<string, string> = {
  nbd: 'Cannot generate a base directory for NBD nodes',
  quorum: 'Cannot generate a base directory for quorum nodes',
  blkverify: 'Cannot generate a base directory for blkverify nodes',
};

/**
 * bdrv_dirname: the name whose directory is the node's (to pass to pathCombine as its base), or
 * QEMU's error where it fails.
 */
export function bdrvDirname(p: Proc, node: string): { base: string } | { error: string } {
  let cur = node;
  for (let i = 0; i < 10000; i++) {
    const n = p.node(cur);
    if (!n) return { error: `Node '${cur}' is ejected` };
    const refused = NO_DIRNAME[n.driver];
    if (refused) return { error: refused };
    const primary = p.childrenOf(cur).find((e) => e.role & ROLE_PRIMARY);
    if (!primary) {
      // bdrv_refresh_filename, then exact_filename: a leaf whose name is a json:{...} one has
      // none (null-co with options), and the generic text names its format
      if (n.filename && !n.filename.startsWith('json:')) return { base: n.filename };
      return { error: `Cannot generate a base directory for ${n.driver} nodes` };
    }
    cur = primary.child;
  }
  return { error: `Cannot generate a base directory for ${p.node(node)?.driver ?? ''} nodes` };
}

/** bdrv_dirname's base as a name, or undefined where it fails (callers that pass errp = NULL). */
export function dirnameBase(p: Proc, node: string): string | undefined {
  const d = bdrvDirname(p, node);
  return 'base' in d ? d.base : undefined;
}

/**
 * bdrv_make_absolute_filename(relative_to, filename, errp): "" for none, absolute and protocol
 * names as they are, else joined to bdrv_dirname's directory; throws bdrv_dirname's error.
 * Used by bdrv_get_full_backing_filename(bs, errp) in bdrv_open_backing_file.
 */
export function makeAbsoluteFilename(p: Proc, relativeTo: string, filename: string, combine: (base: string, name: string) => string): string {
  if (filename === '' || filename.startsWith('/') || hasProtocol(filename)) return filename;
  const d = bdrvDirname(p, relativeTo);
  if ('error' in d) throw new QmpError(d.error);
  return combine(d.base, filename);
}
