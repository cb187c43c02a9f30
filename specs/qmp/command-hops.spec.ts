// The path of a sequential durable command through `blockgraph qmp` (issue 15), counted, never
// timed: from the socket's 'data' event to the LevelDB batch there is no microtask hop (the
// session, the served store and the engine each start the command inside the caller's turn when
// nothing is queued before it), so the fsync starts as soon as the record is encoded; and a reply
// nothing is ready behind leaves in one write() at once, with its events, not corked until the
// end of the tick (as QEMU's monitor_flush() writes it out).
import { PassThrough, Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedStore } from '../../cli/live-store.js';
import type { ModelBackend } from '../../commands/model-host.js';
import type { ExecResult } from '../../commands/model.js';
import { serveQmp } from '../../qmp/server.js';
import { tempDir } from '../engine/helpers.js';

/** An output that counts write() calls, cork() calls and the chunks that reach the stream. */
function countingOutput(): { out: Writable; writes: string[]; corks: number; text: () => string } {
  const chunks: string[] = [];
  const c = { out: undefined as unknown as Writable, writes: [] as string[], corks: 0, text: () => chunks.join('') };
  const out = new Writable({
    write(chunk: Buffer, _e, cb) { chunks.push(chunk.toString()); cb(); },
    writev(cs, cb) { chunks.push(cs.map((x) => String(x.chunk)).join('')); cb(); },
  });
  const write = out.write.bind(out);
  out.write = ((chunk: string, ...rest: unknown[]) => { c.writes.push(String(chunk)); return (write as (...a: unknown[]) => boolean)(chunk, ...rest); }) as typeof out.write;
  const cork = out.cork.bind(out);
  out.cork = () => { c.corks++; cork(); };
  c.out = out;
  return c;
}

// waits for a real fsync too (up to 10 s on a loaded machine)
const until = async (cond: () => boolean) => { for (let k = 0; k < 10000 && !cond(); k++) await new Promise((r) => setTimeout(r, k < 100 ? 0 : 1)); };

test('a request reaches the synced LevelDB batch inside its data event: no microtask hop (ServedStore, classic-level)', async () => {
  const t = tempDir();
  // (intent first, the default: the synced batch handed in the data event is the intent's, joined
  // to the record held since the last reply; a hold no timer ends on a loaded machine, whose
  // polling below may take longer than the hold's 2 ms between a reply and the next request)
  const store = await ServedStore.open(`${t.dir}/db`, { clock: () => '1970-01-01T00:00:00.000Z', snapshotEvery: 0, holdMs: 60_000 });
  try {
    const db = store.log.db as unknown as { _batch: (ops: unknown[], o: { sync?: boolean }) => Promise<void> };
    const orig = db._batch.bind(db);
    let synced = 0;
    db._batch = (ops, o) => { if (o?.sync) synced++; return orig(ops, o); };
    const input = new PassThrough();
    const o = countingOutput();
    const served = serveQmp(store, input, o.out, { now: () => 0 });
    input.emit('data', Buffer.from('{"execute": "qmp_capabilities"}\n'));
    await until(() => o.text().split('\n').length >= 3);
    const handedInTurn: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const cmd = i < 3 ? `{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n${i}"}, "id": ${i}}\n`
        : `{"execute": "blockdev-del", "arguments": {"node-name": "n${i - 3}"}, "id": ${i}}\n`;
      const before = synced;
      const lines = o.text().split('\n').length;
      input.emit('data', Buffer.from(cmd));
      handedInTurn.push(synced === before + 1); // checked before any microtask has run
      await until(() => o.text().split('\n').length > lines);
      assert.match(o.text(), new RegExp(`"return": \\{\\}, "id": ${i}\\}`));
    }
    assert.equal(handedInTurn, [true, true, true, true, true, true], 'the synced batch was handed to LevelDB before the data event returned');
    input.end();
    await served;
  } finally {
    await store.close();
    t.done();
  }
});

