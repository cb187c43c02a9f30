// The pure reducer: a state and a list of entity changes give the next state. The same
// code runs live (after a transaction commits) and in replay, so both give one state.
import type { Change } from './draft.js';
import type { State } from './types.js';

type Img = Pick<Change, 's' | 'c' | 'id'> & { value: unknown };

/** Immutable: copies only the scopes and collections it touches. */
export function applyChanges(state: State, changes: readonly Change[], dir: 'redo' | 'undo' = 'redo'): State {
  const next: State = { ...state };
  const copied = new Set<string>();
  for (const ch of order(changes, dir)) {
    const v = dir === 'redo' ? ch.after : ch.before;
    if (!copied.has(ch.s)) {
      next[ch.s] = { ...(next[ch.s] ?? {}) };
      copied.add(ch.s);
    }
    const scope = next[ch.s]!;
    const ck = ch.s + '\0' + ch.c;
    if (!copied.has(ck)) {
      scope[ch.c] = { ...(scope[ch.c] ?? {}) };
      copied.add(ck);
    }
    setOrDelete(scope[ch.c]!, { s: ch.s, c: ch.c, id: ch.id, value: v });
    // Only a delete can empty a collection (and for-in on a 10k-key object is not O(1) in V8).
    if (v === null || v === undefined) prune(next, ch.s, ch.c);
  }
  return next;
}

/** In place, for a fold that owns its state (replay): no copies on the hot path. */
export function applyChangesInPlace(state: State, changes: readonly Change[], dir: 'redo' | 'undo' = 'redo'): void {
  for (const ch of order(changes, dir)) {
    const scope = (state[ch.s] ??= {});
    const coll = (scope[ch.c] ??= {});
    const v = dir === 'redo' ? ch.after : ch.before;
    setOrDelete(coll, { s: ch.s, c: ch.c, id: ch.id, value: v });
    if (v === null || v === undefined) prune(state, ch.s, ch.c);
  }
}

// Empty collections and scopes are removed, so that undoing a step gives back a state that
// is equal (and hashes equal) to the one before it, not one with empty husks.
function prune(state: State, s: string, c: string) {
  const scope = state[s];
  if (!scope) return;
  const coll = scope[c];
  if (coll && isEmpty(coll)) delete scope[c];
  if (isEmpty(scope)) delete state[s];
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false; // O(1), unlike Object.keys on a 10k-entry collection
  return true;
}

function order(changes: readonly Change[], dir: 'redo' | 'undo'): readonly Change[] {
  return dir === 'redo' ? changes : [...changes].reverse();
}

function setOrDelete(coll: Record<string, unknown>, img: Img) {
  if (img.value === null || img.value === undefined) delete coll[img.id];
  else coll[img.id] = img.value;
}
