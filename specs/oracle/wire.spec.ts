import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QmpEvent } from '../../commands/protocol.js';
import { QmpWireClient, versionString } from '../../qmp/wire.js';

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

test.run();
