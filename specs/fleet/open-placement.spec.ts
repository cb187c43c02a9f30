// Opening a host's store where the fleet stream cannot be created: a server without a cluster
// can never hold a replicated stream (refused at once, saying what to do), and a cluster with too
// few servers up cannot place it yet (no stream leader: the open waits as for an election, to
// `leaderWaitMs`, then BG_LOG_UNAVAILABLE). Each on a cluster of its own, with a stream name of
// its own, so nothing here touches the other fleet specs' stream.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openJetStream } from '../../store/jetstream/open.js';
import { NatsCluster } from '../../testing/nats-cluster.js';
import { natsAvailable, SKIP_NOTE } from './cluster.js';

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const test = suite('fleet/open-placement');
  const failure = async (open: Promise<unknown>): Promise<{ code?: string; message: string }> => {
    try {
      await open;
    } catch (e) {
      return e as { code?: string; message: string };
    }
    assert.unreachable('the open must fail');
    throw new Error('unreachable');
  };

  test('one server without a cluster: BG_LOG_UNAVAILABLE at once, naming the fix, not after the retry window', async () => {
    const c = await NatsCluster.start({ size: 1 });
    try {
      const t0 = performance.now();
      const e = await failure(openJetStream(c.url('placement', 'single'), { retryForMs: 10_000, leaderWaitMs: 10_000, stream: 'PLACE1' }));
      const ms = performance.now() - t0;
      assert.is(e.code, 'BG_LOG_UNAVAILABLE', e.message);
      assert.match(e.message, /without a cluster/);
      assert.match(e.message, /--replicas 1/);
      assert.ok(ms < 5000, `refused at once, not retried: ${Math.round(ms)} ms`);
    } finally {
      await c.stop();
    }
  });

  test('a stream its cluster cannot place (5 replicas on 3 servers) waits to leaderWaitMs, not only the retry window', async () => {
    const c = await NatsCluster.start();
    try {
      const t0 = performance.now();
      const e = await failure(openJetStream(c.url('placement', 'r5'), { retryForMs: 500, leaderWaitMs: 3000, replicas: 5, stream: 'PLACE5' }));
      const ms = performance.now() - t0;
      assert.is(e.code, 'BG_LOG_UNAVAILABLE', e.message);
      assert.match(e.message, /no suitable peers|insufficient resources/);
      assert.ok(ms >= 3000 && ms < 20_000, `bounded by the leader wait: ${Math.round(ms)} ms`);
    } finally {
      await c.stop();
    }
  });

  test.run();
}
