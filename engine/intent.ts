// The intent (docs/drills.md "Version 7: the intent slot"; issue 15, stop 42): with the engine
// option `intentFirst`, a command that may change the graph is made durable as its request
// before the model runs, so the fsync runs while the main thread decides, digests and encodes
// the transaction record instead of after. The intent holds every input the model reads besides
// the state (the process, the command, its arguments) and every input the record's envelope
// takes (its time, seq, causation; the txn id is `t<seq>`), so the same deterministic model run
// again on the state before it gives the very record the engine wrote, byte for byte, and the
// after-state the reply announced.
//
// It is not a record of the log: it lives in one key beside the head meta (`meta` sublevel,
// `intent`), overwritten by the next one, and is pending only while the log's head is the record
// before it (`seq` = head + 1, `prev` = the head's hash). Every log reader (fold, audit, tail,
// ship, verify, the hash chain) is therefore unchanged; the writer's open re-executes a pending
// intent and appends its record (engine/engine.ts), a read-only open folds it in memory
// (replay/replay.ts) and writes nothing.
import { crc32 } from 'node:zlib';
import { LogCorruptError } from '../errors/index.js';
import { jsonSafe } from '../commands/json-safe.js';
import { redactSecrets } from './redact-secrets.js';

export interface Intent {
  /** The seq the command's record takes (its transaction is `t<seq>`). */
  seq: number;
  /** The hash of record seq - 1 ("" for seq 1): the intent is pending only on that head. */
  prev: string;
  stream: string;
  at: string;
  causation?: string;
  op: string;
  args: Record<string, unknown>;
}

/** The intent slot's key in the `meta` sublevel (store/codec.ts INTENT_KEY). */
export const FRAME = 'i';
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * Whether a command goes intent first. Not a query (it never writes: nothing to make durable),
 * and arguments the intent can hold exactly: JSON as they are (jsonSafe copies nothing) and
 * nothing the log must not keep (redactSecrets changes nothing: a secret is never written, so a
 * command carrying one keeps today's path, its record written after the model).
 */
export function intentEligible(command: string, args: Record<string, unknown> | undefined): boolean {
  if (command.startsWith('query-') || command.startsWith('x-debug-query-') || command === 'qmp_capabilities' || command === 'qom-get' || command === 'qom-list' || command === 'qom-list-properties') return false;
  if (args === undefined) return true;
  // arguments that are not a JSON object (a library caller's array or number: the model refuses
  // them) are not what the intent holds: such a command keeps today's path
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return false;
  const proto = Object.getPrototypeOf(args);
  if (proto !== Object.prototype && proto !== null) return false;
  return jsonSafe(args) === args && redactSecrets(command, args) === args;
}

/**
 * The stored value: CRC32 (8 hex) of the rest, 'i', then [seq, prev, stream, at, causation, op,
 * args] as JSON.stringify writes it (the arguments' member order as the client sent it: the
 * model's answers may depend on it; canonical JSON would sort it). undefined when the text
 * would not read back as the same arguments (a `__proto__` member).
 */
export function encodeIntent(i: Intent): string | undefined {
  const rest = FRAME + JSON.stringify([i.seq, i.prev, i.stream, i.at, i.causation ?? null, i.op, i.args ?? {}]);
  if (rest.includes('"__proto__"')) return undefined;
  return hex8(crc32(rest)) + rest;
}

/** The intent in a stored value; LogCorruptError (at `seq`, the seq it would take) when damaged. */
export function decodeIntent(value: string, seq: number): Intent {
  const bad = (why: string) => new LogCorruptError(seq, `the intent slot is unreadable: ${why}`);
  if (typeof value !== 'string' || value.length < 10) throw bad('too short');
  const rest = value.substring(8);
  if (hex8(crc32(rest)) !== value.substring(0, 8)) throw bad('crc mismatch');
  if (rest[0] !== FRAME) throw bad(`unknown frame ${JSON.stringify(rest[0])}`);
  let a: unknown;
  try {
    a = JSON.parse(rest.substring(1));
  } catch {
    throw bad('not JSON');
  }
  if (!Array.isArray(a) || a.length !== 7 || !Number.isInteger(a[0]) || typeof a[1] !== 'string' || typeof a[2] !== 'string'
    || typeof a[3] !== 'string' || (a[4] !== null && typeof a[4] !== 'string') || typeof a[5] !== 'string' || typeof a[6] !== 'object' || a[6] === null || Array.isArray(a[6])) {
    throw bad('not an intent');
  }
  const out: Intent = { seq: a[0] as number, prev: a[1] as string, stream: a[2] as string, at: a[3] as string, op: a[5] as string, args: a[6] as Record<string, unknown> };
  if (a[4] !== null) out.causation = a[4] as string;
  return out;
}

/** What a log offers for the slot (store/event-log.ts). */
export interface IntentSource { head: number; headHash: string; writtenHead?: number; writtenHeadHash?: string; readIntent(): Promise<string | undefined> }

/**
 * The pending intent of a log, if any: one whose record is not in the log, the head being the
 * record before it. An intent the log has moved past (its record written, or any record at its
 * seq: a refusal, a command written without one) is stale and ignored; so is one of another
 * chain (a repair moved the head back and another record took the seq).
 */
export async function pendingIntent(log: IntentSource): Promise<Intent | undefined> {
  const v = await log.readIntent();
  if (v === undefined) return undefined;
  // against what the database holds: a live log's decided head may count the intent's own record,
  // held (store/event-log.ts), whose write then failed (the served store's durable state)
  const head = log.writtenHead ?? log.head;
  const hash = log.writtenHeadHash ?? log.headHash;
  // A damaged slot is damage (LogCorruptError), stale or not: it may hold an acknowledged command.
  const i = decodeIntent(v, head + 1);
  return i.seq === head + 1 && i.prev === hash ? i : undefined;
}
