// QEMU 7.2's JSON writer as the monitor uses it (qobject_to_json_pretty(…, false) in
// qmp_send_response(); qobject/json-writer.c): ": " after a key, ", " between members, object
// members in QDict iteration order (the hash order qdict_first/qdict_next walk), strings with
// everything outside printable ASCII as \uXXXX (upper-case hex, surrogate pairs past the BMP),
// doubles as "%.17g" (so Infinity is `inf`, as QEMU prints it: not JSON, but what QEMU sends).
import { qdictOrder } from '../commands/schema/ghash.js';

const NAMED: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/** quoted_str() */
export function quoteString(s: string): string {
  let out = '"';
  let plainFrom = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(plainFrom, i);
    if (NAMED[c] !== undefined) out += NAMED[c];
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += `\\u${hex4(c)}\\u${hex4(s.charCodeAt(i + 1))}`;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\uFFFD'; // a lone surrogate is no valid UTF-8: QEMU's replacement
    else out += `\\u${hex4(c)}`;
    plainFrom = i + 1;
  }
  return out + s.slice(plainFrom) + '"';
}

/** printf("%.17g") for a finite or infinite double. */
export function formatG17(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [m, e] = v.toExponential(16).split('e') as [string, string];
  const exp = Number(e);
  const neg = m.startsWith('-');
  const digits = m.replace('-', '').replace('.', '');
  let s: string;
  if (exp < -4 || exp >= 17) {
    const frac = digits.slice(1).replace(/0+$/, '');
    s = digits[0] + (frac ? '.' + frac : '') + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  } else if (exp >= 0) {
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    s = digits.slice(0, exp + 1) + (frac ? '.' + frac : '');
  } else {
    s = ('0.' + '0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
  }
  return neg ? '-' + s : s;
}

/** Text already in the monitor's format, written as is (a large constant reply encoded once). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** to_json(): one value as the monitor prints it. Iterative, so no input depth can overflow the stack. */
export function toQmpJson(root: unknown): string {
  const parts: string[] = [];
  type Frame = { items: unknown[]; keys: string[] | null; i: number; close: string };
  const stack: Frame[] = [];
  const emitValue = (v: unknown) => {
    switch (typeof v) {
      case 'string': parts.push(quoteString(v)); return;
      case 'bigint': parts.push(v.toString()); return;
      case 'number': parts.push(Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : formatG17(v)); return;
      case 'boolean': parts.push(v ? 'true' : 'false'); return;
      case 'object': break;
      default: parts.push('null'); return; // undefined never reaches the wire as anything else
    }
    if (v === null) { parts.push('null'); return; }
    if (v instanceof RawJson) { parts.push(v.text); return; }
    if (Array.isArray(v)) { parts.push('['); stack.push({ items: v, keys: null, i: 0, close: ']' }); return; }
    const o = v as Record<string, unknown>;
    const keys = qdictOrder(Object.keys(o).filter((k) => o[k] !== undefined));
    parts.push('{');
    stack.push({ items: keys.map((k) => o[k]), keys, i: 0, close: '}' });
  };
  emitValue(root);
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    if (f.i === f.items.length) { parts.push(f.close); stack.pop(); continue; }
    if (f.i > 0) parts.push(', ');
    if (f.keys) parts.push(quoteString(f.keys[f.i]!), ': ');
    emitValue(f.items[f.i++]);
  }
  return parts.join('');
}
