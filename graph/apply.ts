// The pure reducer: a state and a list of entity changes give the next state. The same
// code runs live (after a transaction commits) and in replay, so both give one state.
import { setEntry } from './adjacency.js';
import { copyDirtyRecord, noteChange } from './perm-dirty-state.js';
import type { Change } from './draft.js';
import type { State } from './types.js';

/** Immutable: copies only the scopes and collections it touches. */
export function applyChanges(state: State, changes: readonly Change[], dir: 'redo' | 'undo' = 'redo'): State {
  const next: State = { ...state };
  const copied = new Set<string>();
  for (const ch of order(changes, dir)) {
    const v = dir === 'redo' ? ch.after : ch.before;
    if (!copied.has(ch.s)) {
      const old = next[ch.s];
      next[ch.s] = { ...(old ?? {}) };
      if (old) copyDirtyRecord(old, next[ch.s]!);
      copied.add(ch.s);
    }
    const scope = next[ch.s]!;
    noteChange(scope, ch);
    const ck = ch.s + '\0' + ch.c;
    if (!copied.has(ck)) {
      scope[ch.c] = { ...(scope[ch.c] ?? {}) };
      copied.add(ck);
    }
    // Only a delete can empty a collection; the count kept beside it says when (adjacency.ts).
    if (setEntry(scope[ch.c]!, ch.c, ch.id, v) === 0) prune(next, ch.s, ch.c);
  }
  return next;
}

/**
 * In place, for a fold that owns its state (replay, the engine): no copies on the hot path. The
 * one in-place writer: it keeps the indexes beside the state (graph/adjacency.ts) up to date,
 * and notes for the set of permission-inconsistent nodes (graph/perm-dirty-state.ts) what to re-check.
 */
export function applyChangesInPlace(state: State, changes: readonly Change[], dir: 'redo' | 'undo' = 'redo'): void {
  for (const ch of order(changes, dir)) {
    const scope = (state[ch.s] ??= {});
    noteChange(scope, ch);
    const coll = (scope[ch.c] ??= newCollection());
    const v = dir === 'redo' ? ch.after : ch.before;
    if (setEntry(coll, ch.c, ch.id, v) === 0) prune(state, ch.s, ch.c);
  }
}

/**
 * An empty collection, in V8's dictionary mode from the start. A collection is keyed by entity
 * ids, each new to it: on an object literal every new key is a new hidden-class transition off
 * the empty object's (the transition tree grows with every id ever used), which cost ~2 µs per
 * insert in replay of the add/del workload, whose nodes collection empties and is made again at
 * every pair (issue 15; ~0.5 µs in dictionary mode). Deleting a member that is not the last one
 * added is what puts an object in dictionary mode; the prototype stays Object's, so the state is
 * the same plain JSON to every reader.
 */
export function newCollection(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 0, b: 0 };
  delete o.a;
  delete o.b;
  return o;
}

// An emptied collection and then an emptied scope are removed, so that undoing a step gives
// back a state that is equal (and hashes equal) to the one before it, not one with empty husks.
// Called only when the collection's count reached 0; a scope has a handful of collections.
function prune(state: State, s: string, c: string) {
  const scope = state[s];
  if (!scope) return;
  delete scope[c];
  for (const _ in scope) return;
  delete state[s];
}

function order(changes: readonly Change[], dir: 'redo' | 'undo'): readonly Change[] {
  return dir === 'redo' ? changes : [...changes].reverse();
}
