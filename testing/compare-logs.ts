// Two logs of the same scenario, record by record: the first seq where they part (a different
// record, or a different state after it) and what differs in the state there. The golden spec
// reports with it; it is exported for tests that keep recorded logs of their own.
import { canonicalJson, stateHash } from '../graph/hash.js';
import type { State } from '../graph/types.js';
import { upcast } from '../events/upcast.js';
import { endOf } from '../events/ends.js';
import { isWhole } from '../events/whole.js';
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

/**
 * A log as today's engine writes it, for comparing by meaning: a txn.decided followed at once by
 * the plain txn.ended of the same transaction (how logs before issue 15 ended every transaction,
 * and how the phased path still does) becomes one txn.decided carrying the end
 * (events/ends.ts), and the seqs after it close up. The engine names a transaction after the seq
 * of its txn.begun (`t<seq>`): those names follow their begun record's new seq. Hashes are left
 * as they were (not compared). Then whole transactions (wholeTxns).
 */
export function normalizeLog(records: readonly LogRecord[]): LogRecord[] {
  return wholeTxns(endsOnDecisions(records));
}

function endsOnDecisions(records: readonly LogRecord[]): LogRecord[] {
  const out: LogRecord[] = [];
  const renamed = new Map<string, string>();
  const txnOf = (r: LogRecord) => (r.txn === undefined ? {} : { txn: renamed.get(r.txn) ?? r.txn });
  const moved = new Map<number, number>(); // a step's seq -> its new seq, for the compensation that undoes it
  let shift = 0;
  for (let i = 0; i < records.length; i++) {
    let r = records[i]!;
    if (shift && r.type === 'txn.step') moved.set(r.seq, r.seq - shift);
    const undoes = (r.data as { undoes?: unknown } | null)?.undoes;
    if (r.type === 'txn.compensated' && typeof undoes === 'number' && moved.has(undoes)) r = { ...r, data: { ...(r.data as object), undoes: moved.get(undoes) } };
    const next = records[i + 1];
    const d = r.data as Record<string, unknown> | null;
    if (shift && r.type === 'txn.begun' && r.txn === `t${r.seq}`) renamed.set(r.txn, `t${r.seq - shift}`);
    if (r.type === 'txn.decided' && d && d.ended === undefined && next?.type === 'txn.ended' && next.txn === r.txn
      && (next.data as { recovered?: unknown } | null)?.recovered === undefined) {
      out.push({ ...r, seq: r.seq - shift, ...txnOf(r), data: { ...d, ended: next.data } });
      shift++;
      i++;
      continue;
    }
    out.push(shift ? { ...r, seq: r.seq - shift, ...txnOf(r) } : r);
  }
  return out;
}

/**
 * Then, as today's engine writes a transaction that is one batch (format version 4): a txn.begun
 * followed at once by its steps and its decision carrying a plain end becomes one whole
 * transaction (events/whole.ts), the seqs after it close up and `t<seq>` names follow.
 */
function wholeTxns(records: readonly LogRecord[]): LogRecord[] {
  const out: LogRecord[] = [];
  const renamed = new Map<string, string>();
  const moved = new Map<number, number>();
  let shift = 0;
  const txnOf = (r: LogRecord) => (r.txn === undefined ? {} : { txn: renamed.get(r.txn) ?? r.txn });
  for (let i = 0; i < records.length; i++) {
    let r = records[i]!;
    if (shift && r.type === 'txn.step') moved.set(r.seq, r.seq - shift);
    const undoes = (r.data as { undoes?: unknown } | null)?.undoes;
    if (r.type === 'txn.compensated' && typeof undoes === 'number' && moved.has(undoes)) r = { ...r, data: { ...(r.data as object), undoes: moved.get(undoes) } };
    if (shift && r.type === 'txn.begun' && r.txn === `t${r.seq}`) renamed.set(r.txn, `t${r.seq - shift}`);
    if (r.type === 'txn.begun' && r.txn !== undefined && !isWhole(r)) {
      let j = i + 1;
      while (records[j]?.type === 'txn.step' && records[j]!.txn === r.txn) j++;
      const d = records[j];
      const end = d?.type === 'txn.decided' && d.txn === r.txn ? endOf(d) : undefined;
      if (end && end.recovered === undefined) {
        const data = { ...(upcast(r) as object), steps: records.slice(i + 1, j).map((s) => upcast(s)), decided: upcast(d!) };
        out.push({ ...r, v: 3, seq: r.seq - shift, ...txnOf(r), data });
        shift += j - i;
        i = j;
        continue;
      }
    }
    out.push(shift ? { ...r, seq: r.seq - shift, ...txnOf(r) } : r);
  }
  return out;
}

/**
 * Compares from an empty state; both logs must start at the same seq. Both are compared as
 * normalizeLog gives them, so `seq` in the result is a seq of the normalized `expected`.
 */
export function compareLogs(expectedLog: readonly LogRecord[], actualLog: readonly LogRecord[], base: State = {}): LogComparison {
  const expected = normalizeLog(expectedLog);
  const actual = normalizeLog(actualLog);
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
