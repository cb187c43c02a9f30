// QEMU 7.2's JSON message reader: json-streamer.c (tokens gathered until braces and brackets
// balance, with its three limits) and json-parser.c (recursive descent over the gathered tokens,
// strings in modified UTF-8, numbers as QNum: int64, else uint64, else double). No newline is
// needed, several values may share a line, one value may span many lines, and a chunk boundary
// may fall anywhere, even inside a UTF-8 character: the lexer works on bytes.
//
// Values: int64 within 2^53 -> number, other int64/uint64 -> bigint, doubles -> number (1e400 is
// Infinity, as strtod gives QEMU); object members keep the input order.
import { JsonLexer, S, T } from './json-lexer.js';
import { markIntegralFloat } from '../commands/schema/float-marks.js';
import { decodeModUtf8Lossy, modUtf8Codepoint, isValidCodepoint } from './mod-utf8.js';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue };

export interface JsonLimits {
  /** MAX_TOKEN_SIZE: one token, and all tokens of one message together (bytes). */
  maxTokenSize: number;
  /** MAX_TOKEN_COUNT: tokens in one message. */
  maxTokenCount: number;
  /** MAX_NESTING: open brackets plus braces. */
  maxNesting: number;
}
export const QEMU_JSON_LIMITS: JsonLimits = { maxTokenSize: 64 << 20, maxTokenCount: 2 << 20, maxNesting: 1 << 10 };

/** What the reader hands on per message: a value or QEMU's error text, with a bounded excerpt of the input. */
export type JsonMessage =
  | { kind: 'value'; value: JsonValue; excerpt: string; size: number }
  | { kind: 'error'; error: string; excerpt: string; size: number };

