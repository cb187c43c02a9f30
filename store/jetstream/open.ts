// Opening an EventLog on the fleet stream. The same EventLog class as on LevelDB: records,
// CRC and hash chain are byte for byte what a local store holds.
import { BlockgraphError } from '../../errors/index.js';
import { EventLog, type OpenOptions } from '../event-log.js';
import { JetStreamLevel, type JetStreamLevelOptions } from './level.js';
import { parseNatsUrl, subjectOf } from './url.js';

export interface OpenJetStreamOptions extends OpenOptions, Omit<JetStreamLevelOptions, 'subject' | 'servers'> {}

/** Opens nats://HOST:PORT[,…]/FLEET/HOST[/STORE] as an EventLog. close() closes the connection. */
export async function openJetStream(url: string, opts: OpenJetStreamOptions = {}): Promise<EventLog> {
  const u = parseNatsUrl(url);
  const { verify, ...levelOpts } = opts;
  const db = new JetStreamLevel({ ...levelOpts, servers: u.servers, subject: subjectOf({ fleet: u.fleet, host: u.host!, store: u.store }) });
  try {
    await db.open();
  } catch (e) {
    // abstract-level wraps an _open failure in LEVEL_DATABASE_NOT_OPEN; ours carries a code.
    const cause = (e as { cause?: unknown }).cause;
    throw cause instanceof BlockgraphError ? cause : e;
  }
  try {
    // (no intent slot: one stored message per command, its record's; store/event-log.ts intentSlot)
    return await EventLog.open(db, { ...(verify ? { verify } : {}), intentSlot: false });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
}
