// An exec-oob behind in-band requests (docs/hostile.md round 6, found by scripts/hostile-qmp-diff.ts
// --round 6): with the oob capability QEMU's monitor reads on while in-band requests wait, and
// handle_qmp_command() (monitor/qmp.c) dispatches a request with exec-oob and no execute at once
// (qmp_is_oob), not through the queue, so its answer overtakes theirs. The model answered it in
// order. Expected bytes: qemu-storage-daemon 7.2 on a unix socket, the requests in one write
// (three runs alike), normalised as scripts/hostile-qmp-diff.ts does. Without the capability the
// monitor is suspended while an in-band request waits: answers in order (second test).
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const normalise = (text: string) => text
  .replace(/"package": "[^"]*"/g, '"package": P')
  .replace(/"qemu": \{"micro": \d+, "minor": \d+, "major": \d+\}/g, '"qemu": V');

async function exchange(path: string, bytes: string, lines: number): Promise<string[]> {
  const s = connect(path);
  let text = '';
  let greeted = false;
  s.on('data', (d) => {
    text += d.toString('utf8');
    if (!greeted && text.includes('\r\n')) { greeted = true; s.write(bytes); }
  });
  for (let i = 0; i < 500 && text.split('\r\n').length - 1 < lines; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  s.destroy();
  return normalise(text).split('\r\n').slice(1, -1);
}

const REQUESTS = '{"execute":"query-jobs","id":1}{"exec-oob":"query-jobs","id":2}{"execute":"query-version","id":3}{"exec-oob":"query-version","id":4}';

test('oob negotiated: the exec-oob refusals come before the in-band answers, as QSD 7.2 writes them', async () => {
  const t = tempDir();
  const server = await listenQmp(await Engine.open(await openMemory()), `${t.dir}/m.sock`, {});
  try {
    const got = await exchange(`${t.dir}/m.sock`, '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}' + REQUESTS, 6);
    assert.equal(got, [
      '{"return": {}}',
      '{"id": 2, "error": {"class": "GenericError", "desc": "The command query-jobs does not support OOB"}}',
      '{"id": 4, "error": {"class": "GenericError", "desc": "The command query-version does not support OOB"}}',
      '{"return": [], "id": 1}',
      '{"return": {"qemu": V, "package": P}, "id": 3}',
    ]);
  } finally {
    await server.close();
    t.done();
  }
});

test('oob not negotiated: exec-oob is an unexpected member, answered in order', async () => {
  const t = tempDir();
  const server = await listenQmp(await Engine.open(await openMemory()), `${t.dir}/m.sock`, {});
  try {
    const got = await exchange(`${t.dir}/m.sock`, '{"execute":"qmp_capabilities"}' + REQUESTS, 6);
    assert.equal(got, [
      '{"return": {}}',
      '{"return": [], "id": 1}',
      '{"id": 2, "error": {"class": "GenericError", "desc": "QMP input member \'exec-oob\' is unexpected"}}',
      '{"return": {"qemu": V, "package": P}, "id": 3}',
      '{"id": 4, "error": {"class": "GenericError", "desc": "QMP input member \'exec-oob\' is unexpected"}}',
    ]);
  } finally {
    await server.close();
    t.done();
  }
});

test.run();
