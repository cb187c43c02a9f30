// A log opened over a private copy (read-only.ts, live.ts): writes would land in the copy and
// vanish, so they are refused; closing removes the copy.
import { BlockgraphError } from '../errors/index.js';
import type { EventLog } from './event-log.js';

const READ_ONLY = () => Promise.reject(new BlockgraphError('BG_UNSUPPORTED', 'this store was opened read-only'));

/**
 * The view refuses writes (they would land in the private copy and vanish), and closing it
 * removes the copy.
 */
export function makeReadOnly(log: EventLog, cleanup: () => void): EventLog {
  log.append = READ_ONLY;
  log.putSnapshot = READ_ONLY;
  log.putSnapshotPart = READ_ONLY;
  log.putPartedSnapshot = READ_ONLY;
  log.repair = READ_ONLY;
  const close = log.close.bind(log);
  log.close = async () => {
    try {
      await close();
    } finally {
      cleanup();
    }
  };
  return log;
}

