// Clients that stop reading while another client's jobs send events (hostile round 10, stop 44):
// each was bounded alone (outputLimit, 16 MiB: then disconnected), so 63 of them held about
// 1 GiB of queued output and the server's RSS passed 2 GB. The server now keeps all its clients'
// unread output together under outputBudget: past it, the stalled client with the most unread is
// disconnected; a client that reads is never.
import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { listenQmp } from '../../qmp/server.js';
import { openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A negotiated client that then never reads. */
async function deaf(path: string): Promise<Socket> {
  const s = connect(path);
  s.on('error', () => undefined);
  await new Promise((r) => s.once('data', r));
  s.write('{"execute":"qmp_capabilities"}');
  await new Promise((r) => s.once('data', r));
  s.pause();
  return s;
}

test('clients that never read are disconnected once all clients together leave more than the budget unread; the reader is served throughout', async () => {
  const t = tempDir();
  const path = `${t.dir}/q.sock`;
  const notes: string[] = [];
  const budget = 1 << 20;
  const server = await listenQmp(await Engine.open(await openMemory()), path, { limits: { outputBudget: budget, outputHighWater: 64 << 10 }, note: (m) => notes.push(m) });
  try {
    const stalled = [await deaf(path), await deaf(path), await deaf(path)];
    // the reader: mirror then cancel, six events a cycle, each sent to every negotiated client
    const c = connect(path);
    let buf = '';
    const waiting: ((l: string) => void)[] = [];
    c.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (l.includes('"return"') || l.includes('"error"')) waiting.shift()?.(l);
      }
    });
    const cmd = (o: unknown) => new Promise<string>((r) => { waiting.push(r); c.write(JSON.stringify(o)); });
    await new Promise((r) => c.once('data', r));
    await cmd({ execute: 'qmp_capabilities' });
    await cmd({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 's0' } });
    await cmd({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': 't0' } });
    let maxUnread = 0;
    let cycles = 0;
    const cuts = () => notes.filter((n) => n.includes(`more than ${budget}): disconnected`));
    // (a paused client does not see its end: the server's notes and sessions tell)
    for (; cycles < 5000 && cuts().length < stalled.length; cycles++) {
      assert.ok((await cmd({ execute: 'blockdev-mirror', arguments: { 'job-id': 'm', device: 's0', target: 't0', sync: 'full' } })).includes('"return"'));
      assert.ok((await cmd({ execute: 'job-cancel', arguments: { id: 'm' } })).includes('"return"'));
      let total = 0;
      for (const s of server.sessions) if (!s.isClosed) total += s.unread;
      maxUnread = Math.max(maxUnread, total);
      await tick();
    }
    assert.is(cuts().length, 3, `every non-reader disconnected (after ${cycles} cycles): ${notes.join(' | ')}`);
    assert.is(server.sessions.size, 1, 'the reader alone is left');
    // each cut long before a client's own 16 MiB bound
    for (const n of cuts()) assert.ok(Number(/\((\d+) bytes queued/.exec(n)![1]) < budget + (64 << 10), n);
    // the budget is checked each time a stalled client's unread output grows by 256 KiB: past
    // it by at most that step per client (and an answer's events), never by a client's 16 MiB
    assert.ok(maxUnread < budget + stalled.length * (256 << 10) + (64 << 10), `${maxUnread} bytes unread at most`);
    // the reader keeps its place and its answers
    assert.ok((await cmd({ execute: 'query-version' })).includes('"return"'));
    c.destroy();
    for (const s of stalled) s.destroy();
  } finally {
    await server.stop();
    t.done();
  }
});

test.run();
