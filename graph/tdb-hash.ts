// tdb_hash (qobject/qdict.c), QEMU's QDict bucket hash, in one place: the QDict walk order that
// reopen's errors, blockdev-add's explicit options (qdict_clone_shallow), json:{…} file names and
// QAPI's unexpected-member check depend on. Unsigned 32-bit arithmetic over the key's UTF-8 bytes.
//
// Pure, so each key's hash is kept (bounded): the same few dozen option keys ("driver",
// "node-name", "cache.direct", …) are hashed on every blockdev-add, several times over in the
// sorts that order them (issue 15: a Buffer per key per comparison before; counted in
// specs/graph/tdb-hash.spec.ts).

const CACHE_MAX = 4096;
// Only names of option size are kept: a hostile request's megabyte-long member names are hashed
// each time, never held (docs/hostile.md: no input may pin memory in the server)
const KEY_MAX = 64;
const cache = new Map<string, number>();
/** Hashes computed (not taken from the cache): specs count them. */
export const tdbWork = { computed: 0 };

export function tdbHash(key: string): number {
  const kept = cache.get(key);
  if (kept !== undefined) return kept;
  const h = computeTdbHash(key);
  if (cache.size < CACHE_MAX && key.length <= KEY_MAX) cache.set(key, h);
  return h;
}

/** The hash itself, never cached: over the key's UTF-8 bytes (an ASCII key's bytes are its char codes). */
export function computeTdbHash(key: string): number {
  tdbWork.computed++;
  let ascii = true;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) { ascii = false; break; }
  let value: number;
  if (ascii) {
    value = Math.imul(0x238f13af, key.length) >>> 0;
    for (let i = 0; i < key.length; i++) value = (value + ((key.charCodeAt(i) << ((i * 5) % 24)) >>> 0)) >>> 0;
  } else {
    const bytes = Buffer.from(key, 'utf8');
    value = Math.imul(0x238f13af, bytes.length) >>> 0;
    for (let i = 0; i < bytes.length; i++) value = (value + ((bytes[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  }
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}
