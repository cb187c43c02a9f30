import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QmpEvent } from '../../commands/protocol.js';
import {
  NEGOTIATION_EXPECTED, QmpWireClient, commandNotFound, decodeRequestLine, encodeEvent, encodeGreeting, encodeReply, versionString,
} from '../../qmp/wire.js';

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}';

// A peer on the other end of two pipes: answers each request line with `answer`.
function pipePeer(answer: (req: Record<string, unknown>, send: (line: string) => void) => void) {
  const toClient = new PassThrough();
  const toServer = new PassThrough();
  let buf = '';
  toServer.setEncoding('utf8');
  toServer.on('data', (s: string) => {
    buf += s;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      answer(JSON.parse(line), (l) => toClient.write(`${l}\n`));
    }
  });
  return { toClient, toServer };
}

test('greeting, negotiation, id correlation, events in order; events after a reply stay after it', async () => {
  const sent: Record<string, unknown>[] = [];
  const { toClient, toServer } = pipePeer((req, send) => {
    sent.push(req);
    if (req.execute === 'qmp_capabilities') send(`{"return": {}, "id": ${req.id}}`);
    else if (req.execute === 'poke') {
      // event, reply and another event in one chunk
      toClient.write(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "E1"}\n{"return": {"x": 1}, "id": ${req.id}}\n{"event": "E2", "data": {"a": 1}}\n`);
    } else send(`{"id": ${req.id}, "error": {"class": "CommandNotFound", "desc": "The command ${req.execute} has not been found"}}`);
  });
  const client = new QmpWireClient(toClient, toServer);
  const seen: QmpEvent[] = [];
  client.events$.subscribe((e) => seen.push(e));
  toClient.write(`${GREETING}\n`);
  await client.ready();
  assert.is(versionString(client.greeting!.QMP.version), '7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)');
  const r = await client.execute('poke', { a: 1 });
  assert.equal(r, { return: { x: 1 } });
  // the caller runs before E2 is delivered
  assert.equal(seen.map((e) => e.event), ['E1']);
  await new Promise((res) => setImmediate(res));
  assert.equal(seen.map((e) => e.event), ['E1', 'E2']);
  assert.equal(await client.execute('nope'), { error: { class: 'CommandNotFound', desc: 'The command nope has not been found' } });
  assert.equal(sent.map((s) => [s.execute, typeof s.id]), [['qmp_capabilities', 'number'], ['poke', 'number'], ['nope', 'number']]);
  assert.equal(sent[1].arguments, { a: 1 });
});

test('a peer that goes away rejects pending commands', async () => {
  const { toClient, toServer } = pipePeer(() => undefined);
  const client = new QmpWireClient(toClient, toServer, { negotiate: false, label: 'peer X' });
  toClient.write(`${GREETING}\n`);
  await client.ready();
  const p = client.execute('query-jobs');
  toClient.end();
  try { await p; assert.unreachable(); } catch (e) { assert.match((e as Error).message, /peer X closed/); }
  try { await client.execute('query-jobs'); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /peer X/); }
});

// Texts recorded from qemu-storage-daemon 7.2.22.
test('server codec: QEMU 7.2 errors for malformed input', () => {
  const err = (line: string) => {
    const d = decodeRequestLine(line);
    assert.is(d.kind, 'error', line);
    return d.kind === 'error' ? [d.error.class, d.error.desc, d.id] : [];
  };
  assert.equal(err('garbage'), ['GenericError', "JSON parse error, invalid keyword 'garbage'", undefined]);
  assert.equal(err('[1]'), ['GenericError', 'QMP input must be a JSON object', undefined]);
  assert.equal(err('42'), ['GenericError', 'QMP input must be a JSON object', undefined]);
  assert.equal(err('{"execute":1,"id":7}'), ['GenericError', "QMP input member 'execute' must be a string", 7]);
  assert.equal(err('{}'), ['GenericError', "QMP input lacks member 'execute'", undefined]);
  assert.equal(err('{"foo":1,"id":7}'), ['GenericError', "QMP input member 'foo' is unexpected", 7]);
  assert.equal(err('{"execute":"query-jobs","arguments":[]}'), ['GenericError', "QMP input member 'arguments' must be an object", undefined]);
  assert.equal(err('{"execute":"query-jobs","arguments":null}'), ['GenericError', "QMP input member 'arguments' must be an object", undefined]);
  assert.equal(err('{"a"}'), ['GenericError', 'JSON parse error, missing : in object pair', undefined]);
  assert.equal(err('{1:2}'), ['GenericError', 'JSON parse error, key is not a string in object', undefined]);
  assert.equal(err('{"a":1,}'), ['GenericError', 'JSON parse error, expecting value', undefined]);
  assert.equal(err('{"a":1 "b":2}'), ['GenericError', 'JSON parse error, expected separator in dict', undefined]);
  assert.equal(err('{"execute":"query-jobs" ]'), ['GenericError', 'JSON parse error, expected separator in dict', undefined]);
  assert.equal(err('[1,]'), ['GenericError', 'JSON parse error, expecting value', undefined]);
  assert.equal(decodeRequestLine('{"execute":"query-jobs","id":[1]}'), { kind: 'request', request: { execute: 'query-jobs', arguments: {}, id: [1] } });
  assert.equal(decodeRequestLine('{"execute":"blockdev-del","arguments":{"node-name":"a"}}'),
    { kind: 'request', request: { execute: 'blockdev-del', arguments: { 'node-name': 'a' } } });
});

test('server codec: replies, events and greeting in QEMU 7.2 member order', () => {
  assert.is(encodeReply({ return: {} }, 5), '{"return":{},"id":5}');
  assert.is(encodeReply({ error: commandNotFound('x') }, 'a'), '{"id":"a","error":{"class":"CommandNotFound","desc":"The command x has not been found"}}');
  assert.is(encodeReply({ error: NEGOTIATION_EXPECTED }), `{"error":{"class":"CommandNotFound","desc":"Expecting capabilities negotiation with 'qmp_capabilities'"}}`);
  assert.is(encodeEvent({ event: 'E', data: { id: 'x' } }, () => 1500), '{"timestamp":{"seconds":1,"microseconds":500000},"event":"E","data":{"id":"x"}}');
  assert.equal(JSON.parse(encodeGreeting({ major: 7, minor: 2, micro: 22 }, 'Debian 1:7.2+dfsg-7+deb12u18+b3')), JSON.parse(GREETING));
});

test.run();
