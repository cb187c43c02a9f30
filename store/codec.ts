// Record encoding for the log. One stored value per record:
//
//   [0..4)    crc32 (big-endian) of bytes [4..end)
//   [4]       format version (1)
//   [5..11)   seq, unsigned 48-bit big-endian (duplicates the key so a value moved to another key is caught)
//   [11..43)  hash     = sha256(prevHash + body), prevHash as its hex string ("" for seq 1)
//   [43..75)  prevHash (32 zero bytes stands for "")
//   [75..)    body: canonical JSON (sorted keys, no whitespace) of the envelope without prevHash/hash
//
// The binary header lets `verify` check CRC, contiguity and the whole chain without parsing
// any JSON, and lets `read` parse each body exactly once.
import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { BlockgraphError, LogCorruptError, SnapshotCorruptError } from '../errors/index.js';
import type { LogRecord, NewRecord, Snapshot } from './types.js';

export const FORMAT = 1;
export const HEADER = 75;
const OFF_SEQ = 5;
const OFF_HASH = 11;
const OFF_PREV = 43;
const ZERO32 = Buffer.alloc(32);
const MAX_SEQ = 2 ** 48 - 1;

// ---------------------------------------------------------------------------------------------
// Keys and sublevels

export const LOG = 'log';
export const SNAP = 'snap';
export const META = 'meta';
export const HEAD_KEY = 'head';

/** Fixed-width lower-case hex, so lexicographic key order is numeric seq order. */
export function seqKey(seq: number): string {
  return seq.toString(16).padStart(16, '0');
}

const KEY_RE = /^[0-9a-f]{16}$/;
/** NaN for a key that is not one of ours. */
export function keySeq(key: string): number {
  return KEY_RE.test(key) ? parseInt(key, 16) : NaN;
}

// Any AbstractLevel will do: the log never relies on backend specifics.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLevel = AbstractLevel<any, any, any>;
export type Sub = AbstractSublevel<AnyLevel, any, string, Buffer>;

/**
 * classic-level's `sync` write option (fsync before resolving). abstract-level's types do not
 * declare backend options, and other backends ignore unknown ones.
 */
export function syncOption(sync: boolean): object {
  return { sync };
}

export interface Sublevels {
  root: AnyLevel;
  log: Sub;
  snap: Sub;
  meta: Sub;
}

/**
 * The sublevels the log lives in. Used by EventLog and by specs that damage a store on purpose
 * (open the raw db, write through these, reopen the log).
 */
export function sublevelsOf(root: AnyLevel): Sublevels {
  const opts = { keyEncoding: 'utf8', valueEncoding: 'buffer' } as const;
  return {
    root,
    log: root.sublevel<string, Buffer>(LOG, opts) as Sub,
    snap: root.sublevel<string, Buffer>(SNAP, opts) as Sub,
    meta: root.sublevel<string, Buffer>(META, opts) as Sub,
  };
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON

function badInput(message: string): BlockgraphError {
  return new BlockgraphError('BG_BAD_INPUT', message);
}

/**
 * JSON with object keys sorted (by UTF-16 code unit) at every level, so that one value always
 * has one byte string and therefore one hash. Rejects what JSON would silently change
 * (NaN/Infinity -> null, bigint) rather than logging something other than what was given.
 */
export function canonicalJson(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw badInput(`not JSON-serialisable: ${v}`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          const e = v[i];
          s += e === undefined || typeof e === 'function' || typeof e === 'symbol' ? 'null' : canonicalJson(e);
        }
        return s + ']';
      }
      const o = v as Record<string, unknown>;
      if (typeof o.toJSON === 'function') return canonicalJson((o.toJSON as () => unknown)());
      const keys = Object.keys(o);
      if (keys.length > 1) keys.sort();
      let s = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const e = o[k];
        if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue;
        if (!first) s += ',';
        first = false;
        s += quoteKey(k) + ':' + canonicalJson(e);
      }
      return s + '}';
    }
    default:
      throw badInput(`not JSON-serialisable: ${typeof v}`);
  }
}

// Event payloads reuse a small vocabulary of keys; quoting them once saves a good share of encode.
// Bounded so that data-driven keys cannot grow it without limit.
const quotedKeys = new Map<string, string>();
function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 4096) quotedKeys.set(k, q);
  }
  return q;
}

// ---------------------------------------------------------------------------------------------
// Records

export interface Encoded {
  record: LogRecord;
  value: Buffer;
}

function checkEnvelope(rec: NewRecord): void {
  if (typeof rec !== 'object' || rec === null) throw badInput('record must be an object');
  if (typeof rec.stream !== 'string' || rec.stream === '') throw badInput('record.stream must be a non-empty string');
  if (typeof rec.type !== 'string' || rec.type === '') throw badInput('record.type must be a non-empty string');
  if (typeof rec.at !== 'string' || rec.at === '') throw badInput('record.at must be a non-empty string');
  if (rec.v !== undefined && !(Number.isInteger(rec.v) && rec.v >= 1)) throw badInput('record.v must be an integer >= 1');
  if (rec.txn !== undefined && typeof rec.txn !== 'string') throw badInput('record.txn must be a string');
  if (rec.causation !== undefined && typeof rec.causation !== 'string') throw badInput('record.causation must be a string');
  if (rec.data === undefined) throw badInput('record.data is required (use null for none)');
}

