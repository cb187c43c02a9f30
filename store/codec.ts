// Record encoding for the log. One stored value per record, all text (ASCII header + UTF-8 body).
// Two frames; a record's version decides which one it is written in (v >= 2: frame 2), and
// both are read, so logs written before frame 2 open and replay unchanged.
//
// Frame 1 (records of version 1):
//   [0..8)      crc32 of chars [8..end) (of their UTF-8 bytes), 8 lower-case hex digits
//   [8]         format version '1'
//   [9..21)     seq, 12 hex digits (repeats the key, so a value moved to another key is caught)
//   [21..85)    hash     = sha256(prevHash + body) in hex, prevHash as its hex string ("" for seq 1)
//   [85..149)   prevHash in hex; 64 zeros stand for "" (seq 1)
//   [149..)     body: canonical JSON (sorted keys, no whitespace) of the envelope without prevHash/hash
//
// Frame 2 (records of version 2 and later; issue 15: a third of frame 1's bytes per record):
//   [0..8)      crc32 as in frame 1
//   [8]         '2'
//   [9..21)     seq, 12 hex digits
//   [21..85)    hash     = sha256(prevHash + seq (the 12 hex digits) + body) in hex
//   [85..101)   link: the first 16 hex digits of prevHash (16 zeros for seq 1). Sequential reads
//               know the previous record's full hash, so 64 bits tell a spliced or misplaced
//               record; `verify` recomputes the full hash over the full prevHash as before.
//   [101..)     body: canonical JSON array [type, v, stream, at, txn|null, causation|null, data]:
//               the envelope by position instead of by name. In txn.step and txn.compensated
//               records the changes are stored without duplicate images (store/image-delta.ts):
//               a create keeps its after-image, a delete its before-image, an update its
//               before-image and a field patch; decoding gives back the full before/after pairs.
//               Version 3 of txn.step / txn.compensated (issue 15): the same, each image also
//               stored without the members at its collection's usual value (store/image-template.ts);
//               version 3 of txn.decided: its data templated in the same way (a commit with no
//               events and an empty return stores only its end), or [data] where it cannot be.
//               Version 3 of txn.begun (format version 4, issue 15): a whole transaction (its
//               steps and its decision with its end, events/whole.ts) in one record, stored by
//               position with each image once (store/whole-txn.ts).
//
// Frame 3 (txn.begun version 4: format version 5, issue 15 replay): frame 2's header, then the
// body in two JSON texts, so that replay parses only the first:
//   [0..101)    as frame 2 ('3' at [8]); hash = sha256(prevHash + seq (12 hex) + [101..end))
//   [101..109)  R: the redo part's length in characters, 8 hex digits
//   [109..109+R) redo: canonical JSON [type, v, txn|null, redo]: what the fold reads (a whole
//               transaction's after-images and patches in step order, its decision's kind;
//               store/whole-split.ts), type and txn first at a fixed offset
//   [109+R..)   undo: canonical JSON [stream, at, causation|null, undo]: the rest (before-images,
//               args, plan, step names, the decision in full)
// The CRC covers the whole value, as in the other frames. The full decoder joins both parts
// into the record version 3 decodes to (the same data: events/upcast.ts).
//
// Frame 4 (txn.begun version 5: format version 6, issue 15 replay): frame 3 with the redo
// part's skip table between the redo length and the redo part:
//   [0..109)    as frame 3 ('4' at [8]); the same hash over [101..end)
//   [109..113)  K: the table's entries, 4 hex digits
//   [113..T)    T = 113 + 4K: each image's, patch's and removed-field list's length in the redo
//               part, 4 hex digits each, in order (store/redo-scan.ts skipTable: ffff for one too
//               long to give; no entries where the scanner does not read the redo part)
//   [T..T+R)    redo, [T+R..) undo: as frame 3
// Replay's lazy fold skips each image by its length instead of scanning it. The table is derived
// from the redo part alone: the full decoder recomputes it and a record whose table is not its
// redo part's does not decode (`verify` names it).
//
// Text, not binary: classic-level hands out strings at less than half the cost of Buffers, and
// the fixed-width header lets `verify` check CRC, contiguity and the whole chain without
// parsing JSON, and `read` parse each body exactly once.
import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { BlockgraphError, LogCorruptError, SnapshotCorruptError } from '../errors/index.js';
import { compactChanges, expandChanges, hasImages } from './image-delta.js';
import { compactImage, DECIDED_V3, expandImage, templates } from './image-template.js';
import { compactWhole, expandWhole } from './whole-txn.js';
import { decisionCode, joinWhole, splitWhole } from './whole-split.js';
import { skipTable } from './redo-scan.js';
import type { LogRecord, NewRecord, Snapshot } from './types.js';
import { quoteKey } from './quote-key.js';
import { sortKeys } from './sort-keys.js';

