// A whole-log scan of a read-only view in bounded memory (issue 15: `audit`, `log`, `report`
// under 200 MB on a 10M-record log; `audit` peaked at 269 MB on 1M records, 130 MB of it table
// files mapped by LevelDB).
//
// Why the tables count: LevelDB mmaps every table it opens (leveldb/util/env_posix.cc
// PosixEnv::NewRandomAccessFile, up to 1000 maps) and keeps up to 64 open in its table cache
// (db_impl.cc SanitizeOptions floors max_open_files at 74; TableCacheSize leaves 64). A scan
// touches every page of every table it passes, so the pages of the last 64 tables (2 MiB each:
// 128 MiB) stay mapped and resident until the cache evicts them, whatever the JavaScript side
// holds. Nothing lets a caller shrink the cache or turn mmap off.
//
// What does: closing the database unmaps every table. A view's private directory is ours and
// nothing writes it, so closing and reopening it gives the same data (the reopen replays an
// empty WAL: the first open already wrote the copied WAL into a table). So a forward scan of
// the view, once it has read `scanReopen.bytes` of values since the last reopen, closes its
// LevelDB iterator, closes and reopens the database, and goes on from the key after the last it
// handed out. Only when nothing else is open on the database (no other iterator); otherwise it
// carries on and tries again after the next chunk.
import type { AnyLevel } from './codec.js';

/** Bytes of values a scan reads between reopens (specs lower it), and what scans did. */
export const scanReopen = { bytes: 16 << 20, reopens: 0 };

interface RangeOptions { keys?: boolean; values?: boolean; gt?: unknown; gte?: unknown; lt?: unknown; lte?: unknown; reverse?: boolean; limit?: number; keyEncoding?: unknown; valueEncoding?: unknown }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyIterator = { next(): Promise<any>; nextv(size: number, options?: unknown): Promise<any[]>; all(options?: unknown): Promise<any[]>; seek(target: unknown, options?: unknown): void; close(): Promise<void> };
type Resource = { status?: string; open?: () => Promise<void>; prefix?: unknown };

/**
 * Makes forward scans of `db` (the root of a read-only view) reopen the database as they go.
 * Sublevels attached to the root are closed with it, so they are reopened too.
 */
export function reopeningScans(db: AnyLevel, openOptions: object): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = db as unknown as Record<string, any>;
  const sublevels = new Set<Resource>();
  const attach = d.attachResource.bind(db);
  d.attachResource = (r: Resource) => {
    if (typeof r.prefix === 'string' && typeof r.open === 'function') sublevels.add(r);
    return attach(r);
  };
  let openIterators = 0;
  const reopen = async () => {
    await db.close();
    await db.open(openOptions);
    for (const s of sublevels) if (s.status === 'closed') await s.open!();
    scanReopen.reopens++;
  };
  const under = d.iterator.bind(db) as (o: RangeOptions) => AnyIterator;
  for (const m of ['iterator', 'keys', 'values'] as const) {
    const orig = d[m].bind(db);
    d[m] = (options: RangeOptions = {}) => {
      if (options.reverse) return orig(options);
      openIterators++;
      return new ReopeningIterator(m, options, under, () => openIterators === 1, reopen, () => { openIterators--; });
    };
  }
}

/** A forward iterator (entries, keys or values) that reads keys and values underneath, to resume after a reopen. */
class ReopeningIterator {
  #it: AnyIterator;
  #since = 0;
  #last: unknown;
  #seen = 0;
  #done = false;
  readonly #limit: number;

  constructor(
    readonly kind: 'iterator' | 'keys' | 'values',
    readonly options: RangeOptions,
    readonly make: (o: RangeOptions) => AnyIterator,
    readonly alone: () => boolean,
    readonly reopen: () => Promise<void>,
    readonly closed: () => void,
  ) {
    this.#limit = options.limit === undefined || options.limit < 0 ? Infinity : options.limit;
    this.#it = make({ ...options, keys: true, values: true });
  }

  #out(e: [unknown, unknown]): unknown {
    return this.kind === 'iterator' ? e : this.kind === 'keys' ? e[0] : e[1];
  }

  async #maybeReopen(): Promise<void> {
    if (this.#since < scanReopen.bytes || this.#last === undefined || !this.alone()) return;
    await this.#it.close();
    await this.reopen();
    const rest = this.#limit - this.#seen;
    const { gt: _gt, gte: _gte, limit: _limit, ...o } = this.options;
    this.#it = this.make({ ...o, gt: this.#last, keys: true, values: true, ...(Number.isFinite(rest) ? { limit: rest } : {}) });
    this.#since = 0;
  }

  async nextv(size: number, options?: unknown): Promise<unknown[]> {
    if (this.#done) return [];
    await this.#maybeReopen();
    const got = (await this.#it.nextv(size, options)) as Array<[unknown, unknown]>;
    for (const [k, v] of got) this.#since += (typeof v === 'string' ? v.length : (v as Uint8Array | undefined)?.length ?? 0) + (typeof k === 'string' ? k.length : 0);
    this.#seen += got.length;
    if (got.length) this.#last = got[got.length - 1]![0];
    return got.map((e) => this.#out(e));
  }

  async next(): Promise<unknown> {
    const [e] = await this.nextv(1);
    return e;
  }

  async all(): Promise<unknown[]> {
    const out: unknown[] = [];
    for (;;) {
      const got = await this.nextv(1000);
      if (got.length === 0) break;
      out.push(...got);
    }
    await this.close();
    return out;
  }

  seek(): void {
    throw new Error('ReopeningIterator: seek is not supported on a read-only view scan');
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.closed();
    await this.#it.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<unknown> {
    try {
      for (;;) {
        const [e] = await this.nextv(1);
        if (e === undefined) return;
        yield e;
      }
    } finally {
      await this.close();
    }
  }
}
