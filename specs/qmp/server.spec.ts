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

/** Writes raw chunks (no newline added), half-closes, and returns everything until the server closes. */
async function raw(path: string, chunks: string[], onLine?: (msg: any) => void): Promise<string> {
  const sock = connect(path);
  let text = '';
  let lineBuf = '';
  sock.on('data', (b) => {
    text += b.toString();
    lineBuf += b.toString();
    let i;
    while ((i = lineBuf.indexOf('\r\n')) >= 0) { onLine?.(JSON.parse(lineBuf.slice(0, i))); lineBuf = lineBuf.slice(i + 2); }
  });
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  await new Promise((r) => sock.once('connect', r));
  for (const c of chunks) { sock.write(c); await new Promise((r) => setTimeout(r, 2)); }
  sock.end(); // half-close: the server must answer everything sent, then close its side
  await closed;
  return text;
}

test('JSON without newlines, several per line, pretty-printed over lines, split anywhere, half-close: every reply, refusals logged first', async () => {
  const t = tempDir();
  const log = await openMemory();
  const engine = await Engine.open(log);
  const path = `${t.dir}/qmp.sock`;
  // what reached the log, seen as each append completes (the engine's own refusals too)
  const logged: string[] = [];
  const append = log.append.bind(log);
  log.append = (async (recs: any[], o: any) => {
    await new Promise((r) => setTimeout(r, 3)); // a slow log must still come first
    const out = await append(recs, o);
    for (const r of recs) if (r.type === 'command.rejected') logged.push(r.data.error.desc);
    return out;
  }) as typeof log.append;
  // the engine's own writes go through appendNow (group commit): seen once they are durable
  const appendNow = log.appendNow.bind(log);
  log.appendNow = ((recs: any[], o: any) => {
    const res = appendNow(recs, o);
    res.durable.then(() => { for (const r of recs) if (r.type === 'command.rejected') logged.push(r.data.error.desc); }, () => undefined);
    return res;
  }) as typeof log.appendNow;
  const reject = (p: string, d: Record<string, unknown> | Record<string, unknown>[]) => engine.reject(p, d);
  const server = await listenQmp(engine, path, { reject, now: () => 0 });
  const answeredBeforeLogged: string[] = [];
  try {
    const pretty = JSON.stringify({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 'n1' }, id: 'p' }, null, 4);
    const text = await raw(path, [
      '{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"}}', // before negotiation
      '{"execute":"qmp_capabilities"}{"execute":"blockdev-add","arguments":{"driver":"null-co","node-name":"n0"},"id":7}',
      pretty.slice(0, 10), pretty.slice(10, 11), pretty.slice(11),
      ' [1,2] {"execute":"blockdev-del","arguments":{"node-name":"nosuch"}}\n{"execute":"no-such-thing"}',
      '{"execute":"qmp_capabilities"}{"execute":"query-jobs","arguments":{"x":1e400}}',
      '{"execute":"query-named-block-nodes","arguments":{"flat":true},"id":"q"}',
    ], (msg) => { if (msg.error && !logged.includes(msg.error.desc)) answeredBeforeLogged.push(msg.error.desc); });
    const lines = text.split('\r\n');
    assert.is(lines.pop(), '', 'every line ends with \\r\\n');
    const out = lines.map((l) => JSON.parse(l));
    assert.ok(out[0].QMP, 'greeting');
    assert.is(lines[1], `{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`);
    assert.is(lines[2], '{"return": {}}');
    assert.is(lines[3], '{"return": {}, "id": 7}');
    assert.is(lines[4], '{"return": {}, "id": "p"}');
    assert.is(lines[5], '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}');
    assert.is(lines[6], `{"error": {"class": "GenericError", "desc": "Failed to find node with node-name='nosuch'"}}`);
    assert.is(lines[7], '{"error": {"class": "CommandNotFound", "desc": "The command no-such-thing has not been found"}}');
    assert.is(lines[8], '{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}');
    assert.is(lines[9], `{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}`);
    assert.equal(out[10].return.map((n: any) => n['node-name']), ['n1', 'n0'], 'newest first, answered after the half-close');
    assert.is(out[10].id, 'q');
    assert.is(out.length, 11);
    assert.equal(answeredBeforeLogged, [], 'no refusal answered before its record was appended');
    const recs = await log.readAll();
    const rejected = recs.filter((r) => r.type === 'command.rejected');
    assert.is(rejected.length, 6, 'every refusal is in the log');
    assert.is(new Set(recs.filter((r) => r.type === 'txn.begun').map((r) => r.txn)).size, 2);
    assert.equal(Object.keys(engine.state.A!.nodes!).sort(), ['n0', 'n1']);
    const h = stateHash(engine.state);
    await raw(path, ['{"execute":"qmp_capabilities"} not json at all {"execute":"blockdev-add","arguments":{"driver":"nope","node-name":"x"}}']);
    assert.is(stateHash(engine.state), h, 'bad input never changes graph state');
  } finally {
    await server.stop();
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
    await server.stop();
    t.done();
  }
});

test.run();
