// `blockgraph qmp --socket` as a process: a socket left by a killed server is replaced, a live
// one is not (exit 2, a clear message, the other server untouched); SIGTERM with a client
// connected answers the request in progress, closes, exits 0; `quit` does the same; the README's
// socat one-shot (half-close right after writing) gets every reply.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

function start(db: string, sock: string): ChildProcess & { stderr: NodeJS.ReadableStream; exited: Promise<number | null>; err: () => string } {
  const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', db, '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (b) => { err += b; });
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return Object.assign(p, { exited, err: () => err }) as any;
}
async function listening(p: { err: () => string }, sock: string) {
  for (let i = 0; i < 400 && !(existsSync(sock) && p.err().includes('QMP on')); i++) await new Promise((r) => setTimeout(r, 50));
}
/** Sends bytes, half-closes, returns all the server wrote before closing. */
function oneShot(sock: string, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(sock);
    let out = '';
    s.on('data', (b) => { out += b; });
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('connect', () => { s.write(bytes); s.end(); });
  });
}

test('stale socket replaced after kill -9; a live one refused with exit 2', async () => {
  const t = tempDir();
  const sock = `${t.dir}/q.sock`;
  try {
    const a = start(`${t.dir}/db1`, sock);
    await listening(a, sock);
    a.kill('SIGKILL');
    await a.exited;
    assert.ok(existsSync(sock), 'the killed server left its socket');
    const b = start(`${t.dir}/db1`, sock);
    await listening(b, sock);
    assert.match(b.err(), /QMP on/);
    const c = start(`${t.dir}/db2`, sock);
    assert.is(await c.exited, 2);
    assert.match(c.err(), /another server is listening on this socket/);
    assert.not.match(c.err(), /\n\s+at /, 'no stack trace');
    // b still serves
    const out = await oneShot(sock, '{"execute":"qmp_capabilities"}{"execute":"query-jobs"}');
    assert.is(out.split('\r\n').length, 4, out);
    b.kill('SIGTERM');
    assert.is(await b.exited, 0);
  } finally {
    t.done();
  }
});

test('README socat one-shot: half-close after the last command still gets every reply; SIGTERM with a client connected exits 0', async () => {
  const t = tempDir();
  const sock = `${t.dir}/q.sock`;
  try {
    const a = start(`${t.dir}/db`, sock);
    await listening(a, sock);
    const out = await oneShot(sock, '{"execute":"qmp_capabilities"}\n{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}\n');
    assert.equal(out.split('\r\n').slice(1), ['{"return": {}}', '{"return": {}}', '']);
    // a client that stays connected: SIGTERM answers what it sent, closes it, exits 0
    const s = connect(sock);
    let got = '';
    s.on('data', (b) => { got += b; });
    const closed = new Promise((r) => s.on('close', r));
    await new Promise((r) => s.once('connect', r));
    s.write('{"execute":"qmp_capabilities"}');
    for (let i = 0; i < 200 && !got.includes('"return"'); i++) await new Promise((r) => setTimeout(r, 25));
    a.kill('SIGTERM');
    await closed;
    assert.is(await a.exited, 0);
    assert.ok(!existsSync(sock), 'socket removed on exit');
    // quit: answered, then the server stops
    const b = start(`${t.dir}/db`, sock);
    await listening(b, sock);
    const q = await oneShot(sock, '{"execute":"qmp_capabilities"}{"execute":"quit"}');
    assert.equal(q.split('\r\n').slice(1), ['{"return": {}}', '{"return": {}}', '']);
    assert.is(await b.exited, 0);
  } finally {
    t.done();
  }
});

