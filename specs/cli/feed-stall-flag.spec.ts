// `qmp --log-socket PATH --feed-stall-ms MS` (docs/hostile.md round 7, round 6's leftover): the
// time a follower may read nothing while the feed waits on it was a constant (60 s); it is a flag
// now, so a slow pager's owner can raise it and a test can lower it. Run as a user runs it: the
// CLI in a child, a follower that stops reading, the cut reported on the server's stderr.
import { spawn, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('--feed-stall-ms 300 cuts a follower that reads nothing after 0.3 s, reported on stderr', async () => {
  const t = tempDir();
  try {
    const db = t.dir + '/db';
    const log = await openClassic(db);
    const e = await Engine.open(log, { clock });
    // about 3 MB of records (a refused blockdev-del echoes its 900-char name): past the socket's
    // buffer and the feed's 256 KiB, so the feed waits on a follower that does not read
    for (let i = 0; i < 1500; i++) await e.execute('A', 'blockdev-del', { 'node-name': 'x' + 'n'.repeat(900) + i });
    await log.close();
    const path = t.dir + '/l.sock';
    const server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', db, '--log-socket', path, '--feed-stall-ms', '300'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (d: string) => { stderr += d; });
    try {
      for (let i = 0; i < 600 && !existsSync(path) && server.exitCode === null; i++) await sleep(50);
      assert.ok(existsSync(path), `the log socket is served (stderr: ${stderr})`);
      const c = createConnection(path);
      c.on('connect', () => { c.write('{"from":1,"end":true}\n'); c.pause(); });
      c.on('error', () => undefined);
      for (let i = 0; i < 400 && !/cut off/.test(stderr); i++) await sleep(50);
      assert.match(stderr, /log socket .*: a follower read nothing for 0\.3 s with \d+ bytes unread; cut off after seq \d+ \(it can follow again from \d+\)/);
      c.destroy();
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  } finally {
    t.done();
  }
});

test('--feed-stall-ms: a whole number of ms, and only with --log-socket', () => {
  const t = tempDir();
  try {
    const bg = (...a: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', t.dir + '/db', ...a], { encoding: 'utf8', input: '', timeout: 60_000 });
    const neg = bg('--log-socket', t.dir + '/l.sock', '--feed-stall-ms', '-1');
    assert.is(neg.status, 2);
    assert.match(neg.stderr, /--feed-stall-ms/);
    const alone = bg('--feed-stall-ms', '1000');
    assert.is(alone.status, 2);
    assert.match(alone.stderr, /--feed-stall-ms: only with --log-socket \[BG_BAD_INPUT\]/);
    assert.not.ok(existsSync(t.dir + '/db'), 'refused before the store is made');
  } finally {
    t.done();
  }
});

test.run();
