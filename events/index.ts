export type {
  CommandRejected, RecordDataByType, RecordType, TxnBegun, TxnCompensated, TxnDecided, TxnEnded, TxnStep,
} from './types.js';
export { CURRENT_VERSION } from './types.js';
export { registerUpcaster, upcast } from './upcast.js';
