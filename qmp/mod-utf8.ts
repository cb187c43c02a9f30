// QEMU's modified UTF-8 (util/unicode.c): like UTF-8 but U+0000 may be "\xC0\x80"; surrogates,
// noncharacters, overlong forms and code points past U+10FFFF are invalid.

/** is_valid_codepoint() */
export function isValidCodepoint(cp: number): boolean {
  if (cp < 0 || cp > 0x10ffff) return false;
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  return !(cp >= 0xd800 && cp <= 0xdfff);
}

const MIN_CP = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/**
 * mod_utf8_codepoint(): the sequence at `at` (reading at most `n` bytes, bytes past them as 0).
 * Returns the code point or -1, and where the next sequence starts, as QEMU steps.
 */
export function modUtf8Codepoint(b: Uint8Array, at: number, n: number): { cp: number; end: number } {
  if (n <= 0 || b[at] === 0 || at >= b.length) return { cp: -1, end: at };
  let p = at;
  let byte = b[p++]!;
  let cp: number;
  if (byte < 0x80) cp = byte;
  else if (byte >= 0xfe) cp = -1;
  else if ((byte & 0x40) === 0) cp = -1;
  else {
    let len = 0, mask = 0x80;
    for (; byte & mask; mask >>= 1) len++;
    cp = byte & (mask - 1);
    for (let i = 1; i < len; i++) {
      byte = i < n && p < b.length ? b[p]! : 0;
      if ((byte & 0xc0) !== 0x80) return { cp: -1, end: p };
      p++;
      cp = cp * 64 + (byte & 0x3f);
    }
    if (!isValidCodepoint(cp)) cp = -1;
    else if (cp < MIN_CP[len - 2]! && !(cp === 0 && len === 2)) cp = -1;
  }
  return { cp, end: p };
}

/** A C string as QEMU's JSON writer reads it (quoted_str): each invalid sequence becomes U+FFFD. */
export function decodeModUtf8Lossy(b: Uint8Array): string {
  let out = '';
  let p = 0;
  while (p < b.length && b[p] !== 0) {
    const r = modUtf8Codepoint(b, p, 6);
    out += r.cp < 0 ? '\uFFFD' : String.fromCodePoint(r.cp);
    p = r.end > p ? r.end : p + 1;
  }
  return out;
}