/** The canonical body: keys in sorted order, written out directly since the envelope is fixed. */
export function recordBody(seq: number, rec: NewRecord): string {
  let s = '{"at":' + JSON.stringify(rec.at);
  if (rec.causation !== undefined) s += ',"causation":' + JSON.stringify(rec.causation);
  s += ',"data":' + canonicalJson(rec.data) + ',"seq":' + seq + ',"stream":' + JSON.stringify(rec.stream);
  if (rec.txn !== undefined) s += ',"txn":' + JSON.stringify(rec.txn);
  return s + ',"type":' + JSON.stringify(rec.type) + ',"v":' + (rec.v ?? 1) + '}';
}

/** sha256(prevHash + body) as hex. The one-shot crypto.hash is about twice as fast as createHash here. */
export function hashOf(prevHash: string, body: string): string {
  return hash('sha256', prevHash + body, 'hex');
}

/**
 * Encodes record `seq` chained to `prevHash`. The returned record is parsed back from the
 * canonical body, so live subscribers see exactly what a later read (or replay) will see.
 * Specs call this with a wrong prevHash to forge a record whose CRC is valid but whose chain is not.
 */
export function encodeRecord(seq: number, rec: NewRecord, prevHash: string): Encoded {
  checkEnvelope(rec);
  if (!Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) throw badInput(`seq out of range: ${seq}`);
  const body = recordBody(seq, rec);
  const hashHex = hashOf(prevHash, body);
  const bodyLen = Buffer.byteLength(body);
  const value = Buffer.allocUnsafe(HEADER + bodyLen);
  value[4] = FORMAT;
  value.writeUIntBE(seq, OFF_SEQ, 6);
  value.write(hashHex, OFF_HASH, 32, 'hex');
  if (prevHash === '') ZERO32.copy(value, OFF_PREV);
  else if (value.write(prevHash, OFF_PREV, 32, 'hex') !== 32) throw badInput(`bad prevHash: ${prevHash}`);
  value.write(body, HEADER, bodyLen, 'utf8');
  value.writeUInt32BE(crc32(value.subarray(4)), 0);
  const record = JSON.parse(body) as LogRecord;
  record.prevHash = prevHash;
  record.hash = hashHex;
  return { record, value };
}

/**
 * Why a stored value is not a sound frame for `seq`, or undefined if it is (CRC, format, seq).
 * `byKey`: the value was found under key `seq` (verify); otherwise at position `seq` of a
 * values-only scan (read), where a higher stored seq means the records in between are missing.
 */
export function frameProblem(value: Uint8Array, seq: number, byKey = false): string | undefined {
  if (value.length < HEADER + 2) return `record too short (${value.length} bytes)`;
  const buf = asBuffer(value);
  if (crc32(buf.subarray(4)) !== buf.readUInt32BE(0)) return 'crc mismatch';
  if (buf[4] !== FORMAT) return `unknown record format ${buf[4]}`;
  const stored = buf.readUIntBE(OFF_SEQ, 6);
  if (stored !== seq) {
    if (byKey) return `record under key ${seq} holds seq ${stored}`;
    return stored > seq ? `record ${seq} is missing (next stored record is ${stored})` : `found record ${stored} where ${seq} belongs`;
  }
  return undefined;
}

export function headerHash(value: Uint8Array): Buffer {
  return asBuffer(value).subarray(OFF_HASH, OFF_PREV);
}

/**
 * Full check of one stored record against its predecessor's hash (hex, "" for none): frame,
 * back-link and the record's own hash. No JSON parse; one crc32 and one sha256.
 */
export function recordProblem(value: Uint8Array, seq: number, prevHashHex: string): string | undefined {
  const frame = frameProblem(value, seq, true);
  if (frame !== undefined) return frame;
  const buf = asBuffer(value);
  const storedPrev = buf.subarray(OFF_PREV, HEADER);
  const prevOk = prevHashHex === '' ? storedPrev.equals(ZERO32) : storedPrev.toString('hex') === prevHashHex;
  if (!prevOk) return `broken chain: prevHash does not match the hash of record ${seq - 1}`;
  if (hashOf(prevHashHex, buf.toString('utf8', HEADER)) !== buf.toString('hex', OFF_HASH, OFF_PREV)) {
    return 'hash mismatch: record body does not match its hash';
  }
  return undefined;
}

/**
 * Decodes a stored record, checking its CRC and that it is record `seq`; throws LogCorruptError(seq).
 * The hash itself is not recomputed here (that is verify's job); read checks the back-links.
 */
