// A whole transaction (txn.begun version 3 holding steps and decision, events/whole.ts) as
// frame 2 stores it (format version 4, issue 15): by position, each image once.
//
//   [op, args, plan, steps, decision]
//     plan      0 when it is the steps' names in order (as the engine plans), else the list
//     steps     [[name, changes], ...]: changes as version 3 stores them (store/image-delta.ts,
//               templated images), except that a before-image equal to the latest after-image
//               of the same entity earlier in this record is stored as `"R":0` (the record's
//               own image again: `monitor-ref` after `open`)
//     decision  the state hash alone for a plain commit ending the transaction (no events, an
//               empty return: the decided template's defaults, store/image-template.ts), the
//               templated decision, or [decision] where the template cannot express it
//
// A whole transaction whose data is not in this shape is stored as the object itself. Decoding
// is a pure function of the stored value (an `R` names an image of the same record only), so a
// reader that starts anywhere in the log decodes any record alone. The keys come back in sorted
// order, as canonical JSON parses. Pure; no store access.
import { canonicalJson } from './codec.js';
import { compactChange, expandChanges, storedAfter } from './image-delta.js';
import { compactImage, copyJson, DECIDED_V3, expandImage, imageWork, templates } from './image-template.js';

type Obj = Record<string, unknown>;
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const WHOLE_KEYS = new Set(['args', 'decided', 'op', 'plan', 'steps']);
const CHANGE_KEYS = new Set(['after', 'before', 'c', 'id', 's']);
/** The entity a change is about. Encoder and decoder key alike, so a reference means the same to both. */
const entityKey = (ch: Obj): string => String(ch.s) + '\u0000' + String(ch.c) + '\u0000' + String(ch.id);

/** Are the members of `o` that are not undefined exactly `names` (a check per command: no sorting, no arrays)? */
function definedKeysAre(o: Obj, names: ReadonlySet<string>): boolean {
  let n = 0;
  for (const k of Object.keys(o)) {
    if (o[k] === undefined) continue;
    if (!names.has(k)) return false;
    n++;
  }
  return n === names.size;
}
const STEP_KEYS = new Set(['changes', 'name']);

/** Can `data` be stored positionally (exactly the members of a whole transaction, well typed)? */
function positional(data: unknown): data is { op: string; args: Obj; plan: string[]; steps: { name: string; changes: Obj[] }[]; decided: unknown } {
  if (!isPlain(data) || !definedKeysAre(data, WHOLE_KEYS)) return false;
  const { op, args, plan, steps } = data as Obj;
  if (typeof op !== 'string' || !isPlain(args) || !Array.isArray(plan) || !plan.every((p) => typeof p === 'string')) return false;
  if (!Array.isArray(steps)) return false;
  return steps.every((s) => isPlain(s) && definedKeysAre(s, STEP_KEYS)
    && typeof s.name === 'string' && Array.isArray(s.changes)
    // a change with members of its own (none the model writes) is stored as the object: `R` is ours
    && s.changes.every((ch: unknown) => isPlain(ch) && Object.keys(ch).every((k) => CHANGE_KEYS.has(k))));
}

/** Encoding work, counted (specs assert it per command, never time it): images encoded to compare them. */
export const wholeWork = { imageEncodings: 0 };

/** The same image: the same object (the model hands a step's after-image on as the next one's before), or the same canonical JSON. */
function sameImage(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  wholeWork.imageEncodings += 2;
  return canonicalJson(a) === canonicalJson(b);
}

/** The stored form of a whole transaction's data. */
export function compactWhole(data: unknown): unknown {
  if (!positional(data)) return data;
  // entity -> its latest after-image here. Encoded (canonical JSON) only when a later change of
  // the same entity has a before-image to compare: most records change each entity once, and
  // then nothing is encoded here at all (issue 15: the encoding is the costly part).
  const latest = new Map<string, unknown>();
  const steps = data.steps.map((s) => {
    const changes = s.changes.map((ch) => {
      const key = entityKey(ch);
      const before = ch.before ?? null;
      const prior = latest.get(key);
      // the before-image is this record's own earlier after-image: stored as `R`, not templated at all
      const ref = before !== null && prior !== undefined && prior !== null && sameImage(prior, before);
      const out = compactChange(ch, true, ref) as Obj;
      if (ref) out.R = 0;
      latest.set(key, ch.after ?? null);
      return out;
    });
    return [s.name, changes];
  });
  const names = data.steps.map((s) => s.name);
  const plan = data.plan.length === names.length && data.plan.every((p, i) => p === names[i]) ? 0 : data.plan;
  return [data.op, data.args, plan, steps, compactDecision(data.decided)];
}

function compactDecision(d: unknown): unknown {
  if (!templates(DECIDED_V3, d)) return [d];
  const c = compactImage(DECIDED_V3, d);
  const e = c.ended;
  if (Object.keys(c).length === 1 && isPlain(e) && Object.keys(e).length === 1 && typeof e.stateHash === 'string') return e.stateHash;
  return c;
}

/**
 * A whole transaction's data back from its stored form (works in place on parsed JSON).
 * Throws on a form compactWhole does not write (the caller reports a damaged record).
 */
