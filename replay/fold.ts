// Folding log records into state. The one place that interprets the log: live engine,
// replay, seek, verify and recovery all go through it, so they cannot disagree.
import { BlockgraphError, LogCorruptError } from '../errors/index.js';
import { upcast } from '../events/upcast.js';
import { CURRENT_VERSION } from '../events/types.js';
import { isWhole, partsOf } from '../events/whole.js';
import { applyChangesInPlace } from '../graph/apply.js';
import type { Change } from '../graph/draft.js';
import type { State } from '../graph/types.js';
import { protocolNext, type TxnEvent, type TxnState } from '../machines/txn-protocol.js';
import { expandRaw, type RawRecord } from '../store/codec.js';
import { merged } from '../store/image-delta.js';
import { expandImage, TEMPLATE_PROBE, templateFor } from '../store/image-template.js';
import { ENDS_COMMIT, ENDS_OTHER } from '../store/whole-split.js';
import type { LogRecord } from '../store/types.js';
import { wholeForFold, type WholeForFold } from '../store/whole-txn.js';

export interface OpenTxn {
  id: string;
  state: TxnState;          // machines/transaction.ts protocol state
  steps: { seq: number; changes: Change[] }[];
  compensated: number[];    // step seqs already undone
  begunSeq: number;
}

export interface Fold {
  state: State;
  seq: number;
  open: Map<string, OpenTxn>;
}

export const emptyFold = (): Fold => ({ state: {}, seq: 0, open: new Map() });

export function cloneState(s: State): State {
  return structuredClone(s);
}

export function protocol(rec: Pick<LogRecord, 'seq' | 'type'>, why: string): never {
  throw new BlockgraphError('BG_LOG_PROTOCOL', `record ${rec.seq} (${rec.type}): ${why}`, { seq: rec.seq });
}

function feed(rec: Pick<LogRecord, 'seq' | 'type'>, t: OpenTxn, ev: TxnEvent['type']) {
  const was = t.state;
  t.state = protocolNext(t.state, ev);
  if (t.state === 'invalid') protocol(rec, `not allowed in transaction ${t.id} (${ev} when ${was})`);
}

/** Applies one record in place. Throws BG_LOG_PROTOCOL for records out of protocol order. */
export function foldRecord(f: Fold, rec: LogRecord): void {
  if (rec.seq !== f.seq + 1) protocol(rec, `expected seq ${f.seq + 1}`);
  f.seq = rec.seq;
  if (isWhole(rec)) {
    // a whole transaction (events/whole.ts): begun, its steps and its decision with the end, in
    // protocol order, as if they were records of their own
    for (const part of partsOf(rec)) foldPart(f, part);
    return;
  }
  foldPart(f, rec);
}

/** Which way foldRaw folded records (specs count it): from the redo part alone, from a version-4 stored form, or decoded in full. */
export const rawFoldWork = { redo: 0, stored: 0, full: 0 };

/**
 * As foldRecord, for a record as the reader checked and parsed it (store/codec.ts RawRecord):
 * the replay path (issue 15). A whole transaction that ends in its record (the add/del
 * workload's every record) is folded from its stored form: its after-images applied in step
 * order, the protocol table fed begun, a step per step, the decision and the end, as foldPart
 * does for the parts events/whole.ts partsOf gives, so the state and the open transactions come
 * out the same (specs/store/fold-raw.spec.ts compares both on golden and engine logs). Every
 * other record is decoded in full and goes through foldRecord.
 */
