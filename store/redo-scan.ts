// The redo part of a frame-3 value (format version 5, store/whole-split.ts) located without
// JSON.parse (issue 15, replay: a lazy fold). Replay to a seq needs only the entities that
// survive to it; most images of an add/del log are deleted again before the end of the range, so
// the lazy fold (replay/fold-lazy.ts) keeps each change's image as a range of the stored value
// and parses it only if the entity survives. This scanner finds those ranges: the envelope
// `["txn.begun",4,txn,[code,steps]]` checked member by member, each change's entity (s, c, id)
// as strings, its kind and the text range of its image, patch or removed-field list.
//
// It reads only the redo part's framing; an image's own text is skipped by bracket matching
// (strings skipped with their escapes), not validated: JSON.parse validates it when the fold
// expands the entity (a CRC-sound value whose image is not JSON is only ever a forged one; the
// fold then reports it as LogCorruptError of the record that holds it, when it parses it).
// Anything the scanner does not know (another type or version, an open transaction's code 0, a
// change of another length or kind, an escape in the envelope's strings it cannot decode) makes
// it answer false, and the caller takes the full path (ChainReader.nextRaw, replay/fold.ts
// foldRaw), which reports a damaged record exactly as before. Pure; no store access.
//
// Format version 6 (frame 4, txn.begun version 5): the value also holds the redo part's skip
// table (`skipTable` below, written by the codec from this very scan of the text it wrote): the
// length of every image, patch and removed-field list in scan order, so that the scan jumps over
// them (issue 15: bracket matching over the images was half of the scan's cost on the add/del
// workload and most of it on a workload with edges). A length is trusted as far as the fold goes
// (what it lands on is still checked: the value's closing bracket, then `,` or `]`), as an
// image's text is; the full decoder (`verify`) recomputes the table and reports a record whose
// table is not its redo part's (store/codec.ts recordFromParts3).

/** One scan's result, reused from call to call (the hot path allocates no arrays per record). */
export interface RedoScan {
  /**
   * The transaction id: null, or a string; undefined where it is v[ta, tb) (no escape in it),
   * left unmade: a fold from an empty table of open transactions needs only to know it is not
   * empty (txnOf makes it).
   */
  txn: string | null | undefined;
  ta: number;
  tb: number;
  commit: boolean;
  /** Steps, and the changes over all steps (in step order). */
  steps: number;
  n: number;
  s: string[];
  c: string[];
  id: string[];
  /** 0: the entity is gone after the change (a delete); 1: templated after-image; 2: after-image as is; 3: patch. */
  kind: number[];
  /** [xa, xb): the image's or the patch's text; [ua, ub): the patch's removed fields (ua < 0: none). */
  xa: number[];
  xb: number[];
  ua: number[];
  ub: number[];
}

