// Reading a LevelDB MANIFEST without LevelDB, for one fact: the next file number. LevelDB
// numbers every new file (table, WAL, MANIFEST) from VersionSet::next_file_number_, recovered
// from the MANIFEST (leveldb/db/version_set.cc VersionSet::Recover) and only ever increased
// (NewFileNumber, MarkFileNumberUsed). A file whose number is below it is therefore never
// created, truncated or written again by an open of that store: only read, or deleted once
// obsolete (DeleteObsoleteFiles). That is what makes a table safe to hard-link into a private
// copy (store/read-only.ts): the copy's LevelDB can unlink its name, never rewrite the inode.
// A table at or past the number (left by a crash mid-compaction, not in the MANIFEST) could be
// reused and opened with O_TRUNC, so it is copied.
//
// Formats: leveldb/db/log_format.h (32 KiB blocks of records: crc32c u32, length u16, type u8;
// FULL=1 FIRST=2 MIDDLE=3 LAST=4) and leveldb/db/version_edit.cc VersionEdit::DecodeFrom (tags
// as varints). Reading stops at the first fragment whose masked crc32c (log_writer.cc
// EmitPhysicalRecord) does not match, or the first edit that does not parse: a damaged MANIFEST
// only makes the answer unknown or too small, and too small means more files are copied
// instead of linked, never fewer.

import type { TableFile } from './leveldb-version.js';

const BLOCK = 32768;
const HEADER = 7;

/** The largest next-file-number any edit of the MANIFEST records, or undefined if none parses. */
export function manifestNextFileNumber(buf: Uint8Array): number | undefined {
  let next: number | undefined;
  for (const edit of logRecords(buf)) {
    const n = editNextFileNumber(edit);
    if (n === null) return next; // a torn or unknown edit: stop at what was read (never guess higher)
    if (n !== undefined && (next === undefined || n > next)) next = n;
  }
  return next;
}

/** The records of a LevelDB log file, reassembled from their fragments; stops at the first tear. */
export function* logRecords(buf: Uint8Array): Generator<Uint8Array> {
  let pos = 0;
  let parts: Uint8Array[] = [];
  while (pos + HEADER <= buf.length) {
    const left = BLOCK - (pos % BLOCK);
    if (left < HEADER) { pos += left; continue; } // block trailer (zero padding)
    const len = buf[pos + 4]! | (buf[pos + 5]! << 8);
    const type = buf[pos + 6]!;
    const start = pos + HEADER;
    if (type === 0 && len === 0) { pos += left; continue; } // preallocated zeroes: skip the block rest
    if (start + len > buf.length || HEADER + len > left) return;
    const frag = buf.subarray(start, start + len);
    const stored = (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
    if (stored !== maskedCrc(type, frag)) return;
    pos = start + len;
    if (type === 1) { parts = []; yield frag; }
    else if (type === 2) parts = [frag];
    else if (type === 3) { if (parts.length) parts.push(frag); }
    else if (type === 4) {
      if (!parts.length) continue;
      parts.push(frag);
      const total = parts.reduce((n, p) => n + p.length, 0);
      const out = new Uint8Array(total);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      parts = [];
      yield out;
    } else return;
  }
}

// crc32c (Castagnoli), as leveldb/util/crc32c.cc, over the type byte then the payload, masked
// as leveldb/util/crc32c.h Mask: rotate right 15, plus a constant.
const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function maskedCrc(type: number, data: Uint8Array): number {
  let c = 0xffffffff;
  c = CRC32C[(c ^ type) & 0xff]! ^ (c >>> 8);
  for (let i = 0; i < data.length; i++) c = CRC32C[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  c = (c ^ 0xffffffff) >>> 0;
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** An edit's next-file-number tag: the number, undefined when the edit has none, null when it does not parse. */
function editNextFileNumber(e: Uint8Array): number | undefined | null {
  const d = decodeEdit(e);
  return d === undefined ? null : d.nextFile;
}

/** One VersionEdit (leveldb/db/version_edit.cc DecodeFrom); undefined when it does not parse. */
export interface Edit {
  comparator?: string;
  logNumber?: number;
  prevLogNumber?: number;
  nextFile?: number;
  lastSequence?: number;
  deleted: Array<[number, number]>;
  added: TableFile[];
}

export function decodeEdit(e: Uint8Array): Edit | undefined {
  let pos = 0;
  const out: Edit = { deleted: [], added: [] };
  const varint = (): number | undefined => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < e.length; i++) {
      const b = e[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    return undefined;
  };
  const bytes = (): Uint8Array | undefined => {
    const n = varint();
    if (n === undefined || pos + n > e.length) return undefined;
    const s = e.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  while (pos < e.length) {
    switch (varint()) {
      case 1: { const s = bytes(); if (!s) return undefined; out.comparator = Buffer.from(s).toString('latin1'); break; }
      case 2: { const n = varint(); if (n === undefined) return undefined; out.logNumber = n; break; }
      case 3: { const n = varint(); if (n === undefined) return undefined; out.nextFile = n; break; }
      case 4: { const n = varint(); if (n === undefined) return undefined; out.lastSequence = n; break; }
      case 5: { if (varint() === undefined || !bytes()) return undefined; break; } // compact pointer: not kept
      case 6: { const l = varint(); const n = varint(); if (l === undefined || n === undefined) return undefined; out.deleted.push([l, n]); break; }
      case 7: {
        const level = varint(); const number = varint(); const size = varint(); const smallest = bytes(); const largest = bytes();
        if (level === undefined || number === undefined || size === undefined || !smallest || !largest) return undefined;
        out.added.push({ level, number, size, smallest: smallest.slice(), largest: largest.slice() });
        break;
      }
      case 9: { const n = varint(); if (n === undefined) return undefined; out.prevLogNumber = n; break; }
      default: return undefined;
    }
  }
  return out;
}

/** The number in a LevelDB file name (leveldb/db/filename.cc ParseFileName), or undefined. */
export function fileNumber(name: string): number | undefined {
  const m = /^(\d+)\.(log|ldb|sst|dbtmp)$/.exec(name) ?? /^MANIFEST-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
