// A mutating command's transaction as the one record the engine writes (format version 4 on,
// events/whole.ts): made here for the engine's command path and for a read-only fold of a
// pending intent (engine/intent.ts, replay/replay.ts), so both make the same bytes.
import { digestHex } from '../graph/hash.js';
import type { ExecResult } from '../commands/model.js';
import { jsonSafe } from '../commands/json-safe.js';
import type { NewRecord } from '../store/types.js';
import { current } from '../events/types.js';
import { redactSecrets } from './redact-secrets.js';

const BEGUN_V = current('txn.begun').v;

export interface Envelope { stream: string; at: string; txn: string; causation: string | undefined }

/**
 * The whole transaction: begun holding its steps and the decision carrying its end, with the
 * state hash after it (`digestAfter`). Built member by member: properties added after a spread
 * go to a detached V8 map, a new hidden class per command (issue 15).
 */
export function wholeRecordOf(r: ExecResult, command: string, args: Record<string, unknown> | undefined, base: Envelope, digestAfter: bigint): NewRecord {
  return {
    stream: base.stream, at: base.at, txn: base.txn, causation: base.causation, type: 'txn.begun', v: BEGUN_V,
    data: {
      op: command, args: jsonSafe(redactSecrets(command, args) ?? {}), plan: r.steps.map((s) => s.name),
      steps: r.steps.map((s) => ({ name: s.name, changes: s.changes })),
      decided: { outcome: 'commit', reply: r.reply, events: r.events, ended: { stateHash: digestHex(digestAfter) } },
    },
  };
}

/** A refused command's audit record (QEMU's error; the state is untouched), as the engine logs it. */
export function rejectedRecordOf(command: string, args: Record<string, unknown> | undefined, error: unknown, stream: string, at: string, causation: string | undefined): NewRecord {
  return { stream, ...current('command.rejected'), at, causation, data: { command, args: jsonSafe(redactSecrets(command, args) ?? {}), error } };
}
