// Connections that never speak (scripts/hostile-socket.ts idle: 10 000 of them). Every place
// taken by a client that has not negotiated locked every real client out for as long as they
// stayed; now the oldest silent one past the grace gives its place up to a newcomer, and a
// negotiated client (idle or not) keeps its place.
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

/** A client: what it was sent, and whether the server closed it. */
function client(path: string) {
  const s: Socket = connect(path);
  let text = '';
  let closed = false;
  s.on('data', (b) => { text += b; });
  s.on('error', () => undefined);
  s.on('close', () => { closed = true; });
  return {
    s,
    get text() { return text; },
    get closed() { return closed; },
    greeted: async () => { for (let i = 0; i < 200 && !text.includes('\r\n') && !closed; i++) await new Promise((r) => setTimeout(r, 10)); return text.includes('"QMP"'); },
    lines: async (n: number) => { for (let i = 0; i < 300 && text.split('\r\n').length - 1 < n; i++) await new Promise((r) => setTimeout(r, 10)); return text.split('\r\n').slice(0, -1); },
    settle: () => new Promise((r) => setTimeout(r, 100)),
  };
}

test('a full server: the oldest silent client past the grace gives its place up; negotiated clients keep theirs', async () => {
  const t = tempDir();
  let now = 1_000_000;
  const notes: string[] = [];
  const server = await listenQmp(await Engine.open(await openMemory()), `${t.dir}/q.sock`, { maxClients: 3, maxWaiting: 0, now: () => now, note: (m) => notes.push(m) });
  try {
    const path = `${t.dir}/q.sock`;
    const talker = client(path);
    assert.ok(await talker.greeted());
    talker.s.write('{"execute":"qmp_capabilities"}');
    await talker.lines(2);
    now += 1000;
    const silent1 = client(path); assert.ok(await silent1.greeted());
    now += 1000;
    const silent2 = client(path); assert.ok(await silent2.greeted());
    // full, and nobody silent for 10 s yet: the newcomer is refused, as before
    const early = client(path);
    await early.settle();
    assert.ok(early.closed && !early.text, 'refused while the silent ones are within their grace');
    now += 10_000;
    const late = client(path);
    assert.ok(await late.greeted(), 'served once the oldest silent client is past the grace');
    await silent1.settle();
    assert.ok(silent1.closed, 'the oldest silent client gave its place up');
    assert.not.ok(silent2.closed);
    assert.not.ok(talker.closed, 'a negotiated client keeps its place');
    assert.ok(notes.some((n) => /evicted: connected 11 s ago without negotiating/.test(n)), notes.join(' | '));
    // the newcomer is a full client
    late.s.write('{"execute":"qmp_capabilities"}{"execute":"query-version"}');
    const l = await late.lines(3);
    assert.match(l[2]!, /"return": \{"qemu"/);
    // the negotiated talker and the new one: silent2 goes next, never the negotiated ones
    now += 60_000;
    const next = client(path);
    assert.ok(await next.greeted());
    await silent2.settle();
    assert.ok(silent2.closed);
    assert.not.ok(talker.closed);
    assert.not.ok(late.closed);
    // three negotiated clients: a newcomer is refused however long they have been idle
    next.s.write('{"execute":"qmp_capabilities"}');
    await next.lines(2);
    now += 3_600_000;
    const refused = client(path);
    await refused.settle();
    assert.ok(refused.closed && !refused.text);
    for (const c of [talker, late, next]) c.s.destroy();
  } finally {
    await server.stop();
    t.done();
  }
});

test('a full server of negotiated clients: the one that stopped reading, with the most output unread past its bound, gives its place up; readers keep theirs', async () => {
  const t = tempDir();
  const notes: string[] = [];
  const server = await listenQmp(await Engine.open(await openMemory()), `${t.dir}/q.sock`, { maxClients: 3, maxWaiting: 0, note: (m) => notes.push(m) });
  try {
    const path = `${t.dir}/q.sock`;
    const [reader, slow, deaf] = [client(path), client(path), client(path)];
    for (const c of [reader, slow, deaf]) {
      assert.ok(await c.greeted());
      c.s.write('{"execute":"qmp_capabilities"}');
      await c.lines(2);
    }
    // two stop reading and ask for more than the bound: 110 KB schemas, version replies
    slow.s.pause();
    deaf.s.pause();
    slow.s.write('{"execute":"query-version"}'.repeat(6000));
    deaf.s.write('{"execute":"query-qmp-schema"}'.repeat(12));
    const sessions = [...server.sessions]; // in connection order: reader, slow, deaf
    for (let i = 0; i < 1000 && !(sessions[1]!.stalled && sessions[2]!.stalled); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sessions[1]!.stalled && sessions[2]!.stalled, 'both are past the bound');
    assert.not.ok(sessions[0]!.stalled);
    // the one with the most unread output goes first (past the bound, each by part of one reply)
    const [first, then] = sessions[2]!.unread >= sessions[1]!.unread ? [sessions[2]!, sessions[1]!] : [sessions[1]!, sessions[2]!];
    const newcomer = client(path);
    assert.ok(await newcomer.greeted(), 'served: a non-reader gave its place up');
    assert.ok(first.isClosed, 'the one with the most unread output went');
    assert.not.ok(then.isClosed);
    assert.not.ok(reader.closed, 'a client that reads keeps its place');
    assert.ok(notes.some((n) => /evicted: \d+ bytes of its output unread \(it stopped reading\), and 3 clients are connected/.test(n)), notes.join(' | '));
    newcomer.s.write('{"execute":"qmp_capabilities"}{"execute":"query-version"}');
    assert.match((await newcomer.lines(3))[2]!, /"return": \{"qemu"/);
    // the reader, idle, is never evicted: the next newcomer takes the other non-reader's place, then none
    const second = client(path);
    assert.ok(await second.greeted());
    assert.ok(then.isClosed);
    // the non-readers' sockets were closed: once they read, they see their end
    for (const c of [slow, deaf]) c.s.resume();
    for (let i = 0; i < 300 && !(slow.closed && deaf.closed); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(slow.closed && deaf.closed);
    second.s.write('{"execute":"qmp_capabilities"}');
    await second.lines(2);
    const refused = client(path);
    await refused.settle();
    assert.ok(refused.closed && !refused.text, 'three clients that read: a newcomer is refused');
    assert.not.ok(reader.closed);
    for (const c of [reader, newcomer, second]) c.s.destroy();
  } finally {
    await server.stop();
    t.done();
  }
});

test.run();
