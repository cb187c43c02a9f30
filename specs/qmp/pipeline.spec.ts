// A pipelining client on the QMP socket: requests are handed to the engine as they arrive, up
// to QMP_REQ_QUEUE_LEN_MAX (8) in flight, so their transactions share synced batches (group
// commit); replies still come in request order, each only once its records are durable, and
// refusals are logged before they are answered. Counted through the database's batch calls on
// real LevelDB, never timed.
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedStore } from '../../cli/live-store.js';
import { Engine } from '../../engine/engine.js';
import { listenQmp, serveQmp } from '../../qmp/server.js';
import { Readable, Writable } from 'node:stream';
import { openClassic } from '../../store/index.js';
import { decodeMeta, HEAD_KEY, INTENT_KEY } from '../../store/codec.js';
import { decodeIntent } from '../../engine/intent.js';
import type { EventLog } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

/**
 * Counts synced batches and keeps `durable`: the head a crash could not lose, i.e. the seq named by
 * the head meta of the last synced batch LevelDB has completed (what a crash cut right now keeps),
 * or the seq of the intent it held (intent first, the default: a crash keeps that command too, its
 * intent run again by the writer's open; docs/drills.md "Version 7").
 */
function spySyncedBatches(log: EventLog): { synced: number; durable: number } {
  const db = log.db as unknown as Record<string, unknown>;
  const orig = db._batch as (ops: { key: string; value: string }[], o: { sync?: boolean }) => Promise<void>;
  const spy = { synced: 0, durable: log.head };
  db._batch = function (this: unknown, ops: { key: string; value: string }[], o: { sync?: boolean }) {
    if (!o?.sync) return orig.call(this, ops, o);
    spy.synced++;
    const head = ops.find((op) => String(op.key).endsWith(HEAD_KEY));
    const m = head ? decodeMeta(String(head.value)) : undefined;
    const slot = ops.find((op) => String(op.key).endsWith(INTENT_KEY));
    const intent = slot ? decodeIntent(String(slot.value), 0).seq : 0;
    return orig.call(this, ops, o).then(() => {
      if (m && typeof m !== 'string') spy.durable = Math.max(spy.durable, m.seq);
      spy.durable = Math.max(spy.durable, intent);
    });
  };
  return spy;
}

/** Sends everything in one write; returns each message with the durable head when it arrived. */
async function pipelined(path: string, lines: string[], log: EventLog, spy: { durable: number }): Promise<{ msg: any; head: number; durable: number }[]> {
  const sock = connect(path);
  const got: { msg: any; head: number; durable: number }[] = [];
  let buf = '';
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('data', (b) => {
    buf += b.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) got.push({ msg: JSON.parse(line), head: log.head, durable: spy.durable });
    }
  });
  await new Promise((r) => sock.once('connect', r));
  sock.write(lines.join('\n') + '\n');
  sock.end();
  await closed;
  return got;
}

const N = 40;
function workload(): string[] {
  const lines = [JSON.stringify({ execute: 'qmp_capabilities', id: 'cap' })];
  for (let i = 0; i < N; i++) {
    lines.push(JSON.stringify({ execute: 'blockdev-add', arguments: { driver: 'null-co', 'node-name': `n${i}` }, id: i }));
    if (i % 10 === 5) lines.push(JSON.stringify({ execute: 'blockdev-del', arguments: { 'node-name': 'nosuch' }, id: `bad${i}` }));
    if (i % 10 === 7) lines.push('{"execute": "query-named-block-nodes", "arguments": {"flat": true}, "id": "q' + i + '"}');
  }
  return lines;
}

async function run(pipeline: number) {
  const t = tempDir();
  const log = await openClassic(`${t.dir}/db`);
  const engine = await Engine.open(log);
  const server = await listenQmp(engine, `${t.dir}/qmp.sock`, { reject: (p, d) => engine.reject(p, d), limits: { pipeline } });
  const spy = spySyncedBatches(log);
  try {
    const got = await pipelined(`${t.dir}/qmp.sock`, workload(), log, spy);
    const records = await log.readAll();
    return { got, records, synced: spy.synced };
  } finally {
    await server.stop();
    await log.close();
    t.done();
  }
}

