// Fixtures: a seq range of a log as JSON lines that can be loaded on its own. The header line
// carries the state before the range (and the hash of the record before it), so a fixture
// needs nothing else; each following line is one record exactly as the log holds it.
//
// Import is check-then-write: the whole fixture is parsed, its hash chain recomputed and its
// records folded (with the recorded state hash compared at every txn.ended) in memory first;
// only a fixture that passes all of that is appended, in one batch, so a refused fixture
// leaves the store as it was.
import { BlockgraphError } from '../errors/index.js';
import { loadFold } from '../engine/engine.js';
import type { Change } from '../graph/draft.js';
import { stateHash } from '../graph/hash.js';
import type { State } from '../graph/types.js';
// The store computes record hashes here; a fixture's chain must be checked the same way.
import { recordHash } from '../store/codec.js';
import { recordedStateHash } from '../events/ends.js';
import type { EventLog, LogRecord, NewRecord } from '../store/index.js';
import { emptyFold, foldRecord, type Fold } from './fold.js';

export const FIXTURE_FORMAT = 'blockgraph-fixture';
export const FIXTURE_VERSION = 1;

export interface FixtureBase {
  /** The seq before the first record (from - 1); 0 when the fixture starts the log. */
  seq: number;
  /** Hash of record `seq` in the source log: the first record's prevHash ("" for seq 0). */
  hash: string;
  stateHash: string;
  state: State;
}

export interface FixtureHeader {
  format: typeof FIXTURE_FORMAT;
  version: typeof FIXTURE_VERSION;
  from: number;
  to: number;
  count: number;
  base: FixtureBase;
  /** Free text, e.g. which scenario a golden log was recorded from. */
  description?: string;
}

export interface Fixture {
  header: FixtureHeader;
  records: LogRecord[];
}

function badInput(where: string, what: string, details: Record<string, unknown> = {}): never {
  throw new BlockgraphError('BG_BAD_INPUT', `${where}: ${what}`, { where, ...details });
}

function damaged(where: string, line: number, seq: number, what: string): never {
  throw new BlockgraphError('BG_LOG_CORRUPT', `${where} is damaged at line ${line} (seq ${seq}): ${what}`, { where, line, seq });
}

// ---------------------------------------------------------------------------------------------
// export

export interface ExportOptions {
  from?: number;
  to?: number;
  description?: string;
}

/** The fixture of records from..to (default: the whole log). */
export async function exportFixture(log: EventLog, opts: ExportOptions = {}): Promise<Fixture> {
  const from = opts.from ?? 1;
  const to = opts.to ?? log.head;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from || to > log.head) {
    throw new BlockgraphError('BG_BAD_INPUT', `range ${from}..${to} is not within the log (1..${log.head})`, { from, to, head: log.head });
  }
  const fold = await loadFold(log, from - 1);
  // The base is a state, not a half-done transaction: the importer could not resume one.
  const open = [...fold.open.values()];
  if (open.length > 0) {
    const t = open[0]!;
    throw new BlockgraphError('BG_BAD_INPUT',
      `seq ${from} is inside transaction ${t.id} (begun at seq ${t.begunSeq}); start the fixture at ${t.begunSeq} or after it ends`,
      { txn: t.id, begunSeq: t.begunSeq });
  }
  const records = await log.readAll({ gte: from, lte: to });
  const hash = from === 1 ? '' : records[0]!.prevHash;
  const header: FixtureHeader = {
    format: FIXTURE_FORMAT, version: FIXTURE_VERSION, from, to, count: records.length,
    base: { seq: from - 1, hash, stateHash: stateHash(fold.state), state: fold.state },
  };
  if (opts.description) header.description = opts.description;
  return { header, records };
}

