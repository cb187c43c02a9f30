// QMP under load (scripts/hostile-qmp-load.ts, docs/hostile.md "Stop 35"), small: more clients at
// once than the server has places. They were closed unanswered past maxClients (200 at once: 63
// served, 137 closed); now they wait, not greeted, as QEMU's chardev leaves them in the listen
// backlog, and are greeted in turn as places free. The wait is bounded in number and in time.
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** connect, negotiate, query-version, leave: resolves with what it got or how it ended. */
function roundTrip(path: string, holdMs = 0, early = false): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = connect(path);
    // a client that does not wait for its greeting (socat, a script): kept for it while it waits
    if (early) s.write('{"execute":"qmp_capabilities"}{"execute":"query-version","id":1}');
    let text = '';
    let greeted = false;
    s.on('data', (d) => {
      text += d;
      if (!greeted && text.includes('\r\n')) { greeted = true; if (!early) s.write('{"execute":"qmp_capabilities"}{"execute":"query-version","id":1}'); }
      if (text.includes('"id": 1')) setTimeout(() => { s.destroy(); resolve('served'); }, holdMs);
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(greeted ? 'cut' : 'closed unanswered'));
  });
}

test('12 clients at once on 3 places: every one is served, in turn', async () => {
  const t = tempDir();
  const notes: string[] = [];
  const path = `${t.dir}/q.sock`;
  const server = await listenQmp(await Engine.open(await openMemory()), path, { maxClients: 3, note: (m) => notes.push(m) });
  try {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => roundTrip(path, 20, i % 2 === 1)));
    assert.equal(results.filter((r) => r === 'served').length, 12, `${results.join(', ')} | ${notes.join(' | ')}`);
  } finally {
    await server.stop();
    t.done();
  }
});

test('the wait is bounded: past maxWaiting a newcomer is refused, past waitMs a waiting one is closed; both reported', async () => {
  const t = tempDir();
  const notes: string[] = [];
  const path = `${t.dir}/q.sock`;
  const server = await listenQmp(await Engine.open(await openMemory()), path, { maxClients: 1, maxWaiting: 1, waitMs: 300, note: (m) => notes.push(m) });
  try {
    // the one place: a negotiated client that stays
    const holder = connect(path);
    holder.on('error', () => undefined);
    await new Promise<void>((r) => holder.once('data', () => { holder.write('{"execute":"qmp_capabilities"}'); r(); }));
    await sleep(50);
    const waiter = roundTrip(path);
    await sleep(50);
    const third = roundTrip(path);
    assert.is(await third, 'closed unanswered');
    assert.ok(notes.some((n) => n === 'QMP client refused: 1 clients already connected and 1 waiting'), notes.join(' | '));
    assert.is(await waiter, 'closed unanswered');
    assert.ok(notes.some((n) => n === 'QMP client refused: waited 0.3 s for one of 1 places'), notes.join(' | '));
    // the place frees: the next newcomer is greeted at once
    holder.destroy();
    await sleep(50);
    assert.is(await roundTrip(path), 'served');
  } finally {
    await server.stop();
    t.done();
  }
});

test('a waiting client that gives up frees its slot in the wait; stop() closes the waiting ones', async () => {
  const t = tempDir();
  const path = `${t.dir}/q.sock`;
  const server = await listenQmp(await Engine.open(await openMemory()), path, { maxClients: 1, maxWaiting: 1, note: () => undefined });
  const holder = connect(path);
  holder.on('error', () => undefined);
  await new Promise<void>((r) => holder.once('data', () => r()));
  const quitter = connect(path);
  quitter.on('error', () => undefined);
  await sleep(50);
  quitter.destroy();
  await sleep(50);
  const w = roundTrip(path); // takes the freed slot in the wait, not refused
  await sleep(50);
  holder.destroy();
  assert.is(await w, 'served');
  const held = connect(path);
  held.on('error', () => undefined);
  const h2 = connect(path); // waits behind `held`
  h2.on('error', () => undefined);
  let h2closed = false;
  h2.on('close', () => { h2closed = true; });
  await sleep(50);
  await server.stop();
  await sleep(20);
  assert.ok(h2closed, 'stop() closed the waiting connection');
  held.destroy();
  t.done();
});

test("a waiting client that sends its requests and half-closes (socat's one-shot) is answered when its turn comes", async () => {
  const t = tempDir();
  const path = `${t.dir}/q.sock`;
  const server = await listenQmp(await Engine.open(await openMemory()), path, { maxClients: 1, note: () => undefined });
  try {
    const holder = connect(path);
    holder.on('error', () => undefined);
    await new Promise<void>((r) => holder.once('data', () => r()));
    const oneShot = connect(path, () => {
      oneShot.end('{"execute":"qmp_capabilities"}{"execute":"query-version","id":1}');
    });
    let text = '';
    oneShot.on('data', (d) => { text += d; });
    oneShot.on('error', () => undefined);
    const closed = new Promise<void>((r) => oneShot.on('close', () => r()));
    await sleep(100);
    assert.is(text, '', 'not greeted while it waits');
    holder.destroy();
    await closed;
    const lines = text.split('\r\n').filter(Boolean);
    assert.is(lines.length, 3, text);
    assert.match(lines[0]!, /^\{"QMP"/);
    assert.is(lines[1], '{"return": {}}');
    assert.match(lines[2]!, /^\{"return": \{"qemu".*"id": 1\}$/);
  } finally {
    await server.stop();
    t.done();
  }
});

test.run();
