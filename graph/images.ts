// The host's image catalogue: what `qemu-img create` would have left on disk, as far as
// the block graph can see it (format, virtual size, backing file named in the header).
import { BlockgraphError } from '../errors/index.js';
import type { Draft } from './draft.js';
import { HOST, type Image } from './types.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** qemu-img's size syntax: 512, 16M, 1G, 1.5G. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') return s;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtBKMGT]?)$/.exec(s.trim());
  if (!m) throw new BlockgraphError('BG_BAD_INPUT', `invalid image size '${s}'`);
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

export interface ImageSpecLike {
  file: string;
  format: string;
  size?: string | number;
  backing?: string;
  'backing-format'?: string;
}

export function createImage(d: Draft, spec: ImageSpecLike): Image {
  if (!spec.file || spec.file.includes('\0')) throw new BlockgraphError('BG_BAD_INPUT', 'image needs a file name');
  if (spec.format !== 'qcow2' && spec.format !== 'raw') throw new BlockgraphError('BG_BAD_INPUT', `unsupported image format '${spec.format}'`);
  if (spec.backing && spec.format !== 'qcow2') throw new BlockgraphError('BG_BAD_INPUT', `format '${spec.format}' has no backing file`);
  let size = spec.size !== undefined ? parseSize(spec.size) : undefined;
  if (size === undefined && spec.backing) size = d.get<Image>(HOST, 'images', spec.backing)?.size;
  if (size === undefined) throw new BlockgraphError('BG_BAD_INPUT', `image '${spec.file}' needs a size`);
  const img: Image = { file: spec.file, format: spec.format, size };
  if (spec.backing) {
    img.backing = spec.backing;
    img.backingFormat = spec['backing-format'] ?? d.get<Image>(HOST, 'images', spec.backing)?.format ?? 'raw';
  }
  d.put(HOST, 'images', spec.file, img);
  return img;
}
