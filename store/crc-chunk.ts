// The CRCs of a chunk of stored values checked in one crc32 call (issue 15, replay). Every value
// starts with the crc32 of its UTF-8 bytes from char 8 on, as 8 lower-case hex digits
// (store/codec.ts). crc32 of a JS string converts it to UTF-8 in a fresh allocation per call,
// which costs more than the CRC itself on a ~500-byte value; here each value's bytes are written
// into one reused buffer, followed by its stored CRC (4 bytes, little-endian) and 4 fixed bytes,
// and the whole chunk is CRC-ed at once.
//
// Why one CRC checks every value: crc32(m || le32(crc32(m))) is the constant 0x2144DF1C for any
// m (the CRC's residue), and PAD is the 4 bytes that take a CRC of 0x2144DF1C back to 0, the
// CRC's starting value. So over m1 || s1 || PAD || m2 || s2 || PAD ... the CRC is 0 at the end
// of each value's segment, and at the end of the chunk, exactly when each value's stored CRC s
// is its own. A value whose stored CRC is wrong leaves a non-zero difference at the end of its
// segment, and what follows maps a difference to a difference one-to-one (a CRC is linear in its
// starting value, through an invertible map), so the chunk's CRC is not 0: one damaged value is
// always caught, as the per-value check catches it; two damaged values could only hide each
// other if their differences cancelled exactly (a chance of 2^-32 for random damage, the same
// odds a single damaged value has of matching its own CRC). When the chunk's CRC is not 0 the
// caller checks each value on its own (ChainReader.frame3At, frameProblem), which names the
// damaged record by its seq exactly as before: this check only says that nothing needs naming.
import { crc32 } from 'node:zlib';

/** The 4 bytes with crc32(PAD, 0x2144DF1C) === 0 (derived below, checked at load). */
const PAD = padBytes();

function padBytes(): Uint8Array {
  // The CRC-32 table; the register after 4 bytes is forced to ~0 from the residue's register by
  // walking the table backwards (each table entry's top byte is distinct).
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  const byTop = new Uint8Array(256);
  for (let i = 0; i < 256; i++) byTop[t[i]! >>> 24] = i;
  const idx = [0, 0, 0, 0];
  let want = 0xffffffff;
  for (let k = 3; k >= 0; k--) {
    const i = byTop[want >>> 24]!;
    idx[k] = i;
    want = ((want ^ t[i]!) << 8) >>> 0;
  }
  let reg = ~0x2144df1c >>> 0;
  const pad = new Uint8Array(4);
  for (let k = 0; k < 4; k++) {
    pad[k] = (reg ^ idx[k]!) & 0xff;
    reg = ((reg >>> 8) ^ t[idx[k]!]!) >>> 0;
  }
  if (crc32(pad, 0x2144df1c) !== 0) throw new Error('crc-chunk: pad bytes not derived');
  return pad;
}

/** Work counted (specs assert it): chunks checked at once, and those that were not sound. */
export const crcChunkWork = { chunks: 0, unsound: 0 };

let buf: Buffer | undefined;

/** Hex digit values by char code (lower-case only, as the writer's; -1: not one). */
const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = 10 + i;

/**
 * Does every value's stored CRC match the crc32 of its UTF-8 bytes from char 8 on? True: all do
 * (see above for the one exception's odds). False: one may not (or a value is too short or its
 * CRC is not 8 lower-case hex digits): check each on its own.
 *
 * Each value is written whole, its 8 hex digits over the 8 bytes before its own bytes, where they
 * are read and then overwritten by the previous value's CRC and PAD (one write per value, no
 * substring); the first value's digits are before the range CRC-ed.
 */
export function crcsSound(values: readonly string[]): boolean {
  crcChunkWork.chunks++;
  let b = (buf ??= Buffer.allocUnsafe(1 << 20));
  let crc = 0;
  let o = 8; // where the next value's bytes past its digits go: b[8, o) is CRC-ed, the last value's trailer written
  let prev = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // a UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair 4 for 2 units)
    const need = 3 * v.length + 8;
    if (o + need > b.length) {
      // the previous trailer ends the range CRC-ed so far; this value's digits start a new one
      if (prev >= 0) trailer(b, o - 8, prev);
      crc = crc32(b.subarray(8, o), crc);
      if (need + 8 > b.length) b = Buffer.allocUnsafe(need + 8); // this call's alone: the shared one stays 1 MiB
      o = 8;
      prev = -1;
    }
    if (v.length < 8) return unsound();
    const w = b.utf8Write(v, o - 8);
    let s = 0;
    for (let k = o - 8; k < o; k++) {
      const d = NIBBLE[b[k]!]!;
      if (d < 0) return unsound();
      s = s * 16 + d;
    }
    if (prev >= 0) trailer(b, o - 8, prev);
    prev = s;
    o += w;
  }
  if (prev >= 0) {
    trailer(b, o - 8, prev);
    crc = crc32(b.subarray(8, o), crc);
  }
  if (crc !== 0) crcChunkWork.unsound++;
  return crc === 0;
}

/** A value's stored CRC (little-endian) and PAD at b[at, at + 8). */
function trailer(b: Buffer, at: number, s: number): void {
  // byte by byte: Buffer.writeUInt32LE's argument checks cost more than the writes
  b[at] = s & 0xff;
  b[at + 1] = (s >>> 8) & 0xff;
  b[at + 2] = (s >>> 16) & 0xff;
  b[at + 3] = s >>> 24;
  b[at + 4] = PAD[0]!;
  b[at + 5] = PAD[1]!;
  b[at + 6] = PAD[2]!;
  b[at + 7] = PAD[3]!;
}

function unsound(): false {
  crcChunkWork.unsound++;
  return false;
}

declare module 'node:buffer' {
  interface Buffer {
    /** Node's own (undocumented) UTF-8 write of a whole string at `offset`, as Buffer.prototype.write without its argument checks; bytes written. */
    utf8Write(s: string, offset: number): number;
  }
}
