// What an engine command costs on the stream, counted (not timed): messages the client sends
// (publishes and API requests: each is one round trip) and messages stored on the host's subject.
// The log's format version 4 writes a transaction as one record in one synced batch, and the
// level publishes a batch as one message with the expected last subject seq: a command is one
// acknowledged publish, one round trip to the stream leader and its quorum. Pipelined commands
// share the log's group commit, so they share publishes.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openJetStream } from '../../store/jetstream/open.js';
import { STREAM } from '../../store/jetstream/stream.js';
import { subjectOf } from '../../store/jetstream/url.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from './cluster.js';

const add = (i: number): [string, Record<string, unknown>] => (i % 2 ? ['blockdev-del', { 'node-name': `n${i - 1}` }] : ['blockdev-add', { driver: 'null-co', 'node-name': `n${i}` }]);

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/command-cost');
  const test = suite('fleet/command-cost');

  const onSubject = async (servers: string[], host: string): Promise<number> => {
    const nc = await connect({ servers });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(STREAM, { subjects_filter: subjectOf({ fleet: 'cost', host, store: 'log' }) });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    } finally {
      await nc.close();
    }
  };

  test('a sequential engine command is one record, one stored message, one round trip', async () => {
    const c = await cluster.get();
    const nc = await connect({ servers: c.servers });
    const log = await openJetStream(c.url('cost', 'seq'), { nc });
    try {
      const e = await Engine.open(log, { clock: () => '2026-01-01T00:00:00.000Z', snapshotEvery: 1000 });
      const s0 = nc.stats();
      const h0 = log.head;
      const N = 40;
      for (let i = 0; i < N; i++) await e.execute('A', ...add(i));
      const s1 = nc.stats();
      assert.is(log.head - h0, N, 'records per command: 1');
      assert.is(await onSubject(c.servers, 'seq'), N, 'messages stored per command: 1');
      assert.is(s1.outMsgs - s0.outMsgs, N, 'messages sent per command: 1 (the publish; no API request)');
      assert.is(s1.inMsgs - s0.inMsgs, N, 'replies per command: 1 (its acknowledgement)');
    } finally {
      await log.close();
      await nc.close();
    }
  });

  test('pipelined commands share publishes (the log\'s group commit): never more than one per command', async () => {
    const c = await cluster.get();
    const nc = await connect({ servers: c.servers });
    const log = await openJetStream(c.url('cost', 'pipe'), { nc });
    try {
      const e = await Engine.open(log, { clock: () => '2026-01-01T00:00:00.000Z' });
      const s0 = nc.stats();
      const N = 40;
      await Promise.all(Array.from({ length: N }, (_, i) => e.execute('A', ...add(i))));
      const sent = nc.stats().outMsgs - s0.outMsgs;
      assert.is(log.head, N);
      if (process.env.COST_VERBOSE) console.log(`pipelined: ${sent} publishes for ${N} commands`);
      assert.ok(sent < N, `${sent} publishes for ${N} pipelined commands`);
      assert.is(await onSubject(c.servers, 'pipe'), sent);
    } finally {
      await log.close();
      await nc.close();
    }
  });

  test.run();
  cluster.closing();
}