class ValueMessage {
  readonly kind = 'value';
  readonly #excerpt: () => string;
  constructor(readonly value: JsonValue, excerpt: () => string, readonly size: number) { this.#excerpt = excerpt; }
  get excerpt(): string { return this.#excerpt(); }
  /** Serialized with its excerpt, as the literal it replaces was. */
  toJSON(): object { return { kind: this.kind, value: this.value, excerpt: this.excerpt, size: this.size }; }
}
class ErrorMessage {
  readonly kind = 'error';
  readonly #excerpt: () => string;
  constructor(readonly error: string, excerpt: () => string, readonly size: number) { this.#excerpt = excerpt; }
  get excerpt(): string { return this.#excerpt(); }
  toJSON(): object { return { kind: this.kind, error: this.error, excerpt: this.excerpt, size: this.size }; }
}

/** Bytes of input kept per message for the audit log; the rest is counted, never stored. */
const EXCERPT_BYTES = 256;

/** Excerpts decoded (read by a refusal), counted for specs/qmp/request-path.spec.ts. */
export const excerptWork = { decoded: 0 };

/**
 * src[0, n) to dst at `at`. Short runs (a token's text) byte by byte: Buffer#copy costs a view
 * and its checks per call, more than copying a name.
 */
function copyBytes(src: Buffer, dst: Buffer, at: number, n: number): void {
  if (n >= 64) { src.copy(dst, at, 0, n); return; }
  for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
}

/** The tokens of one message, packed: a type per token and the text of literals in one arena. */
class TokenQueue {
  types = new Uint8Array(256);
  starts = new Uint32Array(256);
  ends = new Uint32Array(256);
  arena = Buffer.allocUnsafe(1024);
  count = 0;
  used = 0;
  push(type: number, text: Buffer, len: number): void {
    if (this.count === this.types.length) {
      const n = this.count * 2;
      const grow = <A extends Uint8Array | Uint32Array>(a: A, make: (n: number) => A) => { const b = make(n); b.set(a); return b; };
      this.types = grow(this.types, (k) => new Uint8Array(k));
      this.starts = grow(this.starts, (k) => new Uint32Array(k));
      this.ends = grow(this.ends, (k) => new Uint32Array(k));
    }
    this.types[this.count] = type;
    this.starts[this.count] = this.used;
    if (type >= T.INTEGER) {
      if (this.used + len > this.arena.length) {
        const next = Buffer.allocUnsafe(Math.max(this.used + len, this.arena.length * 2));
        this.arena.copy(next, 0, 0, this.used);
        this.arena = next;
      }
      copyBytes(text, this.arena, this.used, len);
      this.used += len;
    }
    this.ends[this.count] = this.used;
    this.count++;
  }
  clear(): void {
    this.count = 0; this.used = 0;
    if (this.arena.length > 1 << 16) this.arena = Buffer.allocUnsafe(1024);
    if (this.types.length > 1 << 12) { this.types = new Uint8Array(256); this.starts = new Uint32Array(256); this.ends = new Uint32Array(256); }
  }
}

/** parse_error()'s message buffer: 1024 bytes with its NUL. */
const PARSE_ERROR_MESSAGE_MAX = 1023;
/** `msg` as parse_error()'s vsnprintf leaves it: cut to 1023 bytes (a cut character as QEMU's writer shows it). */
export function parseErrorMessage(msg: string): string {
  if (msg.length * 3 <= PARSE_ERROR_MESSAGE_MAX) return msg;
  const bytes = Buffer.from(msg, 'utf8');
  return bytes.length <= PARSE_ERROR_MESSAGE_MAX ? msg : decodeModUtf8Lossy(bytes.subarray(0, PARSE_ERROR_MESSAGE_MAX));
}

// Thrown for the first error and caught at the top; not an Error, so no stack trace is built
// for each of the thousands a garbage stream can produce.
class ParseError { constructor(readonly message: string) {} }

/**
 * The first tokens of a message as bytes, for its excerpt: the text of every token (a structural
 * one is its one character), each cut to EXCERPT_BYTES and decoded on its own (a partial UTF-8
 * sequence at a token's end never joins the next), concatenated and cut to EXCERPT_BYTES
 * characters. Decoding waits until the excerpt is read. Every token but a message's last yields at
 * least ceil(bytes / 6) characters (each decoded character or U+FFFD takes 1 to 6 bytes; only an
 * ERROR token, always the last, can hold a NUL), so bytes stop being kept once the tokens kept
 * are sure to fill the excerpt: under 7 * EXCERPT_BYTES.
 */
class ExcerptBytes {
  private buf = Buffer.allocUnsafe(8 * EXCERPT_BYTES);
  private len = 0;
  private ends: number[] = [];
  private atLeast = 0;

  add(text: Buffer, len: number): void {
    if (this.atLeast >= EXCERPT_BYTES) return;
    const n = Math.min(len, EXCERPT_BYTES);
    copyBytes(text, this.buf, this.len, n);
    this.len += n;
    this.ends.push(this.len);
    this.atLeast += Math.max(1, Math.ceil(n / 6));
  }

  /** The excerpt of the tokens added since the last take(), decoded on first call; then starts afresh. */
  take(): () => string {
    const bytes = Buffer.allocUnsafe(this.len);
    copyBytes(this.buf, bytes, 0, this.len);
    const ends = this.ends;
    this.len = 0; this.ends = []; this.atLeast = 0;
    let text: string | undefined;
    return () => {
      if (text !== undefined) return text;
      excerptWork.decoded++;
      let t = '';
      let from = 0;
      for (const end of ends) {
        if (t.length >= EXCERPT_BYTES) break;
        t = (t + decodeModUtf8Lossy(bytes.subarray(from, end))).slice(0, EXCERPT_BYTES);
        from = end;
      }
      return (text = t);
    };
  }
}

export class JsonMessageReader {
  private readonly lexer: JsonLexer;
  private readonly tokens = new TokenQueue();
  private braces = 0;
  private brackets = 0;
  private tokenSize = 0;
  private size = 0;
  // The excerpt's material: the raw bytes of the message's first tokens, decoded only when the
  // excerpt is read (a refusal); an accepted command never builds it (issue 15).
  private readonly ex = new ExcerptBytes();

  constructor(private readonly emit: (m: JsonMessage) => void, private readonly limits: JsonLimits = QEMU_JSON_LIMITS) {
    this.lexer = new JsonLexer((type, text, len) => this.processToken(type, text, len), limits.maxTokenSize);
  }

  feed(bytes: Uint8Array): void { this.lexer.feed(bytes); }

  /** Bytes held for the message in progress (token arena plus the lexer's token). */
  get pendingBytes(): number { return this.tokens.used + this.tokens.count * 9 + this.lexer.pending; }

  /** json_message_process_token(). */
  private processToken(type: number, text: Buffer, len: number): void {
    this.size += len;
    this.ex.add(text, len);
    switch (type) {
      case T.LCURLY: this.braces++; break;
      case T.RCURLY: this.braces--; break;
      case T.LSQUARE: this.brackets++; break;
      case T.RSQUARE: this.brackets--; break;
      case S.ERROR: {
        // "%s" stops at a NUL byte; the text is the C string QEMU formats
        const nul = text.subarray(0, len).indexOf(0);
        return this.out(`JSON parse error, stray '${decodeModUtf8Lossy(text.subarray(0, nul >= 0 ? nul : len))}'`);
      }
      default: break;
    }
    // "we limit total memory allocated per object and the maximum recursion depth"
    if (this.tokenSize + len + 1 > this.limits.maxTokenSize) return this.out('JSON token size limit exceeded');
    if (this.tokens.count + 1 > this.limits.maxTokenCount) return this.out('JSON token count limit exceeded');
    if (this.brackets + this.braces > this.limits.maxNesting) return this.out('JSON nesting depth limit exceeded');
    this.tokens.push(type, text, len);
    this.tokenSize += len;
    if ((this.braces > 0 || this.brackets > 0) && this.braces >= 0 && this.brackets >= 0) return;
    let value: JsonValue;
    try {
      value = new Parser(this.tokens).parse();
    } catch (e) {
      if (e instanceof ParseError) return this.out(e.message);
      throw e;
    }
    this.out(undefined, value);
  }

  private out(error: string | undefined, value?: JsonValue): void {
    const excerpt = this.ex.take();
    // instances of classes whose getter is on the prototype: a literal `get excerpt()` made a
    // hidden class per message (its own accessor holding a fresh closure), old-space garbage
    // that kept the message alive through scavenges (issue 15)
    const m: JsonMessage = error !== undefined ? new ErrorMessage(error, excerpt, this.size) : new ValueMessage(value!, excerpt, this.size);
    this.braces = 0; this.brackets = 0; this.tokenSize = 0; this.size = 0;
    this.tokens.clear();
    this.emit(m);
  }
}

/** json_parser_parse(): the first error wins ("JSON parse error, …"). */
class Parser {
  private i = 0;
  /** The value just parsed was a JSON_FLOAT token with a whole value (float-marks.ts). */
  private floatWhole = false;
  constructor(private readonly q: TokenQueue) {}

  parse(): JsonValue { return this.value(); }

  // parse_error() formats into `char message[1024]`: vsnprintf keeps its first 1023 bytes (a 1 MB
  // invalid keyword is quoted cut there, without its closing quote)
  private fail(msg: string): never { throw new ParseError(`JSON parse error, ${parseErrorMessage(msg)}`); }
  private readonly failString = (msg: string): never => this.fail(msg);
  private peek(): number | undefined { return this.i < this.q.count ? this.q.types[this.i] : undefined; }
  private pop(): number | undefined { return this.i < this.q.count ? this.q.types[this.i++] : undefined; }

  private value(): JsonValue {
    this.floatWhole = false;
    const t = this.peek();
    if (t === undefined) this.fail('premature EOI');
    switch (t) {
      case T.LCURLY: return this.object();
      case T.LSQUARE: return this.array();
      case T.INTEGER: case T.FLOAT: case T.STRING: return this.literal();
      case T.KEYWORD: return this.keyword();
      default: return this.fail('expecting value');
    }
  }

  // parse_object() / parse_pair()
  private object(): JsonValue {
    this.pop();
    const dict: Record<string, JsonValue> = {};
    if (this.peek() === undefined) this.fail('premature EOI');
    if (this.peek() === T.RCURLY) { this.pop(); return dict; }
    for (;;) {
      this.pair(dict);
      const t = this.pop();
      if (t === undefined) this.fail('premature EOI');
      if (t === T.RCURLY) return dict;
      if (t !== T.COMMA) this.fail('expected separator in dict');
    }
  }

  private pair(dict: Record<string, JsonValue>): void {
    if (this.peek() === undefined) this.fail('premature EOI');
    const key = this.value();
    if (typeof key !== 'string') this.fail('key is not a string in object');
    const colon = this.pop();
    if (colon === undefined) this.fail('premature EOI');
    if (colon !== T.COLON) this.fail('missing : in object pair');
    const v = this.value();
    if (Object.prototype.hasOwnProperty.call(dict, key)) this.fail('duplicate key');
    if (this.floatWhole) { this.floatWhole = false; markIntegralFloat(dict, key); }
    // a member named __proto__ is data, never the prototype; any other is set plainly (a
    // defineProperty per member turns the object into a slow dictionary)
    if (key === '__proto__') Object.defineProperty(dict, key, { value: v, enumerable: true, writable: true, configurable: true });
    else dict[key] = v;
  }

  // parse_array()
  private array(): JsonValue {
    this.pop();
    const list: JsonValue[] = [];
    if (this.peek() === undefined) this.fail('premature EOI');
    if (this.peek() === T.RSQUARE) { this.pop(); return list; }
    for (;;) {
      list.push(this.value());
      if (this.floatWhole) { this.floatWhole = false; markIntegralFloat(list, list.length - 1); }
      const t = this.pop();
      if (t === undefined) this.fail('premature EOI');
      if (t === T.RSQUARE) return list;
      if (t !== T.COMMA) this.fail('expected separator in list');
    }
  }

  private keyword(): JsonValue {
    const i = this.i++;
    const word = this.q.arena.toString('latin1', this.q.starts[i], this.q.ends[i]);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return this.fail(`invalid keyword '${word}'`);
  }

  // parse_literal(): integers as int64, else uint64 (not for '-'), else double, like qemu_strtoi64/qemu_strtou64/strtod
  private literal(): JsonValue {
    const i = this.i++;
    const type = this.q.types[i];
    const from = this.q.starts[i]!, to = this.q.ends[i]!;
    if (type === T.STRING) return parseString(this.q.arena, from, to, this.failString);
    const s = this.q.arena.toString('latin1', from, to);
    if (type === T.INTEGER) {
      const b = BigInt(s);
      if (b >= INT64_MIN && b <= INT64_MAX) return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
      if (s[0] !== '-' && b <= UINT64_MAX) return b;
      return Number(s); // past uint64: a double (qnum() sees it is past uint64)
    }
    const n = Number(s);
    // a JSON_FLOAT token is a double QNum whatever its value (float-marks.ts)
    if (Number.isInteger(n) || Object.is(n, -0)) this.floatWhole = true;
    return n;
  }
}

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n, UINT64_MAX = 2n ** 64n - 1n, MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function cvt4hex(b: Uint8Array, at: number): number {
  let cp = 0;
  for (let k = 0; k < 4; k++) {
    const c = at + k < b.length ? b[at + k]! : 0;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else return -1;
    cp = (cp << 4) | d;
  }
  return cp;
}

const ESCAPES: Record<number, string> = {
  0x22: '"', 0x27: "'", 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t',
};

/** parse_string(): the token with its quotes; escapes, surrogate pairs, modified UTF-8 checked. */
function parseString(arena: Buffer, from: number, to: number, fail: (m: string) => never): string {
  // A string of ASCII without escapes (a command's names) is its own text, taken at once: the
  // loop below would take the same code points one at a time (the lexer lets no byte under 0x20
  // into a string, and the token ends at its closing quote, the only one in it).
  let i = from + 1;
  while (i < to - 1 && arena[i]! < 0x80 && arena[i] !== 0x5c) i++;
  if (i === to - 1) return arena.toString('latin1', from + 1, to - 1);
  return parseEscaped(arena.subarray(from, to), fail);
}

function parseEscaped(b: Uint8Array, fail: (m: string) => never): string {
  const quote = b[0]!;
  let out = '';
  let p = 1;
  while (p < b.length && b[p] !== quote) {
    const c = b[p]!;
    if (c === 0x5c) {
      const beg = p;
      const e = b[p + 1]!;
      p += 2;
      if (e === 0x75) {
        let cp = cvt4hex(b, p);
        p += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && b[p] === 0x5c && b[p + 1] === 0x75) {
          const trailing = cvt4hex(b, p + 2);
          if (trailing >= 0xdc00 && trailing <= 0xdfff) { cp = 0x10000 + ((cp & 0x3ff) << 10) + (trailing & 0x3ff); p += 6; }
          else cp = -1;
        }
        if (cp < 0 || !isValidCodepoint(cp)) {
          // "%.*s" of the escape as written, cut at the token's end (its NUL)
          fail(`${decodeModUtf8Lossy(b.subarray(beg, Math.min(p, b.length)))} is not a valid Unicode character`);
        }
        out += String.fromCodePoint(cp);
      } else if (ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
      } else {
        fail('invalid escape sequence in string');
      }
    } else {
      const r = modUtf8Codepoint(b, p, Math.min(6, b.length - p));
      if (r.cp < 0) fail('invalid UTF-8 sequence in string');
      out += String.fromCodePoint(r.cp);
      p = r.end;
    }
  }
  return out;
}