export function foldRaw(f: Fold, raw: RawRecord): void {
  const r = raw.redo;
  if (r !== undefined) {
    // format versions 5 and 6 (frames 3 and 4): the redo part alone, parsed; the undo part is never read here
    const redo = r[3];
    if (r[0] === 'txn.begun' && (r[1] === 4 || r[1] === 5) && CURRENT_VERSION['txn.begun'] === 5 && Array.isArray(redo)
      && (redo[0] === ENDS_COMMIT || redo[0] === ENDS_OTHER) && Array.isArray(redo[1])) {
      rawFoldWork.redo++;
      return foldRedo(f, raw.seq, r[2], redo[0] === ENDS_COMMIT, redo[1] as unknown[]);
    }
    rawFoldWork.full++;
    return foldRecord(f, expandRaw(raw));
  }
  const b = raw.body;
  // version 3 of txn.begun is the only one frame 2 holds a whole transaction in; it reads as
  // version 4 (the same data: events/upcast.ts)
  if (b !== undefined && b[0] === 'txn.begun' && b[1] === 3 && CURRENT_VERSION['txn.begun'] === 5) {
    const w = wholeForFold(b[6]);
    if (w !== undefined) {
      rawFoldWork.stored++;
      return foldWhole(f, raw.seq, b[4], w);
    }
  }
  rawFoldWork.full++;
  foldRecord(f, expandRaw(raw));
}

/**
 * A whole transaction's record through the protocol table (machines/txn-protocol.ts): begun, then
 * ADD per step, the decision and END, in foldPart's order, as its part records would feed it.
 */
export function feedWhole(f: Fold, seq: number, txn: string | null, steps: number, commit: boolean): void {
  if (seq !== f.seq + 1) protocol({ seq, type: 'txn.begun' }, `expected seq ${f.seq + 1}`);
  f.seq = seq;
  if (!txn || f.open.has(txn)) protocol({ seq, type: 'txn.begun' }, 'duplicate or missing transaction id');
  // the transaction's protocol state alone (the record ends it: nothing else of an OpenTxn is
  // kept); feed's checks, with the record named only when one fails
  let state: TxnState = 'preparing';
  for (let i = 0; i < steps + 2; i++) {
    const ev: TxnEvent['type'] = i < steps ? 'ADD' : i === steps ? (commit ? 'COMMIT' : 'ABORT') : 'END';
    const was = state;
    state = protocolNext(state, ev);
    if (state === 'invalid') protocol({ seq, type: i < steps ? 'txn.step' : 'txn.decided' }, `not allowed in transaction ${txn} (${ev} when ${was})`);
  }
}

/** feedWhole's protocol-table answers by steps and decision (a pure function of them), once each. */
const protocolOk: (boolean | undefined)[][] = [[], []];

/** Would feedWhole's protocol table accept a whole transaction of `steps` steps and this decision? */
export function wholeProtocolOk(steps: number, commit: boolean): boolean {
  const row = protocolOk[commit ? 1 : 0]!;
  let ok = row[steps];
  if (ok === undefined) {
    let state: TxnState = 'preparing';
    for (let i = 0; i < steps + 2; i++) state = protocolNext(state, i < steps ? 'ADD' : i === steps ? (commit ? 'COMMIT' : 'ABORT') : 'END');
    // every state but 'invalid' leads on; 'invalid' stays (machines/txn-protocol.ts)
    ok = state !== 'invalid';
    if (steps < 1024) row[steps] = ok;
  }
  return ok;
}

function foldWhole(f: Fold, seq: number, txn: string | null, w: WholeForFold): void {
  feedWhole(f, seq, txn, w.steps, w.outcome === 'commit');
  // after-images only: the redo direction reads nothing else (graph/apply.ts)
  applyChangesInPlace(f.state, w.changes as unknown as Change[]);
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object | undefined, k: string): unknown => (o !== undefined && Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined);
const one: Change[] = [];

/**
 * A whole transaction of format version 5 from its redo part (store/whole-split.ts): the
 * protocol fed as foldWhole feeds it, then each change applied in step order, a patch to the
 * entity as the state holds it (its before-image, in a log the engine wrote: the full decode
 * merges the same patch into the stored before-image, so both give the same members in the
 * same order). Nothing of the undo part is parsed.
 */