export const FORMAT = '1';
export const FORMAT2 = '2';
export const FORMAT3 = '3';
export const FORMAT4 = '4';
/** Header length of frame 1 (the body starts here). */
export const HEADER = 149;
/** Header length of frame 2. */
export const HEADER2 = 101;
/** Header length of frame 3 (frame 2's and the redo part's length); the redo part starts here. */
export const HEADER3 = 109;
/** Where frame 4's skip table starts (after its entry count). */
export const TABLE4 = 113;
const LINK = 16;
const NO_LINK = '0'.repeat(LINK);
const OFF_FORMAT = 8;
const OFF_SEQ = 9;
const OFF_HASH = 21;
const OFF_PREV = 85;
const NO_HASH = '0'.repeat(64);
const HASH_RE = /^[0-9a-f]{64}$/;
const MAX_SEQ = 2 ** 48 - 1;

// ---------------------------------------------------------------------------------------------
// Keys and sublevels

export const LOG = 'log';
export const SNAP = 'snap';
export const META = 'meta';
/** The secondary index (events/node-keys.ts): "<key>\0<seqKey>" -> "", written with the records. */
export const NIDX = 'nidx';
/** Meta entry: the seq range the index covers, and the hash of its last record. */
export const NIDX_KEY = 'nidx';
export const HEAD_KEY = 'head';
/** Meta entry: the intent slot (engine/intent.ts), the request of a command whose record may not be written yet. */
export const INTENT_KEY = 'intent';

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
export type Sub = AbstractSublevel<AnyLevel, any, string, string>;

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
  /**
   * The hot paths (append, read, verify) address the top-level database with prefixed keys
   * instead of going through sublevel objects, which cost about as much per record as decoding it.
   */
  top: AnyLevel;
  logPrefix: string;
  /** Upper bound (exclusive) of the log's keys in `top`. */
  logEnd: string;
  metaHeadKey: string;
  nidxPrefix: string;
  metaNidxKey: string;
}

/** Per-operation encodings on `top`, whatever its defaults. */
export const TEXT = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const;

/**
 * The sublevels the log lives in. Used by EventLog and by specs that damage a store on purpose
 * (open the raw db, write through these, reopen the log).
 */
export function sublevelsOf(root: AnyLevel): Sublevels {
  const log = root.sublevel<string, string>(LOG, TEXT) as Sub;
  const meta = root.sublevel<string, string>(META, TEXT) as Sub;
  const p = log.prefix;
  return {
    root,
    log,
    snap: root.sublevel<string, string>(SNAP, TEXT) as Sub,
    meta,
    top: log.db as AnyLevel,
    logPrefix: p,
    logEnd: p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1),
    metaHeadKey: meta.prefix + HEAD_KEY,
    nidxPrefix: root.sublevel<string, string>(NIDX, TEXT).prefix,
    metaNidxKey: meta.prefix + NIDX_KEY,
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
  encodeWork.texts++;
  return canon(v);
}

/**
 * Encoding work, counted (specs assert it per command, never time it): values written as
 * canonical JSON (a top-level canonicalJson call each, whatever its size).
 */
export const encodeWork = { texts: 0 };

function canon(v: unknown): string {
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
          s += e === undefined || typeof e === 'function' || typeof e === 'symbol' ? 'null' : canon(e);
        }
        return s + ']';
      }
      const o = v as Record<string, unknown>;
      if (typeof o.toJSON === 'function') return canon((o.toJSON as () => unknown)());
      const keys = Object.keys(o);
      if (keys.length > 1) sortKeys(keys);
      let s = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const e = o[k];
        if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue;
        if (!first) s += ',';
        first = false;
        s += quoteKey(k) + ':' + canon(e);
      }
      return s + '}';
    }
    default:
      throw badInput(`not JSON-serialisable: ${typeof v}`);
  }
}


// ---------------------------------------------------------------------------------------------
// Records

