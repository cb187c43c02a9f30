// What scripts/cli-matrix.ts found (docs/hostile.md round 7), each run as a user meets it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../cli/main.js';
import { tempDir } from '../engine/helpers.js';

const bg = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000, input: '' });

/** A socket path of `n` bytes in dir. */
const longPath = (dir: string, n: number) => `${dir}/${'s'.repeat(n - dir.length - 1)}`;

test('a socket path past 108 bytes is refused with QEMU\'s text, before a store is made, and no cut name is left', () => {
  const t = tempDir();
  try {
    const p = longPath(t.dir, 130);
    // util/qemu-sockets.c unix_listen_saddr: QSD 7.2 says the same (exit 1):
    // `--chardev socket,path=P,server=on,…: UNIX socket path 'P' is too long`
    for (const args of [['qmp', '--db', `${t.dir}/db`, '--socket', p], ['qmp', '--db', `${t.dir}/db`, '--log-socket', p], ['qmp', 'proxy', '--db', `${t.dir}/db`, '--listen', p, '--connect', `${t.dir}/x`]]) {
      const r = bg(...args);
      assert.is(r.status, 2, `${args.slice(0, 2).join(' ')}: ${r.stderr.slice(0, 300)}`);
      assert.is(r.stderr, `blockgraph: UNIX socket path '${p}' is too long [BG_BAD_INPUT]\n`);
    }
    // libuv cut the name to 108 bytes, listened there and removed only the long name at exit
    assert.equal(readdirSync(t.dir), [], 'no store made, no socket left under a cut name');
  } finally {
    t.done();
  }
});

test('tail --connect with a path past 108 bytes does not reach the socket at its first 108 bytes', async () => {
  const t = tempDir();
  const p = longPath(t.dir, 130);
  const cut = p.slice(0, 108);
  let reached = 0;
  const other = createServer((s) => { reached++; s.end('{"protocol":"blockgraph-log/1","head":0}\n'); });
  await new Promise<void>((r) => other.listen(cut, r));
  try {
    const { spawn } = await import('node:child_process');
    const c = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'tail', '--connect', p, '--no-follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    // before the fix it followed the other socket and never ended
    const killer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((r) => c.once('exit', r));
    clearTimeout(killer);
    assert.is(status, 2, stderr);
    assert.is(stderr, `blockgraph: UNIX socket path '${p}' is too long [BG_BAD_INPUT]\n`);
    assert.is(reached, 0, 'another socket was connected to');
  } finally {
    other.close();
    t.done();
  }
});

test('qmp proxy --listen FILE keeps a regular file (it was removed, whatever it was)', () => {
  const t = tempDir();
  try {
    writeFileSync(`${t.dir}/notes`, 'keep me\n');
    const r = bg('qmp', 'proxy', '--db', `${t.dir}/db`, '--listen', `${t.dir}/notes`, '--connect', `${t.dir}/x`);
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /notes exists and is not a socket; not replacing it \[BG_BAD_INPUT\]/);
    assert.is(readFileSync(`${t.dir}/notes`, 'utf8'), 'keep me\n');
  } finally {
    t.done();
  }
});

test('--db "" is bad input (was a TypeError from LevelDB, exit 70), for writers and readers', () => {
  for (const args of [['demo'], ['qmp'], ['show'], ['image', 'create', '/nonexistent/x.raw', '1M'], ['qmp', '--store']]) {
    const r = bg(...args, ...(args.includes('--store') ? [''] : ['--db', '']));
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /the store path is empty \(--db ""\) \[BG_BAD_INPUT\]\n$/, args.join(' '));
    assert.not.match(r.stderr, /\n\s+at /);
  }
});

