// Relative file names the way QEMU resolves them (block.c, util/path.c, 7.2): a backing file
// named in a header is relative to the image naming it (bdrv_get_full_backing_filename ->
// path_combine: the directory part of the overlay's filename, up to its last '/', joined to the
// name, nothing normalised), and the host (the kernel at open(2), realpath(3) in
// bdrv_find_backing_image) resolves such a path one component at a time: every directory on the
// way must exist. The model's host is its image catalogue; a directory exists when an image lies
// below it. A path that leaves the image directory ('..' at its top) reaches nothing the model
// knows.
import { HOST, type Image } from './types.js';

interface ImageStore { d: { get<T>(name: string, coll: string, key: string): T | undefined; values<T>(name: string, coll: string): T[] } }

/** path_has_protocol: a ':' before any '/' */
export const hasProtocol = (name: string): boolean => /^[^/\\]*:/.test(name);

/** path_combine (util/cutils.c): `name` relative to the directory of `base` (absolute or protocol names as they are). */
export function pathCombine(base: string, name: string): string {
  if (name.startsWith('/') || hasProtocol(name) || hasProtocol(base)) return name;
  const slash = base.lastIndexOf('/');
  return slash < 0 ? name : base.slice(0, slash + 1) + name;
}

/** Whether `path` needs resolving at all (a plain name is its own key). */
const plain = (path: string): boolean => !path.includes('/');

/**
 * realpath(3) over the image catalogue: the catalogue key of the image `path` names, or
 * undefined (a missing directory on the way, a missing file, a path out of the image directory).
 */
export function hostResolve(s: ImageStore, path: string): string | undefined {
  if (plain(path)) return s.d.get<Image>(HOST, 'images', path) ? path : undefined;
  if (path.startsWith('/') || hasProtocol(path)) return undefined;
  const files = s.d.values<Image>(HOST, 'images').map((i) => i.file);
  const isDir = (parts: string[]) => parts.length === 0 || files.some((f) => f.startsWith(`${parts.join('/')}/`));
  const cur: string[] = [];
  const comps = path.split('/');
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    const last = i === comps.length - 1;
    if (c === '' || c === '.') {
      if (!isDir(cur)) return undefined;
      continue;
    }
    if (c === '..') {
      if (!isDir(cur) || cur.length === 0) return undefined;
      cur.pop();
      continue;
    }
    cur.push(c);
    if (!last && !isDir(cur)) return undefined;
  }
  const key = cur.join('/');
  return key && s.d.get<Image>(HOST, 'images', key) ? key : undefined;
}

/**
 * Whether the directory part of the relative `path` (up to its last '/') exists on the model's
 * host: every directory on the way holds an image (a plain name's directory is the image
 * directory itself; absolute and protocol names are outside what the model knows: taken as there).
 */
export function hostParentExists(s: ImageStore, path: string): boolean {
  if (plain(path) || path.startsWith('/') || hasProtocol(path)) return true;
  const files = s.d.values<Image>(HOST, 'images').map((i) => i.file);
  const cur: string[] = [];
  const comps = path.split('/').slice(0, -1);
  for (const c of comps) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (cur.length === 0) return false;
      cur.pop();
      continue;
    }
    cur.push(c);
    if (!files.some((f) => f.startsWith(`${cur.join('/')}/`))) return false;
  }
  return true;
}