export interface Encoded {
  record: LogRecord;
  value: string;
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

/** Frame 1's canonical body: keys in sorted order, written out directly since the envelope is fixed. */
export function recordBody(seq: number, rec: NewRecord): string {
  let s = '{"at":' + JSON.stringify(rec.at);
  if (rec.causation !== undefined) s += ',"causation":' + JSON.stringify(rec.causation);
  s += ',"data":' + canonicalJson(rec.data) + ',"seq":' + seq + ',"stream":' + JSON.stringify(rec.stream);
  if (rec.txn !== undefined) s += ',"txn":' + JSON.stringify(rec.txn);
  return s + ',"type":' + JSON.stringify(rec.type) + ',"v":' + (rec.v ?? 1) + '}';
}

/** The frame a record of this type and version is written in. */
export function frameOf(rec: Pick<NewRecord, 'type' | 'v'>): '1' | '2' | '3' | '4' {
  const v = rec.v ?? 1;
  if (v >= 5 && rec.type === 'txn.begun') return FORMAT4; // format version 6
  if (v === 4 && rec.type === 'txn.begun') return FORMAT3; // format version 5
  return v >= 2 ? FORMAT2 : FORMAT;
}

/**
 * Frame 3's redo and undo texts (store/whole-split.ts): a txn.begun of version 4, its data in
 * version 4's stored form (compactWhole) split in two.
 */
export function recordParts3(rec: NewRecord): { redo: string; undo: string } {
  const d = rec.data as { decided?: unknown } | null;
  const { redo, undo } = splitWhole(compactWhole(rec.data), typeof d === 'object' && d !== null ? d.decided : undefined);
  return {
    redo: '[' + JSON.stringify(rec.type) + ',' + (rec.v ?? 1) + ',' + (rec.txn === undefined ? 'null' : JSON.stringify(rec.txn)) + ',' + canonicalJson(redo) + ']',
    undo: '[' + JSON.stringify(rec.stream) + ',' + JSON.stringify(rec.at) + ',' + (rec.causation === undefined ? 'null' : JSON.stringify(rec.causation))
      + ',' + canonicalJson(undo) + ']',
  };
}

/** What frame 3 hashes after the seq and stores after the link: the redo length, redo, undo. */
function body3(p: { redo: string; undo: string }): string {
  return hex8(p.redo.length) + p.redo + p.undo;
}

/** Frame 4's: the redo length, the redo part's skip table, redo, undo. */
function body4(p: { redo: string; undo: string }, table: string): string {
  return hex8(p.redo.length) + table + p.redo + p.undo;
}

/**
 * Frame 2's body: [type, v, stream, at, txn, causation, data], data canonical, the changes of a
 * step or compensation without duplicate images.
 */
export function recordBody2(rec: NewRecord): string {
  const v3 = (rec.v ?? 1) >= 3;
  const data = hasImages(rec.type) ? compactData(rec.data, v3)
    : v3 && rec.type === 'txn.decided' ? (templates(DECIDED_V3, rec.data) ? compactImage(DECIDED_V3, rec.data) : [rec.data])
    : v3 && rec.type === 'txn.begun' ? compactWhole(rec.data) // format version 4: a whole transaction (store/whole-txn.ts)
    : rec.data;
  return '[' + JSON.stringify(rec.type) + ',' + (rec.v ?? 1) + ',' + JSON.stringify(rec.stream) + ',' + JSON.stringify(rec.at)
    + ',' + (rec.txn === undefined ? 'null' : JSON.stringify(rec.txn))
    + ',' + (rec.causation === undefined ? 'null' : JSON.stringify(rec.causation))
    + ',' + canonicalJson(data) + ']';
}

/** `templated`: records of version 3 store images without their template's defaults (store/image-template.ts). */
function compactData(data: unknown, templated: boolean): unknown {
  const d = data as { changes?: unknown } | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.changes)) return data;
  return { ...d, changes: compactChanges(d.changes, templated) };
}

/** sha256(prevHash + body) as hex. The one-shot crypto.hash is about twice as fast as createHash here. */
export function hashOf(prevHash: string, body: string): string {
  return hash('sha256', prevHash + body, 'hex');
}

/**
 * The hash record `seq` has in its frame (by its version), chained to `prevHash`: what a fixture
 * or a shipped copy recomputes from the record alone.
 */
