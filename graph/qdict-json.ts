// QEMU's QDict iteration order and qobject_to_json text (qobject/qdict.c, qobject/json-writer.c,
// 7.2), for the json:{…} pseudo-filenames bdrv_refresh_filename builds from full_open_options.
// A QDict is a hash table of QDICT_BUCKET_MAX buckets (bucket = tdb_hash(key) % 512); each new
// entry goes to the head of its bucket's list, and qdict_first/qdict_next walk buckets 0..511,
// each list from its head. So the printed order is by bucket, newest first within a bucket.
// Pure: no I/O.

export type QValue = string | number | boolean | null | QDict | QValue[];

import { tdbHash } from './tdb-hash.js';

const QDICT_BUCKET_MAX = 512;

/** tdb_hash (qobject/qdict.c): graph/tdb-hash.ts, kept per key. */
export { tdbHash };

export class QDict {
  /** insertion order; qdict_put of an existing key replaces its value in place */
  private readonly entries: [string, QValue][] = [];

  put(key: string, value: QValue): void {
    const e = this.entries.find((x) => x[0] === key);
    if (e) e[1] = value;
    else this.entries.push([key, value]);
  }

  has(key: string): boolean { return this.entries.some((x) => x[0] === key); }

  /** qdict_first/qdict_next order */
  ordered(): [string, QValue][] {
    const bucketOf = new Map(this.entries.map(([k]) => [k, tdbHash(k) % QDICT_BUCKET_MAX]));
    return this.entries
      .map((e, i) => ({ e, i }))
      .sort((a, b) => bucketOf.get(a.e[0])! - bucketOf.get(b.e[0])! || b.i - a.i)
      .map((x) => x.e);
  }
}

/** quoted_str (qobject/json-writer.c): ", \, \b \f \n \r \t escaped, other controls and non-ASCII as \uXXXX. */
function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp > 0xffff) {
      const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
      out += `\\u${hex(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
    } else if (cp < 0x20 || cp >= 0x7f) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** qobject_to_json, not pretty: ", " between members, ": " after a key. */
export function toJson(v: QValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'string') return quoted(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(', ')}]`;
  return `{${v.ordered().map(([k, x]) => `${quoted(k)}: ${toJson(x)}`).join(', ')}}`;
}
