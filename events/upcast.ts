// Reading older records: an upcaster per (type, version) lifts data one version up, so the
// fold only ever sees current data. A record newer than this build cannot be read safely.
import { BlockgraphError } from '../errors/index.js';
import type { LogRecord } from '../store/types.js';
import { CURRENT_VERSION, type RecordType } from './types.js';

type Upcaster = (data: unknown) => unknown;
const UPCASTERS = new Map<string, Upcaster>(); // key: `${type}@${fromVersion}`

// Version 1 -> 2: the data is the same; only the frame it is stored in changed (events/types.ts).
for (const type of Object.keys(CURRENT_VERSION) as RecordType[]) UPCASTERS.set(`${type}@1`, (d) => d);
// Version 2 -> 3 (txn.step, txn.compensated, txn.decided): the same data; stored templated
// (store/image-template.ts), which the codec undoes when it reads.
UPCASTERS.set('txn.step@2', (d) => d);
UPCASTERS.set('txn.compensated@2', (d) => d);
UPCASTERS.set('txn.decided@2', (d) => d);
// Version 2 -> 3 (txn.begun): a plain begun is a version-3 begun without steps and decision.
UPCASTERS.set('txn.begun@2', (d) => d);
// Version 3 -> 4 (txn.begun): the same data; stored in frame 3 (redo part apart, store/codec.ts),
// which the codec undoes when it reads.
UPCASTERS.set('txn.begun@3', (d) => d);
// Version 4 -> 5 (txn.begun): the same data; stored in frame 4 (frame 3 and its redo part's
// skip table, store/codec.ts), which the codec undoes when it reads.
UPCASTERS.set('txn.begun@4', (d) => d);

export function registerUpcaster(type: RecordType, fromVersion: number, fn: Upcaster): void {
  UPCASTERS.set(`${type}@${fromVersion}`, fn);
}

/** The record's data at the current version of its type (records of unknown types pass through). */
export function upcast(rec: LogRecord): unknown {
  const cur = CURRENT_VERSION[rec.type as RecordType];
  if (cur === undefined || rec.v === cur) return rec.data;
  if (rec.v > cur) {
    throw new BlockgraphError('BG_LOG_PROTOCOL', `record ${rec.seq} (${rec.type}) is version ${rec.v}, newer than this blockgraph reads (${cur})`, { seq: rec.seq });
  }
  let data = rec.data;
  for (let v = rec.v; v < cur; v++) {
    const up = UPCASTERS.get(`${rec.type}@${v}`);
    if (!up) throw new BlockgraphError('BG_LOG_PROTOCOL', `no upcaster for ${rec.type} version ${v}`, { seq: rec.seq });
    data = up(data);
  }
  return data;
}
