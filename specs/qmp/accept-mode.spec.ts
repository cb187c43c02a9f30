// `blockgraph qmp --connect PATH [--reconnect S]` against qemu-storage-daemon 7.2's
// `--chardev socket,path=PATH,server=off[,reconnect=S] --monitor chardev=m0`: the client listens,
// the server connects out (qemu.qmp's QMPClient.accept(), libvirt-style harnesses). Compared on
// the wire byte for byte (greeting, replies; package string normalised), on a connection that
// ends (made again S s later with reconnect, never without), on a listener that is not there
// (fatal without reconnect, with QEMU's text; retried and reported once with it), and, when
// QEMU_PYTHON_DIR points at QEMU's python/ tree, with QEMU's own QMPClient in accept mode.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const haveQsd = spawnSync('qemu-storage-daemon', ['--version'], { encoding: 'utf8' }).stdout?.includes('version 7.2.');
const havePython = spawnSync('python3', ['--version']).status === 0;
const t = tempDir('bg-accept-');
let n = 0;

type Side = 'qsd' | 'model';

function start(side: Side, path: string, reconnect?: number): ChildProcess {
  if (side === 'qsd') {
    const chardev = `socket,id=m0,path=${path},server=off${reconnect !== undefined ? `,reconnect=${reconnect}` : ''}`;
    return spawn('qemu-storage-daemon', ['--chardev', chardev, '--monitor', 'chardev=m0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const args = ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(t.dir, `db${n++}`), '--connect', path, ...(reconnect !== undefined ? ['--reconnect', String(reconnect)] : [])];
  return spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function stderrOf(p: ChildProcess): () => string {
  let s = '';
  p.stderr!.on('data', (b: Buffer) => { s += b.toString(); });
  return () => s;
}

const exited = (p: ChildProcess) => new Promise<number | null>((r) => { if (p.exitCode !== null) r(p.exitCode); else p.once('exit', (c) => r(c)); });

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode === null) { p.kill('SIGTERM'); await exited(p); }
}

/** A listening client: each connection the server makes, in order. */
function listener(path: string) {
  rmSync(path, { force: true });
  const conns: Socket[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((s) => { s.on('error', () => undefined); conns.push(s); for (const w of waiters.splice(0)) w(); });
  return {
    ready: new Promise<void>((r) => server.listen(path, r)),
    /** The `i`th connection, or undefined if none came within `ms`. */
    async conn(i: number, ms: number): Promise<Socket | undefined> {
      const t0 = Date.now();
      while (conns.length <= i && Date.now() - t0 < ms) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      return conns[i];
    },
    close: () => new Promise<void>((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }),
  };
}

/** Sends each request on `sock` and reads up to one CRLF-terminated line per reply (the greeting first). */
async function session(sock: Socket, requests: string[]): Promise<string> {
  let text = '';
  sock.on('data', (b: Buffer) => { text += b.toString('latin1'); });
  const lines = async (k: number) => {
    const t0 = Date.now();
    while (text.split('\r\n').length - 1 < k && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 10));
  };
  await lines(1);
  for (let i = 0; i < requests.length; i++) {
    sock.write(requests[i]!);
    await lines(i + 2);
  }
  return text.replace(/"package": "[^"]*"/g, '"package": P');
}

const REQUESTS = [
  '{"execute":"qmp_capabilities"}',
  '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
  '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"},"id":1}',
  '{"execute":"query-named-block-nodes","arguments":{"flat":true}}',
];

/** One run: a session, the listener drops it, a second connection (or none) within `wait` ms. */
async function run(side: Side, reconnect: number | undefined, wait: number) {
  const path = join(t.dir, `l${n++}.sock`);
  const l = listener(path);
  await l.ready;
  const p = start(side, path, reconnect);
  const err = stderrOf(p);
  try {
    const first = await l.conn(0, 30_000);
    assert.ok(first, `${side} connected: ${err()}`);
    const one = await session(first!, REQUESTS);
    first!.destroy(); // the client goes away
    const second = await l.conn(1, wait);
    const two = second ? await session(second, ['{"execute":"qmp_capabilities"}', '{"execute":"query-named-block-nodes","arguments":{"flat":true}}']) : undefined;
    const alive = p.exitCode === null;
    return { one, two, alive };
  } finally {
    await stop(p);
    await l.close();
  }
}

test('accept mode: the same bytes as QSD 7.2, the connection made again after reconnect=1 s (the graph kept)', async () => {
  if (!haveQsd) { console.log('  skipped: qemu-storage-daemon 7.2 not installed'); return; }
  const [qsd, model] = [await run('qsd', 1, 8000), await run('model', 1, 8000)];
  assert.ok(qsd.two, 'QSD connects again');
  assert.is(model.one, qsd.one);
  assert.is(model.two, qsd.two);
  assert.match(model.two!, /"node-name": "n0"/);
  assert.ok(model.alive && qsd.alive);
});

test('accept mode without reconnect: a connection that ends is not made again, the server runs on (as QSD)', async () => {
  if (!haveQsd) { console.log('  skipped: qemu-storage-daemon 7.2 not installed'); return; }
  const [qsd, model] = [await run('qsd', undefined, 2500), await run('model', undefined, 2500)];
  assert.is(model.one, qsd.one);
  assert.is(qsd.two, undefined);
  assert.is(model.two, undefined);
  assert.ok(qsd.alive && model.alive);
});

test('no listener: without reconnect, fatal with QEMU\'s text; with it, reported once and connected once the client listens', async () => {
  const path = join(t.dir, 'absent.sock');
  const model = start('model', path);
  const err = stderrOf(model);
  assert.is(await exited(model), 2);
  const text = "Failed to connect to '" + path + "': No such file or directory";
  assert.ok(err().includes(text), err());
  assert.not.match(err(), /\n\s+at /);
  if (haveQsd) {
    const qsd = start('qsd', path);
    const qerr = stderrOf(qsd);
    assert.is(await exited(qsd), 1);
    assert.ok(qerr().includes(text), qerr());
  }
  const late = start('model', path, 1);
  const lerr = stderrOf(late);
  try {
    for (let i = 0; i < 600 && !lerr().includes('Unable to connect'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(lerr(), new RegExp(`Unable to connect QMP to ${path}: Failed to connect to '${path}': No such file or directory`));
    await new Promise((r) => setTimeout(r, 2500)); // more attempts, not reported again
    assert.is(late.exitCode, null, 'retrying, not dead');
    const l = listener(path);
    await l.ready;
    const c = await l.conn(0, 10_000);
    assert.ok(c, 'connected once the client listens');
    assert.match(await session(c!, ['{"execute":"qmp_capabilities"}']), /\{"return": \{\}\}\r\n$/);
    assert.is(lerr().split('Unable to connect').length - 1, 1, lerr());
    await l.close();
  } finally {
    await stop(late);
  }
});

test('bad flags: --connect with --socket, --reconnect alone, out of range', () => {
  for (const args of [['--connect', 'a', '--socket', 'b'], ['--reconnect', '1'], ['--connect', 'a', '--reconnect', '-1'], ['--connect', 'a', '--reconnect', '9999999'], ['--connect', '']]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(t.dir, 'never'), ...args], { encoding: 'utf8' });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /BG_BAD_INPUT/);
    assert.not.ok(existsSync(join(t.dir, 'never')), 'no store opened');
  }
});

// QEMU's QMPClient listens (start_server), the server connects, accept() finishes the handshake.
const PY_ACCEPT = `
import asyncio, json, subprocess, sys
from qemu.qmp import QMPClient, ExecuteError
async def main(path, argv):
    c = QMPClient('accept')
    await c.start_server(path)
    p = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    try:
        await asyncio.wait_for(c.accept(), 30)
        out = [c.greeting._raw['QMP']['version']['qemu'], c.greeting._raw['QMP']['capabilities']]
        out.append(await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 'q0'}))
        try:
            await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 'q0'})
        except ExecuteError as e:
            out.append([e.error.error.class_, e.error.error.desc])
        out.append([n['node-name'] for n in await c.execute('query-named-block-nodes', {'flat': True})])
        out.append(len(await c.execute('query-qmp-schema')))
        await c.disconnect()
        print(json.dumps(out))
    finally:
        p.terminate(); p.wait()
asyncio.run(main(sys.argv[1], sys.argv[2:]))
`;

test("QEMU's own QMPClient in accept mode (QEMU_PYTHON_DIR): the same as with QSD", async () => {
  const dir = process.env.QEMU_PYTHON_DIR;
  if (!havePython || !haveQsd || !dir || !existsSync(join(dir, 'qemu', 'qmp'))) {
    console.log("  skipped: set QEMU_PYTHON_DIR to QEMU's python/ directory (e.g. qemu-7.2.0/python), with qemu-storage-daemon 7.2 installed");
    return;
  }
  const env = { ...process.env, PYTHONPATH: dir };
  const out: string[] = [];
  for (const side of ['qsd', 'model'] as const) {
    const path = join(t.dir, `py${n++}.sock`);
    const argv = side === 'qsd'
      ? ['qemu-storage-daemon', '--chardev', `socket,id=m0,path=${path},server=off`, '--monitor', 'chardev=m0']
      : [process.execPath, '--import', 'tsx', 'cli/main.ts', 'qmp', '--db', join(t.dir, `db${n++}`), '--connect', path];
    const r = spawnSync('python3', ['-c', PY_ACCEPT, path, ...argv], { encoding: 'utf8', timeout: 60_000, env });
    assert.is(r.status, 0, r.stderr);
    out.push(r.stdout);
  }
  assert.is(out[1], out[0]);
  assert.match(out[0]!, /Duplicate nodes with node-name='q0'/);
});

test.after(() => t.done());

test.run();
