// Where a store is: a LevelDB directory, or a host's log in the fleet stream
// (nats://HOST:PORT[,HOST:PORT]/FLEET/HOST[/STORE], docs/fleet.md). One opener for the CLI and
// the drills, so every tool that takes a store path takes a fleet store too.
import type { EventLog, OpenOptions } from '../event-log.js';
import { openClassic } from '../open.js';
import { openJetStream } from './open.js';
import { isNatsUrl } from './url.js';

export async function openStoreAt(location: string, opts: OpenOptions & { createIfMissing?: boolean } = {}): Promise<EventLog> {
  if (!isNatsUrl(location)) return openClassic(location, opts);
  const { createIfMissing: _ignored, ...rest } = opts; // a subject with no message is an empty log
  return openJetStream(location, rest);
}
