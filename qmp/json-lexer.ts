// QEMU 7.2's JSON lexer (qobject/json-lexer.c), byte for byte: a table-driven state machine over
// raw bytes, so a UTF-8 character split across two socket reads is just two bytes of one token
// (UTF-8 is checked later, per string, by the parser as parse_string() does). Interpolation
// (%p, %s…) is off, as it is for the monitor (json_message_parser_init(…, NULL)).
//
// The lexer never holds more than one token: MAX_TOKEN_SIZE bytes at most, after which the token
// is handed on unfinished (json_lexer_feed_char's size check) and the streamer refuses it.

/** Lexer states (json_lexer_state); ERROR is 0 as QEMU's JSON_ERROR. */
export enum S {
  ERROR = 0, RECOVERY, DQ_ESC, DQ, SQ_ESC, SQ, ZERO, EXP_DIGITS, EXP_SIGN, EXP_E, MANTISSA, MANTISSA_DIGITS,
  DIGITS, SIGN, KEYWORD, START,
}
/** Token types (JSONTokenType); all above every state, as QEMU_BUILD_BUG_ON requires there. */
export enum T {
  LCURLY = 32, RCURLY, LSQUARE, RSQUARE, COLON, COMMA, INTEGER, FLOAT, KEYWORD, STRING,
}
const LOOKAHEAD = 0x80;
const NSTATES = S.START + 1;

/** QEMU's transition table, built from the same rules; entries not set are ERROR (consumed). */
const TABLE: Uint8Array = (() => {
  const t = new Uint8Array(NSTATES * 256);
  const set = (s: S, from: number, to: number, v: number) => { for (let c = from; c <= to; c++) t[s * 256 + c] = v; };
  const ch = (c: string) => c.charCodeAt(0);
  const one = (s: S, c: string, v: number) => set(s, ch(c), ch(c), v);
  const terminal = (s: S, tok: T) => set(s, 0, 255, tok | LOOKAHEAD);
  // error recovery: skip to a structural character, a control character but tab, or 0xFE/0xFF
  set(S.RECOVERY, 0, 0x1f, S.START | LOOKAHEAD);
  set(S.RECOVERY, 0x20, 0xfd, S.RECOVERY);
  set(S.RECOVERY, 0xfe, 0xff, S.START | LOOKAHEAD);
  one(S.RECOVERY, '\t', S.RECOVERY);
  for (const c of '[]{}:,') one(S.RECOVERY, c, S.START | LOOKAHEAD);
  // strings: bytes 0x20..0xFD, escapes take any such byte (checked by the parser)
  set(S.DQ_ESC, 0x20, 0xfd, S.DQ);
  set(S.DQ, 0x20, 0xfd, S.DQ); one(S.DQ, '\\', S.DQ_ESC); one(S.DQ, '"', T.STRING);
  set(S.SQ_ESC, 0x20, 0xfd, S.SQ);
  set(S.SQ, 0x20, 0xfd, S.SQ); one(S.SQ, '\\', S.SQ_ESC); one(S.SQ, "'", T.STRING);
  // numbers
  terminal(S.ZERO, T.INTEGER); set(S.ZERO, ch('0'), ch('9'), S.ERROR); one(S.ZERO, '.', S.MANTISSA);
  terminal(S.EXP_DIGITS, T.FLOAT); set(S.EXP_DIGITS, ch('0'), ch('9'), S.EXP_DIGITS);
  set(S.EXP_SIGN, ch('0'), ch('9'), S.EXP_DIGITS);
  one(S.EXP_E, '-', S.EXP_SIGN); one(S.EXP_E, '+', S.EXP_SIGN); set(S.EXP_E, ch('0'), ch('9'), S.EXP_DIGITS);
  terminal(S.MANTISSA_DIGITS, T.FLOAT); set(S.MANTISSA_DIGITS, ch('0'), ch('9'), S.MANTISSA_DIGITS);
  one(S.MANTISSA_DIGITS, 'e', S.EXP_E); one(S.MANTISSA_DIGITS, 'E', S.EXP_E);
  set(S.MANTISSA, ch('0'), ch('9'), S.MANTISSA_DIGITS);
  terminal(S.DIGITS, T.INTEGER); set(S.DIGITS, ch('0'), ch('9'), S.DIGITS);
  one(S.DIGITS, 'e', S.EXP_E); one(S.DIGITS, 'E', S.EXP_E); one(S.DIGITS, '.', S.MANTISSA);
  one(S.SIGN, '0', S.ZERO); set(S.SIGN, ch('1'), ch('9'), S.DIGITS);
  terminal(S.KEYWORD, T.KEYWORD); set(S.KEYWORD, ch('a'), ch('z'), S.KEYWORD);
  // start
  one(S.START, '"', S.DQ); one(S.START, "'", S.SQ); one(S.START, '0', S.ZERO);
  set(S.START, ch('1'), ch('9'), S.DIGITS); one(S.START, '-', S.SIGN);
  one(S.START, '{', T.LCURLY); one(S.START, '}', T.RCURLY); one(S.START, '[', T.LSQUARE); one(S.START, ']', T.RSQUARE);
  one(S.START, ',', T.COMMA); one(S.START, ':', T.COLON);
  set(S.START, ch('a'), ch('z'), S.KEYWORD);
  for (const c of ' \t\r\n') one(S.START, c, S.START);
  return t;
})();

