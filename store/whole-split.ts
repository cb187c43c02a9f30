// A whole transaction as format version 5 stores it (txn.begun version 4, frame 3 of
// store/codec.ts; issue 15, replay): the stored form of format version 4 (store/whole-txn.ts
// compactWhole) split in two JSON texts, so that replay parses only what its fold reads.
//
//   redo  [code, steps]
//     code   1: the decision commits and ends the transaction here; 2: it ends it otherwise
//            (an abort, as the fold reads any outcome but 'commit'); 0: it does not end it (the
//            transaction stays open after its record: the fold keeps its full steps, so it
//            decodes the record in full)
//     steps  [[change, ...], ...] in step order, each change positional, after-side only:
//              [s, c, id]            the entity is gone after it (a delete), or was never there
//              [s, c, id, 1, A]      its after-image, templated (store/image-template.ts)
//              [s, c, id, 2, a]      its after-image as is (no template, or not a plain object)
//              [s, c, id, 3, p]      a patch of the entity as it was: the fields that changed
//              [s, c, id, 3, p, u]   ... and the fields that went away (sorted)
//   undo  [op, args, plan, names, befores, decision]
//     plan      as version 4 stores it (0: the step names in order)
//     names     the steps' names
//     befores   one per change, in the same order: null (none), 0 (the latest after-image of
//               the same entity earlier in this record, version 4's `R`), [1, B] (templated),
//               [2, b] (as is)
//     decision  as version 4 stores it
//
// A patch applies to the entity as the state holds it before the change, which is the change's
// before-image whenever the log is the engine's (each record's before-images are the state it
// was written against; `verify` re-checks every state hash). Joining both parts gives exactly
// version 4's stored form, so the full decoder (expandWhole) gives the record every reader saw
// before: audit, history, report, verify and the drills cannot tell the versions apart.
// Data that is not a whole transaction in the positional form (a plain begun of the phased
// path, an odd shape) has no redo part (null) and its version-4 stored form as the undo part.
// Pure; no store access.

type Obj = Record<string, unknown>;
const isPlain = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decision codes of the redo part. */
export const ENDS_COMMIT = 1;
export const ENDS_OTHER = 2;
export const OPEN = 0;

/** The code of a decision (its data as decoded): what the fold feeds the transaction protocol. */
export function decisionCode(decided: unknown): number {
  if (!isPlain(decided)) return OPEN;
  // foldPart ends a transaction whose decision has an `ended` object: a plain one here, anything
  // else goes the full way (code 0 is always sound)
  if (!isPlain(decided.ended)) return OPEN;
  return decided.outcome === 'commit' ? ENDS_COMMIT : ENDS_OTHER;
}

export interface Split { redo: unknown; undo: unknown }

/**
 * The two parts of a whole transaction's version-4 stored form (`stored`, compactWhole's
 * output) whose decision, decoded, is `decided`.
 */
export function splitWhole(stored: unknown, decided: unknown): Split {
  const none = { redo: null, undo: stored };
  if (!Array.isArray(stored) || stored.length !== 5) return none;
  const [op, args, plan, steps, decision] = stored as unknown[];
  if (!Array.isArray(steps)) return none;
  const names: string[] = [];
  const befores: unknown[] = [];
  const redoSteps: unknown[][] = [];
  for (const st of steps) {
    if (!Array.isArray(st) || st.length !== 2 || typeof st[0] !== 'string' || !Array.isArray(st[1])) return none;
    names.push(st[0]);
    const out: unknown[] = [];
    for (const ch of st[1] as unknown[]) {
      const r = splitChange(ch);
      if (r === undefined) return none;
      out.push(r[0]);
      befores.push(r[1]);
    }
    redoSteps.push(out);
  }
  return { redo: [decisionCode(decided), redoSteps], undo: [op, args, plan, names, befores, decision] };
}

const CHANGE_KEYS = new Set(['s', 'c', 'id', 'a', 'A', 'b', 'B', 'p', 'u', 'R']);

/** A version-4 stored change as [its redo form, its before]; undefined for a form not split. */
function splitChange(ch: unknown): [unknown[], unknown] | undefined {
  if (!isPlain(ch)) return undefined;
  const { s, c, id } = ch;
  if (typeof s !== 'string' || typeof c !== 'string' || typeof id !== 'string') return undefined;
  for (const k in ch) if (!CHANGE_KEYS.has(k)) return undefined;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(ch, k);
  const nBefore = (has('b') ? 1 : 0) + (has('B') ? 1 : 0) + (has('R') ? 1 : 0);
  const nAfter = (has('a') ? 1 : 0) + (has('A') ? 1 : 0) + (has('p') ? 1 : 0);
  if (nBefore > 1 || nAfter > 1 || (has('u') && !has('p'))) return undefined;
  if (has('R') && ch.R !== 0) return undefined;
  const before = has('R') ? 0 : has('B') ? [1, ch.B] : has('b') ? [2, ch.b] : null;
  // expandChanges reads a patch only over a plain before-image: anything else is not split
  if (has('p') && (!isPlain(ch.p) || before === null || (Array.isArray(before) && !isPlain(before[1])))) return undefined;
  if (has('u') && !Array.isArray(ch.u)) return undefined;
  const redo: unknown[] = has('A') ? [s, c, id, 1, ch.A]
    : has('a') ? [s, c, id, 2, ch.a]
    : has('p') ? (has('u') ? [s, c, id, 3, ch.p, ch.u] : [s, c, id, 3, ch.p])
    : [s, c, id];
  return [redo, before];
}

/**
 * Version 4's stored form back from both parts (works in place on parsed JSON), for
 * expandWhole. Throws on a pair splitWhole does not write (the caller reports a damaged record).
 */
export function joinWhole(redo: unknown, undo: unknown): unknown {
  if (redo === null) return undo;
  if (!Array.isArray(redo) || redo.length !== 2 || !Array.isArray(redo[1])) throw new Error('whole transaction: bad redo part');
  if (!Array.isArray(undo) || undo.length !== 6) throw new Error('whole transaction: bad undo part');
  const steps = redo[1] as unknown[];
  const [op, args, plan, names, befores, decision] = undo as unknown[];
  if (!Array.isArray(names) || names.length !== steps.length || !Array.isArray(befores)) throw new Error('whole transaction: parts disagree');
  let k = 0;
  const out = steps.map((st, i) => {
    if (!Array.isArray(st)) throw new Error('whole transaction: bad step');
    return [names[i], st.map((r) => joinChange(r, befores[k++]))];
  });
  if (k !== befores.length) throw new Error('whole transaction: parts disagree');
  return [op, args, plan, out, decision];
}

function joinChange(r: unknown, before: unknown): Obj {
  if (!Array.isArray(r) || r.length < 3 || r.length > 6) throw new Error('whole transaction: bad change');
  const ch: Obj = { s: r[0], c: r[1], id: r[2] };
  if (r.length > 3) {
    const kind = r[3];
    if (kind === 1 && r.length === 5) ch.A = r[4];
    else if (kind === 2 && r.length === 5) ch.a = r[4];
    else if (kind === 3 && r.length >= 5) {
      ch.p = r[4];
      if (r.length === 6) ch.u = r[5];
    } else throw new Error('whole transaction: bad change');
  }
  if (before === 0) ch.R = 0;
  else if (Array.isArray(before) && before.length === 2 && before[0] === 1) ch.B = before[1];
  else if (Array.isArray(before) && before.length === 2 && before[0] === 2) ch.b = before[1];
  else if (before !== null) throw new Error('whole transaction: bad before-image');
  return ch;
}
