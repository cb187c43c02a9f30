// Following a store live: EventLog.tail over real LevelDB while an engine writes (catch-up
// then live, no gap, no duplicate), the log socket a `blockgraph qmp --log-socket` serves,
// and `blockgraph tail` against both a served store (--connect) and an idle one (--db).
import { partsOf } from '../../events/whole.js';
import { endsTxn } from '../../events/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, filter, take } from 'rxjs';
import { connectLogSocket, serveLogSocket } from '../../cli/log-socket.js';
import { openClassic, type LogRecord } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli } from './helpers.js';

const cli = ['--import', 'tsx', 'cli/main.ts'];
const seqs = (rs: { seq: number }[]) => rs.map((r) => r.seq);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('EventLog.tail on LevelDB, subscribed while an engine appends: every seq once, in order', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const early: LogRecord[] = [];
    const late: LogRecord[] = [];
    const subEarly = log.tail().subscribe((r) => early.push(r));
    // the second follower joins mid-way, so its catch-up read races live appends
    let subLate: { unsubscribe(): void } | undefined;
    const joined = firstValueFrom(log.appended$.pipe(filter((r) => r.seq >= 20), take(1))).then(() => {
      subLate = log.tail(3).subscribe((r) => late.push(r));
    });
    await recordHistory(log);
    await joined;
    const head = log.head;
    for (let i = 0; i < 100 && late.at(-1)?.seq !== head; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seqs(early), range(1, head));
    assert.equal(seqs(late), range(3, head));
    assert.equal(late.at(-1), (await log.readAll({ gte: head })).at(-1));
    subEarly.unsubscribe();
    subLate?.unsubscribe();
    await log.close();
  } finally {
    t.done();
  }
});

test('log socket: history from N then live records, equal to the log; completes when the server closes', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    const path = t.dir + '/log.sock';
    const server = await serveLogSocket(log, path);
    const got: LogRecord[] = [];
    const done = new Promise<void>((resolve, reject) => connectLogSocket(path, 5).subscribe({ next: (r) => got.push(r), error: reject, complete: resolve }));
    await recordHistory(log);
    for (let i = 0; i < 200 && got.at(-1)?.seq !== log.head; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seqs(got), range(5, log.head));
    assert.equal(got, await log.readAll({ gte: 5 }));
    server.close();
    await done;
    assert.not.ok(existsSync(path), 'the socket file is removed on close');
    await log.close();
    await new Promise<void>((resolve) => connectLogSocket(path).subscribe({
      error: (e: { code?: string }) => { assert.is(e.code, 'BG_NOT_FOUND'); resolve(); },
      complete: () => { assert.unreachable('a missing socket is an error'); },
    }));
  } finally {
    t.done();
  }
});

function waitFor(p: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (existsSync(p) ? resolve() : Date.now() > end ? reject(new Error(`no ${p}`)) : setTimeout(tick, 50));
    tick();
  });
}

/** Sends QMP lines and resolves with the replies (greeting and events skipped). */
function qmp(path: string, lines: string[]): Promise<Record<string, any>[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const replies: Record<string, any>[] = [];
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if ('return' in m || 'error' in m) replies.push(m);
        if (replies.length === lines.length) { s.end(); resolve(replies); }
      }
    });
    s.on('error', reject);
    s.on('connect', () => s.write(lines.join('\n') + '\n'));
  });
}

function collect(p: ChildProcess): Promise<{ out: string; err: string; code: number | null }> {
  let out = '';
  let err = '';
  p.stdout!.on('data', (c) => { out += c; });
  p.stderr!.on('data', (c) => { err += c; });
  return new Promise((resolve) => p.on('close', (code) => resolve({ out, err, code })));
}