export function expandWhole(stored: unknown): unknown {
  if (!Array.isArray(stored)) return stored;
  if (stored.length !== 5) throw new Error('whole transaction: not 5 members');
  const [op, args, plan, steps, decision] = stored as [unknown, unknown, unknown, unknown, unknown];
  if (typeof op !== 'string' || !isPlain(args) || !Array.isArray(steps)) throw new Error('whole transaction: bad members');
  const latest = new Map<string, unknown>();
  const outSteps = steps.map((s) => {
    if (!Array.isArray(s) || s.length !== 2 || typeof s[0] !== 'string' || !Array.isArray(s[1])) throw new Error('whole transaction: bad step');
    const changes = (s[1] as unknown[]).map((ch) => {
      if (!isPlain(ch)) return ch;
      const key = entityKey(ch);
      if ('R' in ch) {
        if (ch.R !== 0 || 'B' in ch || 'b' in ch) throw new Error('whole transaction: bad image reference');
        const img = latest.get(key);
        if (img === undefined || img === null) throw new Error('whole transaction: reference to no image');
        delete ch.R;
        imageWork.copied++;
        ch.b = copyJson(img);
      }
      const [full] = expandChanges([ch]) as Obj[];
      latest.set(key, full!.after ?? null);
      return full;
    });
    return { changes, name: s[0] };
  });
  let planOut: unknown = plan;
  if (plan === 0) planOut = outSteps.map((s) => s.name);
  else if (!Array.isArray(plan)) throw new Error('whole transaction: bad plan');
  return { args, decided: expandDecision(decision), op, plan: planOut, steps: outSteps };
}

/** A whole transaction's decision back from its stored form; throws on a form compactDecision does not write. */
function expandDecision(decision: unknown): unknown {
  let decided: unknown;
  if (typeof decision === 'string') decided = expandImage(DECIDED_V3, { ended: { stateHash: decision } });
  else if (Array.isArray(decision)) {
    if (decision.length !== 1) throw new Error('whole transaction: bad decision');
    decided = decision[0];
  } else decided = expandImage(DECIDED_V3, decision);
  if (decided === undefined) throw new Error('whole transaction: bad decision');
  return decided;
}

/** One change as a fold applies it (graph/apply.ts, redo): the entity and its after-image. */
export interface AfterChange { s: string; c: string; id: string; after: unknown }

/** What a fold needs of a whole transaction that ends in its record (wholeForFold). */
export interface WholeForFold {
  /** Every step's changes, in order, after-images only. */
  changes: AfterChange[];
  steps: number;
  /** The decision's outcome ('commit' or anything else: an abort, as the fold reads it). */
  outcome: unknown;
}

/**
 * The after-images of a whole transaction's steps straight from its stored form, for replay
 * (replay/fold.ts foldRaw, issue 15): each after-image is what expandWhole gives (same members,
 * same key order, so the folded state is byte-identical), but no before-image is expanded that
 * no after-image is made from (a delete's), nor are args, plan and step names copied: the
 * CRC already vouches for those bytes, and `verify` and every other reader decode the record
 * in full. Undefined (nothing touched) for a form this does not take, or a transaction that
 * does not end in its record: the caller decodes that record in full instead, which folds it
 * or reports it.
 */
export function wholeForFold(stored: unknown): WholeForFold | undefined {
  if (!Array.isArray(stored) || stored.length !== 5) return undefined;
  const [op, args, plan, steps, decision] = stored as [unknown, unknown, unknown, unknown, unknown];
  if (typeof op !== 'string' || !isPlain(args) || !Array.isArray(steps) || (plan !== 0 && !Array.isArray(plan))) return undefined;
  let decided: unknown;
  if (typeof decision === 'string') decided = PLAIN_COMMIT; // a plain commit ending here (compactDecision)
  else {
    try {
      decided = expandDecision(decision);
    } catch {
      return undefined;
    }
  }
  if (!isPlain(decided)) return undefined;
  const ended = decided.ended;
  if (typeof ended !== 'object' || ended === null) return undefined; // still open after its record: keep its steps (full decode)
  const changes: AfterChange[] = [];
  let latest: Map<string, unknown> | undefined; // entity -> its latest after-image in this record, for `R`
  for (const st of steps) {
    if (!Array.isArray(st) || st.length !== 2 || typeof st[0] !== 'string' || !Array.isArray(st[1])) return undefined;
    for (const ch of st[1] as unknown[]) {
      if (!isPlain(ch)) return undefined;
      const { s, c, id } = ch;
      if (typeof s !== 'string' || typeof c !== 'string' || typeof id !== 'string') return undefined;
      const key = s + '\u0000' + c + '\u0000' + id; // entityKey
      let before: unknown;
      if ('R' in ch) {
        if (ch.R !== 0 || 'B' in ch || 'b' in ch) return undefined;
        before = latest?.get(key);
        if (before === undefined || before === null) return undefined;
      }
      const after = storedAfter(ch, before);
      if (after === undefined) return undefined;
      (latest ??= new Map()).set(key, after);
      changes.push({ s, c, id, after });
    }
  }
  return { changes, steps: steps.length, outcome: decided.outcome };
}

/** What a stored state hash alone stands for (compactDecision): only its outcome and end are read. */
const PLAIN_COMMIT: Obj = { outcome: 'commit', ended: {} };
