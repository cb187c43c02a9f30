// events/: the log's record types (txn.begun … command.rejected), the version each is written
// at, and the upcasters that read older versions. Types only, plus upcast(). May import
// errors/ and, for types, graph/, commands/ (the QMP reply shapes) and store/ (the envelope).
export type {
  CommandRejected, RecordDataByType, RecordType, TxnBegun, TxnCompensated, TxnDecided, TxnEnded, TxnStep,
} from './types.js';
export { CURRENT_VERSION, current } from './types.js';
export { registerUpcaster, upcast } from './upcast.js';
export { endOf, endsTxn, recordedStateHash } from './ends.js';
export { isWhole, partsOf, stepsOf } from './whole.js';
