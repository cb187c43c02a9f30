// The CLI's value parsers, shared by every command (commander's argParser), so that one flag
// means one thing everywhere and a bad value is always one line and exit 2 (BG_BAD_INPUT),
// before any store is opened. Light on purpose: loaded for --help.
import { BlockgraphError } from '../errors/index.js';
import { procNameProblem } from '../graph/proc-name.js';

const bad = (flag: string, msg: string): never => { throw new BlockgraphError('BG_BAD_INPUT', `${flag}: ${msg}`); };

/** A whole number in [min, max] written in plain decimal digits (no "1e3", "0x10", "+4", " 5"). */
export function intArg(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    if (!/^\d{1,16}$/.test(v)) return bad(flag, `not a whole number: ${JSON.stringify(v)}`);
    const n = Number(v);
    if (n < min || n > max) return bad(flag, `${n} is out of range (${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max})`);
    return n;
  };
}

/** A log position: seq numbers start at 1. */
export const seqArg = (flag: string) => {
  const p = intArg(flag, 1);
  return (v: string): number => (/^\d+$/.test(v) ? p(v) : bad(flag, `not a seq number (1, 2, …): ${JSON.stringify(v)}`));
};

/** A count of things (>= 1). */
export const countArg = (flag: string) => intArg(flag, 1);

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time, checked field by field: Date.parse alone accepts "1",
 * "March 7" and rolls 2026-02-30 over to March, so neither is a check. Without a zone the
 * time is UTC (the log's `at` is UTC). Returns the instant as toISOString().
 */
function parseIsoTime(v: string): string | undefined {
  const m = ISO.exec(v.trim());
  if (!m) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7).map((x) => x) as string[];
  const year = Number(y), month = Number(mo), day = Number(d);
  if (month < 1 || month > 12) return undefined;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const zone = m[8] ?? 'Z';
  const t = Date.parse(`${y}-${mo}-${d}T${h.padStart(2, '0')}:${mi.padStart(2, '0')}:${s.padStart(2, '0')}${m[7] ? `.${m[7].slice(0, 3).padEnd(3, '0')}` : ''}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export const timeArg = (flag: string) => (v: string): string =>
  parseIsoTime(v) ?? bad(flag, `not an ISO time (2026-01-31 or 2026-01-31T12:00:00Z): ${JSON.stringify(v)}`);

/** A point of the log: a seq number or an ISO time (resolved against the log later). */
export type Point = { seq: number } | { time: string };
export const pointArg = (flag: string) => (v: string): Point => {
  if (/^\d+$/.test(v)) return { seq: seqArg(flag)(v) };
  const time = parseIsoTime(v);
  return time ? { time } : bad(flag, `neither a seq number nor an ISO time (2026-01-31T12:00:00Z): ${JSON.stringify(v)}`);
};

/** One of a fixed set of words. */
export const choiceArg = <T extends string>(flag: string, choices: readonly T[]) => (v: string): T =>
  (choices as readonly string[]).includes(v) ? (v as T) : bad(flag, `${JSON.stringify(v)} is not one of ${choices.join(', ')}`);

/** A comma-separated list, each item one of `choices`. */
export const listArg = (flag: string, choices: readonly string[]) => (v: string): string[] => {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) bad(flag, 'empty list');
  for (const x of items) if (!choices.includes(x)) bad(flag, `${JSON.stringify(x)} is not one of ${choices.join(', ')}`);
  return items;
};

/** A non-empty name (node, process, transaction id). */
export const nameArg = (flag: string) => (v: string): string => (v.trim() ? v : bad(flag, 'empty name'));

/** `--out FILE`: an empty path (`--out "$UNSET"`) is refused, not taken as "stdout". */
export const outArg = (flag = '--out') => (v: string): string => (v !== '' ? v : bad(flag, 'an empty path'));

/** A process name a command writes under (graph/proc-name.ts: QEMU's id rule, no Object.prototype member). */
export const procArg = (flag: string) => (v: string): string => {
  const why = procNameProblem(v);
  return why ? bad(flag, why) : v;
};

/** `--qemu 7.2|10.0`: the QEMU version a command models or records (graph/version.ts). */
export function qemuArg(flag = '--qemu'): (v: string) => '7.2' | '10.0' {
  return (v) => {
    if (v === '7.2' || v === '10.0') return v;
    return bad(flag, `not a QEMU version blockgraph models: ${JSON.stringify(v)} (7.2 or 10.0)`);
  };
}
