// A store held by a running `blockgraph qmp --db DIR`: read commands reach it through the
// server's read socket (store/live.ts) and print exactly what they print once the server has
// stopped; a second writer is still refused.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { lockHeld } from '../../store/files.js';
import { inProcess } from './fault-matrix.js';

const READS = [['show'], ['show', '--json'], ['log'], ['log', '--json'], ['audit'], ['render'], ['history', 'n1'], ['diff', '1', '4'], ['verify', '--json'], ['replay', '--verify', '--json']];

/** Sends QMP lines and resolves with every reply line once `n` replies (return/error) arrived. */
function qmp(path: string, cmds: object[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const lines: string[] = [];
    let buf = '';
    let replies = 0;
    sock.on('data', (b) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!l) continue;
        lines.push(l);
        if (/"(return|error)"/.test(l) && ++replies === cmds.length) { sock.end(); resolve(lines); }
      }
    });
    sock.on('connect', () => { for (const c of cmds) sock.write(JSON.stringify(c) + '\n'); });
    sock.on('error', reject);
  });
}

test('read commands on a live store equal their output after the server stops', async () => {
  const t = tempDir('bg-live-');
  const db = join(t.dir, 'db');
  const sock = join(t.dir, 'qmp.sock');
  let server: ChildProcess | undefined;
  try {
    for (const f of ['a.qcow2', 'b.qcow2']) assert.is((await inProcess(['image', 'create', '--db', db, '-f', 'qcow2', f, '16M'])).status, 0);
    server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', db, '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (b) => { err += b; });
    for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), err);
    const replies = await qmp(sock, [
      { execute: 'qmp_capabilities' },
      { execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f1', filename: 'a.qcow2' } },
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 'n1', file: 'f1' } },
      { execute: 'blockdev-add', arguments: { driver: 'nope', 'node-name': 'x' } },
    ]);
    assert.is(replies.filter((l) => l.includes('"return"')).length, 3, replies.join('\n'));

    assert.ok(lockHeld(db), 'the server holds the LevelDB lock: reads must go through it');
    assert.ok(existsSync(join(db, 'blockgraph-live.json')));
    const live: string[] = [];
    for (const args of READS) {
      const r = await inProcess([...args, '--db', db]);
      assert.is(r.status, 0, `${args.join(' ')} on the live store: ${r.stderr}`);
      live.push(r.stdout);
    }
    const writer = await inProcess(['image', 'create', '--db', db, '-f', 'raw', 'c.raw', '1M']);
    assert.is(writer.status, 4, 'a second writer is refused');

    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    server = undefined;
    assert.not.ok(existsSync(join(db, 'blockgraph-live.json')), 'the live file goes with the server');
    for (const [i, args] of READS.entries()) {
      const r = await inProcess([...args, '--db', db]);
      assert.is(r.status, 0, r.stderr);
      // replay --verify prints its own timing: compare without it
      const strip = (s: string) => s.replace(/"ms": [\d.]+/g, '"ms": 0');
      assert.fixture(strip(live[i]!), strip(r.stdout), args.join(' '));
    }
    assert.match(live[0]!, /n1/);
  } finally {
    server?.kill('SIGKILL');
    t.done();
  }
});

test.run();
