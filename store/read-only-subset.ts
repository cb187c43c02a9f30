// A seek's read-only open links only the tables its read needs (issue 15: the open's cost must
// not grow with the number of table files; at 6.6M records the full link was 862 `link` calls).
//
// Which tables: the MANIFEST's version (store/leveldb-version.ts) gives every live table's
// level and key range. A seek reads the head meta, the newest snapshot and the records after
// it (the since-snapshot open, the anchor), and for each seq the snapshot at or before it and
// the records from there (replay). Those are key intervals: the meta sublevel, the tail of the
// log and snapshot sublevels, and a window of seqs before each seek. Every level-0 table is
// taken (their ranges overlap anything), and at levels 1+ every table whose range overlaps one
// of the intervals; the private directory gets links to those and a MANIFEST naming only them.
//
// Why it is exact where it answers: LevelDB finds a key in the newest of the tables whose range
// holds it, at any level (leveldb/db/version_set.cc Version::Get, the merging iterator of
// Version::AddIterators). A key no left-out table's range holds is therefore read exactly as
// from the whole store: every table that could hold it, or a newer or older version of it, is
// there. Elsewhere a partial version could answer wrongly (a missing key, or a stale value from
// a deeper level), so the view refuses: guardView wraps the database and every get, and every
// step of an iterator (the span from where it stood to the key it yields, or to its bound at
// the end), must lie in the exact region; otherwise ViewRangeError, and the caller reopens with
// every table (store/read-only.ts, cli/context.ts withReadLog). Never a silently shorter answer.
import { ViewRangeError } from '../errors/index.js';
import type { AnyLevel } from './codec.js';
import { seqKey } from './codec.js';
import { userKey, type TableFile, type Version } from './leveldb-version.js';

/** Sublevel prefixes the plan needs (sublevelsOf / partsSublevel prefixes, utf8 = latin1 here: ASCII). */
export interface ViewPrefixes { log: string; snap: string; parts: string; meta: string }

export interface SubsetPlan {
  /** Tables to link and name in the private MANIFEST. */
  files: TableFile[];
  /** Key ranges of the tables left out, sorted and merged: reads touching them are refused. */
  excluded: Array<[string, string]>;
}

/** The smallest string above every key starting with `p` (as codec.ts logEnd). */
const prefixEnd = (p: string) => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
/** Above any latin1 key. */
const TOP = '\u0100';

/**
 * The tables a seek to `seeks` needs (MAX_SAFE_INTEGER: the head), with `window` seqs before
 * each seek and before the newest log key the tables hold.
 */
export function planSeek(v: Version, p: ViewPrefixes, seeks: number[], window: number): SubsetPlan {
  // The newest seq the tables hold (newer records are in the WAL, copied whole). A table whose
  // range runs from log keys into other sublevels holds log keys up to an unknown seq: its
  // smallest stands in (a lower estimate only widens the tail interval).
  const logEnd = prefixEnd(p.log);
  const ranges = v.files.map((f) => [userKey(f.smallest), userKey(f.largest)] as const);
  let newest = 0;
  for (const r of ranges) {
    for (const k of r) {
      if (k >= p.log && k < logEnd) newest = Math.max(newest, parseInt(k.slice(p.log.length, p.log.length + 16), 16) || 0);
    }
  }
  const subs = [p.log, p.snap, p.parts];
  const wanted: Array<[string, string]> = [[p.meta, prefixEnd(p.meta)]];
  const from = (pre: string, seq: number) => (seq - window > 0 ? pre + seqKey(seq - window) : pre);
  for (const pre of subs) wanted.push([from(pre, newest), prefixEnd(pre)]);
  for (const s of seeks) {
    if (!Number.isSafeInteger(s) || s >= 2 ** 48) continue; // the head: the tail interval
    for (const pre of subs) wanted.push([from(pre, s), pre + seqKey(Math.max(0, s)) + TOP]);
  }
  const files: TableFile[] = [];
  const out: Array<[string, string]> = [];
  for (let i = 0; i < v.files.length; i++) {
    const f = v.files[i]!;
    const [lo, hi] = ranges[i]!;
    if (f.level === 0 || wanted.some(([a, b]) => lo <= b && hi >= a)) files.push(f);
    else out.push([lo, hi]);
  }
  return { files, excluded: mergeRanges(out) };
}

function mergeRanges(rs: Array<[string, string]>): Array<[string, string]> {
  rs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[string, string]> = [];
  for (const [a, b] of rs) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) { if (b > last[1]) last[1] = b; } else out.push([a, b]);
  }
  return out;
}

/** Whether no excluded range meets [x, y] (binary search over the merged ranges). */
export function covered(excluded: Array<[string, string]>, x: string, y: string): boolean {
  let lo = 0;
  let hi = excluded.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (excluded[mid]![1] < x) lo = mid + 1; else hi = mid;
  }
  return lo === excluded.length || excluded[lo]![0] > y;
}