export function newRedoScan(): RedoScan {
  return { txn: null, ta: 0, tb: 0, commit: false, steps: 0, n: 0, s: [], c: [], id: [], kind: [], xa: [], xb: [], ua: [], ub: [] };
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_SQ = 91;
const CLOSE_SQ = 93;
const OPEN_CURLY = 123;
const CLOSE_CURLY = 125;

/** The redo part's start; the version digit follows (4: frame 3, 5: frame 4), then a comma. */
const PREFIX = '["txn.begun",';
const VERSION_AT = PREFIX.length;

/** Set by stringEnd: the string just scanned holds an escape. */
let escaped = false;
/**
 * Where the text being scanned has its first backslash at or after the scan's start (-1: none,
 * or past its end, the usual case): before it, a string ends at the next quote, which
 * String.prototype.indexOf finds far faster than a char loop.
 */
let firstEscape = -1;

/** The index just past the JSON string starting at `i` (a quote), or -1. */
function stringEnd(v: string, i: number, end: number): number {
  escaped = false;
  if (firstEscape < 0 || firstEscape > i) {
    const q = v.indexOf('"', i + 1);
    if (q < 0 || q >= end) return -1;
    if (firstEscape < 0 || q < firstEscape) return q + 1;
  }
  for (let j = i + 1; j < end; j++) {
    const ch = v.charCodeAt(j);
    if (ch === QUOTE) return j + 1;
    if (ch === BACKSLASH) {
      escaped = true;
      j++;
    }
  }
  return -1;
}

/** The JSON string at [i, e) as its value (e from stringEnd; `escaped` as it left it). */
function stringAt(v: string, i: number, e: number): string | undefined {
  if (!escaped) return v.substring(i + 1, e - 1);
  try {
    const x: unknown = JSON.parse(v.substring(i, e));
    return typeof x === 'string' ? x : undefined;
  } catch {
    return undefined;
  }
}

const stack: number[] = [];

/** The scan's transaction id (RedoScan.txn), made if it was left unmade. */
export function txnOf(v: string, r: RedoScan): string | null {
  if (r.txn === undefined) r.txn = v.substring(r.ta, r.tb);
  return r.txn;
}

/**
 * The index just past the JSON value starting at `i`, or -1: objects and arrays by bracket
 * matching (a stack of the open brackets), strings with their escapes, a literal up to the next
 * `,` `]` or `}`. Not a validation of the value (JSON.parse does that when it is expanded).
 */
function valueEnd(v: string, i: number, end: number): number {
  const first = v.charCodeAt(i);
  if (first === QUOTE) return stringEnd(v, i, end);
  if (first !== OPEN_CURLY && first !== OPEN_SQ) {
    let j = i;
    for (; j < end; j++) {
      const ch = v.charCodeAt(j);
      if (ch === COMMA || ch === CLOSE_SQ || ch === CLOSE_CURLY) break;
      if (ch === QUOTE || ch === OPEN_CURLY || ch === OPEN_SQ) return -1;
    }
    return j > i ? j : -1;
  }
  let depth = 0;
  // no backslash ahead (firstEscape < 0, the usual case): a string ends at the next quote
  const plain = firstEscape < 0;
  for (let j = i; j < end; j++) {
    const ch = v.charCodeAt(j);
    if (ch === QUOTE) {
      j = plain ? v.indexOf('"', j + 1) : stringEnd(v, j, end) - 1;
      if (j < 0 || j >= end) return -1;
    } else if (ch === OPEN_CURLY || ch === OPEN_SQ) stack[depth++] = ch;
    else if (ch === CLOSE_CURLY || ch === CLOSE_SQ) {
      if (depth === 0 || stack[--depth] !== ch - 2) return -1; // '}' - 2 is '{', ']' - 2 is '['
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/** A skip table entry that gives no length (the value is scanned): one of 0xffff chars or more. */
export const NO_LENGTH = 0xffff;
/** Entries a skip table holds at most (its count is 4 hex digits); a longer one is written empty. */
const MAX_ENTRIES = 0xffff;

/**
 * Work counted (specs assert it, never time it): values of the redo part (images, patches,
 * removed-field lists) skipped by their skip table length, and those scanned bracket by bracket.
 */
export const scanWork = { skipped: 0, scanned: 0 };

/** Skip table cursor: the next entry's offset in the value, and the offset past the last. */
let tabAt = 0;
let tabEnd = 0;

/**
 * The end of the value starting at `i` (an image, patch or removed-field list): from the skip
 * table's next entry where there is one, else by valueEnd. A length that does not land just past
 * a closing bracket of the same kind (or a string's quote) is not this value's: -1.
 */
function skipValue(v: string, i: number, end: number): number {
  const len = tabAt < tabEnd ? hexAt4(v, tabAt) : NO_LENGTH;
  if (tabAt < tabEnd) tabAt += 4;
  if (len === NO_LENGTH) {
    scanWork.scanned++;
    return valueEnd(v, i, end);
  }
  if (len < 0) return -1;
  scanWork.skipped++;
  const e = i + len;
  if (e > end || len < 1) return -1;
  const first = v.charCodeAt(i);
  const last = v.charCodeAt(e - 1);
  if (first === OPEN_CURLY || first === OPEN_SQ) return last === first + 2 ? e : -1; // '{' + 2 is '}', '[' + 2 is ']'
  if (first === QUOTE) return last === QUOTE && len >= 2 ? e : -1;
  return valueEnd(v, i, end) === e ? e : -1; // a literal: short, scanned
}

/** The 4 lower-case hex digits at v[i, i + 4) as a number, or -1. */
function hexAt4(v: string, i: number): number {
  let n = 0;
  for (let k = i; k < i + 4; k++) {
    const c = v.charCodeAt(k);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/**
 * The skip table of a redo text (format version 6, frame 4 of store/codec.ts): its entry count
 * (4 hex digits), then each image's, patch's and removed-field list's length in chars (4 hex
 * digits each, NO_LENGTH for one of 0xffff chars or more) in the order scanRedo meets them. Empty
 * (`0000`) where the scanner does not read the text (the full path folds such a record) or
 * where it would hold more than MAX_ENTRIES. Written by the codec and recomputed by its full
 * decoder, which must find the same: one function for both sides.
 */
export function skipTable(redo: string): string {
  const r = skipScan;
  if (!scanRedo(redo, 0, redo.length, r, redo.charCodeAt(VERSION_AT))) return '0000';
  let t = '';
  let k = 0;
  for (let j = 0; j < r.n; j++) {
    if (r.kind[j] === 0) continue;
    t += hex4(Math.min(r.xb[j]! - r.xa[j]!, NO_LENGTH));
    k++;
    if (r.ua[j]! >= 0) {
      t += hex4(Math.min(r.ub[j]! - r.ua[j]!, NO_LENGTH));
      k++;
    }
  }
  return k > MAX_ENTRIES ? '0000' : hex4(k) + t;
}
const skipScan = newRedoScan();

/**
 * Scans the redo text v[from, to) into `out`. True for a whole transaction that ends in its
 * record (code 1 or 2) whose changes all have a known form; false for anything else.
 * `version`: the char code of the txn.begun version the frame holds ('4': frame 3, '5': frame
 * 4); v[tab, tab + 4 * entries) the frame's skip table (entries 0: none, every value scanned).
 */
export function scanRedo(v: string, from: number, to: number, out: RedoScan, version = 52, tab = 0, entries = 0): boolean {
  // a char loop: String.prototype.startsWith with a position costs ~10x as much here
  if (to - from < PREFIX.length + 2) return false;
  for (let k = 0; k < PREFIX.length; k++) if (v.charCodeAt(from + k) !== PREFIX.charCodeAt(k)) return false;
  if (v.charCodeAt(from + VERSION_AT) !== version || v.charCodeAt(from + VERSION_AT + 1) !== COMMA) return false;
  tabAt = tab;
  tabEnd = tab + 4 * entries;
  firstEscape = v.indexOf('\\', from);
  if (firstEscape >= to) firstEscape = -1;
  let i = from + PREFIX.length + 2;
  // the transaction id: a string or null
  if (v.charCodeAt(i) === QUOTE) {
    const e = stringEnd(v, i, to);
    if (e < 0) return false;
    if (escaped) {
      const t = stringAt(v, i, e);
      if (t === undefined) return false;
      out.txn = t;
    } else out.txn = undefined;
    out.ta = i + 1;
    out.tb = e - 1;
    i = e;
  } else if (v.startsWith('null', i)) {
    out.txn = null;
    i += 4;
  } else return false;
  // ,[code,[
  if (v.charCodeAt(i) !== COMMA || v.charCodeAt(i + 1) !== OPEN_SQ) return false;
  const code = v.charCodeAt(i + 2);
  if (code !== 49 && code !== 50) return false; // '1': commit and end; '2': end otherwise
  out.commit = code === 49;
  if (v.charCodeAt(i + 3) !== COMMA || v.charCodeAt(i + 4) !== OPEN_SQ) return false;
  i += 5;
  let steps = 0;
  let n = 0;
  const { s, c, id, kind, xa, xb, ua, ub } = out;
  if (v.charCodeAt(i) === CLOSE_SQ) i++;
  else {
    for (;;) {
      // a step: [change, ...]
      if (v.charCodeAt(i) !== OPEN_SQ) return false;
      i++;
      steps++;
      if (v.charCodeAt(i) === CLOSE_SQ) i++;
      else {
        for (;;) {
          // a change: [s,c,id] | [s,c,id,k,X] | [s,c,id,3,X,U]
          if (v.charCodeAt(i) !== OPEN_SQ) return false;
          i++;
          for (let m = 0; m < 3; m++) {
            if (v.charCodeAt(i) !== QUOTE) return false;
            const e = stringEnd(v, i, to);
            if (e < 0) return false;
            const x = escaped ? stringAt(v, i, e) : v.substring(i + 1, e - 1);
            if (x === undefined) return false;
            if (m === 0) s[n] = x;
            else if (m === 1) c[n] = x;
            else id[n] = x;
            i = e;
            if (m < 2 && v.charCodeAt(i++) !== COMMA) return false;
          }
          let ch = v.charCodeAt(i++);
          if (ch === CLOSE_SQ) {
            kind[n] = 0;
            ua[n] = -1;
          } else {
            if (ch !== COMMA) return false;
            const k = v.charCodeAt(i) - 48;
            if (k < 1 || k > 3 || v.charCodeAt(i + 1) !== COMMA) return false;
            i += 2;
            const e = skipValue(v, i, to);
            if (e < 0) return false;
            // a templated image and a patch are objects (foldRedo reads nothing else there);
            // an image as is that is null stands for no entity: the full path folds those
            const f = v.charCodeAt(i);
            if (k !== 2 ? f !== OPEN_CURLY : f === 110 /* n */) return false;
            kind[n] = k;
            xa[n] = i;
            xb[n] = e;
            i = e;
            ch = v.charCodeAt(i++);
            ua[n] = -1;
            if (ch === COMMA && k === 3) {
              const e2 = skipValue(v, i, to);
              if (e2 < 0) return false;
              ua[n] = i;
              ub[n] = e2;
              i = e2;
              ch = v.charCodeAt(i++);
            }
            if (ch !== CLOSE_SQ) return false;
          }
          n++;
          ch = v.charCodeAt(i++);
          if (ch === CLOSE_SQ) break;
          if (ch !== COMMA) return false;
        }
      }
      const ch = v.charCodeAt(i++);
      if (ch === CLOSE_SQ) break;
      if (ch !== COMMA) return false;
    }
  }
  // ]] : the [code, steps] pair and the record's array close, and nothing follows
  if (i + 2 !== to || v.charCodeAt(i) !== CLOSE_SQ || v.charCodeAt(i + 1) !== CLOSE_SQ) return false;
  // every entry of the table used: one left over means it is not this text's
  if (tabAt !== tabEnd) return false;
  out.steps = steps;
  out.n = n;
  return true;
}

const COLON = 58;

/**
 * Do the JSON objects v1[a1, b1) and v2[a2, b2) (patch texts scanRedo located) have the same
 * member names in the same order? Compared as stored text (canonical JSON writes one name one
 * way; texts that differ only in how a name is escaped count as different, which is the safe
 * answer). False for a `__proto__` member (JSON.parse makes it an own member; an assignment of
 * it would not be) and for anything that does not scan.
 */
export function sameMembers(v1: string, a1: number, b1: number, v2: string, a2: number, b2: number): boolean {
  if (v1.charCodeAt(a1) !== OPEN_CURLY || v2.charCodeAt(a2) !== OPEN_CURLY) return false;
  firstEscape = 0; // two texts: stringEnd's char loop for both
  let i = a1 + 1;
  let j = a2 + 1;
  if (v1.charCodeAt(i) === CLOSE_CURLY || v2.charCodeAt(j) === CLOSE_CURLY) return i + 1 === b1 && j + 1 === b2;
  for (;;) {
    if (v1.charCodeAt(i) !== QUOTE || v2.charCodeAt(j) !== QUOTE) return false;
    const e1 = stringEnd(v1, i, b1);
    const e2 = stringEnd(v2, j, b2);
    if (e1 < 0 || e2 < 0 || e1 - i !== e2 - j) return false;
    for (let k = 1; k < e1 - i; k++) if (v1.charCodeAt(i + k) !== v2.charCodeAt(j + k)) return false;
    if (e1 - i === 11 && v1.startsWith('"__proto__"', i)) return false;
    i = e1;
    j = e2;
    if (v1.charCodeAt(i++) !== COLON || v2.charCodeAt(j++) !== COLON) return false;
    i = valueEnd(v1, i, b1);
    j = valueEnd(v2, j, b2);
    if (i < 0 || j < 0) return false;
    const c1 = v1.charCodeAt(i++);
    if (c1 !== v2.charCodeAt(j++)) return false;
    if (c1 === CLOSE_CURLY) return i === b1 && j === b2;
    if (c1 !== COMMA) return false;
  }
}
