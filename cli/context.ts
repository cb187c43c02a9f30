// Shared CLI plumbing: opening the store, exit codes, output helpers.
import { BlockgraphError } from '../errors/index.js';
import { Engine } from '../engine/engine.js';
import { openClassic, type EventLog } from '../store/index.js';

/** Exit codes: scripts branch on these. */
export const EXIT = {
  ok: 0,
  failed: 1,        // the command ran and the answer is "no" (QMP error, divergence, mismatch)
  usage: 2,         // bad arguments or input files
  corrupt: 3,       // the log is damaged (BG_LOG_CORRUPT / BG_LOG_PROTOCOL)
  locked: 4,        // another process holds the store
  internal: 70,
} as const;

export const DEFAULT_DB = './blockgraph.db';

export const wallClock = () => new Date().toISOString();

/**
 * Opens the store for one command. Default 'since-snapshot': the newest snapshot's record and
 * every record after it are checked (CRC, chain, head meta), so opening a long log costs the
 * records since its last snapshot; reads then check the range they read, anchored at a verified
 * snapshot or seq 1. The whole-log check is `blockgraph verify`.
 */
export async function withLog<T>(db: string, fn: (log: EventLog) => Promise<T>, opts: { verify?: 'full' | 'since-snapshot' | 'none' } = {}): Promise<T> {
  const log = await openClassic(db, { verify: opts.verify ?? 'since-snapshot' });
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

export async function withEngine<T>(db: string, fn: (e: Engine, log: EventLog) => Promise<T>): Promise<T> {
  return withLog(db, async (log) => fn(await Engine.open(log, { clock: wallClock, snapshotEvery: 1000 }), log));
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof BlockgraphError) {
    if (e.code === 'BG_LOG_CORRUPT' || e.code === 'BG_LOG_PROTOCOL' || e.code === 'BG_SNAPSHOT_CORRUPT') return EXIT.corrupt;
    if (e.code === 'BG_LOG_LOCKED') return EXIT.locked;
    if (e.code === 'BG_BAD_INPUT' || e.code === 'BG_NOT_FOUND') return EXIT.usage;
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
