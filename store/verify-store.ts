// `blockgraph verify`: the whole-store check (check.ts) on a read-only view (read-only.ts), so
// verifying never changes a file. Damage LevelDB itself reports (a missing CURRENT or table,
// an unreadable block) is a result here, not an exception: it is what verify is asked about.
import { StoreDamagedError } from '../errors/index.js';
import { readAnchor } from './anchor.js';
import { checkStore, type StoreCheck } from './check.js';
import { sublevelsOf } from './codec.js';
import { levelError } from './files.js';
import { openReadOnly } from './read-only.js';

export interface StoreVerifyReport extends Omit<StoreCheck, 'snapshots' | 'headHash'> {
  headHash?: string;
  snapshots?: StoreCheck['snapshots'];
  /** Damage below the records (LevelDB's files): nothing could be verified past it. */
  storage?: string;
}

export async function verifyStore(location: string): Promise<StoreVerifyReport> {
  // Read before the store: a running server moves the anchor only after its records are in,
  // so the anchor read first never runs ahead of the point the server then serves.
  const anchor = readAnchor(location);
  const damaged = (e: StoreDamagedError): StoreVerifyReport => ({
    ok: false, head: 0, storage: String(e.info.reason), reason: String(e.info.reason),
    missingAcknowledged: typeof anchor === 'object' ? anchor.seq : 0, ...(anchor !== undefined ? { anchor } : {}),
  });
  let log;
  try {
    log = await openReadOnly(location, { verify: 'none', anchor: false });
  } catch (e) {
    if (e instanceof StoreDamagedError) return damaged(e);
    throw e;
  }
  try {
    return await checkStore(sublevelsOf(log.db), anchor);
  } catch (e) {
    const m = levelError(e, location);
    if (m instanceof StoreDamagedError) return damaged(m);
    throw m;
  } finally {
    await log.close();
  }
}