test('blockgraph tail --connect follows a store `blockgraph qmp --log-socket` is serving', async () => {
  const t = tempDir();
  const sock = t.dir + '/qmp.sock';
  const lsock = t.dir + '/log.sock';
  const server = spawn(process.execPath, [...cli, 'qmp', '--db', t.dir + '/db', '--socket', sock, '--log-socket', lsock], { stdio: ['ignore', 'pipe', 'pipe'] });
  const serverDone = collect(server);
  try {
    await waitFor(sock);
    await waitFor(lsock);
    const first = await qmp(sock, ['{"execute":"qmp_capabilities"}', '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}']);
    assert.equal(first[1], { return: {} });
    // catches up seq 1 (the whole transaction: begun, two steps, the decision carrying the end;
    // events/whole.ts), then must receive the refusal (seq 2) live
    const live = spawn(process.execPath, [...cli, 'tail', '--connect', lsock, '--json', '--limit', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const liveDone = collect(live);
    let seen = '';
    live.stdout!.on('data', (c) => { seen += c; });
    for (let i = 0; i < 600 && seen.split('\n').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.is(seen.trim().split('\n').length, 1, 'caught up before the next command');
    const second = await qmp(sock, ['{"execute":"qmp_capabilities"}', '{"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}']);
    assert.is(second[1]!.error.desc, "Failed to find node with node-name='nosuch'");
    const l = await liveDone;
    assert.is(l.code, 0, l.err);
    const recs = l.out.trim().split('\n').map((x) => JSON.parse(x) as LogRecord);
    assert.equal(seqs(recs), range(1, 2));
    assert.is(recs[0]!.type, 'txn.begun');
    assert.is((recs[0]!.data as { op: string }).op, 'blockdev-add');
    assert.equal(partsOf(recs[0]!).map((r) => r.type).filter((x) => x !== 'txn.step'), ['txn.begun', 'txn.decided']);
    assert.ok(endsTxn(recs[0]!), 'the whole transaction carries the end');
    assert.is(recs[1]!.type, 'command.rejected');
    // joins afterwards: catch-up from --from, text rows (in-process: the store is the server's)
    const late = await runCli('tail', '--connect', lsock, '--from', '1', '--limit', '2');
    assert.is(late.status, 0, late.stderr);
    // a header, then rows in the columns of `blockgraph log`
    const [header, ...rows] = late.stdout.trimEnd().split('\n');
    assert.match(header!, /^seq +time +proc +type +txn +what$/);
    assert.equal(rows.map((r) => Number(r.split(/\s+/)[0])), range(1, 2));
    assert.match(rows[0]!, /txn\.begun .*blockdev-add .*\[2 steps, commit\]/);
    assert.match(rows[1]!, /command\.rejected {2,}blockdev-del: Failed to find node/);
    // a --from that can never come (the next record is seq 3) is refused by the feed, as
    // `tail --db` refuses it, and nothing reaches stdout (no header before the refusal)
    const past = await runCli('tail', '--connect', lsock, '--from', '9');
    assert.is(past.status, 2, past.stderr);
    assert.is(past.stdout, '');
    assert.match(past.stderr, /--from 9 is beyond the head \(2\); the next record will be seq 3/);
  } finally {
    server.kill('SIGTERM');
    await serverDone;
    t.done();
  }
});

test('blockgraph tail --db: an idle store from --from to the head (--no-follow); bad input exits 2; a held store exits 4', async () => {
  const t = tempDir();
  try {
    const log = await openClassic(t.dir + '/db');
    await recordHistory(log);
    const want = await log.readAll();
    await log.close();
    const r = await runCli('tail', '--db', t.dir + '/db', '--no-follow', '--json');
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').map((x) => JSON.parse(x)), want);
    const r2 = await runCli('tail', '--db', t.dir + '/db', '--no-follow', '--from', String(want.length - 1));
    assert.equal(r2.stdout.trim().split('\n').slice(1).map((x) => Number(x.split(/\s+/)[0])), [want.length - 1, want.length]);
    assert.is((await runCli('tail', '--db', t.dir + '/db', '--from', 'zero')).status, 2);
    assert.is((await runCli('tail', '--connect', t.dir + '/nosuch.sock')).status, 2);
    // a store the test itself holds: tail --db is refused with exit 4 (BG_LOG_LOCKED), the log untouched
    const held = await openClassic(t.dir + '/db');
    try {
      const locked = await runCli('tail', '--db', t.dir + '/db', '--no-follow');
      assert.is(locked.status, 4);
      assert.match(locked.stderr, /blockgraph tail --connect PATH.*\[BG_LOG_LOCKED\]/);
      assert.is(held.head, want.length);
    } finally {
      await held.close();
    }
  } finally {
    t.done();
  }
});

test.run();