test('a sequential client\'s reply is one write() with its events, never corked; replies ready together still share one', async () => {
  const ev = (event: string) => ({ event, data: { x: 1 }, timestamp: { seconds: 1, microseconds: 2 } });
  let release: (() => void) | undefined;
  const backend: ModelBackend = {
    state: {},
    execute: (_p, command) => {
      const r = { reply: { return: {} }, events: command === 'x-ev' ? [ev('A'), ev('B')] : [], mutates: false, steps: [], state: {} } as unknown as ExecResult;
      // 'x-hold' replies wait until released: several then become ready together (a group commit)
      return command === 'x-hold' ? new Promise((res) => { const prev = release; release = () => { prev?.(); res(r); }; }) : Promise.resolve(r);
    },
  };
  const input = new PassThrough();
  const o = countingOutput();
  const served = serveQmp(backend, input, o.out, { now: () => 0 });
  input.write('{"execute": "qmp_capabilities"}\n');
  await until(() => o.writes.length >= 2);
  const w0 = o.writes.length;
  const c0 = o.corks;
  for (let i = 0; i < 5; i++) {
    const n = o.writes.length;
    input.write(`{"execute": "${i % 2 ? 'x-ev' : 'x-plain'}", "id": ${i}}\n`);
    await until(() => o.writes.length > n);
  }
  assert.is(o.writes.length - w0, 5, 'one write per reply');
  assert.is(o.corks - c0, 0, 'no cork for a reply nothing is ready behind');
  assert.is(o.writes[w0 + 1], '{"return": {}, "id": 1}\r\n{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "A", "data": {"x": 1}}\r\n{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "B", "data": {"x": 1}}\r\n');
  // four requests whose results come in together: corked, one chunk reaches the stream
  const chunksBefore = o.text().length;
  input.write([0, 1, 2, 3].map((i) => `{"execute": "x-hold", "id": ${10 + i}}\n`).join(''));
  await until(() => release !== undefined && o.writes.length >= w0 + 5);
  for (let k = 0; k < 50; k++) await new Promise((r) => setImmediate(r));
  release!();
  await until(() => (o.text().match(/"id": 1[0-3]/g) ?? []).length === 4);
  assert.ok(o.corks - c0 >= 1, 'replies ready together are corked into one write');
  assert.match(o.text().slice(chunksBefore), /"id": 10\}\r\n\{"return": \{\}, "id": 11\}\r\n\{"return": \{\}, "id": 12\}\r\n\{"return": \{\}, "id": 13\}/);
  input.end();
  await served;
});

test('a sequential reply is written one microtask after its result settles (the chain of earlier replies is skipped when there are none)', async () => {
  let settle: ((r: ExecResult) => void) | undefined;
  const backend: ModelBackend = {
    state: {},
    execute: () => new Promise((res) => { settle = res; }),
  };
  const input = new PassThrough();
  const o = countingOutput();
  const served = serveQmp(backend, input, o.out, { now: () => 0 });
  input.write('{"execute": "qmp_capabilities"}\n');
  await until(() => o.writes.length >= 2);
  const hops: number[] = [];
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r)); // as from a socket: the next request comes in a later turn
    settle = undefined;
    const n = o.writes.length;
    input.write(`{"execute": "x-plain", "id": ${i}}\n`);
    await until(() => settle !== undefined);
    for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r)); // the earlier reply's chain is over
    settle!({ reply: { return: {} }, events: [], mutates: false, steps: [], state: {} } as unknown as ExecResult);
    let k = 0;
    while (o.writes.length === n && k < 50) { await Promise.resolve(); k++; }
    hops.push(k);
  }
  // (the result's own reaction is the one hop; it was three: the chain of replies before it)
  assert.equal(hops, [1, 1, 1, 1], `microtasks from the result to the reply's write(): ${hops.join(', ')}`);
  input.end();
  await served;
});

test.run();
