// The synced batch's tail (issue 15, wt-perf16): why the server's synced LevelDB batch has a p99
// 3–8x a raw synced batch's on a fresh database in the same run. Each hypothesis is an A/B of two
// (or more) variants, every variant in its own child process (its own database, main thread and
// libuv pool, its own environment), driven in alternating chunks (A B B A ...) so that all of them
// see the same moments of the shared disk and CPUs: the ratios within one run are the figures.
//   node --import tsx bench/batch-tail.ts HYPOTHESIS [BATCHES=2000] [CHUNK=100]
// HYPOTHESIS: aged (a fresh database vs a copy of BENCH_AGED_DB, a server's aged one), shape (one
// 1,000-byte put vs the server's five puts, with and without its snapshot parts), options
// (LevelDB's writeBufferSize / maxFileSize / blockSize), anchor (the anchor's slot pwrite after
// each batch and its fdatasync every 64th, as store/anchor.ts, or none), wake (the main thread idle vs busy while
// the batch is out; UV_THREADPOOL_SIZE), pool (1 worker or 4, the main thread busy or idle), os (fdatasync of a file that grows vs one preallocated,
// plain node:fs, no LevelDB), or a JSON array of variants.
import { fork } from 'node:child_process';
import { closeSync, cpSync, existsSync, fdatasync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachStrace, describe, parseStrace, split, wallMinusHr } from './strace-sync.js';

interface Variant {
  name: string;
  /** 'level': classic-level batches; 'file': node:fs writes + fdatasync (no LevelDB). */
  kind?: 'level' | 'file';
  /** A database directory copied in before the open (a server's aged store). */
  from?: string;
  /** 'raw': one put of 1,000 bytes; 'server': the five puts of a blockgraph add/del. */
  shape?: 'raw' | 'server';
  /** An unsynced put of this many bytes every `snapEvery` batches (the server's snapshot parts). */
  snapBytes?: number;
  snapEvery?: number;
  options?: Record<string, number>;
  /** µs of main-thread CPU right after the batch is handed over (the server folds, parses back). */
  busyUs?: number;
  env?: Record<string, string>;
  /**
   * After each synced batch, a 128-byte pwrite into one of two slots of a file beside the
   * database (store/anchor.ts's slot write), and with `anchorSyncEvery` an fdatasync of it through
   * libuv's pool every Nth (its background sync).
   */
  anchor?: boolean;
  anchorSyncEvery?: number;
  /** kind 'file': 'grow' appends to a new file; 'prealloc' overwrites a file written in advance. */
  file?: 'grow' | 'prealloc';
}

const SERVER_VALUE_LOG = 'x'.repeat(578);
const META_HEAD = 'h'.repeat(92);
const META_NIDX = 'i'.repeat(100);
const RAW_VALUE = 'x'.repeat(1000);

