// Parted snapshots (manifests whose parts are written) in a log: the seqs, for the stall bench.
import type { EventLog } from '../store/index.js';
import { sublevelsOf } from '../store/codec.js';
import { manifestOf } from '../store/snapshot-parts.js';

export async function partedSnapshotsOf(log: EventLog): Promise<number[]> {
  const out: number[] = [];
  for await (const [k, v] of sublevelsOf(log.db).snap.iterator()) {
    const body = JSON.parse(v.substring(9)) as unknown;
    if (manifestOf(body)) out.push(parseInt(k, 16));
  }
  return out;
}
