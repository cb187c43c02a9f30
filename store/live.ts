// Reading a store that a running server holds. LevelDB admits one process per store (LOCK),
// so the server (`blockgraph qmp --db DIR`) answers reads on a unix socket whose path it
// records in DIR/blockgraph-live.json. A reader asks for a dump and gets the store's raw
// keys and values as one consistent point of the log: everything up to the head at the time
// of the request (one LevelDB iterator is one implicit snapshot, leveldb/db/db_impl.cc
// NewIterator; records and snapshots past that head are left out and the head meta is the one
// the server held). The reader loads them into a private temp LevelDB and opens that with the
// usual verification, so every read command sees exactly what it would on a closed store.
//
// Wire: request line {"op":"dump"}; answer: {"protocol":"blockgraph-store/1","head":N,"headHash":H},
// then one [key, value] JSON array per line, then {"end": count}. Anything else ends the connection.
//
// A seek (`show --at SEQ`, `diff A B`, `render --at SEQ`) asks {"op":"dump","seek":[SEQ…]} and
// gets only what it reads (issue 15: the full dump is O(store) per read): the head meta, for
// each seq the newest sound snapshot at or before it (with its parts) and the records from
// that snapshot to the seq, and the newest snapshot with the records after it (what the
// reader's since-snapshot open checks). Records and snapshots at or below the head never change,
// so these reads need no common LevelDB snapshot to be one point of the log. The index is left
// out (its meta too, so nothing takes the partial store for an indexed one); a read of a record
// the dump left out fails loudly (LogCorruptError "record N is missing"), never silently.
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ClassicLevel } from 'classic-level';
import { BlockgraphError, StorageIoError } from '../errors/index.js';
import { decodeSnapshot, encodeMeta, keySeq, seqKey, sublevelsOf, TEXT } from './codec.js';
import { manifestOf, partsSublevel } from './snapshot-parts.js';
import { EventLog, type OpenOptions } from './event-log.js';
import { LIVE_FILE, readSmallFile } from './files.js';
import { makeReadOnly } from './read-only-view.js';

const STORE_PROTOCOL = 'blockgraph-store/1';
const CHUNK = 1000;
const MAX_REQUEST = 4096;

interface LiveInfo { protocol: string; socket: string; pid: number }

function socketPathFor(location: string): string {
  const inDir = join(resolve(location), 'blockgraph-live.sock');
  // sun_path is 108 bytes on Linux (104 on BSDs): a long store path gets a socket in tmpdir.
  if (Buffer.byteLength(inDir) < 100) return inDir;
  const h = createHash('sha256').update(resolve(location)).digest('hex').slice(0, 16);
  return join(tmpdir(), `bg-live-${h}.sock`);
}

function waitDrain(sock: Socket): Promise<void> {
  return new Promise((res) => {
    const done = () => { sock.off('drain', done); sock.off('close', done); res(); };
    sock.once('drain', done);
    sock.once('close', done);
  });
}

async function dump(log: EventLog, sock: Socket): Promise<void> {
  const head = log.head;
  const headHash = log.headHash;
  const subs = sublevelsOf(log.db);
  const snapPrefix = subs.snap.prefix;
  const it = subs.top.iterator<string, string>({ ...TEXT });
  let n = 0;
  dumpWork.entries = 0;
  const send = async (line: string) => {
    if (!sock.write(line + '\n')) await waitDrain(sock);
  };
  try {
    await send(JSON.stringify({ protocol: STORE_PROTOCOL, head, headHash }));
    for (;;) {
      if (sock.destroyed) return;
      const chunk = await it.nextv(CHUNK);
      if (chunk.length === 0) break;
      for (const [key, value] of chunk) {
        let v: string | undefined = value;
        if (key.startsWith(subs.logPrefix) || key.startsWith(snapPrefix)) {
          const seq = keySeq(key.substring(key.startsWith(snapPrefix) ? snapPrefix.length : subs.logPrefix.length));
          if (seq > head) continue; // appended after the request: not part of this point
        } else if (key === subs.metaHeadKey) {
          v = head === 0 ? undefined : encodeMeta({ seq: head, hash: headHash });
        }
        if (v === undefined) continue;
        await send(JSON.stringify([key, v]));
        n++;
        dumpWork.entries++;
      }
    }
  } finally {
    await it.close();
  }
  sock.end(JSON.stringify({ end: n }) + '\n');
}

/** Entries the last dump sent (specs count a seek's work against the store's size). */
export const dumpWork = { entries: 0 };

