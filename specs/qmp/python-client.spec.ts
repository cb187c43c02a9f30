// QMP clients that are not ours against `blockgraph qmp --socket`: python3's socket module with
// one command per line; a stdlib asyncio client that behaves as QEMU's own python library
// (qemu.qmp) does: JSON without a trailing newline, waits for the greeting, negotiates, runs
// commands, reads replies by line; and, when QEMU_PYTHON_DIR points at QEMU's python/ tree,
// QEMU's own QMPClient, legacy QEMUMonitorProtocol and qmp-shell, unchanged.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const havePython = spawnSync('python3', ['--version']).status === 0;

const LINES = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile('rw')
out = [json.loads(f.readline())]
for cmd in sys.argv[2:]:
    f.write(cmd + '\\n'); f.flush()
    while True:
        msg = json.loads(f.readline())
        out.append(msg)
        if 'return' in msg or 'error' in msg:
            break
print(json.dumps(out))
`;

// As qemu.qmp's QMPClient: asyncio streams, bytes(Message) = json.dumps without newline, replies
// read with readline() and matched by id.
const ASYNC = `
import asyncio, json, sys
async def main(path):
    r, w = await asyncio.open_unix_connection(path, limit=1024 * 1024)  # above the 110 KB schema reply, as QMPClient's _limit (256 KiB)
    greeting = json.loads(await r.readline())
    assert 'QMP' in greeting, greeting
    n = 0
    async def execute(cmd, args=None):
        nonlocal n
        n += 1
        msg = {'execute': cmd, 'id': '__qmp#%05d' % n}
        if args is not None: msg['arguments'] = args
        w.write(json.dumps(msg).encode('utf-8'))   # no trailing newline
        await w.drain()
        while True:
            m = json.loads(await r.readline())
            if m.get('id') == msg['id']: return m
    out = [greeting['QMP']['capabilities']]
    out.append(await execute('qmp_capabilities', {'enable': ['oob']}))
    out.append(await execute('blockdev-add', {'driver': 'null-co', 'node-name': 'a0'}))
    out.append(await execute('blockdev-add', {'driver': 'null-co', 'node-name': 'a0'}))
    out.append(len((await execute('query-qmp-schema'))['return']))
    out.append(len((await execute('query-commands'))['return']))
    w.close(); await w.wait_closed()
    print(json.dumps(out))
asyncio.run(main(sys.argv[1]))
`;

const QEMU_LIB = `
import asyncio, json, sys
from qemu.qmp import QMPClient, ExecuteError
from qemu.qmp.legacy import QEMUMonitorProtocol
async def main(path):
    c = QMPClient('spec')
    await c.connect(path)
    out = [await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 'q0'})]
    try:
        await c.execute('blockdev-add', {'driver': 'null-co', 'node-name': 'q0'})
    except ExecuteError as e:
        out.append(e.error.error.desc)
    out.append(len(await c.execute('query-qmp-schema')))
    await c.disconnect()
    return out
out = asyncio.run(main(sys.argv[1]))
asyncio.set_event_loop(asyncio.new_event_loop())
q = QEMUMonitorProtocol(sys.argv[1]); q.connect()
out.append([n['node-name'] for n in q.cmd('query-named-block-nodes', {'flat': True})['return']])
q.close()
print(json.dumps(out))
`;

let server: ChildProcess | undefined;
let sock = '';
const t = havePython ? tempDir() : undefined;

async function ensureServer(): Promise<string> {
  if (server) return sock;
  sock = `${t!.dir}/qmp.sock`;
  server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', `${t!.dir}/db`, '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 400 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  return sock;
}

test('python3 raw QMP, one command per line: greeting, negotiation, add, refusal, query', async () => {
  if (!havePython) { console.log('  skipped: no python3'); return; }
  const path = await ensureServer();
  const r = spawnSync('python3', ['-c', LINES, path,
    '{"execute": "qmp_capabilities"}',
    '{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0"}}',
    '{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0"}, "id": "x"}',
    '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}',
  ], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out[0].QMP.version.qemu, { micro: 22, minor: 2, major: 7 });
  assert.equal(out[1], { return: {} });
  assert.equal(out[2], { return: {} });
  assert.equal(out[3], { id: 'x', error: { class: 'GenericError', desc: "Duplicate nodes with node-name='n0'" } });
  assert.equal(out[4].return.map((n: { 'node-name': string }) => n['node-name']), ['n0']);
});

test('an asyncio client as qemu.qmp behaves: JSON without newline, oob negotiated, schema-driven', async () => {
  if (!havePython) { console.log('  skipped: no python3'); return; }
  const path = await ensureServer();
  const r = spawnSync('python3', ['-c', ASYNC, path], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out[0], ['oob']);
  assert.equal(out[1], { return: {}, id: '__qmp#00001' });
  assert.equal(out[2], { return: {}, id: '__qmp#00002' });
  assert.equal(out[3], { id: '__qmp#00003', error: { class: 'GenericError', desc: "Duplicate nodes with node-name='a0'" } });
  assert.is(out[4], 494, 'QSD 7.2 schema entries');
  assert.is(out[5], 74, 'QSD 7.2 commands');
});

test("QEMU's own python library (QEMU_PYTHON_DIR): QMPClient, legacy QEMUMonitorProtocol, qmp-shell", async () => {
  const dir = process.env.QEMU_PYTHON_DIR;
  if (!havePython || !dir || !existsSync(join(dir, 'qemu', 'qmp'))) {
    console.log("  skipped: set QEMU_PYTHON_DIR to QEMU's python/ directory (e.g. qemu-7.2.0/python) to run QEMU's own client");
    return;
  }
  const path = await ensureServer();
  const env = { ...process.env, PYTHONPATH: dir };
  const r = spawnSync('python3', ['-c', QEMU_LIB, path], { encoding: 'utf8', timeout: 30_000, env });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out[0], {});
  assert.is(out[1], "Duplicate nodes with node-name='q0'");
  assert.is(out[2], 494);
  assert.ok(out[3].includes('q0'));
  const shell = spawnSync('python3', [join(dir, 'qemu', 'qmp', 'qmp_shell.py'), path],
    { input: 'blockdev-add driver=null-co node-name=s0\nquery-block-jobs\n', encoding: 'utf8', timeout: 30_000, env });
  assert.is(shell.status, 0, shell.stderr);
  assert.match(shell.stdout, /Connected to QEMU 7\.2\.22/);
  assert.match(shell.stdout, /\{"return": \{\}\}[\s\S]*\{"return": \[\]\}/);
});

test.after(async () => {
  if (server) { server.kill('SIGTERM'); await new Promise((r) => server!.on('exit', r)); }
  t?.done();
});

test.run();