/** One JSON line per record after the header line; ends with a newline. */
export function printFixture(f: Fixture): string {
  const lines = [JSON.stringify(f.header)];
  for (const r of f.records) lines.push(JSON.stringify(r));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// parse and check

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HASH_RE = /^[0-9a-f]{64}$/;

/** Parses the text of a fixture (shape only: chain and replay are checkFixture's). */
export function parseFixture(text: string, where = 'fixture'): Fixture {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) badInput(where, 'empty file');
  const parse = (s: string, n: number): unknown => {
    try { return JSON.parse(s); } catch (e) { return badInput(where, `line ${n} is not JSON: ${(e as Error).message}`, { line: n }); }
  };
  const h = parse(lines[0]!, 1);
  if (!isObj(h) || h.format !== FIXTURE_FORMAT) badInput(where, `line 1 is not a ${FIXTURE_FORMAT} header`, { line: 1 });
  if (h.version !== FIXTURE_VERSION) badInput(where, `unsupported ${FIXTURE_FORMAT} version ${JSON.stringify(h.version)} (this is version ${FIXTURE_VERSION})`, { line: 1 });
  for (const k of ['from', 'to', 'count'] as const) {
    if (!Number.isInteger(h[k]) || (h[k] as number) < (k === 'count' ? 0 : 1)) badInput(where, `header '${k}' must be a positive integer`, { line: 1 });
  }
  const b = h.base;
  if (!isObj(b) || !Number.isInteger(b.seq) || typeof b.hash !== 'string' || typeof b.stateHash !== 'string' || !isObj(b.state)) {
    badInput(where, "header 'base' must be {seq, hash, stateHash, state}", { line: 1 });
  }
  if (b.seq !== (h.from as number) - 1) badInput(where, `header base.seq ${b.seq} is not from - 1`, { line: 1 });
  if (b.seq === 0 ? b.hash !== '' : !HASH_RE.test(b.hash as string)) badInput(where, 'header base.hash is not a record hash', { line: 1 });
  const records: LogRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const r = parse(lines[i]!, i + 1);
    if (!isObj(r) || !Number.isInteger(r.seq) || typeof r.type !== 'string' || typeof r.stream !== 'string'
      || typeof r.at !== 'string' || typeof r.hash !== 'string' || typeof r.prevHash !== 'string' || !('data' in r)) {
      badInput(where, `line ${i + 1} is not a log record`, { line: i + 1 });
    }
    records.push(r as unknown as LogRecord);
  }
  return { header: h as unknown as FixtureHeader, records };
}

export interface FixtureCheck {
  /** The fold after the last record. */
  fold: Fold;
  /** Recorded state hashes compared (txn.ended records with a hash, plus the base). */
  checked: number;
}

/**
 * Recomputes the chain and replays the records over the base state. A broken chain, a gap or
 * a record out of order is BG_LOG_CORRUPT (with the fixture line and seq); a state hash that
 * replay does not reproduce is BG_REPLAY_DIVERGED; records out of protocol order BG_LOG_PROTOCOL.
 */
export function checkFixture(f: Fixture, where = 'fixture'): FixtureCheck {
  const { header: h, records } = f;
  if (records.length !== h.count) {
    damaged(where, records.length + 2, h.from + records.length, `header announces ${h.count} records, the file holds ${records.length} (truncated or extended)`);
  }
  if (h.to !== h.from + h.count - 1) badInput(where, `header range ${h.from}..${h.to} does not hold ${h.count} records`, { line: 1 });
  if (stateHash(h.base.state) !== h.base.stateHash) {
    throw new BlockgraphError('BG_REPLAY_DIVERGED', `${where}: the base state does not hash to base.stateHash`, { where, seq: h.base.seq });
  }
  // The fold starts at the base: seqs and open transactions as the source log had them.
  const fold: Fold = { ...emptyFold(), state: structuredClone(h.base.state), seq: h.base.seq };
  let prev = h.base.hash;
  let checked = 1;
  records.forEach((r, i) => {
    const line = i + 2;
    const seq = h.from + i;
    if (r.seq !== seq) damaged(where, line, r.seq, `expected seq ${seq} (records missing or out of order)`);
    if (r.prevHash !== prev) damaged(where, line, seq, `broken chain: prevHash does not match the hash of record ${seq - 1}`);
    let own: string;
    try {
      own = recordHash(seq, r, prev); // in the frame of the record's version (store/codec.ts)
    } catch (e) {
      return damaged(where, line, seq, `not a valid record (${(e as Error).message})`);
    }
    if (own !== r.hash) damaged(where, line, seq, 'hash mismatch: record body does not match its hash');
    prev = r.hash;
    foldRecord(fold, r);
    const want = recordedStateHash(r);
    if (want) {
      checked++;
      const got = stateHash(fold.state);
      if (got !== want) {
        throw new BlockgraphError('BG_REPLAY_DIVERGED', `${where}: replay does not give the recorded state hash at line ${line} (seq ${seq})`,
          { where, line, seq, expected: want, actual: got });
      }
    }
  });
  return { fold, checked };
}