test('pipelined requests share synced batches; replies in request order, each after its records are durable', async () => {
  const { got, records, synced } = await run(8);
  const replies = got.slice(1).filter((g) => !('event' in g.msg));
  const ids = workload().slice(0).map((l) => JSON.parse(l).id);
  assert.equal(replies.map((g) => g.msg.id), ids, 'one reply per request, in request order');
  // the last seq of each transaction, by its command's id (txn.begun carries the args)
  const lastSeqOf = new Map<string, number>();
  const nameOfTxn = new Map<string, string>();
  for (const r of records) {
    if (r.type === 'txn.begun') nameOfTxn.set(r.txn!, String((r.data as { args: { 'node-name': string } }).args['node-name']));
    if (r.txn && nameOfTxn.has(r.txn)) lastSeqOf.set(nameOfTxn.get(r.txn)!, r.seq);
  }
  for (const g of replies) {
    if (typeof g.msg.id !== 'number') continue;
    assert.ok('return' in g.msg, JSON.stringify(g.msg));
    const last = lastSeqOf.get(`n${g.msg.id}`)!;
    assert.ok(g.head >= last, `reply ${g.msg.id} arrived with the durable head at ${g.head}, before its record ${last}`);
    // a crash cut when the reply arrived keeps the command: its records were in a completed synced batch
    assert.ok(g.durable >= last, `reply ${g.msg.id} arrived when only seq ${g.durable} was synced, before its record ${last}`);
  }
  for (const g of replies.filter((x) => String(x.msg.id).startsWith('bad'))) {
    assert.is(g.msg.error.desc, "Failed to find node with node-name='nosuch'");
  }
  // the queries saw every add before them
  for (const g of replies.filter((x) => String(x.msg.id).startsWith('q'))) {
    const upTo = Number(String(g.msg.id).slice(1));
    assert.is(g.msg.return.length, upTo + 1, `query ${g.msg.id}`);
  }
  assert.is(records.filter((r) => r.type === 'command.rejected').length, 4, 'every refusal logged');
  assert.ok(synced < N / 2, `${synced} synced batches for ${N} pipelined commands`);
});

test('with a pipeline of 1 (one request at a time) each command is its own synced batch', async () => {
  const { got, synced } = await run(1);
  assert.is(got.slice(1).filter((g) => !('event' in g.msg)).length, workload().length);
  assert.ok(synced >= N, `${synced} synced batches for ${N} commands answered one at a time`);
});

test('replies released by one group commit leave in one write (the output is corked for the tick)', async () => {
  const t = tempDir();
  const log = await openClassic(`${t.dir}/db`);
  const engine = await Engine.open(log);
  const writes: number[] = [];
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) { writes.push(1); text += chunk; cb(); },
    writev(chunks, cb) { writes.push(chunks.length); for (const c of chunks) text += c.chunk; cb(); },
  });
  try {
    const spy = spySyncedBatches(log);
    await serveQmp(engine, Readable.from([Buffer.from(workload().join('\n') + '\n')]), out, { reject: (p, d) => engine.reject(p, d) });
    const replies = text.split('\r\n').filter(Boolean).slice(1).map((l) => JSON.parse(l)).filter((m) => !('event' in m));
    assert.equal(replies.map((m) => m.id), workload().map((l) => JSON.parse(l).id), 'every reply, in order');
    // one write for the greeting, then at most about one per synced batch
    assert.ok(writes.length <= spy.synced + 12, `${writes.length} writes for ${replies.length} replies (${spy.synced} synced batches)`);
  } finally {
    await log.close();
    t.done();
  }
});

test("blockgraph qmp's store (cli/live-store.ts) lets concurrent and pipelined commands share synced batches too", async () => {
  const t = tempDir();
  const store = await ServedStore.open(`${t.dir}/db`, { clock: () => '1970-01-01T00:00:00.000Z' });
  try {
    const spy = spySyncedBatches(store.log);
    const replies = await Promise.all(Array.from({ length: N }, (_, i) => store.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` })));
    assert.ok(replies.every((r) => 'return' in r.reply));
    assert.ok(spy.synced < N / 2, `${spy.synced} synced batches for ${N} concurrent commands`);
    // one at a time: one synced batch each
    const before = spy.synced;
    for (let i = N; i < N + 5; i++) await store.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    assert.is(spy.synced - before, 5);
    assert.is(Object.keys(store.state.A!.nodes!).length, N + 5);
  } finally {
    await store.close();
    t.done();
  }
});

test.run();
