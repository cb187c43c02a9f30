// A fleet host's log read in bounded memory: the subject's batches (checked as any open checks
// them) are written, keys and values as stored, into a private LevelDB copy in a temp dir, and
// the EventLog runs on that copy; closing removes it. The in-memory view (JetStreamLevel) holds
// the whole log, so a reader of a 1M-record host held about 1 GiB; this holds LevelDB's buffers
// and one read of the stream (8 MiB) whatever the log's length, at the cost of writing the
// log's bytes to local disk once (docs/fleet.md "A reader in bounded memory").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { BlockgraphError } from '../../errors/index.js';
import { EventLog, type OpenOptions } from '../event-log.js';
import { makeReadOnly } from '../read-only-view.js';
import { JetStreamLevel } from './level.js';
import { parseNatsUrl, subjectOf } from './url.js';

export async function openJetStreamReadCopy(url: string, opts: OpenOptions = {}): Promise<EventLog> {
  const u = parseNatsUrl(url);
  const dir = mkdtempSync(join(tmpdir(), 'bg-fleet-read-'));
  const copy = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await copy.open();
    const source = new JetStreamLevel({
      servers: u.servers,
      subject: subjectOf({ fleet: u.fleet, host: u.host!, store: u.store }),
      sink: (ops) => copy.batch(ops.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value } : { type: 'del' as const, key: op.key })) as never, { keyEncoding: 'buffer', valueEncoding: 'buffer' } as never),
    });
    try {
      await source.open();
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause;
      throw cause instanceof BlockgraphError ? cause : e;
    } finally {
      await source.close().catch(() => undefined);
    }
    // writes would land in the copy and vanish: refused, as on a LevelDB store's private copy
    return makeReadOnly(await EventLog.open(copy, opts), remove);
  } catch (e) {
    await copy.close().catch(() => undefined);
    remove();
    throw e;
  }
}
