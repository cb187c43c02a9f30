// The model's QMP server as a real client sees it: raw lines over a unix socket.
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

/** Sends lines one at a time and collects the JSON lines answered (greeting first). */
async function session(path: string, lines: string[]): Promise<any[]> {
  const sock = connect(path);
  const got: any[] = [];
  let buf = '';
  const waiters: (() => void)[] = [];
  sock.on('data', (b) => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) { got.push(JSON.parse(line)); waiters.shift()?.(); }
    }
  });
  const next = () => new Promise<void>((r) => waiters.push(r));
  await next(); // greeting
  for (const l of lines) {
    const w = next();
    sock.write(l + '\n');
    await w;
    await new Promise((r) => setTimeout(r, 5)); // let trailing events arrive
  }
  sock.end();
  return got;
}

test('greeting, negotiation, commands, QEMU errors for malformed input; only command.rejected reaches the log', async () => {
  const t = tempDir();
  const log = await openMemory();
  const engine = await Engine.open(log);
  const path = `${t.dir}/qmp.sock`;
  const server = await listenQmp(engine, path, { reject: (p, d) => engine.reject(p, d), now: () => 0 });
  try {
    const out = await session(path, [
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
      '{"execute":"qmp_capabilities"}',
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"},"id":7}',
      '{"execute":',
      '[1,2]',
      '{"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}',
      '{"execute":"no-such-thing"}',
      '{"execute":"qmp_capabilities"}',
    ]);
    assert.ok(out[0].QMP, 'greeting');
    assert.equal(out[1], { error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
    assert.equal(out[2], { return: {} });
    assert.equal(out[3], { return: {}, id: 7 });
    assert.is(out[4].error.class, 'GenericError');
    assert.match(out[4].error.desc, /^JSON parse error/);
    assert.equal(out[5], { error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } });
    assert.equal(out[6], { error: { class: 'GenericError', desc: "Failed to find node with node-name='nosuch'" } });
    assert.equal(out[7], { error: { class: 'CommandNotFound', desc: 'The command no-such-thing has not been found' } });
    assert.equal(out[8], { error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' } });
    const recs = await log.readAll();
    const types = recs.map((r) => r.type);
    const txns = new Set(recs.filter((r) => r.type.startsWith('txn.')).map((r) => r.txn));
    assert.is(txns.size, 1, 'one transaction: blockdev-add n0');
    assert.is(types.filter((x) => x === 'txn.begun').length, 1);
    assert.is(types.filter((x) => x === 'command.rejected').length, 4);
    assert.equal(Object.keys(engine.state.A!.nodes!), ['n0']);
    const h = stateHash(engine.state);
    await session(path, ['{"execute":"qmp_capabilities"}', 'not json at all', '{"execute":"blockdev-add","arguments":{"driver":"nope","node-name":"x"}}']);
    assert.is(stateHash(engine.state), h, 'bad input never changes graph state');
  } finally {
    await new Promise((r) => server.close(r));
    t.done();
  }
});

test('events are sent after the reply (BLOCK_EXPORT_DELETED)', async () => {
  const t = tempDir();
  const engine = await Engine.open(await openMemory());
  const path = `${t.dir}/q.sock`;
  const server = await listenQmp(engine, path, { now: () => 1_000 });
  try {
    const out = await session(path, [
      '{"execute":"qmp_capabilities"}',
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}',
      '{"execute":"nbd-server-start","arguments":{"addr":{"type":"unix","data":{"path":"nbd.sock"}}}}',
      '{"execute":"block-export-add","arguments":{"type":"nbd","id":"e0","node-name":"n0"}}',
      '{"execute":"block-export-del","arguments":{"id":"e0"}}',
    ]);
    const ev = out.find((x) => x.event);
    assert.equal(ev, { timestamp: { seconds: 1, microseconds: 0 }, event: 'BLOCK_EXPORT_DELETED', data: { id: 'e0' } });
  } finally {
    await new Promise((r) => server.close(r));
    t.done();
  }
});

test.run();
