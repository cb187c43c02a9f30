// Work the QMP reader does per request (issue 15), counted, never timed. The excerpt of a
// message (the input a refusal records in the audit log) is built only when it is read: an
// accepted command's tokens are never decoded for it. It is the same text the reader built token
// by token before: each token's text decoded on its own (cut to 256 bytes), concatenated, cut to
// 256 characters. Tokens reach the reader without a Buffer view made for each, and a string
// without escapes or non-ASCII bytes is taken whole, with the same value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModUtf8Lossy } from '../../qmp/mod-utf8.js';
import { excerptWork, JsonMessageReader, QEMU_JSON_LIMITS, type JsonMessage } from '../../qmp/json-reader.js';

/** A reader whose every token is also noted the eager way (the reader's own former note()). */
function readBoth(chunks: Uint8Array[], limits = QEMU_JSON_LIMITS): { lazy: string[]; eager: string[]; sizes: number[] } {
  const out: JsonMessage[] = [];
  const r = new JsonMessageReader((m) => out.push(m), limits);
  const eager: string[] = [];
  let ex = '';
  const inner = (r as unknown as { ex: { add: (t: Buffer, len: number) => void; take: () => () => string } }).ex;
  const add = inner.add.bind(inner);
  const take = inner.take.bind(inner);
  inner.add = (t, len) => { if (ex.length < 256) ex = (ex + decodeModUtf8Lossy(t.subarray(0, Math.min(len, 256)))).slice(0, 256); add(t, len); };
  inner.take = () => { eager.push(ex); ex = ''; return take(); };
  for (const c of chunks) r.feed(c);
  return { lazy: out.map((m) => m.excerpt), eager, sizes: out.map((m) => m.size) };
}

test('an accepted request decodes no excerpt; a read one is decoded once', () => {
  const out: JsonMessage[] = [];
  const r = new JsonMessageReader((m) => out.push(m));
  const before = excerptWork.decoded;
  for (let i = 0; i < 50; i++) r.feed(Buffer.from(`{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n${i}"}, "id": ${i}}\n`));
  assert.is(out.length, 50);
  assert.is(excerptWork.decoded - before, 0, 'no excerpt built for accepted requests');
  assert.is(out[3]!.excerpt, '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n3"},"id":3}');
  assert.is(out[3]!.excerpt, out[3]!.excerpt);
  assert.is(excerptWork.decoded - before, 1);
  assert.is(JSON.parse(JSON.stringify(out[0])).excerpt, out[0]!.excerpt, 'serialized with the message');
});

test('the lazy excerpt is the eager one: random bytes, long tokens, UTF-8 split across tokens and reads', () => {
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const pieces = ['{', '}', '[', ']', ':', ',', '"é', 'x"', "'a", '12', '-0.5e3', 'true', 'nul', '\u0000', '\xff', '\u20ac', '\ud83d\ude00', ' ', '\n', '"\\u00e9"', '"' + 'ü'.repeat(300) + '"', 'q'.repeat(400)];
  for (let round = 0; round < 40; round++) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      const p = pieces[rnd(pieces.length)]!;
      // raw bytes too: a piece cut inside a UTF-8 character, or a stray continuation byte
      parts.push(rnd(5) === 0 ? Buffer.from(p).subarray(0, 1 + rnd(Math.max(1, Buffer.byteLength(p)))) : Buffer.from(p));
    }
    const all = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let at = 0; at < all.length;) { const n = 1 + rnd(300); chunks.push(all.subarray(at, at + n)); at += n; }
    const { lazy, eager } = readBoth(chunks, { ...QEMU_JSON_LIMITS, maxTokenSize: 2048, maxNesting: 64 });
    assert.ok(lazy.length > 0);
    assert.equal(lazy, eager, `round ${round}`);
  }
});

test('a message of many multi-byte tokens: the excerpt is full (256 characters) and the same', () => {
  const list = '[' + Array.from({ length: 300 }, () => '"\u{1F600}\u{1F600}"').join(',') + ']';
  const { lazy, eager } = readBoth([Buffer.from(list)]);
  assert.is(lazy[0]!.length, 256);
  assert.equal(lazy, eager);
});

test('no Buffer view per token: a request is lexed and parsed without subarray()', () => {
  const out: JsonMessage[] = [];
  const r = new JsonMessageReader((m) => out.push(m));
  const lines = Array.from({ length: 20 }, (_, i) => Buffer.from(`{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n${i}", "read-only": false, "size": 1048576}, "id": ${i}}\n`));
  const proto = Buffer.prototype as unknown as { subarray: (...a: unknown[]) => Buffer };
  const orig = proto.subarray;
  let views = 0;
  proto.subarray = function (this: Buffer, ...a: unknown[]) { views++; return orig.apply(this, a); };
  try {
    for (const l of lines) r.feed(l);
  } finally {
    proto.subarray = orig;
  }
  assert.is(out.length, 20);
  assert.equal((out[7] as { value: unknown }).value, { execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n7', 'read-only': false, size: 1048576 }, id: 7 });
  assert.is(views, 0, `${views} Buffer views for 20 requests`);
});

test('strings: the whole-ASCII shortcut and the escaped path give what JSON.parse gives', () => {
  let seed = 11;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const alphabet = ['a', 'Z', '0', ' ', '~', '\x7f', "'", '/', '\\\\', '\\"', '\\n', '\\t', '\\u00e9', '\\u0041', '\\ud83d\\ude00', 'é', '€', '😀'];
  const texts: string[] = [];
  for (let i = 0; i < 500; i++) {
    let t = '';
    const n = rnd(12);
    // half of them plain ASCII (the shortcut), half with escapes or UTF-8 (the full path)
    for (let k = 0; k < n; k++) t += alphabet[i % 2 ? rnd(alphabet.length) : rnd(6)];
    texts.push(`"${t}"`);
  }
  const out: JsonMessage[] = [];
  const r = new JsonMessageReader((m) => out.push(m));
  r.feed(Buffer.from('[' + texts.join(', ') + ']'));
  assert.is(out.length, 1);
  assert.equal((out[0] as { value: unknown }).value, texts.map((t) => JSON.parse(t)));
  // single quotes as QEMU takes them: a double quote inside needs no escape
  const single: JsonMessage[] = [];
  new JsonMessageReader((m) => single.push(m)).feed(Buffer.from(`['a"b', 'plain', '\\'x']`));
  assert.equal((single[0] as { value: unknown }).value, ['a"b', 'plain', "'x"]);
});

test.run();
