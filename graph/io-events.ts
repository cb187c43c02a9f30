// QMP events an I/O request sends while it runs (block/quorum.c: QUORUM_FAILURE, QUORUM_REPORT_BAD).
// QEMU sends them from the request, whatever becomes of the command that issued it: a blockdev-add
// whose qcow2 header read fails on a quorum vote has already sent QUORUM_FAILURE. Reads in the
// model are functions of the graph (graph/read.ts) with no event channel, so what a real read
// (one with a blkdebug commit, graph/blkdebug-state.ts) sends is kept here, per Draft, in order;
// commands/model.ts takes it before the command's next event and after the command, refused or not.
import type { Draft } from './draft.js';

export interface IoEvent { event: string; data: Record<string, unknown> }

const sent = new WeakMap<Draft, IoEvent[]>();

/** Names of the events this module carries (commands/model.ts keeps them for a refused command). */
export const IO_EVENTS: ReadonlySet<string> = new Set(['QUORUM_FAILURE', 'QUORUM_REPORT_BAD']);

export function sendIoEvent(d: Draft, event: string, data: Record<string, unknown>): void {
  let list = sent.get(d);
  if (!list) sent.set(d, (list = []));
  list.push({ event, data });
}

/** The events sent since the last call, oldest first. */
export function takeIoEvents(d: Draft): IoEvent[] {
  const list = sent.get(d);
  if (!list?.length) return [];
  sent.delete(d);
  return list;
}
