// Snapshots written in parts, so that no command waits for a whole state to be encoded (35 s
// at 50k nodes as one synchronous canonical JSON). The engine (engine/snapshot-build.ts)
// encodes a few hundred entities per command into parts and, when all are written, stores the
// manifest under the snapshot's seq in the 'snap' sublevel like any snapshot: readers find the
// nearest snapshot exactly as before, and a manifest whose parts are missing or damaged is a
// damaged snapshot (SnapshotCorruptError: skipped for an older one where the caller allows).
//
// Layout: manifest = framed {seq, hash, stateHash, state: null, parts: N, entities: M} under
// snap/<seqKey(seq)>; part i = framed {seq, part: i, entries: [[scope, coll, id, value], …]}
// under snapp/<seqKey(seq)><seqKey(i)>. Parts are written before the manifest in the log's one
// writer queue, so a crash leaves at most orphan parts nobody lists. Full snapshots (state
// inline) are still written for small states and still read: old logs open unchanged.
import { SnapshotCorruptError } from '../errors/index.js';
import { type AnyLevel, decodeFramed, encodeFramed, seqKey, TEXT } from './codec.js';

export const SNAP_PARTS = 'snapp';

export type SnapshotEntry = [scope: string, coll: string, id: string, value: unknown];

export interface PartedManifest { seq: number; hash: string; stateHash: string; parts: number; entities: number }

export function partsSublevel(root: AnyLevel) {
  return root.sublevel<string, string>(SNAP_PARTS, TEXT);
}

export const partKey = (seq: number, part: number): string => seqKey(seq) + seqKey(part);

export function encodeManifest(m: PartedManifest): string {
  return encodeFramed({ seq: m.seq, hash: m.hash, stateHash: m.stateHash, state: null, parts: m.parts, entities: m.entities });
}

/** The manifest fields of a decoded snapshot value, or undefined for a full snapshot. */
export function manifestOf(snap: unknown): PartedManifest | undefined {
  const s = snap as Partial<PartedManifest> & { state?: unknown };
  if (s.state !== null || !Number.isInteger(s.parts) || !Number.isInteger(s.entities)) return undefined;
  return s as PartedManifest;
}

export function encodePart(seq: number, part: number, entries: SnapshotEntry[]): string {
  return encodeFramed({ seq, part, entries });
}

/** Counted by specs: parts read and entities assembled by the last assemble call. */
export const partsWork = { parts: 0, entities: 0 };

/**
 * The state a parted snapshot holds, assembled from its parts with keys in sorted order at
 * every level (as JSON.parse of the canonical full snapshot gives it). Throws
 * SnapshotCorruptError(seq) for a missing, extra, damaged or misfiled part or a wrong count.
 */
export async function assembleParts(root: AnyLevel, m: PartedManifest): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  const sub = partsSublevel(root);
  // Only parts 0..parts-1: a build cut by a crash (or a repair that dropped its manifest) can
  // leave higher-numbered parts under the same seq, which a later build does not overwrite.
  const it = sub.iterator({ gte: partKey(m.seq, 0), lt: partKey(m.seq, Math.max(0, m.parts)) });
  const colls = new Map<string, Map<string, Map<string, unknown>>>();
  let next = 0;
  let entities = 0;
  partsWork.parts = 0;
  partsWork.entities = 0;
  try {
    for (;;) {
      const chunk = await it.nextv(16);
      if (chunk.length === 0) break;
      for (const [key, value] of chunk) {
        if (key !== partKey(m.seq, next)) throw new SnapshotCorruptError(m.seq, `part ${next} is missing (found ${JSON.stringify(key)})`);
        const d = decodeFramed(value);
        if (!d.ok) throw new SnapshotCorruptError(m.seq, `part ${next}: ${d.reason}`);
        const p = d.value as { seq?: unknown; part?: unknown; entries?: unknown };
        if (p.seq !== m.seq || p.part !== next || !Array.isArray(p.entries)) throw new SnapshotCorruptError(m.seq, `part ${next} is malformed`);
        for (const e of p.entries as unknown[]) {
          if (!Array.isArray(e) || e.length !== 4 || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'string') {
            throw new SnapshotCorruptError(m.seq, `part ${next} holds a malformed entry`);
          }
          let s = colls.get(e[0]);
          if (!s) colls.set(e[0], (s = new Map()));
          let c = s.get(e[1]);
          if (!c) s.set(e[1], (c = new Map()));
          c.set(e[2], e[3]);
          entities++;
        }
        next++;
        partsWork.parts++;
      }
    }
  } finally {
    await it.close();
  }
  if (next !== m.parts) throw new SnapshotCorruptError(m.seq, `${next} of ${m.parts} parts found`);
  if (entities !== m.entities) throw new SnapshotCorruptError(m.seq, `${entities} entities, the manifest says ${m.entities}`);
  partsWork.entities = entities;
  const sorted = <T>(m: Map<string, T>) => [...m.keys()].sort();
  // As JSON.parse does: an own property even for "__proto__" (plain assignment would set the prototype).
  const put = <T>(o: Record<string, T>, k: string, v: T): T => {
    if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    else o[k] = v;
    return v;
  };
  const state: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const s of sorted(colls)) {
    const scope = put<Record<string, Record<string, unknown>>>(state, s, {});
    const cs = colls.get(s)!;
    for (const c of sorted(cs)) {
      const coll = put<Record<string, unknown>>(scope, c, {});
      const ids = cs.get(c)!;
      for (const id of sorted(ids)) put(coll, id, ids.get(id));
    }
  }
  return state;
}
