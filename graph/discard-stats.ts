// The discards qcow2 passes to its file (block/qcow2-refcount.c, 7.2 and 10.0 alike) and the
// counters file-posix keeps of them (query-blockstats' BlockStatsSpecificFile: discard-nb-ok,
// discard-bytes-ok). update_refcount, when a cluster's refcount drops to 0 and
// s->discard_passthrough[type] holds (qcow2_update_options_prepare: ALWAYS yes, NEVER no, REQUEST
// `pass-discard-request` defaulting to the node's BDRV_O_UNMAP, SNAPSHOT `pass-discard-snapshot`
// default on, OTHER `pass-discard-other` default off), queues the cluster
// (update_refcount_discard, which merges it with a queued neighbour into one range);
// qcow2_process_discards sends each range as one bdrv_pdiscard(bs->file) at the end of the
// update_refcount, or, while s->cache_discards is set (qcow2_cluster_discard,
// qcow2_subcluster_zeroize, qcow2_update_snapshot_refcount), at the end of that whole operation.
// bdrv_co_pdiscard does nothing on a node opened without BDRV_O_UNMAP (a format node's file child
// inherits discard=unmap: bdrv_inherited_options); raw and the filters pass it on to their
// child; file-posix's raw_co_pdiscard counts it (raw_account_discard).
import { openedWithUnmap } from './jobs/mirror-dirty.js';
import type { Proc } from './proc.js';
import { WRITE_PASS_THROUGH } from './pass-through.js';
import { FILE_POSIX } from './drivers.js';

/** enum qcow2_discard_type */
export type DiscardType = 'never' | 'always' | 'request' | 'snapshot' | 'other';

/** Clusters freed by one qcow2_free_clusters call or one cache_discards section, with their type. */
export interface FreedBatch { type: DiscardType; clusters: number[] }


function optBool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  return v === 'on' || v === 'true' || v === 'yes';
}

/** s->discard_passthrough[type] of qcow2 node `q` (qcow2_update_options_prepare). */
export function qcow2PassesDiscard(p: Proc, q: string, type: DiscardType): boolean {
  const o = (p.node(q)?.options ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'never': return false;
    case 'always': return true;
    case 'request': return optBool(o['pass-discard-request'], openedWithUnmap(p, q));
    case 'snapshot': return optBool(o['pass-discard-snapshot'], true);
    case 'other': return optBool(o['pass-discard-other'], false);
  }
}

/** update_refcount_discard's merging: the batch's clusters as contiguous byte ranges. */
export function discardRanges(clusters: number[], cs: number): [number, number][] {
  const sorted = [...new Set(clusters)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === c * cs) last[1] += cs;
    else out.push([c * cs, cs]);
  }
  return out;
}

/** One bdrv_pdiscard(file, offset, bytes) down to the file-posix node that counts it. */
export function pdiscard(p: Proc, file: string, offset: number, bytes: number): void {
  let off = offset;
  for (let cur: string | undefined = file, i = 0; cur !== undefined && i < 1000; i++) {
    const n = p.node(cur);
    // bdrv_co_pdiscard: "Do nothing if disabled", and nothing on a read-only node (-EPERM)
    if (!n || n.ro || !openedWithUnmap(p, cur)) return;
    if (FILE_POSIX.has(n.driver)) {
      const d = n.discards ?? { nb: 0, bytes: 0 };
      p.patchNode(cur, { discards: { nb: d.nb + 1, bytes: d.bytes + bytes } });
      return;
    }
    const via: string | undefined = WRITE_PASS_THROUGH[n.driver] ?? (n.driver === 'raw' ? 'file' : undefined);
    if (via === undefined) return;
    if (n.driver === 'raw') off += Number(n.options.offset ?? 0) || 0;
    const from: string = cur;
    cur = p.childrenOf(from).find((e) => e.name === via)?.child;
  }
}

/** qcow2_process_discards for the batches qcow2 node `q` freed: the passed ones, merged, to bs->file. */
export function qcow2Discards(p: Proc, q: string, batches: FreedBatch[], cs: number): void {
  const file = p.fileChild(q)?.child;
  if (file === undefined) return;
  for (const b of batches) {
    if (!b.clusters.length || !qcow2PassesDiscard(p, q, b.type)) continue;
    for (const [off, bytes] of discardRanges(b.clusters, cs)) pdiscard(p, file, off, bytes);
  }
}