/**
 * Receives each token (or ERROR, or an oversized unfinished token with its lexer state): its text
 * is text[0, len), valid only during the call (the buffer is the lexer's, reused; no view is
 * made per token).
 */
export type TokenSink = (type: number, text: Buffer, len: number) => void;

/** One growable byte buffer for the token in progress; bounded by maxTokenSize + 1. */
class TokenBuf {
  buf = Buffer.allocUnsafe(64);
  len = 0;
  constructor(private readonly cap: number) {}
  push(c: number) { if (this.len === this.buf.length) this.grow(this.len + 1); this.buf[this.len++] = c; }
  pushRun(src: Uint8Array, from: number, to: number) {
    const n = to - from;
    if (this.len + n > this.buf.length) this.grow(this.len + n);
    // a short run (a name, a number) byte by byte: no view allocated for it
    if (n < 64) for (let i = from, o = this.len; i < to; i++, o++) this.buf[o] = src[i]!;
    else this.buf.set(src.subarray(from, to), this.len);
    this.len += n;
  }
  private grow(min: number) {
    // Past 1 MiB go straight to the most a token may hold: allocUnsafe leaves the pages untouched,
    // so only what is written counts, and no chain of doubled copies piles up garbage.
    const want = Math.max(min, this.buf.length * 2);
    const next = Buffer.allocUnsafe(want > 1 << 20 ? Math.max(min, this.cap) : want);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  clear() {
    this.len = 0;
    // a huge token's memory is given back at once, not kept for the connection's lifetime
    if (this.buf.length > 1 << 16) this.buf = Buffer.allocUnsafe(64);
  }
}

export class JsonLexer {
  private state: number = S.START;
  private readonly token: TokenBuf;

  constructor(private readonly sink: TokenSink, private readonly maxTokenSize: number) {
    this.token = new TokenBuf(maxTokenSize + 1);
  }

  /** json_lexer_feed(): every byte in order. */
  feed(bytes: Uint8Array): void {
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      // Fast path, same result: a run of bytes that keep the lexer in its state (string bodies,
      // keyword letters, digits, skipped garbage) changes nothing but the token, so it is taken at
      // once, stopping where the token size check must fire.
      const st = this.state;
      const row = st * 256;
      if (TABLE[row + bytes[i]!] === st) {
        let j = i + 1;
        if (st === S.RECOVERY || st === S.START) {
          // these states keep no token (json_lexer_feed_char() truncates it): skip the run
          while (j < n && TABLE[row + bytes[j]!] === st) j++;
        } else {
          const stop = Math.min(n, i + (this.maxTokenSize + 1 - this.token.len));
          while (j < stop && TABLE[row + bytes[j]!] === st) j++;
          this.token.pushRun(bytes, i, j);
          this.checkSize();
        }
        i = j - 1;
        continue;
      }
      this.feedChar(bytes[i]!);
    }
  }

  /** json_lexer_feed_char() without flush: the monitor never flushes (a closed client's partial input is dropped). */
  private feedChar(c: number): void {
    let consumed = false;
    while (!consumed) {
      const v = TABLE[this.state * 256 + c]!;
      consumed = (v & LOOKAHEAD) === 0;
      let next = v & ~LOOKAHEAD;
      if (consumed) this.token.push(c);
      if (next >= T.LCURLY) {
        this.sink(next, this.token.buf, this.token.len);
        this.token.clear();
        next = S.START;
      } else if (next === S.START) {
        this.token.clear();
      } else if (next === S.ERROR) {
        this.sink(S.ERROR, this.token.buf, this.token.len);
        this.token.clear();
        next = S.RECOVERY;
      } else if (next === S.RECOVERY) {
        this.token.clear();
      }
      this.state = next;
    }
    this.checkSize();
  }

  // "Do not let a single token grow to an arbitrarily large size": hand it on unfinished.
  private checkSize(): void {
    if (this.token.len > this.maxTokenSize) {
      this.sink(this.state, this.token.buf, this.token.len);
      this.token.clear();
      this.state = S.START;
    }
  }

  /** Bytes held for the token in progress (for memory accounting). */
  get pending(): number { return this.token.len; }

  reset(): void { this.token.clear(); this.state = S.START; }
}
