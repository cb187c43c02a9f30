// The CLI as a user runs it (from source, in child processes): the demo's crash and
// recovery, replay --verify, exit codes for a damaged and a locked store.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClassicLevel } from 'classic-level';
import { tempDir } from '../engine/helpers.js';

const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

test('demo: a transaction killed by SIGKILL is rolled back on recovery; replay --verify agrees', () => {
  const t = tempDir();
  try {
    const r = bg('demo', '--db', t.dir + '/db');
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /child ended by SIGKILL/);
    assert.match(r.stdout, /recovery: rolled back t\d+/);
    assert.match(r.stdout, /txn\.compensated/);
    assert.match(r.stdout, /hash chain: verified/);
    const v = bg('replay', '--verify', '--json', '--db', t.dir + '/db');
    assert.is(v.status, 0, v.stderr);
    assert.ok(JSON.parse(v.stdout).ok);
    const show = bg('show', '--json', '--db', t.dir + '/db');
    assert.is(show.status, 0);
    assert.ok(JSON.parse(show.stdout).state.A.nodes.other, 'the command retried after recovery succeeded');
    const log = bg('log', '--json', '--db', t.dir + '/db');
    assert.ok(JSON.parse(log.stdout).some((r: { type: string }) => r.type === 'command.rejected'));
  } finally {
    t.done();
  }
});

test('a damaged log: verify exits 3 naming the seq, repair truncates, verify is clean again', async () => {
  const t = tempDir();
  try {
    const db = t.dir + '/db';
    assert.is(bg('image', 'create', '--db', db, '-f', 'raw', 'a.raw', '1M').status, 0);
    assert.is(bg('image', 'create', '--db', db, '-f', 'raw', 'b.raw', '1M').status, 0);
    // flip one byte in the value of the 6th record, through LevelDB itself
    const raw = new ClassicLevel<string, Buffer>(db, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await raw.open();
    let flipped = false;
    for await (const [k, v] of raw.iterator()) {
      if (!flipped && v.length > 40 && k.includes('log')) {
        const c = Buffer.from(v);
        c[c.length - 5] ^= 0xff;
        await raw.put(k, c);
        flipped = true;
      }
    }
    await raw.close();
    assert.ok(flipped);
    const v = bg('verify', '--json', '--db', db);
    assert.is(v.status, 3, v.stdout + v.stderr);
    const rep = JSON.parse(v.stdout);
    assert.is(rep.ok, false);
    const show = bg('show', '--db', db);
    assert.is(show.status, 3, 'opening a damaged log is refused with exit 3');
    assert.match(show.stderr, /BG_LOG_CORRUPT/);
    const r = bg('repair', '--json', '--db', db);
    assert.is(r.status, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).dropped >= 1);
    assert.is(bg('verify', '--db', db).status, 0);
  } finally {
    t.done();
  }
});

test('--help everywhere; unknown options are usage errors (exit 2)', () => {
  for (const c of [[], ['demo'], ['log'], ['show'], ['replay'], ['qmp'], ['qmp', 'run'], ['image', 'create'], ['verify']]) {
    const r = bg(...c, '--help');
    assert.is(r.status, 0, c.join(' '));
    assert.match(r.stdout, /Usage: blockgraph/);
  }
  assert.is(bg('log', '--bogus').status, 2);
});

test.run();
