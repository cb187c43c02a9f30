// Just enough PNG decoding (Node's zlib, no dependency) to tell a real screenshot from a
// blank one: size from IHDR, then pixels through the five scanline filters.
import { inflateSync } from 'node:zlib';

export interface PngStats { width: number; height: number; nonWhite: number; dark: number; colored: number; total: number }

export function pngStats(buf: Buffer): PngStats {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let off = 8;
  let width = 0, height = 0, colorType = 0, depth = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]!; colorType = data[9]!; }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  if (depth !== 8 || (colorType !== 2 && colorType !== 6)) throw new Error(`unsupported PNG: depth ${depth} colour type ${colorType}`);
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  let prev = Buffer.alloc(stride);
  const s: PngStats = { width, height, nonWhite: 0, dark: 0, colored: 0, total: width * height };
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? line[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const add = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      line[x] = (line[x]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const r = line[x * bpp]!, g = line[x * bpp + 1]!, bl = line[x * bpp + 2]!;
      if (r < 245 || g < 245 || bl < 245) s.nonWhite++;
      if (r < 80 && g < 80 && bl < 80) s.dark++;
      if (Math.max(r, g, bl) - Math.min(r, g, bl) > 40) s.colored++;
    }
    prev = line;
  }
  return s;
}