export function recordHash(seq: number, rec: NewRecord, prevHash: string): string {
  const frame = frameOf(rec);
  if (frame === FORMAT4) {
    const p = recordParts3(rec);
    return hashOf(prevHash, hex12(seq) + body4(p, skipTable(p.redo)));
  }
  if (frame === FORMAT3) return hashOf(prevHash, hex12(seq) + body3(recordParts3(rec)));
  return frame === FORMAT2 ? hashOf(prevHash, hex12(seq) + recordBody2(rec)) : hashOf(prevHash, recordBody(seq, rec));
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** The number the lower-case hex digits v[from, to) spell, or -1 for any other character (as hex8 / hex12 write them). */
function hexAt(v: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}
const hex12 = (n: number): string => n.toString(16).padStart(12, '0');

/**
 * Encodes record `seq` chained to `prevHash`, in the frame of its version. The returned record
 * is parsed back from the stored body, so live subscribers see exactly what a later read (or
 * replay) will see. Specs call this with a wrong prevHash to forge a record whose CRC is valid
 * but whose chain is not.
 */
export function encodeRecord(seq: number, rec: NewRecord, prevHash: string): Encoded {
  const f = encodeFrame(seq, rec, prevHash);
  return { record: f.record(), value: f.value };
}

/**
 * encodeRecord in two halves: the stored value and its hash now, the record parsed back from
 * the body when `record()` is called (once). A durable append hands the value to LevelDB first
 * and parses the record back while the write and its fsync run (store/event-log.ts appendNow,
 * issue 15): the parse-back is off the command's path. `record()` throws BG_BAD_INPUT for a
 * body that does not round-trip, as encodeRecord does.
 */
export function encodeFrame(seq: number, rec: NewRecord, prevHash: string): { value: string; hash: string; record: () => LogRecord; raw: () => RawRecord } {
  checkEnvelope(rec);
  if (!Number.isInteger(seq) || seq < 1 || seq > MAX_SEQ) throw badInput(`seq out of range: ${seq}`);
  if (prevHash !== '' && !HASH_RE.test(prevHash)) throw badInput(`bad prevHash: ${prevHash}`);
  const frame = frameOf(rec);
  if (frame === FORMAT3 || frame === FORMAT4) {
    const parts = recordParts3(rec);
    const seqHex = hex12(seq);
    const table = frame === FORMAT4 ? skipTable(parts.redo) : '';
    const body = frame === FORMAT4 ? body4(parts, table) : body3(parts);
    const h = hashOf(prevHash, seqHex + body);
    const rest = frame + seqHex + h + (prevHash === '' ? NO_LINK : prevHash.substring(0, LINK)) + body;
    const redoAt = HEADER3 + table.length;
    const value = hex8(crc32(rest)) + rest;
    return {
      value, hash: h, record: () => {
        const redo = parseRedo3(parts.redo);
        const record = redo === undefined ? undefined : recordFromParts3(redo, parts.undo, seq, prevHash, h, frame === FORMAT4 ? table : undefined, parts.redo);
        if (record === undefined) throw badInput('record does not round-trip');
        return record;
      },
      // as a reader parses the stored value (ChainReader): the redo part alone, for a fold of
      // the stored form (replay/fold.ts foldRaw); the undo part stays text
      raw: () => {
        const redo = parseRedo3(parts.redo);
        if (redo === undefined) throw badInput('record does not round-trip');
        return { seq, hash: h, prevHash, redo, value, redoAt, undoAt: redoAt + parts.redo.length };
      },
    };
  }
  if (frame === FORMAT2) {
    const body = recordBody2(rec);
    const seqHex = hex12(seq);
    const h = hashOf(prevHash, seqHex + body);
    const rest = FORMAT2 + seqHex + h + (prevHash === '' ? NO_LINK : prevHash.substring(0, LINK)) + body;
    const record = () => {
      const r = recordFromBody2(body, seq, prevHash, h);
      if (r === undefined) throw badInput('record does not round-trip');
      return r;
    };
    return { value: hex8(crc32(rest)) + rest, hash: h, record, raw: () => ({ seq, hash: h, prevHash, record: record() }) };
  }
  const body = recordBody(seq, rec);
  const h = hashOf(prevHash, body);
  const rest = FORMAT + hex12(seq) + h + (prevHash === '' ? NO_HASH : prevHash) + body;
  const record = () => {
    const r = JSON.parse(body) as LogRecord;
    r.prevHash = prevHash;
    r.hash = h;
    return r;
  };
  return { value: hex8(crc32(rest)) + rest, hash: h, record, raw: () => ({ seq, hash: h, prevHash, record: record() }) };
}

/**
 * A frame-2 body as a record, in the same shape (and key order) a frame-1 body parses to, so
 * that nothing above the codec can tell the frames apart. Undefined when it is not a sound body.
 */
/**
 * Decode work, counted (specs assert how much a replay parses, never how long it takes): bodies
 * handed to JSON.parse and their length in characters; values whose CRC frame3At checked on its
 * own (not with its chunk's, store/crc-chunk.ts).
 */
export const decodeWork = { parses: 0, chars: 0, crcs: 0 };

/** JSON.parse of a stored text, counted in decodeWork; undefined when it is not JSON. */
function countedParse(text: string): unknown {
  decodeWork.parses++;
  decodeWork.chars += text.length;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function recordFromBody2(body: string, seq: number, prevHash: string, h: string): LogRecord | undefined {
  const a = parseBody2(body);
  return a === undefined ? undefined : recordFromArray2(a, seq, prevHash, h);
}

/** JSON.parse of a frame-2 body (counted), undefined when it is not the 7-member envelope. */
function parseBody2(body: string): Body2 | undefined {
  const a = countedParse(body);
  if (!Array.isArray(a) || a.length !== 7) return undefined;
  const [type, v, stream, at, txn, causation] = a as unknown[];
  if (typeof type !== 'string' || typeof v !== 'number' || typeof stream !== 'string' || typeof at !== 'string') return undefined;
  if ((txn !== null && typeof txn !== 'string') || (causation !== null && typeof causation !== 'string')) return undefined;
  return a as Body2;
}

/**
 * A parsed frame-2 body: [type, v, stream, at, txn|null, causation|null, data as stored]. The
 * data is still in its stored form (templated images, a whole transaction by position).
 */
export type Body2 = [type: string, v: number, stream: string, at: string, txn: string | null, causation: string | null, data: unknown];

/**
 * A parsed redo part of frame 3: [type, v, txn|null, redo]. The redo is still in its stored form
 * (store/whole-split.ts), null where the record has none.
 */
export type Redo3 = [type: string, v: number, txn: string | null, redo: unknown];

/** JSON.parse of a frame-3 redo text (counted), undefined when it is not the 4-member array. */
function parseRedo3(text: string): Redo3 | undefined {
  const a = countedParse(text);
  if (!Array.isArray(a) || a.length !== 4) return undefined;
  const [type, v, txn] = a as unknown[];
  if (typeof type !== 'string' || typeof v !== 'number' || (txn !== null && typeof txn !== 'string')) return undefined;
  return a as Redo3;
}

/**
 * The envelope members a decoded record ends with, after `at`, `causation` and `data`: the key
 * order every frame decodes to (the order version 1 wrote and hashes over).
 */
function withEnvelope(rec: LogRecord, seq: number, stream: string, txn: string | null, type: string, v: number, prevHash: string, h: string): LogRecord {
  rec.seq = seq;
  rec.stream = stream;
  if (txn !== null) rec.txn = txn;
  rec.type = type;
  rec.v = v;
  rec.prevHash = prevHash;
  rec.hash = h;
  return rec;
}

/**
 * The record both parts of a frame-3 body stand for (`redo` parsed, and spent; `undo` the undo
 * text): the same record, key order too, as version 3 of the same data decodes to.
 */
function recordFromParts3(redo: Redo3, undoText: string, seq: number, prevHash: string, h: string, table: string | undefined, redoText: string): LogRecord | undefined {
  const u = countedParse(undoText);
  if (!Array.isArray(u) || u.length !== 4) return undefined;
  const [stream, at, causation, undo] = u as unknown[];
  if (typeof stream !== 'string' || typeof at !== 'string' || (causation !== null && typeof causation !== 'string')) return undefined;
  const [type, v, txn, r] = redo;
  if (type !== 'txn.begun') return undefined; // the only type frames 3 and 4 hold
  // the frame is the version's (frameOf): what recordHash recomputes from the record alone
  if (frameOf({ type, v }) !== (table === undefined ? FORMAT3 : FORMAT4)) return undefined;
  // frame 4: the skip table must be the one its redo part gives (replay's lazy fold trusts it)
  if (table !== undefined && table !== skipTable(redoText)) return undefined;
  const rec = { at } as LogRecord;
  if (causation !== null) rec.causation = causation;
  try {
    rec.data = expandWhole(joinWhole(r, undo));
  } catch {
    return undefined; // parts that do not join, or a malformed image
  }
  // the redo part's decision code is what the fold trusts: it must be the decision's
  if (r !== null && (r as unknown[])[0] !== decisionCode((rec.data as { decided?: unknown }).decided)) return undefined;
  return withEnvelope(rec, seq, stream, txn, type, v, prevHash, h);
}

/** The record a parsed body stands for: its data expanded (in place: `a` is spent). */
function recordFromArray2(a: Body2, seq: number, prevHash: string, h: string): LogRecord | undefined {
  const [type, v, stream, at, txn, causation, data] = a;
  const rec = { at } as LogRecord;
  if (causation !== null) rec.causation = causation;
  try {
    if (hasImages(type)) rec.data = expandData(data);
    else if (type === 'txn.decided' && v >= 3) {
      // version 3: a templated decision, or [data] for one the template cannot express
      if (Array.isArray(data)) {
        if (data.length !== 1) return undefined;
        rec.data = data[0];
      } else {
        const d = expandImage(DECIDED_V3, data);
        if (d === undefined) return undefined;
        rec.data = d;
      }
    } else if (type === 'txn.begun' && v >= 3) rec.data = expandWhole(data);
    else rec.data = data;
  } catch {
    return undefined; // a malformed templated image
  }
  return withEnvelope(rec, seq, stream, txn, type, v, prevHash, h);
}

/**
 * A record checked (CRC, seq, link) and parsed but not yet expanded (ChainReader.nextRaw): a
 * frame-2 record keeps its parsed body, data in stored form, for a fold that reads the stored
 * form directly (replay/fold.ts foldRaw: issue 15, no image expanded that the fold does not
 * need); a frame-1 record is decoded at once. `expandRaw` gives the full record.
 */
export interface RawRecord {
  seq: number;
  hash: string;
  prevHash: string;
  body?: Body2;
  /** Frames 3 and 4: the redo part parsed; the undo part is `value` from `undoAt`, not parsed yet. */
  redo?: Redo3;
  value?: string;
  /** Where the redo part starts in `value` (after frame 4's skip table). */
  redoAt?: number;
  undoAt?: number;
  record?: LogRecord;
}

/** The full record of a raw one (expanding its data in place: call once). Throws LogCorruptError(seq). */
export function expandRaw(r: RawRecord): LogRecord {
  if (r.record !== undefined) return r.record;
  const rec = r.redo !== undefined
    ? recordFromParts3(r.redo, r.value!.substring(r.undoAt!), r.seq, r.prevHash, r.hash, ...tableOf(r.value!, r.redoAt!, r.undoAt!))
    : recordFromArray2(r.body!, r.seq, r.prevHash, r.hash);
  if (rec === undefined) throw new LogCorruptError(r.seq, 'body is not a record');
  r.record = rec;
  r.body = r.redo = r.value = undefined;
  return rec;
}

/** A frame-4 value's skip table and redo text (for recordFromParts3's check); none in frame 3. */
function tableOf(value: string, redoAt: number, undoAt: number): [string | undefined, string] {
  return value[OFF_FORMAT] === FORMAT4 ? [value.substring(HEADER3, redoAt), value.substring(redoAt, undoAt)] : [undefined, ''];
}

function expandData(data: unknown): unknown {
  const d = data as { changes?: unknown } | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.changes)) return data;
  d.changes = expandChanges(d.changes);
  return d;
}