// ---------------------------------------------------------------------------------------------
// import

export interface ImportReport {
  from: number;
  to: number;
  records: number;
  /** Store seq = fixture seq + offset. */
  offset: number;
  /** Records of the base transaction (0 when the base state is empty). */
  baseRecords: number;
  checked: number;
  head: number;
  stateHash: string;
}

/**
 * The records the store gets: the base state as one transaction (when it is not empty), then the
 * fixture's records with seq-bearing members (txn ids `t<begun seq>`, compensations' `undoes`)
 * moved by the offset, so the store reads as if the engine had written it.
 */
export function importRecords(f: Fixture): { records: NewRecord[]; offset: number; baseRecords: number } {
  const out: NewRecord[] = [];
  const { base } = f.header;
  const first = f.records[0];
  const at = first?.at ?? '1970-01-01T00:00:00.000Z';
  if (Object.keys(base.state).length > 0) {
    const changes: Change[] = [];
    for (const s of Object.keys(base.state).sort()) {
      for (const c of Object.keys(base.state[s]!).sort()) {
        const coll = base.state[s]![c]!;
        for (const id of Object.keys(coll).sort()) changes.push({ s, c, id, before: null, after: coll[id] } as unknown as Change);
      }
    }
    const b = { stream: 'log', at, txn: 't1' };
    const origin = { from: f.header.from, seq: base.seq, hash: base.hash, stateHash: base.stateHash };
    out.push(
      { ...b, type: 'txn.begun', data: { op: 'fixture.base', args: origin, plan: ['fixture.base'] } },
      { ...b, type: 'txn.step', data: { name: 'fixture.base', changes } },
      { ...b, type: 'txn.decided', data: { outcome: 'commit', reply: { return: {} }, events: [] } },
      { ...b, type: 'txn.ended', data: { stateHash: base.stateHash } },
    );
  }
  const offset = out.length - base.seq;
  const ids = new Map<string, string>();
  for (const r of f.records) {
    const rec: NewRecord = { stream: r.stream, type: r.type, v: r.v, at: r.at, data: r.data };
    if (r.causation !== undefined) rec.causation = r.causation;
    if (r.txn !== undefined) {
      if (r.type === 'txn.begun') ids.set(r.txn, offset === 0 ? r.txn : `t${r.seq + offset}`);
      rec.txn = ids.get(r.txn) ?? r.txn;
    }
    if (r.type === 'txn.compensated' && offset !== 0) {
      const d = r.data as { undoes: number };
      rec.data = { ...d, undoes: d.undoes + offset };
    }
    out.push(rec);
  }
  return { records: out, offset, baseRecords: out.length - f.records.length };
}

/** Checks `f` whole, then appends it to `log`, which must be empty. */
export async function importFixture(log: EventLog, f: Fixture, where = 'fixture'): Promise<ImportReport> {
  if (log.head !== 0) {
    throw new BlockgraphError('BG_BAD_INPUT', `fixtures are imported into a fresh store; this one holds ${log.head} records`, { head: log.head });
  }
  const check = checkFixture(f, where);
  const { records, offset, baseRecords } = importRecords(f);
  // The store re-folds what it got, so the remapped records are checked once more before writing.
  const fold = emptyFold();
  let seq = 0;
  for (const r of records) foldRecord(fold, { ...r, v: r.v ?? 1, seq: ++seq, prevHash: '', hash: '' } as LogRecord);
  const got = stateHash(fold.state);
  if (got !== stateHash(check.fold.state)) {
    throw new BlockgraphError('BG_REPLAY_DIVERGED', `${where}: the imported records do not rebuild the fixture's state`, { where });
  }
  if (records.length > 0) await log.append(records, { expectedSeq: 1, sync: true });
  return {
    from: f.header.from, to: f.header.to, records: f.records.length, offset, baseRecords,
    checked: check.checked, head: log.head, stateHash: got,
  };
}
