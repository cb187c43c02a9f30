// One abstract-level batch as the bytes of one JetStream message: the keys and values exactly as
// the level stores them (a record's CRC and hash chain travel unchanged, so it verifies the same
// wherever it is stored). Layout: "BGB1", u32 op count, then per op u8 kind (1 put, 2 del),
// u32 key length, key, and for a put u32 value length, value. Big-endian.
import { LogCorruptError } from '../../errors/index.js';

export type FrameOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

const MAGIC = Buffer.from('BGB1', 'latin1');

export function encodeFrame(ops: FrameOp[]): Buffer {
  let size = 8;
  for (const op of ops) size += 5 + op.key.length + (op.type === 'put' ? 4 + op.value.length : 0);
  const out = Buffer.allocUnsafe(size);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(ops.length, 4);
  let o = 8;
  for (const op of ops) {
    out[o++] = op.type === 'put' ? 1 : 2;
    out.writeUInt32BE(op.key.length, o);
    o += 4;
    o += op.key.copy(out, o);
    if (op.type === 'put') {
      out.writeUInt32BE(op.value.length, o);
      o += 4;
      o += op.value.copy(out, o);
    }
  }
  return out;
}

/** Decodes a frame; anything malformed is damage in the stream (`where` names the message). */
export function decodeFrame(buf: Uint8Array, where: string): FrameOp[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw new LogCorruptError(0, `${where}: ${why}`);
  };
  if (b.length < 8 || !b.subarray(0, 4).equals(MAGIC)) bad('not a blockgraph batch');
  const n = b.readUInt32BE(4);
  const ops: FrameOp[] = [];
  let o = 8;
  const take = (): Buffer => {
    if (o + 4 > b.length) bad('truncated');
    const len = b.readUInt32BE(o);
    o += 4;
    if (o + len > b.length) bad('truncated');
    const v = b.subarray(o, o + len);
    o += len;
    return v;
  };
  for (let i = 0; i < n; i++) {
    if (o >= b.length) bad('truncated');
    const kind = b[o++];
    if (kind === 1) {
      const key = take();
      ops.push({ type: 'put', key, value: take() });
    } else if (kind === 2) {
      ops.push({ type: 'del', key: take() });
    } else {
      bad(`unknown op kind ${kind}`);
    }
  }
  if (o !== b.length) bad('trailing bytes');
  return ops;
}