/** Where a frame's body starts, or undefined for an unknown frame. */
function bodyStart(value: string): number | undefined {
  const f = value[OFF_FORMAT];
  return f === FORMAT2 ? HEADER2 : f === FORMAT3 || f === FORMAT4 ? HEADER3 : f === FORMAT ? HEADER : undefined;
}

/** Set by undoStart: where the redo part starts (HEADER3 in frame 3, after the skip table in frame 4). */
let redoStart = HEADER3;

/**
 * Where a sound frame-3 or frame-4 value's undo part starts (its redo part is [redoStart,
 * that)), or undefined. The skip table's entries are not checked here (the scanner reads them).
 */
function undoStart(value: string): number | undefined {
  // 8 lower-case hex digits (a char loop: a RegExp test cost more than the rest of the header check)
  let len = 0;
  for (let i = HEADER2; i < HEADER3; i++) {
    const c = value.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return undefined;
    len = len * 16 + d;
  }
  let at = HEADER3;
  if (value.charCodeAt(OFF_FORMAT) === 52 /* '4' */) {
    const k = value.length >= TABLE4 ? hexAt(value, HEADER3, TABLE4) : -1;
    if (k < 0) return undefined;
    at = TABLE4 + 4 * k;
  }
  redoStart = at;
  const end = at + len;
  return end + 2 <= value.length && end >= at + 2 ? end : undefined;
}

