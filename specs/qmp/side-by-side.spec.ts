// The model's QMP server and the real qemu-storage-daemon 7.2 on the same session: the same bytes
// sent to both (JSON without newlines, several values per chunk, pretty-printed values, malformed
// input, limits, 1e400), every reply and event compared byte for byte after normalising what
// cannot agree: event timestamps, the package string, auto-generated node names.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const haveQsd = spawnSync('qemu-storage-daemon', ['--version'], { encoding: 'utf8' }).stdout?.includes('version 7.2.');

/** A raw client: everything the peer writes, and a way to wait until it has been quiet. */
function rawClient(path: string) {
  const sock: Socket = connect(path);
  let text = '';
  let last = Date.now();
  sock.on('data', (b) => { text += b.toString('latin1'); last = Date.now(); });
  sock.on('error', () => undefined);
  return {
    ready: new Promise((r) => sock.once('connect', r)),
    send: (s: string | Buffer) => sock.write(s),
    /** Waits until `n` CRLF-terminated lines arrived in all and then `quiet` ms passed without more. */
    async settle(n: number, quiet = 60) {
      const t0 = Date.now();
      while (Date.now() - t0 < 20_000) {
        const lines = text.split('\r\n').length - 1;
        if (lines >= n && Date.now() - last >= quiet) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    get text() { return text; },
    close: () => sock.destroy(),
  };
}

const normalise = (text: string) => text
  .replace(/"timestamp": \{"seconds": \d+, "microseconds": \d+\}/g, '"timestamp": T')
  .replace(/"package": "[^"]*"/g, '"package": P')
  .replace(/#block\d+/g, '#blockN');

// Each step: bytes to send, and how many lines both sides answer with (the recorded count).
const STEPS: [string | Buffer, number][] = [
  ['{"execute":"query-version"}', 1],
  ['{"execute":"qmp_capabilities","arguments":{"enable":["nope"]}}', 1],
  ['{"execute":"qmp_capabilities"}{"execute":"qmp_capabilities","id":{"a":[1,2.5,-0.0,1e400]}}', 2],
  ['{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}', 1],
  [JSON.stringify({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n1' }, id: 'pretty' }, null, 2), 1],
  ['{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"},"id":7}', 1],
  ['[1,2] 42 "s" garbage {"a"} {1:2} {"a":1,} [1 2] {"a":1,"a":2} "\\x" "\\ud800" } @ ', 13],
  ['{"execute":"query-jobs","arguments":{"x":1e400}}{"execute":"query-jobs","id":18446744073709551615}', 2],
  ['{"execute":"query-jobs","foo":1,"bar":2,"id":1}{"execute":"no-such","id":"x"}{"id":1}{"execute":1}', 4],
  ['{"execute":"query-jobs","arguments":[]}{"exec-oob":"query-jobs"}', 2],
  [Buffer.from('{"execute":"query-jobs","id":"é€😀\u00ff"}'), 1],
  [Buffer.concat([Buffer.from('{"execute":"query-jobs","id":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), 2],
  ['['.repeat(1100) + ']'.repeat(1100), 1027],
  ['{"execute":"query-block"}{"execute":"query-blockstats"}{"execute":"query-block-jobs"}{"execute":"query-commands"}', 4],
  ['{"execute":"query-qmp-schema"}', 1],
  ['{"execute":"quit","arguments":{"x":1}}{"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}', 2],
  ['{"execute":"nbd-server-start","arguments":{"addr":{"type":"unix","data":{"path":"nbd.sock"}}}}', 1],
  ['{"execute":"block-export-add","arguments":{"type":"nbd","id":"e0","node-name":"n0"}}{"execute":"query-block-exports"}', 2],
  ['{"execute":"block-export-del","arguments":{"id":"e0"}}', 2],
  ['{"execute":"blockdev-del","arguments":{"node-name":"n1"}}{"execute":"query-named-block-nodes","arguments":{"flat":true}}', 2],
];

test('every reply and event byte for byte as qemu-storage-daemon 7.2 writes them', async () => {
  if (!haveQsd) { console.log('  skipped: qemu-storage-daemon 7.2 not installed'); return; }
  const t = tempDir();
  const qsdPath = `${t.dir}/qsd.sock`;
  const qsd = spawn('qemu-storage-daemon', ['--chardev', `socket,path=${qsdPath},server=on,wait=off,id=m`, '--monitor', 'm'],
    { cwd: t.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const server = await listenQmp(await Engine.open(await openMemory()), `${t.dir}/model.sock`, {});
  try {
    for (let i = 0; i < 200 && !existsSync(qsdPath); i++) await new Promise((r) => setTimeout(r, 25));
    const a = rawClient(qsdPath);
    const b = rawClient(`${t.dir}/model.sock`);
    await Promise.all([a.ready, b.ready]);
    let expected = 1;
    await Promise.all([a.settle(expected), b.settle(expected)]);
    for (const [bytes, n] of STEPS) {
      expected += n;
      a.send(bytes); b.send(bytes);
      await Promise.all([a.settle(expected), b.settle(expected)]);
      const qa = normalise(a.text).split('\r\n');
      const qb = normalise(b.text).split('\r\n');
      for (let i = 0; i < Math.max(qa.length, qb.length); i++) {
        if (qa[i] !== qb[i]) assert.fixture(qb[i] ?? '<nothing>', qa[i] ?? '<nothing>', `line ${i} after sending ${String(bytes).slice(0, 80)}`);
      }
      assert.is(qa.length - 1, expected, `QSD answered ${String(bytes).slice(0, 60)} with the recorded number of lines`);
    }
    a.close(); b.close();
  } finally {
    qsd.kill();
    await server.stop();
    t.done();
  }
});

test.run();
