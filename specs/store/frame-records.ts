// Record fixtures shared by the frame specs (frame 3 and frame 4 carry the same txn.begun data).
import type { NewRecord } from '../../store/types.js';

export const node = (name: string, monitor: boolean) => ({
  aio: 'main', align: 1, auto: false, driver: 'null-co', explicit: { driver: 'null-co', 'node-name': name }, filename: 'null-co://',
  forceShare: false, header: null, implicit: false, inheritsFrom: null, lock: null, monitor, name, neverFreeze: false,
  options: { driver: 'null-co', 'node-name': name }, order: 1, ro: false, size: 1, unmap: false,
});
export const meta = (seq: number) => ({ autoName: 0, nbd: null, seq });
export const txnBegun = (data: Record<string, unknown>, v: number, txn = 't1'): NewRecord => ({ stream: 'A', type: 'txn.begun', v, at: 'now', txn, data });
/** blockdev-add's 'open' step: the process meta's seq moves on and the node is made. */
export const openStep = (name: string, seq: number) => ({ name: 'open', changes: [
  { s: 'A', c: 'meta', id: 'proc', before: seq > 1 ? meta(seq - 1) : null, after: meta(seq) },
  { s: 'A', c: 'nodes', id: name, before: null, after: node(name, false) },
] });