/**
 * Why a stored value is not a sound frame for `seq`, or undefined if it is (CRC, format, seq).
 * `byKey`: the value was found under key `seq` (verify); otherwise at position `seq` of a
 * values-only scan (read), where a higher stored seq means the records in between are missing.
 */
export function frameProblem(value: string, seq: number, byKey = false): string | undefined {
  if (typeof value !== 'string' || value.length < HEADER2 + 2) return `record too short (${value?.length} chars)`;
  if (hex8(crc32(value.substring(OFF_FORMAT))) !== value.substring(0, OFF_FORMAT)) return 'crc mismatch';
  const start = bodyStart(value);
  if (start === undefined) return `unknown record format ${JSON.stringify(value[OFF_FORMAT])}`;
  if (value.length < start + 2) return `record too short (${value.length} chars)`;
  if (start === HEADER3 && undoStart(value) === undefined) return 'bad redo part length';
  const seqHex = value.substring(OFF_SEQ, OFF_HASH);
  if (seqHex !== hex12(seq)) {
    const stored = parseInt(seqHex, 16);
    if (byKey) return `record under key ${seq} holds seq ${stored}`;
    return stored > seq ? `record ${seq} is missing (next stored record is ${stored})` : `found record ${stored} where ${seq} belongs`;
  }
  return undefined;
}

/** The record's own hash, from its header (either frame). */
export function headerHash(value: string): string {
  return value.substring(OFF_HASH, OFF_PREV);
}

/** Does the stored back-link match `prevHash` (the full hash of record seq-1, "" for none)? */
export function linksTo(value: string, prevHash: string): boolean {
  if (value[OFF_FORMAT] !== FORMAT) return value.substring(OFF_PREV, HEADER2) === (prevHash === '' ? NO_LINK : prevHash.substring(0, LINK));
  return value.substring(OFF_PREV, HEADER) === (prevHash === '' ? NO_HASH : prevHash);
}

/** The full prevHash a frame-1 value stores, or undefined for frame 2 (which stores only a link). */
export function storedPrevHash(value: string): string | undefined {
  if (value[OFF_FORMAT] !== FORMAT) return undefined;
  const p = value.substring(OFF_PREV, HEADER);
  return p === NO_HASH ? '' : p;
}

/** Recomputes a sound frame's own hash from its body and the given prevHash. */
export function ownHashOf(value: string, prevHash: string): string {
  if (value[OFF_FORMAT] !== FORMAT) return hashOf(prevHash, value.substring(OFF_SEQ, OFF_HASH) + value.substring(HEADER2)); // frames 2 and 3
  return hashOf(prevHash, value.substring(HEADER));
}

/**
 * Full check of one stored record against its predecessor's hash ("" for none): frame,
 * back-link and the record's own hash. No JSON parse; one crc32 and one sha256.
 */
export function recordProblem(value: string, seq: number, prevHash: string): string | undefined {
  const frame = frameProblem(value, seq, true);
  if (frame !== undefined) return frame;
  if (!linksTo(value, prevHash)) {
    return `broken chain: prevHash does not match the hash of record ${seq - 1}`;
  }
  if (ownHashOf(value, prevHash) !== value.substring(OFF_HASH, OFF_PREV)) {
    return 'hash mismatch: record body does not match its hash';
  }
  return undefined;
}

/**
 * Decodes a stored record, checking its CRC and that it is record `seq`; throws LogCorruptError(seq).
 * The hash itself is not recomputed here (that is verify's job). A frame-2 record stores only a
 * link to its predecessor: `prevHash` (the hash of record seq-1) gives it its full prevHash.
 */