test('an argument holding a NUL (main() called with an array) is bad input before anything runs', async () => {
  const t = tempDir();
  const errs: string[] = [];
  const real = console.error;
  console.error = (...a: unknown[]) => { errs.push(a.join(' ')); };
  try {
    const code = await main(['qmp', '--db', `${t.dir}/db`, '--socket', `${t.dir}/a\u0000b`]);
    assert.is(code, 2);
    assert.match(errs.join('\n'), /argument 5 \(".*a\\u0000b"\) holds a NUL byte \[BG_BAD_INPUT\]/);
    assert.not.ok(existsSync(`${t.dir}/db`));
  } finally {
    console.error = real;
    t.done();
  }
});

test('an argument that is not UTF-8 is bad input before anything runs (--out wrote a file of another name, --db made another store)', () => {
  // scripts/cli-matrix.ts round 10: `--out $'\xff\xfea'` wrote `\uFFFD\uFFFDa` (render, report,
  // fixture export, qmp run): execve passes the bytes, Node decodes them with U+FFFD
  const t = tempDir();
  try {
    const bad = Buffer.from([0xff, 0xfe, 0x61]);
    for (const args of [['render', '--db', `${t.dir}/db`, '--format', 'dot', '--out'], ['qmp', '--db']]) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args, Buffer.concat([Buffer.from(`${t.dir}/`), bad]) as unknown as string], { encoding: 'utf8', timeout: 60_000, input: '' });
      assert.is(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^blockgraph: argument \d+ \(".*\uFFFD\uFFFDa"\) is not valid UTF-8: its bytes cannot be passed on as given \(name the file in UTF-8\) \[BG_BAD_INPUT\]\n$/);
    }
    assert.equal(readdirSync(t.dir), [], 'no file, no store made');
    // a valid non-ASCII name is taken as it is
    const ok = bg('qmp', '--db', `${t.dir}/d\u00e9`);
    assert.is(ok.status, 0, ok.stderr);
    assert.equal(readdirSync(t.dir), ['d\u00e9']);
  } finally {
    t.done();
  }
});

test('qmp --socket 4444 makes a socket file named 4444 (it listened on TCP *:4444: QMP for the whole network)', async () => {
  const t = tempDir();
  const { spawn } = await import('node:child_process');
  const { createRequire } = await import('node:module');
  const { connect } = await import('node:net');
  const { lstatSync } = await import('node:fs');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const port = String(40000 + Math.floor(Math.random() * 9000));
  const logPort = String(Number(port) + 1);
  // QEMU's `--chardev socket,path=4444` is a unix socket file 4444 in its cwd (unix_listen_saddr)
  const server = spawn(process.execPath, ['--import', tsx, new URL('../../cli/main.ts', import.meta.url).pathname, 'qmp', '--db', 'db', '--socket', port, '--log-socket', logPort], { cwd: t.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  try {
    for (let i = 0; i < 600 && !/QMP on/.test(stderr) && server.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /QMP on /);
    assert.ok(lstatSync(`${t.dir}/${port}`).isSocket(), 'a socket file named after the argument');
    assert.ok(lstatSync(`${t.dir}/${logPort}`).isSocket(), 'the log socket too');
    const tcp = await new Promise<string>((r) => { const c = connect(Number(port), '127.0.0.1'); c.once('connect', () => { c.destroy(); r('connected'); }); c.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error')); });
    assert.is(tcp, 'ECONNREFUSED', 'nothing listens on the TCP port');
    const greeting = await new Promise<string>((r) => { const c = connect(`${t.dir}/${port}`); c.setEncoding('utf8').once('data', (d: string) => { c.destroy(); r(d); }); c.once('error', () => r('')); });
    assert.match(greeting, /^\{"QMP": /);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    t.done();
  }
});

test('qmp --socket "" is refused (it served on stdio instead)', () => {
  const t = tempDir();
  try {
    const r = bg('qmp', '--db', `${t.dir}/db`, '--socket', '');
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stderr, 'blockgraph: a socket path is empty [BG_BAD_INPUT]\n');
    assert.is(r.stdout, '', 'no QMP greeting on stdout');
  } finally {
    t.done();
  }
});

test.run();
