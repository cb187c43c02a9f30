// When a struct has several unexpected keys, QEMU reports the first one its GHashTable iterator
// yields (qobject_input_check_struct), so the order is glib's, not the request's. This replays the
// two hash tables involved, bit for bit: the QDict the JSON parser filled (512 buckets, tdb_hash,
// newest entry first in a bucket), whose iteration order fills the visitor's GHashTable
// (g_str_hash, open addressing with quadratic probing, glib 2.74), from which every visited member
// is removed in visiting order, with glib's resizes on the way.
import { tdbHash } from '../../graph/tdb-hash.js';

const QDICT_BUCKET_MAX = 512;
const MIN_SHIFT = 3;
// glib's prime_mod[] (ghash.c): the largest prime below 1 << shift, for every shift up to 31. A
// table cut at 1 << 16 left mod undefined past 65536 entries: every index NaN, the probe walking
// the whole table on each insert (a 100 000-member `arguments` held the server four minutes, and
// named another member than QEMU does).
const PRIME_MOD = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
  131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689,
  268435399, 536870909, 1073741789, 2147483647];
const UNUSED = 0, TOMBSTONE = 1;

function gStrHash(key: string): number {
  let h = 5381;
  for (const c of Buffer.from(key, 'utf8')) h = (Math.imul(h, 33) + (c << 24 >> 24)) >>> 0;
  return h;
}

// The same few key lists come by on every QMP command (a request's execute/arguments/id, its
// arguments, the reply's return/id): each list's order is computed once, the hashes being pure
// (issue 15: a Buffer per key per hash on every request and reply). Bounded; a copy is returned.
// Kept in a trie keyed by each name in turn, so a lookup builds no signature text (it was the
// list's JSON.stringify, per request and per reply) and no two lists are confused.
const ORDERS_MAX = 1024;
const NAME_MAX = 64;
interface OrderNode { next: Map<string, OrderNode> | undefined; order: readonly string[] | undefined }
const orderRoot: OrderNode = { next: undefined, order: undefined };
let orderNodes = 0;
/** Orders computed (not taken from the cache): specs count them. */
export const qdictWork = { computed: 0 };

/** QDict iteration order of keys inserted in `textOrder`. */
export function qdictOrder(textOrder: readonly string[]): string[] {
  if (textOrder.length > 16) return computeOrder(textOrder);
  let node: OrderNode | undefined = orderRoot;
  for (let i = 0; i < textOrder.length && node !== undefined; i++) {
    const k = textOrder[i]!;
    let next: OrderNode | undefined = node.next?.get(k);
    // (names of option size only: a hostile request's long member names are not held)
    if (next === undefined && orderNodes < ORDERS_MAX && k.length <= NAME_MAX) {
      orderNodes++;
      next = { next: undefined, order: undefined };
      (node.next ??= new Map()).set(k, next);
    }
    node = next;
  }
  if (node === undefined) return computeOrder(textOrder); // the cache is full
  const o = node.order ??= computeOrder(textOrder);
  return o.slice();
}

function computeOrder(textOrder: readonly string[]): string[] {
  qdictWork.computed++;
  const buckets = new Map<number, string[]>();
  for (const k of textOrder) {
    const b = tdbHash(k) % QDICT_BUCKET_MAX;
    const list = buckets.get(b) ?? [];
    list.unshift(k);
    buckets.set(b, list);
  }
  return [...buckets.keys()].sort((a, b) => a - b).flatMap((b) => buckets.get(b)!);
}

class GHashSet {
  size = 0; mod = 0; mask = 0; nnodes = 0; noccupied = 0;
  hashes: number[] = []; keys: (string | undefined)[] = [];

  constructor() { this.setShift(MIN_SHIFT); this.hashes = new Array(this.size).fill(UNUSED); this.keys = new Array(this.size); }

  private setShift(shift: number) { this.size = 1 << shift; this.mod = PRIME_MOD[shift]!; this.mask = this.size - 1; }
  private toIndex(hash: number) { return (Math.imul(hash, 11) >>> 0) % this.mod; }

  private lookup(key: string): { index: number; hash: number } {
    let hash = gStrHash(key);
    if (hash < 2) hash = 2;
    let index = this.toIndex(hash), step = 0, tomb = -1;
    while (this.hashes[index] !== UNUSED) {
      if (this.hashes[index] === hash && this.keys[index] === key) return { index, hash };
      if (this.hashes[index] === TOMBSTONE && tomb < 0) tomb = index;
      step++;
      index = (index + step) & this.mask;
    }
    return { index: tomb >= 0 ? tomb : index, hash };
  }

  insert(key: string) {
    const { index, hash } = this.lookup(key);
    if (this.hashes[index]! >= 2) return;
    const old = this.hashes[index];
    this.hashes[index] = hash; this.keys[index] = key; this.nnodes++;
    if (old === UNUSED) { this.noccupied++; this.maybeResize(); }
  }

  remove(key: string) {
    const { index } = this.lookup(key);
    if (this.hashes[index]! < 2) return;
    this.hashes[index] = TOMBSTONE; this.keys[index] = undefined; this.nnodes--;
    this.maybeResize();
  }

  private maybeResize() {
    const occ = this.noccupied;
    if ((this.size > this.nnodes * 4 && this.size > 1 << MIN_SHIFT) || this.size <= occ + Math.floor(occ / 16)) this.resize();
  }

  // g_hash_table_resize() + resize_map(): in place, evicting entries along the way.
  private resize() {
    const oldSize = this.size;
    let n = Math.trunc(this.nnodes * 1.333), shift = 0;
    while (n) { n >>= 1; shift++; }
    this.setShift(Math.max(shift, MIN_SHIFT));
    const len = Math.max(this.size, oldSize);
    while (this.hashes.length < len) { this.hashes.push(UNUSED); this.keys.push(undefined); }
    const moved = new Array<boolean>(len).fill(false);
    for (let i = 0; i < oldSize; i++) {
      let h = this.hashes[i]!;
      if (h < 2) { this.hashes[i] = UNUSED; continue; }
      if (moved[i]) continue;
      this.hashes[i] = UNUSED;
      let key = this.keys[i];
      this.keys[i] = undefined;
      for (;;) {
        let idx = this.toIndex(h), step = 0;
        while (moved[idx]) { step++; idx = (idx + step) & this.mask; }
        moved[idx] = true;
        const replaced = this.hashes[idx]!, replacedKey = this.keys[idx];
        this.hashes[idx] = h; this.keys[idx] = key;
        if (replaced < 2) break;
        h = replaced; key = replacedKey;
      }
    }
    this.hashes.length = this.size; this.keys.length = this.size;
    this.noccupied = this.nnodes;
  }

  iterate(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.size; i++) if (this.hashes[i]! >= 2) out.push(this.keys[i]!);
    return out;
  }
}

/**
 * The leftover keys of a struct in the order QEMU's check would find them.
 * `textOrder`: the dict's keys as the request spelt them; `consumed`: members visited, in order.
 */
export function unexpectedKeyOrder(textOrder: readonly string[], consumed: readonly string[]): string[] {
  const h = new GHashSet();
  for (const k of qdictOrder(textOrder)) h.insert(k);
  for (const k of consumed) h.remove(k);
  return h.iterate();
}