async function child(v: Variant): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-batch-tail-'));
  const dbDir = join(dir, 'db');
  /** Each batch's [start on hrtime ms, duration ms]. */
  let run: (k: number) => Promise<[number, number][]>;
  let close: () => Promise<void>;
  let logText = () => '';
  const now = process.hrtime.bigint;
  // store/anchor.ts's work after a synced append, when the variant asks for it
  mkdirSync(dbDir, { recursive: true });
  const anchorFd = v.anchor ? openSync(join(dbDir, 'anchor'), 'w+') : -1;
  const slot = Buffer.alloc(128, 'a');
  let advances = 0, syncing = false;
  if (v.anchor) { writeSync(anchorFd, slot, 0, 128, 0); writeSync(anchorFd, slot, 0, 128, 128); fdatasyncSync(anchorFd); }
  const anchorAdvance = () => {
    if (!v.anchor) return;
    writeSync(anchorFd, slot, 0, 128, (advances++ % 2) * 128);
    if (v.anchorSyncEvery && advances % v.anchorSyncEvery === 0 && !syncing) {
      syncing = true;
      fdatasync(anchorFd, () => { syncing = false; });
    }
  };
  const spin = (us: number) => { const end = now() + BigInt(us * 1000); while (now() < end); };
  if (v.kind === 'file') {
    const path = join(dbDir, 'wal');
    const rec = Buffer.alloc(900, 'x');
    const fd = openSync(path, 'w');
    if (v.file === 'prealloc') {
      const z = Buffer.alloc(1 << 20);
      for (let i = 0; i < 64; i++) writeSync(fd, z, 0, z.length, i * z.length);
      fdatasyncSync(fd);
    }
    let pos = 0;
    run = async (k) => {
      const lat: [number, number][] = [];
      for (let i = 0; i < k; i++) {
        const t = now();
        writeSync(fd, rec, 0, rec.length, pos);
        pos += rec.length;
        fdatasyncSync(fd);
        lat.push([Number(t) / 1e6, Number(now() - t) / 1e6]);
        anchorAdvance();
        await new Promise((r) => setImmediate(r));
      }
      return lat;
    };
    close = async () => closeSync(fd);
  } else {
    const { ClassicLevel } = await import('classic-level');
    if (v.from) cpSync(v.from, dbDir, { recursive: true, filter: (src) => !/blockgraph-|LOCK$/.test(src) });
    const db = new ClassicLevel<string, string>(dbDir, { keyEncoding: 'utf8', valueEncoding: 'utf8', ...(v.options ?? {}) } as object);
    await db.open();
    let seq = 1e9;
    const snap = v.snapBytes ? 's'.repeat(v.snapBytes) : '';
    const sync = { sync: true };
    run = async (k) => {
      const lat: [number, number][] = [];
      for (let i = 0; i < k; i++) {
        const s = String(seq++).padStart(16, '0');
        if (v.snapEvery && seq % v.snapEvery === 0) await db.put(`!snap!${s}`, snap, { sync: false });
        const ops = v.shape === 'server'
          ? [
              { type: 'put' as const, key: `!log!${s}`, value: SERVER_VALUE_LOG },
              { type: 'put' as const, key: `!nidx!t t${seq} ${s}`, value: '' },
              { type: 'put' as const, key: `!nidx!n n${seq % 4000} A ${s}`, value: '' },
              { type: 'put' as const, key: '!meta!head', value: META_HEAD },
              { type: 'put' as const, key: '!meta!nidx', value: META_NIDX },
            ]
          : [{ type: 'put' as const, key: s.slice(4), value: RAW_VALUE }];
        const t = now();
        const p = db.batch(ops, sync);
        if (v.busyUs) spin(v.busyUs);
        await p;
        lat.push([Number(t) / 1e6, Number(now() - t) / 1e6]);
        anchorAdvance();
      }
      return lat;
    };
    close = () => db.close();
    logText = () => (existsSync(join(dbDir, 'LOG')) ? readFileSync(join(dbDir, 'LOG'), 'utf8') : '');
  }
  process.on('message', (m: { chunk?: number; end?: boolean }) => {
    if (m.chunk) void run(m.chunk).then((lat) => process.send!({ lat, at: Number(now()) / 1e6 }));
    else if (m.end) {
      void close().then(() => {
        const log = logText();
        rmSync(dir, { recursive: true, force: true });
        process.send!({ log, wallMinusHr: wallMinusHr() }, () => process.exit(0));
      });
    }
  });
  process.send!({ ready: true });
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const f = (x: number) => x.toFixed(2);

function variantsOf(h: string): Variant[] {
  const aged = process.env.BENCH_AGED_DB;
  switch (h) {
    case 'aged':
      if (!aged) throw new Error('BENCH_AGED_DB=DIR: a copy of a server\'s store (its LevelDB files)');
      return [{ name: 'fresh, server-shaped', shape: 'server' }, { name: 'aged copy, server-shaped', shape: 'server', from: aged }];
    case 'shape':
      return [
        { name: 'raw: one 1,000-byte put', shape: 'raw' },
        { name: "server's five puts", shape: 'server' },
        { name: 'five puts + 140 KB unsynced put / 500', shape: 'server', snapBytes: 140_000, snapEvery: 500 },
      ];
    case 'options':
      return [
        { name: 'defaults (4 MB buffer, 2 MB files, 4 KB blocks)', shape: 'server', snapBytes: 140_000, snapEvery: 500 },
        { name: 'writeBufferSize 64 MB', shape: 'server', snapBytes: 140_000, snapEvery: 500, options: { writeBufferSize: 64 << 20 } },
        { name: 'writeBufferSize 512 KB', shape: 'server', snapBytes: 140_000, snapEvery: 500, options: { writeBufferSize: 512 << 10 } },
      ];
    case 'wake':
      return [
        { name: 'main thread idle (pool 4)', shape: 'server' },
        { name: 'main thread busy 300 µs after hand-off', shape: 'server', busyUs: 300 },
        { name: 'main thread idle, UV_THREADPOOL_SIZE=1', shape: 'server', env: { UV_THREADPOOL_SIZE: '1' } },
      ];
    case 'anchor':
      return [
        { name: 'server-shaped, no anchor', shape: 'server' },
        { name: 'server-shaped + anchor slot pwrite', shape: 'server', anchor: true },
        { name: 'server-shaped + pwrite + fdatasync / 64', shape: 'server', anchor: true, anchorSyncEvery: 64 },
      ];
    case 'pool':
      return [
        { name: 'pool of 4, main busy 100 µs after hand-off', shape: 'server', busyUs: 100, env: { UV_THREADPOOL_SIZE: '4' } },
        { name: 'pool of 1, main busy 100 µs after hand-off', shape: 'server', busyUs: 100, env: { UV_THREADPOOL_SIZE: '1' } },
        { name: 'pool of 4, main idle', shape: 'server', env: { UV_THREADPOOL_SIZE: '4' } },
        { name: 'pool of 1, main idle', shape: 'server', env: { UV_THREADPOOL_SIZE: '1' } },
      ];
    case 'os-anchor':
      return [
        { name: 'file grows, no anchor', kind: 'file', file: 'grow' },
        { name: 'file grows + anchor slot pwrite', kind: 'file', file: 'grow', anchor: true },
        { name: 'file grows + pwrite + fdatasync / 64', kind: 'file', file: 'grow', anchor: true, anchorSyncEvery: 64 },
      ];
    case 'os':
      return [
        { name: 'file grows (append + fdatasync)', kind: 'file', file: 'grow' },
        { name: 'file preallocated (overwrite + fdatasync)', kind: 'file', file: 'prealloc' },
      ];
    default:
      return JSON.parse(h) as Variant[];
  }
}