const MAX_SEEKS = 16;

/** A seek's dump: see the header. */
async function dumpSeek(log: EventLog, sock: Socket, seeks: number[]): Promise<void> {
  const head = log.head;
  const headHash = log.headHash;
  const subs = sublevelsOf(log.db);
  const parts = partsSublevel(subs.root);
  let n = 0;
  dumpWork.entries = 0;
  const send = async (key: string, value: string) => {
    if (!sock.write(JSON.stringify([key, value]) + '\n')) await waitDrain(sock);
    n++;
    dumpWork.entries++;
  };
  const sentRecords = new Set<number>();
  const sentSnaps = new Set<number>();
  const records = async (from: number, to: number) => {
    const it = subs.top.iterator<string, string>({ ...TEXT, gte: subs.logPrefix + seqKey(Math.max(1, from)), lte: subs.logPrefix + seqKey(to) });
    try {
      for (;;) {
        const chunk = await it.nextv(CHUNK);
        if (chunk.length === 0) break;
        for (const [k, v] of chunk) {
          const seq = keySeq(k.substring(subs.logPrefix.length));
          if (sentRecords.has(seq)) continue;
          sentRecords.add(seq);
          await send(k, v);
        }
      }
    } finally {
      await it.close();
    }
  };
  const snapshot = async (seq: number) => {
    if (sentSnaps.has(seq)) return;
    sentSnaps.add(seq);
    const raw = await subs.snap.get(seqKey(seq));
    if (raw === undefined) return;
    await send(subs.snap.prefix + seqKey(seq), raw);
    let m;
    try { m = manifestOf(decodeSnapshot(raw, seq)); } catch { m = undefined; } // a damaged one goes as it is
    if (!m) return;
    for (const [k, v] of await parts.iterator({ gte: seqKey(seq), lt: seqKey(seq + 1) }).all()) await send(parts.prefix + k, v);
  };
  if (!sock.write(JSON.stringify({ protocol: STORE_PROTOCOL, head, headHash }) + '\n')) await waitDrain(sock);
  if (head > 0) await send(subs.metaHeadKey, encodeMeta({ seq: head, hash: headHash }));
  // The newest snapshot as stored (scanSinceSnapshot takes the newest entry, sound or not) and
  // the records from it to the head.
  const last = (await subs.snap.keys({ lte: seqKey(head), reverse: true, limit: 1 }).all())[0];
  const lastSeq = last === undefined ? 0 : keySeq(last);
  if (lastSeq > 0) await snapshot(lastSeq);
  await records(lastSeq, head);
  for (const at of seeks) {
    const upTo = Math.min(head, at);
    if (upTo < 1) continue;
    // The snapshot replay will take: the newest sound one at or before the seq (the same call).
    const s = await log.latestSnapshot(upTo, { skipCorrupt: true });
    if (s && s.seq > 0) {
      for (const k of s.skipped) await snapshot(k.seq); // damaged ones replay skips over: sent as they are
      await snapshot(s.seq);
    }
    await records(s ? s.seq : 1, upTo);
  }
  sock.end(JSON.stringify({ end: n }) + '\n');
}

export interface LiveServer { path: string; close(): void }

/**
 * Serves reads of the store at `location` while this process holds it. `getLog` is asked at
 * each request, so a server that reopens its log (after a full disk) keeps serving.
 */
export async function serveStoreReads(getLog: () => EventLog, location: string): Promise<LiveServer> {
  const path = socketPathFor(location);
  rmSync(path, { force: true });
  const conns = new Set<Socket>();
  const server: Server = createServer((sock) => {
    conns.add(sock);
    sock.on('error', () => undefined);
    sock.once('close', () => conns.delete(sock));
    sock.setTimeout(60_000, () => sock.destroy());
    let buf = '';
    let started = false;
    sock.on('data', (chunk: Buffer) => {
      if (started) return;
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) sock.destroy();
        return;
      }
      started = true;
      let op: unknown;
      let seek: unknown;
      try { ({ op, seek } = JSON.parse(buf.slice(0, nl)) as { op?: unknown; seek?: unknown }); } catch { op = undefined; }
      if (op !== 'dump') { sock.end(JSON.stringify({ error: 'expected {"op":"dump"}' }) + '\n'); return; }
      const seeks = Array.isArray(seek) && seek.length > 0 && seek.length <= MAX_SEEKS && seek.every((x) => Number.isSafeInteger(x) && x >= 0) ? seek as number[] : undefined;
      if (seek !== undefined && !seeks) { sock.end(JSON.stringify({ error: `"seek" must be 1..${MAX_SEEKS} seqs` }) + '\n'); return; }
      const log = getLog();
      if (log.closed) { sock.end(JSON.stringify({ error: 'the store is closing' }) + '\n'); return; }
      (seeks ? dumpSeek(log, sock, seeks) : dump(log, sock)).catch((e: unknown) => sock.end(JSON.stringify({ error: String((e as Error)?.message ?? e) }) + '\n'));
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res());
  });
  const info: LiveInfo = { protocol: STORE_PROTOCOL, socket: path, pid: process.pid };
  const file = join(location, LIVE_FILE);
  writeFileSync(file + '.tmp', JSON.stringify(info) + '\n');
  renameSync(file + '.tmp', file);
  return {
    path,
    close: () => {
      for (const s of conns) s.destroy();
      server.close();
      rmSync(path, { force: true });
      rmSync(file, { force: true });
    },
  };
}