export function decodeRecord(value: Uint8Array, seq: number): LogRecord {
  const problem = frameProblem(value, seq);
  if (problem !== undefined) throw new LogCorruptError(seq, problem);
  const buf = asBuffer(value);
  let rec: LogRecord;
  try {
    rec = JSON.parse(buf.toString('utf8', HEADER)) as LogRecord;
  } catch {
    throw new LogCorruptError(seq, 'body is not JSON');
  }
  if (rec.seq !== seq) throw new LogCorruptError(seq, `body holds seq ${rec.seq}`);
  const prev = buf.subarray(OFF_PREV, HEADER);
  rec.prevHash = prev.equals(ZERO32) ? '' : prev.toString('hex');
  rec.hash = buf.toString('hex', OFF_HASH, OFF_PREV);
  return rec;
}

/**
 * Decodes a run of consecutive records (a read from some seq on). Each must pass its CRC, be the
 * next seq and link to the previous record's hash; the link is checked on the bytes, and the
 * previous hash string is reused, so a record costs one crc32, one JSON.parse and one hex encode.
 */
export class ChainReader {
  #expect: number;
  #prev: Buffer | undefined;
  #prevHash = '';

  constructor(fromSeq: number) {
    this.#expect = fromSeq;
  }

  /** The seq the next value must hold. */
  get expect(): number {
    return this.#expect;
  }

  next(value: Uint8Array): LogRecord {
    const seq = this.#expect;
    const problem = frameProblem(value, seq);
    if (problem !== undefined) throw new LogCorruptError(seq, problem);
    const buf = asBuffer(value);
    let prevHash: string;
    const prev = this.#prev;
    if (prev !== undefined) {
      if (buf.compare(prev, OFF_HASH, OFF_PREV, OFF_PREV, HEADER) !== 0) {
        throw new LogCorruptError(seq, `broken chain: prevHash does not match the hash of record ${seq - 1}`);
      }
      prevHash = this.#prevHash;
    } else {
      prevHash = buf.compare(ZERO32, 0, 32, OFF_PREV, HEADER) === 0 ? '' : buf.toString('hex', OFF_PREV, HEADER);
    }
    let rec: LogRecord;
    try {
      rec = JSON.parse(buf.toString('utf8', HEADER)) as LogRecord;
    } catch {
      throw new LogCorruptError(seq, 'body is not JSON');
    }
    if (rec.seq !== seq) throw new LogCorruptError(seq, `body holds seq ${rec.seq}`);
    rec.prevHash = prevHash;
    rec.hash = this.#prevHash = buf.toString('hex', OFF_HASH, OFF_PREV);
    this.#prev = buf;
    this.#expect = seq + 1;
    return rec;
  }
}

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Small framed JSON values (snapshots, head meta): crc32 | format | canonical JSON

function encodeFramed(v: unknown): Buffer {
  const body = canonicalJson(v);
  const len = Buffer.byteLength(body);
  const buf = Buffer.allocUnsafe(5 + len);
  buf[4] = FORMAT;
  buf.write(body, 5, len, 'utf8');
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0);
  return buf;
}

/** The parsed value, or a reason string when the frame is damaged. */
function decodeFramed(value: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (value.length < 6) return { ok: false, reason: `too short (${value.length} bytes)` };
  const buf = asBuffer(value);
  if (crc32(buf.subarray(4)) !== buf.readUInt32BE(0)) return { ok: false, reason: 'crc mismatch' };
  if (buf[4] !== FORMAT) return { ok: false, reason: `unknown format ${buf[4]}` };
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8', 5)) };
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
}

export interface HeadMeta {
  seq: number;
  hash: string;
}

export function encodeMeta(m: HeadMeta): Buffer {
  return encodeFramed({ seq: m.seq, hash: m.hash });
}

export function decodeMeta(value: Uint8Array): HeadMeta | string {
  const d = decodeFramed(value);
  if (!d.ok) return d.reason;
  const m = d.value as Partial<HeadMeta>;
  if (typeof m?.seq !== 'number' || typeof m.hash !== 'string') return 'malformed head meta';
  return { seq: m.seq, hash: m.hash };
}

export function encodeSnapshot(s: Snapshot): Buffer {
  return encodeFramed({ seq: s.seq, hash: s.hash, stateHash: s.stateHash, state: s.state });
}

/** Throws SnapshotCorruptError(keySeq) when the stored snapshot is damaged or misfiled. */
export function decodeSnapshot<S>(value: Uint8Array, seq: number): Snapshot<S> {
  const d = decodeFramed(value);
  if (!d.ok) throw new SnapshotCorruptError(seq, d.reason);
  const s = d.value as Partial<Snapshot<S>>;
  if (typeof s?.seq !== 'number' || typeof s.hash !== 'string' || typeof s.stateHash !== 'string' || !('state' in s)) {
    throw new SnapshotCorruptError(seq, 'malformed snapshot');
  }
  if (s.seq !== seq) throw new SnapshotCorruptError(seq, `stored under seq ${seq} but holds seq ${s.seq}`);
  return s as Snapshot<S>;
}