/** A key or bound as LevelDB compares it: its bytes, as latin1. */
function bytesOf(k: unknown): string {
  if (typeof k === 'string') return /^[\x00-\x7f]*$/.test(k) ? k : Buffer.from(k, 'utf8').toString('latin1');
  if (k instanceof Uint8Array) return Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
  return String(k);
}

interface RangeOptions { keys?: boolean; gt?: unknown; gte?: unknown; lt?: unknown; lte?: unknown; reverse?: boolean; limit?: number }
type AnyIterator = {
  next(): Promise<unknown>;
  nextv(size: number, options?: unknown): Promise<unknown[]>;
  all(options?: unknown): Promise<unknown[]>;
  seek(target: unknown, options?: unknown): void;
};

/** Work a guarded view did (specs count it). */
export const guardWork = { checks: 0, refused: 0 };

/**
 * Makes `db` (the root of a partial view) refuse every read that is not exact: see the file
 * comment. Sublevels read through the root's public methods (abstract-level's
 * AbstractSublevel forwards get/getMany/has/hasMany/iterator/keys/values to it), so wrapping
 * the root covers them all.
 */
export function guardView(db: AnyLevel, excluded: Array<[string, string]>): void {
  const check = (x: string, y: string) => {
    guardWork.checks++;
    if (!covered(excluded, x, y)) { guardWork.refused++; throw new ViewRangeError(x, y); }
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = db as unknown as Record<string, (...a: any[]) => unknown>;
  for (const m of ['get', 'getSync', 'has']) {
    const orig = d[m]!.bind(db);
    d[m] = (key: unknown, ...rest: unknown[]) => {
      const k = bytesOf(key);
      try { check(k, k); } catch (e) { if (m === 'getSync') throw e; return Promise.reject(e); }
      return orig(key, ...rest);
    };
  }
  for (const m of ['getMany', 'hasMany']) {
    const orig = d[m]!.bind(db);
    d[m] = (keys: unknown[], ...rest: unknown[]) => {
      try { for (const key of keys) { const k = bytesOf(key); check(k, k); } } catch (e) { return Promise.reject(e); }
      return orig(keys, ...rest);
    };
  }
  for (const m of ['iterator', 'keys', 'values'] as const) {
    const orig = d[m]!.bind(db);
    d[m] = (options: RangeOptions = {}) => {
      const lower = options.gte ?? options.gt;
      const upper = options.lte ?? options.lt;
      const lo = lower === undefined ? '' : bytesOf(lower);
      const hi = upper === undefined ? TOP : bytesOf(upper);
      if (m === 'values' || options.keys === false) {
        // No keys to follow: the whole range must be exact (checked before an iterator exists
        // that the caller would have to close).
        check(lo, hi);
        return orig(options);
      }
      return guardIterator(orig(options) as AnyIterator, m === 'iterator', options, lo, hi, check);
    };
  }
}

function guardIterator(it: AnyIterator, entries: boolean, o: RangeOptions, lo: string, hi: string, check: (x: string, y: string) => void): AnyIterator {
  const reverse = o.reverse === true;
  const limit = o.limit === undefined || o.limit < 0 ? Infinity : o.limit;
  let pos = reverse ? hi : lo;
  let seen = 0;
  let pending: unknown;
  const keyOf = (item: unknown) => bytesOf(entries ? (item as unknown[])[0] : item);
  // The span from where the iterator stood to `k` holds no key it skipped over unseen.
  const step = (k: string) => { if (reverse) check(k, pos); else check(pos, k); pos = k; seen++; };
  const atEnd = () => { if (seen < limit) { if (reverse) check(lo, pos); else check(pos, hi); } };
  const { next, nextv, all, seek } = { next: it.next.bind(it), nextv: it.nextv.bind(it), all: it.all.bind(it), seek: it.seek.bind(it) };
  const before = () => { if (pending !== undefined) throw pending; };
  it.next = async () => {
    before();
    const item = await next();
    if (item === undefined) atEnd(); else step(keyOf(item));
    return item;
  };
  it.nextv = async (size: number, options?: unknown) => {
    before();
    const items = await nextv(size, options);
    if (items.length === 0) { atEnd(); return items; }
    for (let i = 0; i < items.length; i++) {
      try {
        step(keyOf(items[i]));
      } catch (e) {
        // What came before the gap is exact: hand it out, refuse the next step.
        if (i === 0) throw e;
        pending = e;
        return items.slice(0, i);
      }
    }
    return items;
  };
  it.all = async (options?: unknown) => {
    before();
    const items = await all(options);
    for (const item of items) step(keyOf(item));
    atEnd();
    return items;
  };
  it.seek = (target: unknown, options?: unknown) => {
    pending = undefined;
    pos = bytesOf(target);
    seek(target, options);
  };
  return it;
}
