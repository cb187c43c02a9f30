// Where a command's store is: a LevelDB directory, or a host's log in the fleet stream
// (nats://HOST:PORT[,HOST:PORT]/FLEET/HOST[/STORE], see docs/fleet.md).
import { openClassic, type EventLog } from '../store/index.js';
import { isNatsUrl, openJetStream } from '../store/jetstream/index.js';

export async function openStoreAt(location: string, opts: { verify?: 'full' | 'since-snapshot' | 'none' } = {}): Promise<EventLog> {
  return isNatsUrl(location) ? openJetStream(location, opts) : openClassic(location, opts);
}
