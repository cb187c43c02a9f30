// The fleet as a whole: which hosts have a log on the stream, and each host's log read-only.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { BlockgraphError } from '../../errors/index.js';
import type { EventLog } from '../event-log.js';
import { openJetStream, type OpenJetStreamOptions } from './open.js';
import { ensureStream, STREAM } from './stream.js';
import { parseNatsUrl, parseSubject, SUBJECT_ROOT } from './url.js';

export interface FleetHost {
  host: string;
  /** Messages on the host's subject (batches, not records). */
  messages: number;
  url: string;
}

/** Hosts of nats://…/FLEET[/HOST] that hold a store, sorted by name (a HOST in the URL: just it). */
export async function listHosts(fleetUrl: string): Promise<FleetHost[]> {
  const u = parseNatsUrl(fleetUrl, { fleet: true });
  let nc;
  try {
    nc = await connect({ servers: u.servers, timeout: 5000 });
  } catch (e) {
    throw new BlockgraphError('BG_LOG_UNAVAILABLE', `cannot reach NATS at ${u.servers.join(',')}: ${(e as Error).message}`);
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm);
    const filter = `${SUBJECT_ROOT}.${u.fleet}.${u.host ?? '*'}.${u.store}`;
    const info = await jsm.streams.info(STREAM, { subjects_filter: filter });
    const subjects = info.state.subjects ?? {};
    const base = `nats://${u.servers.join(',')}/${u.fleet}`;
    return Object.entries(subjects)
      .map(([subject, messages]) => ({ s: parseSubject(subject), messages }))
      .filter((x): x is { s: NonNullable<typeof x.s>; messages: number } => x.s !== undefined)
      .map(({ s, messages }) => ({ host: s.host, messages, url: `${base}/${s.host}/${s.store}` }))
      .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  } finally {
    await nc.close();
  }
}

/** Runs `fn` on each host's log in turn (one open at a time: memory is one host's log). */
export async function forEachHost<T>(fleetUrl: string, fn: (host: string, log: EventLog) => Promise<T>, opts: OpenJetStreamOptions = {}): Promise<Array<{ host: string; result: T }>> {
  const out: Array<{ host: string; result: T }> = [];
  for (const h of await listHosts(fleetUrl)) {
    const log = await openJetStream(h.url, opts);
    try {
      out.push({ host: h.host, result: await fn(h.host, log) });
    } finally {
      await log.close();
    }
  }
  return out;
}