function foldRedo(f: Fold, seq: number, txn: string | null, commit: boolean, steps: unknown[]): void {
  feedWhole(f, seq, txn, steps.length, commit);
  const state = f.state as Record<string, Record<string, Record<string, unknown>>>;
  for (const st of steps) {
    if (!Array.isArray(st)) throw new LogCorruptError(seq, 'body is not a record');
    for (const r of st as unknown[]) {
      if (!Array.isArray(r)) throw new LogCorruptError(seq, 'body is not a record');
      const [s, c, id, kind, x] = r as unknown[];
      if (typeof s !== 'string' || typeof c !== 'string' || typeof id !== 'string') throw new LogCorruptError(seq, 'body is not a record');
      let after: unknown = null;
      if (r.length > 3) {
        if (kind === 1) {
          // a templated after-image (store/image-template.ts)
          const tpl = templateFor(c, TEMPLATE_PROBE);
          after = tpl && expandImage(tpl, x);
          if (after === undefined) throw new LogCorruptError(seq, 'body is not a record');
        } else if (kind === 2) after = x;
        else if (kind === 3 && isPlain(x)) {
          const cur = own(own(own(state, s) as object | undefined, c) as object | undefined, id);
          if (!isPlain(cur)) protocol({ seq, type: 'txn.step' }, `a patch of ${s}/${c}/${id}, which the state does not hold`);
          const u = r[5];
          after = merged(cur, x, Array.isArray(u) ? (u as string[]) : []);
        } else throw new LogCorruptError(seq, 'body is not a record');
      }
      // after-images only: the redo direction reads nothing else (graph/apply.ts)
      one[0] = { s, c, id, after } as unknown as Change;
      applyChangesInPlace(f.state, one);
    }
  }
  one.length = 0;
}

/**
 * foldRecord one part at a time: yields each record `rec` stands for (events/whole.ts) once it
 * is folded, for readers that look at the state between a whole transaction's steps (report).
 */
export function* foldStepwise(f: Fold, rec: LogRecord): Generator<LogRecord, void, undefined> {
  if (rec.seq !== f.seq + 1) protocol(rec, `expected seq ${f.seq + 1}`);
  f.seq = rec.seq;
  for (const part of partsOf(rec)) {
    foldPart(f, part);
    yield part;
  }
}

function foldPart(f: Fold, rec: LogRecord): void {
  const data = upcast(rec) as Record<string, any>;
  const txnOf = () => {
    const t = rec.txn ? f.open.get(rec.txn) : undefined;
    if (!t) protocol(rec, `no open transaction ${rec.txn}`);
    return t;
  };
  switch (rec.type) {
    case 'txn.begun':
      if (!rec.txn || f.open.has(rec.txn)) protocol(rec, 'duplicate or missing transaction id');
      f.open.set(rec.txn, { id: rec.txn, state: 'preparing', steps: [], compensated: [], begunSeq: rec.seq });
      break;
    case 'txn.step': {
      const t = txnOf();
      feed(rec, t, 'ADD');
      applyChangesInPlace(f.state, data.changes as Change[]);
      t.steps.push({ seq: rec.seq, changes: data.changes as Change[] });
      break;
    }
    case 'txn.compensated': {
      const t = txnOf();
      feed(rec, t, 'COMPENSATE');
      t.compensated.push(Number(data.undoes));
      applyChangesInPlace(f.state, data.changes as Change[], 'undo');
      break;
    }
    case 'txn.decided': {
      const t = txnOf();
      feed(rec, t, data.outcome === 'commit' ? 'COMMIT' : 'ABORT');
      // decided and ended in one record (events/ends.ts): the end follows at once
      if (typeof data.ended === 'object' && data.ended !== null) {
        feed(rec, t, 'END');
        f.open.delete(t.id);
      }
      break;
    }
    case 'txn.ended': {
      const t = txnOf();
      feed(rec, t, 'END');
      f.open.delete(t.id);
      break;
    }
    default:
      // command.rejected, notes, …: audit only, no state change
      break;
  }
}
