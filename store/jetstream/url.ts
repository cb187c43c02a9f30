// Store URLs: nats://HOST:PORT[,HOST:PORT…]/FLEET/HOST[/STORE]. Each name becomes one token of the
// subject blockgraph.<fleet>.<host>.<store>, so it may not hold NATS's separators or wildcards.
import { BlockgraphError } from '../../errors/index.js';

export interface NatsStoreUrl {
  servers: string[];
  fleet: string;
  /** Absent in a fleet URL (nats://…/FLEET): every host of the fleet. */
  host?: string;
  store: string;
}

export const SUBJECT_ROOT = 'blockgraph';
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const SERVER = /^[A-Za-z0-9.[\]:_-]{1,255}$/;

export function isNatsUrl(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith('nats://');
}

/** A name fit to be one subject token, or BG_BAD_INPUT naming what is wrong. */
export function checkToken(what: string, v: string): string {
  if (!TOKEN.test(v)) throw new BlockgraphError('BG_BAD_INPUT', `${what} ${JSON.stringify(v.slice(0, 80))} must be 1-64 letters, digits, '-' or '_'`);
  return v;
}

/** Parses a store URL (host required) or, with `fleet: true`, a fleet URL (host optional). */
export function parseNatsUrl(url: string, opts: { fleet?: boolean } = {}): NatsStoreUrl {
  if (!isNatsUrl(url) || url.length > 4096) throw new BlockgraphError('BG_BAD_INPUT', `not a nats:// store URL: ${JSON.stringify(String(url).slice(0, 80))}`);
  const rest = url.slice('nats://'.length);
  const slash = rest.indexOf('/');
  const serverPart = slash < 0 ? rest : rest.slice(0, slash);
  const path = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
  const servers = serverPart.split(',').filter((s) => s.length > 0);
  if (servers.length === 0 || !servers.every((s) => SERVER.test(s))) {
    throw new BlockgraphError('BG_BAD_INPUT', `${url}: expected nats://HOST:PORT[,HOST:PORT]/FLEET/HOST`);
  }
  const parts = path === '' ? [] : path.split('/');
  const need = opts.fleet ? 'FLEET[/HOST[/STORE]]' : 'FLEET/HOST[/STORE]';
  if (parts.length < (opts.fleet ? 1 : 2) || parts.length > 3) throw new BlockgraphError('BG_BAD_INPUT', `${url}: the path must be /${need}`);
  const [fleet, host, store] = parts;
  return {
    servers,
    fleet: checkToken('fleet', fleet!),
    ...(host !== undefined ? { host: checkToken('host', host) } : {}),
    store: checkToken('store', store ?? 'log'),
  };
}

export function subjectOf(u: { fleet: string; host: string; store: string }): string {
  return `${SUBJECT_ROOT}.${u.fleet}.${u.host}.${u.store}`;
}

/** Parses blockgraph.<fleet>.<host>.<store> back, or undefined for any other subject. */
export function parseSubject(subject: string): { fleet: string; host: string; store: string } | undefined {
  const p = subject.split('.');
  if (p.length !== 4 || p[0] !== SUBJECT_ROOT) return undefined;
  return { fleet: p[1]!, host: p[2]!, store: p[3]! };
}
