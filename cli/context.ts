// Shared CLI plumbing: opening the store, exit codes, output helpers.
// The store and the engine are imported when a command opens a store, not at start-up:
// `blockgraph --help` and `--version` then never load level, rxjs or xstate.
import { BlockgraphError } from '../errors/index.js';
import type { Engine } from '../engine/engine.js';
import type { EventLog } from '../store/index.js';

/** Exit codes: scripts branch on these. */
export const EXIT = {
  ok: 0,
  failed: 1,        // the command ran and the answer is "no" (QMP error, divergence, mismatch)
  usage: 2,         // bad arguments or input files
  corrupt: 3,       // the log is damaged (BG_LOG_CORRUPT / BG_LOG_PROTOCOL)
  locked: 4,        // another process holds the store
  internal: 70,
  io: 74,           // the disk refused (full, read-only, I/O error): BG_STORAGE_IO (sysexits EX_IOERR)
} as const;

export const DEFAULT_DB = './blockgraph.db';

export const wallClock = () => new Date().toISOString();

/**
 * For commands that write: opens the store itself (creating it if missing). Default
 * 'since-snapshot': the newest snapshot's record and every record after it are checked (CRC,
 * chain, head meta), so opening a long log costs the records since its last snapshot; reads then
 * check the range they read, anchored at a verified snapshot or seq 1. The whole-log check is
 * `blockgraph verify`.
 */
export async function withLog<T>(db: string, fn: (log: EventLog) => Promise<T>, opts: { verify?: 'full' | 'since-snapshot' | 'none' } = {}): Promise<T> {
  const { openStoreAt } = await import('./store-location.js');
  const log = await openStoreAt(db, { verify: opts.verify ?? 'since-snapshot' });
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

/**
 * For commands that only read: never creates, never changes a file of the store (a private
 * copy, or the running server's view when one holds the store; store/read-only.ts). The log
 * refuses writes.
 */
export async function withReadLog<T>(db: string, fn: (log: EventLog) => Promise<T>, opts: { verify?: 'full' | 'since-snapshot' | 'none'; seek?: number[]; scan?: boolean } = {}): Promise<T> {
  // A fleet store (nats://…) is read from the stream, which a reader cannot change, into a
  // private LevelDB copy: memory stays bounded whatever the host log's length.
  const log = db.startsWith('nats://')
    ? await (await import('../store/jetstream/read-copy.js')).openJetStreamReadCopy(db, { verify: opts.verify ?? 'since-snapshot' })
    : await (await import('../store/index.js')).openReadOnly(db, { verify: opts.verify ?? 'since-snapshot', ...(opts.seek ? { seek: opts.seek } : {}), ...(opts.scan ? { scan: true } : {}) });
  try {
    return await fn(log);
  } catch (e) {
    // A seek's view holds only the tables its read needs (store/read-only-subset.ts) and
    // refuses any other read: then the read runs again on a view with every table. The seek
    // commands print only after their reads, so nothing was written out yet.
    if (!(opts.seek && e instanceof BlockgraphError && e.code === 'BG_VIEW_RANGE')) throw e;
  } finally {
    await log.close();
  }
  return withReadLog(db, fn, { ...opts, seek: undefined });
}

/**
 * The seqs a command that only seeks will fold up to, for withReadLog's `seek` (a served store
 * then sends only those ranges, store/live.ts): a seq as given, no point as the head; a time
 * needs a search over the records, so undefined (everything).
 */
export function seeksOf(...points: Array<{ seq: number } | { time: string } | undefined>): number[] | undefined {
  const out: number[] = [];
  for (const p of points) {
    if (p === undefined) out.push(Number.MAX_SAFE_INTEGER);
    else if ('seq' in p) out.push(p.seq);
    else return undefined;
  }
  return out;
}

export async function withEngine<T>(db: string, fn: (e: Engine, log: EventLog) => Promise<T>): Promise<T> {
  const { Engine } = await import('../engine/engine.js');
  return withLog(db, async (log) => fn(await Engine.open(log, { clock: wallClock, snapshotEvery: 1000 }), log));
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof BlockgraphError) {
    if (e.code === 'BG_LOG_CORRUPT' || e.code === 'BG_LOG_PROTOCOL' || e.code === 'BG_SNAPSHOT_CORRUPT' || e.code === 'BG_STORE_DAMAGED') return EXIT.corrupt;
    if (e.code === 'BG_STORAGE_IO') return EXIT.io;
    // a bug in the model, reported cleanly (nothing applied): still an internal error
    if (e.code === 'BG_MODEL_CRASH') return EXIT.internal;
    if (e.code === 'BG_LOG_LOCKED') return EXIT.locked;
    if (e.code === 'BG_BAD_INPUT' || e.code === 'BG_NOT_FOUND' || e.code === 'BG_INPUT_TOO_LARGE') return EXIT.usage;
    return EXIT.failed;
  }
  return EXIT.internal;
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

/** A plain text table (no dependency: the columns are few and fixed). */
export function table(rows: string[][], header: string[]): string {
  // A loop, not Math.max(...column): spreading 200k+ rows overflows the call stack.
  const w = header.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < w.length; i++) if ((r[i] ?? '').length > w[i]!) w[i] = (r[i] ?? '').length;
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(w[i]!))).join('  ');
  return [fmt(header), fmt(w.map((n) => '-'.repeat(n))), ...rows.map(fmt)].join('\n');
}
