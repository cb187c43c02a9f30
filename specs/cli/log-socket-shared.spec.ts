// Many log-socket followers (docs/hostile.md, round 5's "still misbehaves", fixed in round 6):
// every record was serialised once per follower and each follower catching up read the store on
// its own, on the server's one thread, so 200 followers slowed the QMP writer tenfold; a follower
// that never read was kept for ever. Now each record is serialised once and a block of the log is
// read once for every follower catching up through it; a follower that reads nothing for the
// stall time is cut off, told so (`{"end":"cut"}`) and the cut is reported by the server.
import { createConnection, createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectLogSocket, serveLogSocket } from '../../cli/log-socket.js';
import { Engine } from '../../engine/engine.js';
import { openClassic, type EventLog, type LogRecord } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function fill(e: Engine, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `${tag}${i}` });
}

/** JSON.stringify calls on log records while `fn` runs (whoever makes them). */
async function stringifiedRecords<T>(fn: () => Promise<T>): Promise<{ calls: number; out: T }> {
  const real = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((v: unknown, ...rest: unknown[]) => {
    if (v && typeof v === 'object' && typeof (v as LogRecord).seq === 'number' && typeof (v as LogRecord).hash === 'string') calls++;
    return (real as (...a: unknown[]) => string)(v, ...rest);
  }) as typeof JSON.stringify;
  try {
    const out = await fn();
    return { calls, out };
  } finally {
    JSON.stringify = real;
  }
}

function follower(path: string): { lines: string[]; sock: Socket } {
  const lines: string[] = [];
  const sock = createConnection(path);
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('connect', () => sock.write('{"from":1,"end":true}\n'));
  sock.on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
  });
  sock.on('error', () => undefined);
  return { lines, sock };
}

test('20 followers from seq 1 and live: each record serialised once, not once per follower', async () => {
  const t = tempDir();
  try {
    const log: EventLog = await openClassic(t.dir + '/db');
    const e = await Engine.open(log, { clock });
    await fill(e, 150, 'h');
    const head0 = log.head;
    const path = t.dir + '/l.sock';
    const server = await serveLogSocket(log, path);
    const fs: ReturnType<typeof follower>[] = [];
    try {
      const { calls } = await stringifiedRecords(async () => {
        for (let i = 0; i < 20; i++) fs.push(follower(path));
        for (let i = 0; i < 500 && fs.some((f) => f.lines.length < head0 + 1); i++) await sleep(20);
        await fill(e, 30, 'l');
        for (let i = 0; i < 500 && fs.some((f) => f.lines.length < log.head + 1); i++) await sleep(20);
      });
      const want = (await log.readAll()).map((r) => JSON.stringify(r));
      for (const f of fs) assert.equal(f.lines.slice(1), want, 'every record, in order, as stored');
      // the appends themselves stringify nothing of a record (the engine writes its own codec)
      assert.ok(calls <= want.length, `${calls} serialisations of ${want.length} records for 20 followers (was one per follower: ${20 * want.length})`);
    } finally {
      for (const f of fs) f.sock.destroy();
      server.close();
      await log.close();
    }
  } finally {
    t.done();
  }
});

test('a follower that reads nothing is cut off after the stall time, told so, and the cut reported', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const e = await Engine.open(log, { clock });
    await fill(e, 200, 'n');
    const path = t.dir + '/l.sock';
    const warned: string[] = [];
    const server = await serveLogSocket(log, path, { highWater: 16 * 1024, stallMs: 300, warn: (l) => warned.push(l) });
    const f = follower(path);
    try {
      f.sock.on('connect', () => setImmediate(() => f.sock.pause()));
      await sleep(1500);
      assert.is(warned.length, 1, warned.join('\n'));
      assert.match(warned[0]!, /a follower read nothing for 0\.3 s with \d+ bytes unread; cut off after seq (\d+) \(it can follow again from \d+\)/);
      const after = Number(/cut off after seq (\d+)/.exec(warned[0]!)![1]);
      assert.ok(after < log.head, 'it was cut before the head');
      f.sock.resume();
      for (let i = 0; i < 200 && !f.lines.some((l) => l.includes('"end"') && l.includes('cut')); i++) await sleep(20);
      const last = JSON.parse(f.lines[f.lines.length - 1]!) as { end: string; after: number; head: number };
      assert.equal({ end: last.end, after: last.after, head: last.head }, { end: 'cut', after, head: log.head });
      // what it was sent before the cut: records 1..after, contiguous
      assert.equal(f.lines.slice(1, -1).map((l) => (JSON.parse(l) as LogRecord).seq), Array.from({ length: after }, (_, i) => i + 1));
    } finally {
      f.sock.destroy();
      server.close();
      await log.close();
    }
  } finally {
    t.done();
  }
});

test('tail --connect\'s client reports a cut feed as a loss (BG_LOG_UNAVAILABLE), not an end', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const e = await Engine.open(log, { clock });
    await fill(e, 3, 'c');
    const rs = await log.readAll();
    const path = t.dir + '/fake.sock';
    const srv = createServer((s) => {
      s.on('error', () => undefined);
      s.end(`{"protocol":"blockgraph-log/1","head":9,"end":true}\n${rs.map((r) => JSON.stringify(r) + '\n').join('')}{"end":"cut","after":${rs.length},"head":9,"stalledMs":60000}\n`);
    });
    await new Promise<void>((r) => srv.listen(path, r));
    const got: LogRecord[] = [];
    const out = await new Promise<unknown>((resolve) => connectLogSocket(path, 1).subscribe({ next: (r) => got.push(r), error: resolve, complete: () => resolve('complete') }));
    assert.is((out as { code?: string }).code, 'BG_LOG_UNAVAILABLE');
    assert.match((out as Error).message, new RegExp(`the server cut the feed after seq ${rs.length} \\(this follower read nothing for 60 s\\); the rest is in the store \\(follow again from ${rs.length + 1}\\)`));
    assert.equal(got, rs);
    srv.close();
    await log.close();
  } finally {
    t.done();
  }
});

test.run();