async function parent(): Promise<void> {
  const h = process.argv[2] ?? 'shape';
  const total = Number(process.argv[3] ?? 2000);
  const chunk = Number(process.argv[4] ?? 100);
  const vs = variantsOf(h);
  const load0 = loadavg()[0]!;
  const kids = await Promise.all(vs.map((v) => new Promise<ReturnType<typeof fork>>((res) => {
    const c = fork(new URL(import.meta.url).pathname, ['--child', JSON.stringify(v)], { execArgv: process.execArgv, env: { ...process.env, ...(v.env ?? {}) } });
    c.once('message', () => res(c));
  })));
  // BENCH_STRACE=DIR: strace on every variant's process, the kernel's sync told from the rest
  const straceDir = process.env.BENCH_STRACE;
  const traces = straceDir ? await Promise.all(kids.map((c, i) => attachStrace(c.pid!, join(straceDir, `v${i}.strace`)))) : [];
  const ask = <T>(c: ReturnType<typeof fork>, m: object) => new Promise<T>((res) => { c.once('message', (x) => res(x as T)); c.send(m); });
  const lat: number[][] = vs.map(() => []);
  const timed: [number, number][][] = vs.map(() => []);
  /** [end of chunk on hrtime ms, the chunk's latencies] per variant, for the LOG's events. */
  const chunks: [number, number[]][][] = vs.map(() => []);
  for (let done = 0, r = 0; done < total; done += chunk, r++) {
    const order = vs.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const { lat: l, at } = await ask<{ lat: [number, number][]; at: number }>(kids[i]!, { chunk });
      const ms = l.map((x) => x[1]);
      timed[i]!.push(...l);
      lat[i]!.push(...ms);
      chunks[i]!.push([at, ms]);
    }
  }
  await Promise.all(traces.map((t) => t.stop()));
  const ends = await Promise.all(kids.map((c) => ask<{ log: string; wallMinusHr: number }>(c, { end: true })));
  console.log(`${new Date().toISOString()}: ${h}, ${total} synced batches per variant in chunks of ${chunk}, alternating; load ${f(load0)} → ${f(loadavg()[0]!)}`);
  const p99a = pct(lat[0]!, 99), p50a = pct(lat[0]!, 50);
  vs.forEach((v, i) => {
    const xs = lat[i]!;
    const events = (ends[i]!.log.match(/Level-0 table|Compacting|compacted to/g) ?? []).length;
    // a batch is "slow" at >= the variant's own p99; how many slow batches fall in a chunk with a
    // LevelDB event (a memtable flush or compaction begins or ends) is told per variant
    let slowWithEvent = 0, slow = 0;
    const p99 = pct(xs, 99);
    const evAt: number[] = [];
    for (const l of ends[i]!.log.split('\n')) {
      const m = /^(\d+)\/(\d+)\/(\d+)-(\d+):(\d+):(\d+)\.(\d+) \S+ (.*)$/.exec(l);
      if (!m || !/Level-0 table|Compact/.test(m[8]!)) continue;
      const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + Number(`0.${m[7]}`) * 1000 + new Date().getTimezoneOffset() * 60000;
      evAt.push(wall - ends[i]!.wallMinusHr);
    }
    let prevEnd = -Infinity;
    for (const [end, ms] of chunks[i]!) {
      const n = ms.filter((x) => x >= p99).length;
      slow += n;
      if (evAt.some((t) => t > prevEnd && t <= end)) slowWithEvent += n;
      prevEnd = end;
    }
    console.log(`${v.name.padEnd(48)} p50 ${f(pct(xs, 50))} p90 ${f(pct(xs, 90))} p99 ${f(p99)} max ${f(Math.max(...xs))} ms (${xs.length})` +
      `; p99 ${f(p99 / p99a)}x, p50 ${f(pct(xs, 50) / p50a)}x the first` + (v.kind === 'file' ? '' : `; LOG events ${events}, slowest 1% in a chunk with one: ${slowWithEvent}/${slow}`));
    if (straceDir) console.log('  ' + describe('strace', split(timed[i]!, ends[i]!.wallMinusHr, parseStrace(join(straceDir, `v${i}.strace`)))));
  });
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!) as Variant);
else await parent();
