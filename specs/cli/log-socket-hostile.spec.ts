// The log socket (`blockgraph qmp --log-socket`, `tail --connect`, `ship --connect`) against
// followers that never read, servers that send garbage or go away, and a path that is a file
// (docs/hostile.md, round 5).
import { createServer, createConnection, type Socket } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectLogSocket, serveLogSocket } from '../../cli/log-socket.js';
import { Engine } from '../../engine/engine.js';
import { openClassic, openMemory, type EventLog, type LogRecord } from '../../store/index.js';
import { shipLive } from '../../store/jetstream/ship.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `n` refused commands, each record about 2 KB (a long node-name, echoed in the error). */
async function fill(log: EventLog, n: number, tag = 'x'): Promise<void> {
  const e = await Engine.open(log, { clock });
  for (let i = 0; i < n; i++) await e.execute('A', 'blockdev-del', { 'node-name': tag + 'n'.repeat(900) + i });
}

function collect(path: string, from = 1): { got: LogRecord[]; done: Promise<unknown> } {
  const got: LogRecord[] = [];
  const done = new Promise((resolve) => connectLogSocket(path, from).subscribe({ next: (r) => got.push(r), error: resolve, complete: () => resolve('complete') }));
  return { got, done };
}

test('followers that never read hold a bounded part of the server, and lose nothing once they read', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    await fill(log, 1500); // about 3 MB of records
    const path = t.dir + '/l.sock';
    const server = await serveLogSocket(log, path);
    const served: Socket[] = [];
    server.on('connection', (s) => served.push(s));
    const clients: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const c = createConnection(path);
      c.on('connect', () => { c.write('{"from":1}\n'); c.pause(); });
      clients.push(c);
    }
    await sleep(1500);
    // live appends while they still do not read
    await fill(log, 500, 'y');
    await sleep(500);
    assert.is(served.length, 20);
    // Without the pull, every follower had the whole log queued (3-4 MB each) in the server.
    for (const s of served) assert.ok(s.writableLength < 1024 * 1024, `unread bytes queued for a follower: ${s.writableLength}`);
    // One reads now: every record, in order, equal to the store's.
    const c = clients[0]!;
    let text = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => { text += d; });
    c.resume();
    const want = await log.readAll();
    for (let i = 0; i < 1500 && text.split('\n').length < want.length + 2; i++) await sleep(20);
    const lines = text.split('\n').filter(Boolean);
    assert.equal(JSON.parse(lines[0]!), { protocol: 'blockgraph-log/1', head: 1500 });
    assert.equal(lines.slice(1).map((l) => JSON.parse(l)), want);
    for (const x of clients) x.destroy();
    server.close();
    await log.close();
  } finally {
    t.done();
  }
});

test('the feed follows a store that reopens its log (a getter), and marks its end when it closes', async () => {
  const t = tempDir();
  try {
    let log = await openClassic(t.dir + '/db');
    await fill(log, 3);
    const path = t.dir + '/l.sock';
    const server = await serveLogSocket(() => log, path);
    const { got, done } = collect(path);
    for (let i = 0; i < 1000 && got.length < 3; i++) await sleep(20);
    // as ServedStore after a failed write: the log is closed and opened again
    await log.close();
    await sleep(200);
    log = await openClassic(t.dir + '/db');
    await fill(log, 2, 'z');
    for (let i = 0; i < 1000 && got.length < 5; i++) await sleep(20);
    server.close();
    assert.is(await done, 'complete');
    assert.equal(got, await log.readAll());
    await log.close();
  } finally {
    t.done();
  }
});

/** A fake feed: `script` writes to each connection. */
async function fake(path: string, script: (s: Socket) => void): Promise<{ close(): void }> {
  const srv = createServer((s) => { s.on('error', () => undefined); script(s); });
  await new Promise<void>((r) => srv.listen(path, r));
  return { close: () => srv.close() };
}

const header = '{"protocol":"blockgraph-log/1","head":2,"end":true}\n';