function liveInfo(location: string): LiveInfo | undefined {
  const text = readSmallFile(join(location, LIVE_FILE), 4096);
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as LiveInfo;
    return j.protocol === STORE_PROTOCOL && typeof j.socket === 'string' ? j : undefined;
  } catch {
    return undefined;
  }
}

function connect(path: string): Promise<Socket | undefined> {
  return new Promise((res) => {
    const sock = createConnection(path);
    sock.once('connect', () => { sock.off('error', fail); res(sock); });
    const fail = () => { sock.destroy(); res(undefined); };
    sock.once('error', fail);
  });
}

/**
 * The store as its server sees it now, in a private temp LevelDB; undefined when no server
 * answers (no live file, or a stale one left by a server that died).
 */
export async function openLive(location: string, opts: { verify?: OpenOptions['verify']; seek?: number[] } = {}): Promise<EventLog | undefined> {
  const info = liveInfo(location);
  if (!info) return undefined;
  const sock = await connect(info.socket);
  if (!sock) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bg-live-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open();
    sock.setTimeout(60_000, () => sock.destroy(new Error('the server stopped answering')));
    let sockError: unknown;
    sock.on('error', (e) => { sockError = e; });
    sock.write(JSON.stringify(opts.seek?.length ? { op: 'dump', seek: opts.seek } : { op: 'dump' }) + '\n');
    const lines = createInterface({ input: sock, crlfDelay: Infinity });
    let header = false;
    let ended = false;
    let count = 0;
    let ops: { type: 'put'; key: string; value: string }[] = [];
    for await (const line of lines) {
      if (!line) continue;
      const msg = JSON.parse(line) as unknown;
      if (!header) {
        const h = msg as { protocol?: unknown; error?: unknown };
        if (h.error !== undefined) throw new BlockgraphError('BG_LOG_LOCKED', `store ${location} is served by process ${info.pid}, which refused to read it: ${String(h.error)}`);
        if (h.protocol !== STORE_PROTOCOL) throw new BlockgraphError('BG_BAD_INPUT', `${info.socket} does not speak ${STORE_PROTOCOL}`);
        header = true;
        continue;
      }
      if (Array.isArray(msg) && msg.length === 2 && typeof msg[0] === 'string' && typeof msg[1] === 'string') {
        ops.push({ type: 'put', key: msg[0], value: msg[1] });
        count++;
        if (ops.length >= CHUNK) { await db.batch(ops); ops = []; }
        continue;
      }
      const m = msg as { end?: unknown; error?: unknown };
      if (m.error !== undefined) throw new StorageIoError(location, `the server could not read the store: ${String(m.error)}`);
      if (m.end !== count) throw new StorageIoError(location, `the server sent ${count} entries but says ${String(m.end)}`);
      ended = true;
      break;
    }
    sock.destroy();
    if (!ended) throw new StorageIoError(location, `the server (process ${info.pid}) closed the connection mid-read${sockError ? `: ${String((sockError as Error).message)}` : ''}`);
    if (ops.length) await db.batch(ops);
    const log = await EventLog.open(db, { verify: opts.verify ?? 'full' });
    return makeReadOnly(log, cleanup);
  } catch (e) {
    sock.destroy();
    await db.close().catch(() => undefined);
    cleanup();
    if (e instanceof SyntaxError) throw new StorageIoError(location, `the server sent garbage: ${e.message}`);
    throw e;
  }
}
