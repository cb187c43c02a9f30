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
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ClassicLevel } from 'classic-level';
import { BlockgraphError, StorageIoError } from '../errors/index.js';
import { encodeMeta, keySeq, sublevelsOf, TEXT } from './codec.js';
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
      }
    }
  } finally {
    await it.close();
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
      try { op = (JSON.parse(buf.slice(0, nl)) as { op?: unknown }).op; } catch { op = undefined; }
      if (op !== 'dump') { sock.end(JSON.stringify({ error: 'expected {"op":"dump"}' }) + '\n'); return; }
      const log = getLog();
      if (log.closed) { sock.end(JSON.stringify({ error: 'the store is closing' }) + '\n'); return; }
      dump(log, sock).catch((e: unknown) => sock.end(JSON.stringify({ error: String((e as Error)?.message ?? e) }) + '\n'));
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
export async function openLive(location: string, opts: { verify?: OpenOptions['verify'] } = {}): Promise<EventLog | undefined> {
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
    sock.write(JSON.stringify({ op: 'dump' }) + '\n');
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
