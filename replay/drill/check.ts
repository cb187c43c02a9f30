// What must hold after a crash, checked on the store the killed child left behind: it opens
// (the chain verifies), its records are exactly a prefix of the reference run's, recovery gives
// exactly the before- or the after-state of the interrupted operation (the after-state once its
// decision was written), the invariants hold, nothing acknowledged is missing, replay agrees with
// the live state, and a second recovery writes nothing and changes nothing.
import { partsOf } from '../../events/whole.js';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { checkInvariants } from '../../graph/invariants.js';
import { canonicalJson } from '../../graph/hash.js';
import type { EventLog } from '../../store/index.js';
import { openStoreAt } from '../../store/jetstream/location.js';
import { replay, verifyReplay } from '../replay.js';
import { pendingIntent } from '../../engine/intent.js';
import type { Reference } from './plan.js';

export interface Ack { call: number; head: number }

export interface CheckResult {
  /** Records on disk at the crash (before recovery). */
  cut: number;
  /** The operation the crash interrupted (or had just finished), -1 when no record was written. */
  op: number;
  /** Which state recovery gave. */
  state: 'before' | 'after' | 'other';
  failures: string[];
}

/** The op whose records contain `cut`, or the one that ended exactly there. */
export function opAtCut(ref: Reference, cut: number): number {
  if (cut === 0) return ref.ops.length ? 0 : -1;
  return ref.ops.findIndex((o) => o.first <= cut && cut <= o.last);
}

/**
 * `expectCut`: where the store must end once recovered from the crash (a pending intent's records
 * appended); `intentCut`: a crash between an intent and its record, where the store must end
 * before recovery, holding that intent pending.
 */
export async function checkRecovered(db: string, ref: Reference, acks: Ack[], expectCut?: number, intentCut?: number): Promise<CheckResult> {
  const failures: string[] = [];
  const fail = (s: string) => failures.push(s);
  let log: EventLog;
  try {
    log = await openStoreAt(db, { createIfMissing: false });
  } catch (e) {
    return { cut: -1, op: -1, state: 'other', failures: [`the store does not open: ${(e as Error).message}`] };
  }
  try {
    const crashed = log.head;
    const pending = await pendingIntent(log);
    if (intentCut !== undefined && (crashed !== intentCut || !pending)) fail(`the store ends at seq ${crashed}${pending ? '' : ' with no pending intent'}: the crash was after the intent for seq ${intentCut + 1}`);
    // a read-only open folds a pending intent in memory (replay/intent-fold.ts) and writes nothing
    const readOnly = canonicalJson((await replay(log)).state);
    if (log.head !== crashed) fail('a read-only replay wrote records');

    const engine = await Engine.open(log, { clock: FIXED_CLOCK });
    // once the intent is synced, the command is done: recovery runs it again and appends its records
    const intentRan = engine.lastIntent?.wrote === true;
    // (the head once the intent's records are in, before what recovery writes for open transactions)
    const cut = intentRan ? engine.lastIntent!.head : crashed;
    if (expectCut !== undefined && cut !== expectCut) fail(`the store ends at seq ${cut}, the crash was after seq ${expectCut}`);
    const recs = await log.readAll({ lte: cut });
    const diverge = recs.findIndex((r, i) => r.hash !== ref.records[i]?.hash);
    if (diverge >= 0) fail(`record ${diverge + 1} differs from the reference run${intentRan && diverge >= crashed ? ' (written by running a pending intent again)' : ''}`);

    const opIdx = intentRan ? ref.ops.findIndex((o) => o.first === crashed + 1) : opAtCut(ref, cut);
    const op = ref.ops[opIdx];
    const got = canonicalJson(engine.state);
    if (readOnly !== got) fail('a read-only open of the crashed store folds another state than recovery gives');
    let state: CheckResult['state'] = 'other';
    if (!op) {
      if (got !== ref.states[0]) fail('an empty log did not recover to the empty state');
      state = 'before';
    } else {
      state = got === op.after ? 'after' : got === op.before ? 'before' : 'other';
      const want = intentRan || cut >= (op.decided ?? op.last) ? 'after' : 'before';
      if (state === 'other') fail(`${op.label}: recovered state is neither its before- nor its after-state`);
      else if (state !== want && op.before !== op.after) fail(`${op.label}: recovered the ${state}-state, but the decision was ${want === 'after' ? '' : 'not '}written`);
    }
    const inv = checkInvariants(engine.state);
    if (inv.length) fail(`invariants: ${inv.slice(0, 3).join('; ')}`);
    if (engine.openTransactions.length) fail(`transactions still open: ${engine.openTransactions.join(', ')}`);

    // Nothing acknowledged is lost: its records were on disk and its transaction is still committed.
    const after = await log.readAll({ gte: cut + 1 });
    const undone = new Set(after.flatMap(partsOf).filter((r) => r.type === 'txn.compensated' || (r.type === 'txn.decided' && (r.data as { outcome?: string }).outcome === 'abort')).map((r) => r.txn));
    for (const a of acks) {
      const o = ref.opOfCall[a.call];
      if (o === undefined) continue;
      const rop = ref.ops[o]!;
      if (rop.last > cut) fail(`acknowledged ${rop.label} is not in the log (it ends at ${rop.last}, the store at ${cut})`);
      if (rop.txn && undone.has(rop.txn)) fail(`acknowledged ${rop.label} was rolled back`);
      if (opIdx === rop.index && state !== 'after') fail(`acknowledged ${rop.label} is not in the recovered state`);
    }

    const v = await log.verify();
    if (!v.ok) fail(`the hash chain does not verify: seq ${v.firstBad}: ${v.reason}`);
    const vr = await verifyReplay(log);
    if (!vr.ok) fail(`replay --verify diverges at seq ${vr.firstDiverging}`);
    const f = await replay(log, { fromScratch: true });
    if (canonicalJson(f.state) !== got) fail('replay from scratch differs from the recovered state');

    const head = log.head;
    await log.close();
    log = await openStoreAt(db, { createIfMissing: false });
    const again = await Engine.open(log, { clock: FIXED_CLOCK });
    if (log.head !== head || (again.lastRecovery?.batches.length ?? 0) > 0) fail(`a second recovery wrote ${log.head - head} more record(s)`);
    if (canonicalJson(again.state) !== got) fail('a second recovery changed the state');
    return { cut, op: opIdx, state, failures };
  } catch (e) {
    fail(`check threw: ${(e as Error).message}`);
    return { cut: -1, op: -1, state: 'other', failures };
  } finally {
    await log.close().catch(() => undefined);
  }
}
