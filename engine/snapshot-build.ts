// A snapshot built a few hundred entities per command instead of all at once: encoding a
// 50k-node state in one go stalls the command that triggers it for seconds (bench/RESULTS.md).
// At the snapshot's seq the build takes the ids of every collection (Object.keys: pointers,
// no encoding); from then on, before the engine folds a change, the build keeps the entity's
// value as it was at the snapshot's seq (first change only), so each later slice encodes the
// state of that seq, not the live one. Entities are never mutated in place (graph/apply.ts
// replaces them), so a kept reference is the value. Slices become parts; the manifest comes
// last (store/snapshot-parts.ts).
import { countOf } from '../graph/adjacency.js';
import type { Change } from '../graph/draft.js';
import { ownEntry } from '../graph/own.js';
import type { State } from '../graph/types.js';
import { encodePart, type PartedManifest, type SnapshotEntry } from '../store/index.js';

/** Entities encoded per command: ~100 KB of canonical JSON at the sizes the bench builds. */
export const PART_ENTITIES = 256;

/** Counted by specs: entities encoded by the last slice (bounded by PART_ENTITIES, whatever the state's size). */
export const buildWork = { lastSlice: 0, kept: 0 };

export class SnapshotBuild {
  readonly #colls: Array<[s: string, c: string, ids: string[]]> = [];
  readonly #kept = new Map<string, unknown>();
  #ci = 0;
  #ii = 0;
  #part = 0;
  #entities = 0;
  /** The part writes issued so far (the manifest waits for all of them). */
  readonly writes: Promise<void>[] = [];

  constructor(state: State, readonly seq: number, readonly hash: string, readonly stateHash: string) {
    for (const s of Object.keys(state)) {
      const scope = state[s]!;
      for (const c of Object.keys(scope)) this.#colls.push([s, c, Object.keys(scope[c]!)]);
    }
  }

  /** Call before `changes` are applied to `state`: keeps the values of the snapshot's seq. */
  note(state: State, changes: readonly Change[]): void {
    for (const ch of changes) {
      const k = ch.s + '\0' + ch.c + '\0' + ch.id;
      if (!this.#kept.has(k)) this.#kept.set(k, ownEntry(state, ch.s, ch.c, ch.id));
    }
    buildWork.kept = this.#kept.size;
  }

  get done(): boolean {
    return this.#ci >= this.#colls.length;
  }

  /** The next part (at most `max` entities), encoded, with its number; undefined when all are out. */
  nextPart(state: State, max = PART_ENTITIES): { part: number; value: string } | undefined {
    if (this.done) return undefined;
    const entries: SnapshotEntry[] = [];
    while (entries.length < max && this.#ci < this.#colls.length) {
      const [s, c, ids] = this.#colls[this.#ci]!;
      if (this.#ii >= ids.length) { this.#ci++; this.#ii = 0; continue; }
      const id = ids[this.#ii++]!;
      const k = s + '\0' + c + '\0' + id;
      const v = this.#kept.has(k) ? this.#kept.get(k) : ownEntry(state, s, c, id);
      if (v !== undefined) entries.push([s, c, id, v]);
    }
    // Skip past collections already exhausted, so `done` is true right after the last part.
    while (this.#ci < this.#colls.length && this.#ii >= this.#colls[this.#ci]![2].length) { this.#ci++; this.#ii = 0; }
    buildWork.lastSlice = entries.length;
    this.#entities += entries.length;
    return { part: this.#part++, value: encodePart(this.seq, this.#part - 1, entries) };
  }

  manifest(): PartedManifest {
    return { seq: this.seq, hash: this.hash, stateHash: this.stateHash, parts: this.#part, entities: this.#entities };
  }
}

/** Entities in a state: the counts kept beside its collections (graph/adjacency.ts countOf, O(1) each once known). */
export function entityCount(state: State): number {
  let n = 0;
  for (const s of Object.keys(state)) {
    const scope = state[s]!;
    for (const c of Object.keys(scope)) n += countOf(scope[c]!);
  }
  return n;
}