test('SIGTERM with a client that keeps its half open, and one that does not read: the server still exits 0', async () => {
  const t = tempDir();
  const sock = `${t.dir}/q.sock`;
  try {
    const a = start(`${t.dir}/db`, sock);
    await listening(a, sock);
    // allowHalfOpen: the client does not end its side when the server ends its own, as a peer
    // that never closes on EOF; server.close() alone would wait for it for ever
    const held = connect({ path: sock, allowHalfOpen: true });
    let got = '';
    held.on('data', (b) => { got += b; });
    held.on('error', () => undefined);
    const heldEnded = new Promise((r) => { held.on('end', r); held.on('close', r); });
    await new Promise((r) => held.once('connect', r));
    held.write('{"execute":"qmp_capabilities"}');
    for (let i = 0; i < 200 && !got.includes('"return"'); i++) await new Promise((r) => setTimeout(r, 25));
    // a second client that never reads: its greeting and replies stay queued
    const deaf = connect(sock);
    deaf.on('error', () => undefined);
    await new Promise((r) => deaf.once('connect', r));
    deaf.pause();
    deaf.write('{"execute":"qmp_capabilities"}{"execute":"query-qmp-schema"}{"execute":"query-qmp-schema"}');
    await new Promise((r) => setTimeout(r, 300));
    a.kill('SIGTERM');
    const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('still running after 20 s'), 20_000))]);
    assert.is(code, 0);
    await heldEnded;
    held.destroy();
    assert.ok(!existsSync(sock), 'socket removed on exit');
    deaf.destroy();
    if (code !== 0) a.kill('SIGKILL');
  } finally {
    t.done();
  }
});

test('SIGHUP (a closed terminal) stops as SIGTERM does, as QSD does: the command in flight answered and logged, socket removed, exit 0', async () => {
  // os-posix.c os_setup_signal_handling: SIGHUP goes to termsig_handler like SIGINT and SIGTERM;
  // Node's default action for it ended the server at once (exit 129, the socket file left)
  const t = tempDir();
  const sock = `${t.dir}/q.sock`;
  try {
    const a = start(`${t.dir}/db`, sock);
    await listening(a, sock);
    const s = connect(sock);
    let got = '';
    s.on('data', (b) => { got += b; });
    s.on('error', () => undefined);
    const closed = new Promise((r) => s.on('close', r));
    await new Promise((r) => s.once('connect', r));
    s.write('{"execute":"qmp_capabilities"}');
    for (let i = 0; i < 200 && !got.includes('"return"'); i++) await new Promise((r) => setTimeout(r, 25));
    s.write('{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"},"id":"add"}');
    for (let i = 0; i < 200 && !got.includes('"add"'); i++) await new Promise((r) => setTimeout(r, 25));
    a.kill('SIGHUP');
    await closed;
    assert.is(await a.exited, 0);
    assert.ok(got.includes('{"return": {}, "id": "add"}'), got);
    assert.ok(a.err().includes('SIGHUP: stopping'), a.err());
    assert.ok(!existsSync(sock), 'socket removed on exit');
    // the store is released and holds the command
    const b = start(`${t.dir}/db`, sock);
    await listening(b, sock);
    const q = await oneShot(sock, '{"execute":"qmp_capabilities"}{"execute":"query-named-block-nodes","arguments":{"flat":true}}');
    assert.ok(q.includes('"node-name": "n0"'), q);
    b.kill('SIGHUP');
    assert.is(await b.exited, 0);
  } finally {
    t.done();
  }
});

test('SIGUSR1, SIGALRM and SIGIO leave the server running, as QSD (its main loop blocks them), and open no debugger', async () => {
  // util/main-loop.c qemu_signal_init blocks SIG_IPI (SIGUSR1), SIGIO and SIGALRM. Node's defaults:
  // SIGUSR1 opened the inspector on 127.0.0.1:9229 (any local user could attach and run code),
  // SIGALRM and SIGIO ended the server at once
  const t = tempDir();
  const sock = `${t.dir}/q.sock`;
  try {
    const a = start(`${t.dir}/db`, sock);
    await listening(a, sock);
    for (const sig of ['SIGUSR1', 'SIGALRM', 'SIGIO'] as const) {
      a.kill(sig);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(a.exitCode === null && a.signalCode === null, `${sig}: still running (${a.exitCode ?? a.signalCode})`);
    }
    assert.not.ok(/Debugger listening/.test(a.err()), a.err());
    const q = await oneShot(sock, '{"execute":"qmp_capabilities"}{"execute":"query-version"}');
    assert.ok(q.includes('"micro": 22'), q);
    a.kill('SIGTERM');
    assert.is(await a.exited, 0);
  } finally {
    t.done();
  }
});

test.run();
