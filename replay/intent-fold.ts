// A read-only open's view of a pending intent (engine/intent.ts; docs/drills.md "Version 7"): the
// request of a command whose reply may have been sent on its strength, its record not written
// (a crash, or the writer still writing it). The state at the head is then the one the reply
// announced: the same model is run on the state before it with the intent's inputs, and the record
// the writer would append (the same bytes: engine/whole-record.ts) is folded here, in memory.
// Nothing is written: a read never writes; the writer's next open appends the record itself.
import type { EventLog } from '../store/index.js';
import { encodeFrame } from '../store/codec.js';
import { pendingIntent } from '../engine/intent.js';
import { rejectedRecordOf, wholeRecordOf } from '../engine/whole-record.js';
import { digestApplySteps, stateDigest } from '../graph/hash.js';
import { foldRecord, type Fold } from './fold.js';

/** Counted by specs: intents folded in memory. */
export const intentFoldWork = { folded: 0 };

/** Folds the log's pending intent into `fold` (at the log's head); the seq it took, or undefined. */
export async function foldPendingIntent(log: EventLog, fold: Fold): Promise<number | undefined> {
  if (fold.seq !== log.writtenHead) return undefined;
  const i = await pendingIntent(log);
  if (!i) return undefined;
  // the model only when there is one to run: a read of a log with no pending intent never loads it
  const { executeCommand } = await import('../commands/model.js');
  let r;
  try {
    r = executeCommand(fold.state, i.stream, i.op, i.args);
  } catch {
    return undefined; // a model crash: its reply was that crash, nothing was announced (the writer writes nothing either)
  }
  const base = { stream: i.stream, at: i.at, txn: `t${i.seq}`, causation: i.causation };
  // as engine/engine.ts decideNow: a refusal that changed nothing is its audit record, a success
  // that changed nothing no record, anything else its transaction
  const rec = 'error' in r.reply && !r.mutates
    ? (i.op === 'qmp_capabilities' ? undefined : rejectedRecordOf(i.op, i.args, r.reply.error, i.stream, i.at, i.causation))
    : !r.mutates ? undefined : wholeRecordOf(r, i.op, i.args, base, digestApplySteps(stateDigest(fold.state), r.steps));
  if (!rec) return undefined;
  foldRecord(fold, encodeFrame(i.seq, rec, i.prev).record());
  intentFoldWork.folded++;
  return i.seq;
}