export function decodeRecord(value: string, seq: number, prevHash?: string): LogRecord {
  return new ChainReader(seq, prevHash).next(value);
}

/**
 * Decodes a run of consecutive records (a read from some seq on). Each must pass its CRC, be the
 * next seq and link to the previous record's hash: one crc32 and one JSON.parse per record.
 */
export class ChainReader {
  #expect: number;
  #prevHash: string | undefined;
  /**
   * The value frame3At last accepted (advance), whose own hash is the next value's link: read
   * from it char by char and made a string (#prevHash) only when something asks for it.
   */
  #prevValue: string | undefined = undefined;

  /** `prevHash`: the known hash of record fromSeq-1, which the first record must link to. */
  constructor(fromSeq: number, prevHash?: string) {
    this.#expect = fromSeq;
    this.#prevHash = prevHash ?? (fromSeq === 1 ? '' : undefined);
  }

  /** The seq the next value must hold. */
  get expect(): number {
    return this.#expect;
  }

  next(value: string): LogRecord {
    return expandRaw(this.nextRaw(value));
  }

  /**
   * nextRaw's checks of a frame-3 or frame-4 value (CRC, seq, back-link, the redo part's length)
   * without parsing it and without moving on: where its undo part starts (its redo part is
   * [redoAt, that); frame 4's skip table `entries` at TABLE4), or -1 for any other frame or any
   * problem, which nextRaw then reports (or reads). Char loops, no substrings: replay's lazy fold (replay/fold-lazy.ts, issue 15) runs
   * this per record; `advance` moves on once the value is folded. `crcChecked`: the caller
   * checked this value's CRC already, with its chunk's (store/crc-chunk.ts crcsSound).
   */
  frame3At(value: string, crcChecked = false): number {
    const f = value.charCodeAt(OFF_FORMAT);
    if (value.length < HEADER3 + 2 || (f !== 51 /* '3' */ && f !== 52 /* '4' */)) return -1;
    const pv = this.#prevValue;
    const known = this.#prevHash;
    if (pv === undefined && known === undefined) return -1;
    if (!crcChecked) {
      decodeWork.crcs++;
      if (hexAt(value, 0, OFF_FORMAT) !== crc32(value.substring(OFF_FORMAT))) return -1;
    }
    // the seq in two halves of 6 hex digits (small integers, not a 48-bit double)
    const hi = hexAt(value, OFF_SEQ, OFF_SEQ + 6);
    const lo = hexAt(value, OFF_SEQ + 6, OFF_HASH);
    if (hi < 0 || lo < 0 || hi * 0x1000000 + lo !== this.#expect) return -1;
    if (pv !== undefined) {
      // the previous value's own hash, where it stands in that value (no substring made)
      for (let k = 0; k < LINK; k++) if (value.charCodeAt(OFF_PREV + k) !== pv.charCodeAt(OFF_HASH + k)) return -1;
    } else if (known === '') {
      for (let k = 0; k < LINK; k++) if (value.charCodeAt(OFF_PREV + k) !== 48) return -1;
    } else {
      for (let k = 0; k < LINK; k++) if (value.charCodeAt(OFF_PREV + k) !== known!.charCodeAt(k)) return -1;
    }
    const u = undoStart(value);
    if (u === undefined) return -1;
    this.redoAt = redoStart;
    // frame 4: txn.begun version 5 and its skip table; frame 3: version 4, no table
    this.version = f + 1;
    this.entries = f === 52 ? (redoStart - TABLE4) >> 2 : 0;
    return u;
  }

  /** Set by frame3At: where the value's redo part starts, the version digit (char code) it must hold, its skip table's entries (at TABLE4). */
  redoAt = HEADER3;
  version = 52;
  entries = 0;

  /** Moves past `value`, which frame3At accepted. */
  advance(value: string): void {
    this.#prevValue = value;
    this.#expect++;
  }

  /** The hash the next value must link to (made from the last value advanced past, if that is where it is). */
  #known(): string | undefined {
    const pv = this.#prevValue;
    if (pv !== undefined) {
      this.#prevHash = pv.substring(OFF_HASH, OFF_PREV);
      this.#prevValue = undefined;
    }
    return this.#prevHash;
  }

