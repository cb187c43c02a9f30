// A QMP client that is not ours: python3's socket module speaking raw QMP to
// `blockgraph qmp --socket`, as issue 3 asks ("a real QMP client must work against the socket").
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';

const PY = `
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

test('python3 raw QMP over the unix socket: greeting, negotiation, add, refusal, query', async () => {
  if (spawnSync('python3', ['--version']).status !== 0) { console.log('  skipped: no python3'); return; }
  const t = tempDir();
  const sock = `${t.dir}/qmp.sock`;
  const server = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'qmp', '--db', `${t.dir}/db`, '--socket', sock], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const r = spawnSync('python3', ['-c', PY, sock,
      '{"execute": "qmp_capabilities"}',
      '{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0"}}',
      '{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0"}, "id": "x"}',
      '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}',
    ], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out[0].QMP.version.qemu, { micro: 22, minor: 2, major: 7 });
    assert.equal(out[1], { return: {} });
    assert.equal(out[2], { return: {} });
    assert.equal(out[3], { id: 'x', error: { class: 'GenericError', desc: "Duplicate nodes with node-name='n0'" } });
    assert.equal(out[4].return.map((n: { 'node-name': string }) => n['node-name']), ['n0']);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    t.done();
  }
});

test.run();