test('the client: garbage, a server that goes away, an early end, a character split across reads', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const e = await Engine.open(log, { clock });
    await e.execute('A', 'blockdev-del', { 'node-name': 'é€'.repeat(40) });
    await e.execute('A', 'blockdev-del', { 'node-name': 'ü'.repeat(40) });
    const [r1, r2] = await log.readAll();
    const line1 = JSON.stringify(r1) + '\n';
    const line2 = JSON.stringify(r2) + '\n';
    const cases: Array<[string, (s: Socket) => void, (out: unknown, got: LogRecord[]) => void]> = [
      ['not JSON', (s) => s.end('hello world\n'), (out) => assert.is((out as { code: string }).code, 'BG_BAD_INPUT')],
      ['not a record', (s) => { s.write(header); s.end('[1,2]\n'); }, (out) => assert.is((out as { code: string }).code, 'BG_BAD_INPUT')],
      ['null', (s) => { s.write(header); s.end('null\n'); }, (out) => assert.is((out as { code: string }).code, 'BG_BAD_INPUT')],
      ['gone mid-record', (s) => { s.write(header + line1); s.end(line2.slice(0, 50)); }, (out, got) => {
        assert.is((out as { code: string }).code, 'BG_LOG_UNAVAILABLE');
        assert.match((out as Error).message, /after seq 1 without the server's end mark .*partial line of 50 bytes/);
        assert.is(got.length, 1);
      }],
      ['destroyed', (s) => { s.write(header + line1, () => s.destroy()); }, (out) => assert.is((out as { code: string }).code, 'BG_LOG_UNAVAILABLE')],
      ['end before head', (s) => { s.write(header + line1); s.end('{"end":"closed","head":2}\n'); }, (out) => {
        assert.is((out as { code: string }).code, 'BG_LOG_UNAVAILABLE');
        assert.match((out as Error).message, /after seq 1, before its head \(2\)/);
      }],
      ['split character', (s) => {
        const b = Buffer.from(header + line1 + line2 + '{"end":"closed","head":2}\n');
        const at = b.indexOf(Buffer.from('€')) + 1; // inside the three bytes of €
        s.write(b.subarray(0, at), () => setTimeout(() => s.end(b.subarray(at)), 50));
      }, (out, got) => { assert.is(out, 'complete'); assert.equal(got, [r1, r2]); }],
    ];
    for (const [name, script, check] of cases) {
      const path = `${t.dir}/${name.replace(/ /g, '-')}.sock`;
      const f = await fake(path, script);
      const { got, done } = collect(path);
      const out = await done;
      try { check(out, got); } catch (err) { throw new Error(`${name}: ${(err as Error).message}`); }
      f.close();
    }
    await log.close();
  } finally {
    t.done();
  }
});

test('ship --connect: a feed whose server goes away is shipped up to what it sent, then the loss of the feed reported', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    await fill(log, 3);
    const rs = await log.readAll();
    const path = t.dir + '/gone.sock';
    // header, every record, then the connection closed without the end mark (a SIGKILLed server)
    const f = await fake(path, (s) => { s.write('{"protocol":"blockgraph-log/1","head":3,"end":true}\n'); s.end(rs.map((r) => JSON.stringify(r) + '\n').join('')); });
    const remote = await openMemory();
    const err = await shipLive((from) => connectLogSocket(path, from), remote, { batch: 1 }).then(() => undefined, (e: { code?: string; message: string }) => e);
    assert.is(err?.code, 'BG_LOG_UNAVAILABLE');
    assert.match(err!.message, /without the server's end mark .*shipped 3 record\(s\) first, the fleet copy's head is 3/);
    assert.equal(await remote.readAll(), rs);
    f.close();
    await remote.close();
    await log.close();
  } finally {
    t.done();
  }
});

test('a path that is a file is refused and kept; a connection that never asks is closed', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const file = t.dir + '/precious';
    writeFileSync(file, 'keep me');
    const e = await serveLogSocket(log, file).then(() => undefined, (err: { code?: string }) => err);
    assert.is(e?.code, 'BG_BAD_INPUT');
    assert.is(readFileSync(file, 'utf8'), 'keep me');
    // a live feed on the path is not taken over either
    const path = t.dir + '/l.sock';
    const server = await serveLogSocket(log, path, { requestWaitMs: 200 });
    const again = await serveLogSocket(log, path).then(() => undefined, (err: { code?: string }) => err);
    assert.is(again?.code, 'BG_BAD_INPUT');
    const silent = createConnection(path);
    const closed = await new Promise<boolean>((r) => { silent.on('close', () => r(true)); setTimeout(() => r(false), 3000); });
    assert.ok(closed, 'a connection that sends no request is closed');
    server.close();
    rmSync(path, { force: true });
    await log.close();
  } finally {
    t.done();
  }
});

test.run();
