// The CLI as a user runs it (from source, in child processes): the demo's crash and
// recovery, replay --verify, exit codes for a damaged and a locked store.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

test('qmp run --compare on an oracle transcript agrees with QEMU (exit 0); compare of a doctored copy exits 1', () => {
  const t = tempDir();
  try {
    const file = new URL('../../oracle/transcripts/lock-cross-process.json', import.meta.url).pathname;
    const r = bg('qmp', 'run', file, '--compare');
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /outcome 7\/7, error text 7\/7, graph 7\/7/);
    const out = `${t.dir}/model.json`;
    assert.is(bg('qmp', 'run', file, '--out', out).status, 0);
    assert.is(bg('qmp', 'compare', file, out).status, 0);
    const doctored = readFileSync(out, 'utf8').replace('Failed to get \\"write\\" lock', 'Failed to get \\"resize\\" lock');
    writeFileSync(`${t.dir}/bad.json`, doctored);
    const c = bg('qmp', 'compare', file, `${t.dir}/bad.json`, '--json');
    assert.is(c.status, 1);
    assert.ok(JSON.parse(c.stdout).totals.errorText < 7);
  } finally {
    t.done();
  }
});

test('qmp record: a real qemu-storage-daemon re-records an oracle transcript byte for byte', async () => {
  const { qsdAvailable } = await import('../../oracle/qsd.js');
  if (!qsdAvailable()) { console.log('  skipped: qemu-storage-daemon not installed'); return; }
  const file = new URL('../../oracle/transcripts/perm-two-formats-one-file.json', import.meta.url).pathname;
  const r = bg('qmp', 'record', file);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, readFileSync(file, 'utf8'));
});

test('two writers on one store: the second is refused with BG_LOG_LOCKED (exit 4); a reader is served by the first', async () => {
  const t = tempDir();
  const { spawn } = await import('node:child_process');
  const server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', `${t.dir}/db`, '--socket', `${t.dir}/s`], { stdio: 'ignore' });
  try {
    const { existsSync } = await import('node:fs');
    for (let i = 0; i < 200 && !existsSync(`${t.dir}/s`); i++) await new Promise((r) => setTimeout(r, 50));
    const r = bg('image', 'create', '--db', `${t.dir}/db`, '-f', 'raw', 'x.raw', '1M');
    assert.is(r.status, 4, r.stderr);
    assert.match(r.stderr, /BG_LOG_LOCKED/);
    const read = bg('log', '--db', `${t.dir}/db`);
    assert.is(read.status, 0, read.stderr);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    t.done();
  }
});

test.run();
