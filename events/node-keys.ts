// What the log's secondary index holds for one record (written by store/event-log.ts in the
// same batch as the record, so `history NODE` is a range read, not a scan of the log):
//   - a step or compensation: one key per node it touches (the node itself, or either end of
//     an edge), "<node>\0<scope>";
//   - a txn.begun: its transaction id, so a step can find its command without a scan (a whole
//     transaction, events/whole.ts: also its steps' keys);
//   - a step that creates or changes a BlockBackend: "<id>\0<scope>" under BB_KEY, so a view can
//     name a BlockBackend by its owner (`blk(export e0)`) without a scan.
// Pure over the record; no store access.
import type { Change } from '../graph/draft.js';
import type { Edge } from '../graph/types.js';
import type { LogRecord } from '../store/types.js';
import { stepsOf } from './whole.js';

export const NODE_KEY = 'n';
export const TXN_KEY = 't';
export const BB_KEY = 'b';

/** Scope-qualified node names ("A:top") a change is about: the node, or both ends of an edge. */
export function changeNodes(ch: Change): string[] {
  if (ch.c === 'nodes') return [`${ch.s}:${ch.id}`];
  if (ch.c !== 'edges') return [];
  const out: string[] = [];
  for (const img of [ch.before, ch.after] as (Edge | null)[]) {
    if (!img) continue;
    out.push(`${ch.s}:${img.child}`);
    if (img.parent?.kind === 'node') out.push(`${ch.s}:${img.parent.node}`);
  }
  return out;
}

/** Index key prefix of a node's entries, optionally in one scope. */
export function nodeKeyPrefix(node: string, scope?: string): string {
  return NODE_KEY + '\0' + node + '\0' + (scope === undefined ? '' : scope + '\0');
}

/** Index key prefix of a BlockBackend's entries in one scope. */
export function bbKeyPrefix(id: string, scope: string): string {
  return BB_KEY + '\0' + id + '\0' + scope + '\0';
}

export function txnKeyPrefix(txn: string): string {
  return TXN_KEY + '\0' + txn + '\0';
}

/** Index keys of one record (without the seq suffix the store appends). */
export function indexKeys(rec: LogRecord): string[] {
  const keys = new Set<string>();
  if (rec.type === 'txn.begun') {
    if (rec.txn) keys.add(txnKeyPrefix(rec.txn));
    // a whole transaction (events/whole.ts): its steps' keys too, under the one record's seq
    for (const s of stepsOf(rec)) addChangeKeys(keys, s.changes);
    return [...keys];
  }
  if (rec.type !== 'txn.step' && rec.type !== 'txn.compensated') return [];
  addChangeKeys(keys, (rec.data as { changes?: unknown } | null)?.changes);
  return [...keys];
}

function addChangeKeys(keys: Set<string>, changes: unknown): void {
  if (!Array.isArray(changes)) return;
  for (const ch of changes as Change[]) {
    if (ch.c === 'bbs') keys.add(bbKeyPrefix(ch.id, ch.s));
    for (const k of changeNodes(ch)) {
      const i = k.indexOf(':');
      keys.add(nodeKeyPrefix(k.slice(i + 1), k.slice(0, i)));
    }
  }
}
