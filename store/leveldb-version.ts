// A LevelDB MANIFEST read as the version it describes, and a MANIFEST written for a subset of
// its tables. A seek's read-only open (store/read-only-subset.ts) links only the tables the read
// needs into its private directory, behind a MANIFEST naming just those: LevelDB's open checks
// that every table of its version is present (leveldb/db/db_impl.cc DBImpl::Recover, "missing
// files"), so the version itself must be cut down, not only the links.
//
// Formats: the MANIFEST is a LevelDB log (leveldb/db/log_format.h, read by logRecords in
// leveldb-manifest.ts, written by writeLogRecords below as leveldb/db/log_writer.cc
// AddRecord/EmitPhysicalRecord do); each record is a VersionEdit (leveldb/db/version_edit.cc
// EncodeTo/DecodeFrom). The version is the edits applied in order (version_set.cc
// VersionSet::Builder::Apply, SaveTo; VersionSet::Recover for the scalar fields).
import { decodeEdit, logRecords, maskedCrc } from './leveldb-manifest.js';

export interface TableFile {
  level: number;
  number: number;
  size: number;
  /** Internal keys (user key + 8-byte sequence/type trailer), as the MANIFEST stores them. */
  smallest: Uint8Array;
  largest: Uint8Array;
}

export interface Version {
  comparator?: string;
  logNumber: number;
  prevLogNumber: number;
  nextFile: number;
  lastSequence: number;
  /** Live tables, by level then number. */
  files: TableFile[];
}

/** The user key of an internal key (leveldb/db/dbformat.h ExtractUserKey), as a latin1 string (bytewise order = string order). */
export function userKey(internal: Uint8Array): string {
  return Buffer.from(internal.buffer, internal.byteOffset, Math.max(0, internal.length - 8)).toString('latin1');
}

/**
 * The version a MANIFEST describes, or undefined when it cannot be read to the end of its
 * valid edits with the fields VersionSet::Recover requires (then the caller links everything).
 */
export function readVersion(buf: Uint8Array): Version | undefined {
  let comparator: string | undefined;
  let logNumber: number | undefined;
  let prevLogNumber = 0;
  let nextFile: number | undefined;
  let lastSequence: number | undefined;
  const live = new Map<number, TableFile>();
  for (const rec of logRecords(buf)) {
    const e = decodeEdit(rec);
    if (!e) return undefined; // a record that passed its crc but does not parse: not a MANIFEST we know
    if (e.comparator !== undefined) comparator = e.comparator;
    if (e.logNumber !== undefined) logNumber = e.logNumber;
    if (e.prevLogNumber !== undefined) prevLogNumber = e.prevLogNumber;
    if (e.nextFile !== undefined) nextFile = e.nextFile;
    if (e.lastSequence !== undefined) lastSequence = e.lastSequence;
    // Builder::Apply: deletions first, then additions (a file added and deleted in one edit stays).
    for (const [, n] of e.deleted) live.delete(n);
    for (const f of e.added) live.set(f.number, f);
  }
  if (logNumber === undefined || nextFile === undefined || lastSequence === undefined) return undefined;
  const files = [...live.values()].sort((a, b) => a.level - b.level || a.number - b.number);
  return { ...(comparator !== undefined ? { comparator } : {}), logNumber, prevLogNumber, nextFile, lastSequence, files };
}

/** A MANIFEST holding one edit: the version's scalars and `files` (VersionSet::WriteSnapshot's shape). */
export function encodeVersion(v: Version, files: TableFile[]): Buffer {
  const parts: number[] = [];
  const varint = (n: number) => {
    while (n >= 128) { parts.push((n % 128) | 128); n = Math.floor(n / 128); }
    parts.push(n);
  };
  const bytes = (b: Uint8Array) => { varint(b.length); for (const x of b) parts.push(x); };
  if (v.comparator !== undefined) { varint(1); bytes(Buffer.from(v.comparator, 'latin1')); }
  varint(2); varint(v.logNumber);
  varint(9); varint(v.prevLogNumber);
  varint(3); varint(v.nextFile);
  varint(4); varint(v.lastSequence);
  for (const f of files) { varint(7); varint(f.level); varint(f.number); varint(f.size); bytes(f.smallest); bytes(f.largest); }
  return writeLogRecords([Uint8Array.from(parts)]);
}

const BLOCK = 32768;
const HEADER = 7;

/** Records as a LevelDB log file (log_writer.cc AddRecord: fragments never straddle a 32 KiB block). */
export function writeLogRecords(records: Uint8Array[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (const rec of records) {
    let left = rec.length;
    let p = 0;
    let begin = true;
    do {
      const room = BLOCK - offset;
      if (room < HEADER) {
        if (room > 0) out.push(Buffer.alloc(room)); // trailer: zeroes
        offset = 0;
      }
      const avail = BLOCK - offset - HEADER;
      const len = Math.min(left, avail);
      const end = len === left;
      const type = begin && end ? 1 : begin ? 2 : end ? 4 : 3;
      const frag = rec.subarray(p, p + len);
      const h = Buffer.alloc(HEADER);
      h.writeUInt32LE(maskedCrc(type, frag), 0);
      h.writeUInt16LE(len, 4);
      h[6] = type;
      out.push(h, Buffer.from(frag));
      offset += HEADER + len;
      p += len;
      left -= len;
      begin = false;
    } while (left > 0);
  }
  return Buffer.concat(out);
}