  /**
   * As next(), with the same checks, but a frame-2 record's data is left in its stored form
   * (RawRecord): one JSON.parse, no image expanded yet.
   */
  nextRaw(value: string): RawRecord {
    const seq = this.#expect;
    const problem = frameProblem(value, seq);
    if (problem !== undefined) throw new LogCorruptError(seq, problem);
    const known = this.#known();
    let raw: RawRecord;
    const frame = value[OFF_FORMAT];
    if (frame !== FORMAT) {
      if (known === undefined) {
        // Callers that start a read past seq 1 pass the hash of the record before it.
        throw new LogCorruptError(seq, `record ${seq} links to record ${seq - 1}, whose hash was not given`);
      }
      if (!linksTo(value, known)) throw new LogCorruptError(seq, `broken chain: prevHash does not match the hash of record ${seq - 1}`);
      if (frame === FORMAT3 || frame === FORMAT4) {
        // format versions 5 and 6: only the redo part is parsed here; the undo part when expanded
        const undoAt = undoStart(value)!; // frameProblem checked it
        const redoAt = redoStart;
        const redo = parseRedo3(value.substring(redoAt, undoAt));
        if (redo === undefined) throw new LogCorruptError(seq, 'body is not a record');
        raw = { seq, hash: value.substring(OFF_HASH, OFF_PREV), prevHash: known, redo, value, redoAt, undoAt };
      } else {
        const body = parseBody2(value.substring(HEADER2));
        if (body === undefined) throw new LogCorruptError(seq, 'body is not a record');
        raw = { seq, hash: value.substring(OFF_HASH, OFF_PREV), prevHash: known, body };
      }
    } else {
      let prevHash = value.substring(OFF_PREV, HEADER);
      if (prevHash === NO_HASH) prevHash = '';
      if (known !== undefined) {
        if (prevHash !== known) {
          throw new LogCorruptError(seq, `broken chain: prevHash does not match the hash of record ${seq - 1}`);
        }
        prevHash = known; // one string shared by both records
      }
      decodeWork.parses++;
      decodeWork.chars += value.length - HEADER;
      let rec: LogRecord;
      try {
        rec = JSON.parse(value.substring(HEADER)) as LogRecord;
      } catch {
        throw new LogCorruptError(seq, 'body is not JSON');
      }
      if (rec.seq !== seq) throw new LogCorruptError(seq, `body holds seq ${rec.seq}`);
      rec.prevHash = prevHash;
      // A slice: it keeps this value's string alive as long as the record (about the record's own size).
      rec.hash = value.substring(OFF_HASH, OFF_PREV);
      raw = { seq, hash: rec.hash, prevHash, record: rec };
    }
    this.#prevHash = raw.hash;
    this.#expect = seq + 1;
    return raw;
  }
}

// ---------------------------------------------------------------------------------------------
// Small framed JSON values (snapshots, head meta): crc32 (8 hex) | format '1' | canonical JSON

export function encodeFramed(v: unknown): string {
  const rest = FORMAT + canonicalJson(v);
  return hex8(crc32(rest)) + rest;
}

/** The parsed value, or a reason string when the frame is damaged. */
export function decodeFramed(value: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (typeof value !== 'string' || value.length < 10) return { ok: false, reason: `too short (${value?.length} chars)` };
  if (hex8(crc32(value.substring(OFF_FORMAT))) !== value.substring(0, OFF_FORMAT)) return { ok: false, reason: 'crc mismatch' };
  if (value[OFF_FORMAT] !== FORMAT) return { ok: false, reason: `unknown format ${JSON.stringify(value[OFF_FORMAT])}` };
  try {
    return { ok: true, value: JSON.parse(value.substring(OFF_FORMAT + 1)) };
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
}

export interface HeadMeta {
  seq: number;
  hash: string;
}

/** The index covers records from..to; `hash` (of record `to`) tells a stale claim from a true one. */
export interface IndexMeta {
  from: number;
  to: number;
  hash: string;
}

export function encodeIndexMeta(m: IndexMeta): string {
  return encodeFramed({ from: m.from, to: m.to, hash: m.hash });
}

export function decodeIndexMeta(value: string): IndexMeta | undefined {
  const d = decodeFramed(value);
  if (!d.ok) return undefined;
  const m = d.value as Partial<IndexMeta>;
  if (!Number.isInteger(m?.from) || !Number.isInteger(m.to) || typeof m.hash !== 'string') return undefined;
  return { from: m.from!, to: m.to!, hash: m.hash };
}

export function encodeMeta(m: HeadMeta): string {
  return encodeFramed({ seq: m.seq, hash: m.hash });
}

export function decodeMeta(value: string): HeadMeta | string {
  const d = decodeFramed(value);
  if (!d.ok) return d.reason;
  const m = d.value as Partial<HeadMeta>;
  if (typeof m?.seq !== 'number' || typeof m.hash !== 'string') return 'malformed head meta';
  return { seq: m.seq, hash: m.hash };
}

export function encodeSnapshot(s: Snapshot): string {
  return encodeFramed({ seq: s.seq, hash: s.hash, stateHash: s.stateHash, state: s.state });
}

/** Throws SnapshotCorruptError(keySeq) when the stored snapshot is damaged or misfiled. */
export function decodeSnapshot<S>(value: string, seq: number): Snapshot<S> {
  const d = decodeFramed(value);
  if (!d.ok) throw new SnapshotCorruptError(seq, d.reason);
  const s = d.value as Partial<Snapshot<S>>;
  if (typeof s?.seq !== 'number' || typeof s.hash !== 'string' || typeof s.stateHash !== 'string' || !('state' in s)) {
    throw new SnapshotCorruptError(seq, 'malformed snapshot');
  }
  if (s.seq !== seq) throw new SnapshotCorruptError(seq, `stored under seq ${seq} but holds seq ${s.seq}`);
  return s as Snapshot<S>;
}
