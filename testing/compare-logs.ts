// Two logs of the same scenario, record by record: the first seq where they part (a different
// record, or a different state after it) and what differs in the state there. The golden spec
// reports with it; it is exported for tests that keep recorded logs of their own.
import { canonicalJson, stateHash } from '../graph/hash.js';
import type { State } from '../graph/types.js';
import { upcast } from '../events/upcast.js';
import { emptyFold, foldRecord } from '../replay/fold.js';
import type { LogRecord } from '../store/index.js';
import { diffStates } from './state-diff.js';

export interface LogComparison {
  ok: boolean;
  compared: number;
  /** First seq (of `expected`) where the logs part. */
  seq?: number;
  reason?: string;
  /** Entities that differ between the two states after record `seq` (expected -> actual). */
  stateDiff?: string[];
}

// Hashes and chain links differ whenever anything before differs; the body is what was decided,
// read at the current version of its type (events/upcast.ts): a log recorded at an older version
// compares by meaning, not by the version it was stored at.
const body = (r: LogRecord | undefined) => {
  if (!r) return 'none';
  const { hash: _h, prevHash: _p, v: _v, data: _d, ...rest } = r;
  return canonicalJson({ ...rest, data: upcast(r) });
};
const label = (r: LogRecord | undefined) => (r ? `${r.type}${r.txn ? ` ${r.txn}` : ''} ${canonicalJson(r.data).slice(0, 160)}` : 'nothing');

/** Compares from an empty state; both logs must start at the same seq. */
export function compareLogs(expected: readonly LogRecord[], actual: readonly LogRecord[], base: State = {}): LogComparison {
  const a = { ...emptyFold(), state: structuredClone(base), seq: (expected[0]?.seq ?? 1) - 1 };
  const b = { ...emptyFold(), state: structuredClone(base), seq: (actual[0]?.seq ?? 1) - 1 };
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const x = actual[i];
    const seq = e?.seq ?? x!.seq;
    if (e) foldRecord(a, e);
    if (x) foldRecord(b, x);
    const stateDiff = stateHash(a.state) === stateHash(b.state) ? [] : diffStates(a.state, b.state);
    if (body(e) !== body(x)) {
      return { ok: false, compared: i, seq, reason: `recorded ${label(e)}\n  now      ${label(x)}`, stateDiff };
    }
    if (stateDiff.length) return { ok: false, compared: i, seq, reason: 'same record, different state', stateDiff };
  }
  return { ok: true, compared: n };
}

export function formatLogComparison(name: string, c: LogComparison): string {
  if (c.ok) return `${name}: ${c.compared} records agree`;
  const diff = c.stateDiff?.length ? `\n  state after seq ${c.seq} (recorded -> now):\n    ${c.stateDiff.join('\n    ')}` : '\n  state after it: the same';
  return `${name}: first diverging seq ${c.seq}\n  ${c.reason}${diff}`;
}
