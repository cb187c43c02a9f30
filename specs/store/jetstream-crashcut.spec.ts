// Atomicity of a batch bigger than one message: the writer sends parts 1..n, and a reader applies
// the batch only once part n is there. Here the writer's connection is cut after each possible
// part k < n (its requests stop reaching the server, as when the process dies): a reopened store
// shows none of that batch, verifies, and the next append continues the chain.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EventLog } from '../../store/event-log.js';
import { JetStreamLevel } from '../../store/jetstream/level.js';
import { subjectOf } from '../../store/jetstream/url.js';
import type { NewRecord } from '../../store/types.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from '../fleet/cluster.js';

const rec = (i: number): NewRecord => ({ stream: 'A', type: 'node.added', at: '2024-01-01T00:00:00.000Z', data: { i, pad: 'x'.repeat(200) } });
const recs = (from: number, n: number): NewRecord[] => Array.from({ length: n }, (_, k) => rec(from + k));

/** A connection whose requests fail once `budget` of them have gone out (a writer that died). */
function cutAfter(nc: NatsConnection, budget: { left: number }): NatsConnection {
  const cut = Object.create(nc) as NatsConnection;
  cut.request = ((subj: string, data: unknown, opts: unknown) => {
    if (subj.startsWith('blockgraph.') && budget.left-- <= 0) return Promise.reject(new Error('connection cut'));
    return nc.request(subj, data as never, opts as never);
  }) as NatsConnection['request'];
  return cut;
}

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('store/jetstream-crashcut');
  const test = suite('store/jetstream: a batch in parts is all or nothing');
  const PART = 4096;

  test('a multi-part batch round-trips and verifies', async () => {
    const c = await cluster.get();
    const subject = subjectOf({ fleet: 'crashcut', host: `big${process.pid}`, store: 'log' });
    const db = new JetStreamLevel({ servers: c.servers, subject, maxPartBytes: PART });
    const log = await EventLog.open(db);
    const out = await log.append(recs(1, 100));
    assert.ok(db.lastSubjectSeq >= 6, `the batch went in several messages (${db.lastSubjectSeq})`);
    await log.close();
    const again = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject }));
    assert.equal(await again.readAll(), out);
    assert.equal(await again.verify(), { ok: true, head: 100 });
    await again.close();
  });

  test('cut after part k of n (every k): nothing of the batch is visible; the chain goes on', async () => {
    const c = await cluster.get();
    const nc = await connect({ servers: c.servers });
    try {
      // How many parts does the batch take? Count on a scratch subject.
      const probe = new JetStreamLevel({ servers: c.servers, subject: subjectOf({ fleet: 'crashcut', host: `probe${process.pid}`, store: 'log' }), maxPartBytes: PART });
      const probeLog = await EventLog.open(probe);
      await probeLog.append(recs(1, 3));
      const before = probe.lastSubjectSeq;
      await probeLog.append(recs(4, 60));
      const parts = probe.lastSubjectSeq - before;
      await probeLog.close();
      assert.ok(parts >= 3, `batch in ${parts} parts`);

      for (let k = 1; k < parts; k++) {
        const subject = subjectOf({ fleet: 'crashcut', host: `cut${process.pid}-${k}`, store: 'log' });
        const seedLog = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject, maxPartBytes: PART }));
        const seeded = await seedLog.append(recs(1, 3));
        await seedLog.close();

        const budget = { left: k };
        const dying = new JetStreamLevel({ nc: cutAfter(nc, budget), subject, maxPartBytes: PART, retryForMs: 50, leaderWaitMs: 50 });
        const log = await EventLog.open(dying);
        try {
          await log.append(recs(4, 60));
          assert.unreachable(`cut after part ${k}: append should fail`);
        } catch (e) {
          assert.is((e as { code?: string }).code, 'BG_LOG_UNAVAILABLE', (e as Error).message);
        }
        assert.is(log.head, 3, 'the failed append moved nothing');
        await log.close();

        const reader = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject }));
        assert.is(reader.head, 3, `cut after part ${k}: the partial batch is not visible`);
        assert.equal(await reader.readAll(), seeded);
        const [next] = await reader.append([rec(99)], { expectedSeq: 4 });
        assert.is(next!.prevHash, seeded[2]!.hash);
        await reader.close();
        const again = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject }));
        assert.equal(await again.verify(), { ok: true, head: 4 });
        await again.close();
      }
    } finally {
      await nc.close();
    }
  });

  test('a huge record (over max_payload) goes in parts and reads back', async () => {
    const c = await cluster.get();
    const subject = subjectOf({ fleet: 'crashcut', host: `huge${process.pid}`, store: 'log' });
    const log = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject }));
    const [r] = await log.append([{ ...rec(1), data: { blob: 'y'.repeat(3 * 1024 * 1024) } }]);
    await log.close();
    const again = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject }));
    assert.equal(await again.readAll(), [r!]);
    await again.close();
  });

  test('foreign garbage on a host subject: open reports BG_LOG_CORRUPT naming the message, writes nothing', async () => {
    const c = await cluster.get();
    const subject = subjectOf({ fleet: 'crashcut', host: `junk${process.pid}`, store: 'log' }).replace(/\.log$/, '.l');
    const nc = await connect({ servers: c.servers });
    try {
      const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const count = async (subj: string) => (await jsm.streams.info('BLOCKGRAPH', { subjects_filter: subj })).state.subjects?.[subj] ?? 0;
      for (const [k, junk] of [Buffer.from('not a frame'), Buffer.concat([Buffer.from('BGB1'), Buffer.from([0, 0, 0, 9, 1, 0, 0])])].entries()) {
        const subj = `${subject}${k}`;
        const seeded = await EventLog.open(new JetStreamLevel({ servers: c.servers, subject: subj }));
        await seeded.append(recs(1, 2));
        await seeded.close();
        const ack = await js.publish(subj, junk);
        const db = new JetStreamLevel({ servers: c.servers, subject: subj });
        try {
          await db.open();
          assert.unreachable('garbage must not open');
        } catch (e) {
          const err = (e as { cause?: unknown }).cause ?? e;
          assert.is((err as { code?: string }).code, 'BG_LOG_CORRUPT');
          assert.match((err as Error).message, new RegExp(`message ${ack.seq}: (not a blockgraph batch|truncated)`));
        }
        assert.is(await count(subj), 2, 'the failed open wrote nothing');
      }
    } finally {
      await nc.close();
    }
  });

  test.run();
  cluster.closing();
}
