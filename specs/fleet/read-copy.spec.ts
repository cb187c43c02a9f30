// A fleet host read in bounded memory (store/jetstream/read-copy.ts): the open hands every batch
// to a LevelDB copy on disk and its in-memory view keeps the head meta alone, counted here (the
// plain view holds every record); the copy reads back as the stream holds it and refuses writes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import type { FrameOp } from '../../store/jetstream/frame.js';
import { JetStreamLevel } from '../../store/jetstream/level.js';
import { openJetStream } from '../../store/jetstream/open.js';
import { openJetStreamReadCopy } from '../../store/jetstream/read-copy.js';
import { subjectOf } from '../../store/jetstream/url.js';
import { openMemory } from '../../store/open.js';
import { shipLog } from '../../store/jetstream/ship.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from './cluster.js';

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/read-copy');
  const test = suite('fleet/read-copy');

  test('the read copy\'s view holds one key whatever the log\'s length; the copy reads back as the stream holds it', async () => {
    const c = await cluster.get();
    const host = `rc${process.pid}`;
    // an engine's log written on the stream, with snapshots (every 50 records); a local copy
    // of its records to compare with
    const direct = await openJetStream(c.url('rc', host));
    const e = await Engine.open(direct, { clock: () => '2026-01-01T00:00:00.000Z', snapshotEvery: 50 });
    for (let i = 0; i < 400; i++) await e.execute('A', i % 2 ? 'blockdev-del' : 'blockdev-add', i % 2 ? { 'node-name': `n${i - 1}` } : { driver: 'null-co', 'node-name': `n${i}` });
    await e.execute('A', 'query-named-block-nodes', {}); // after the last snapshot's write
    const local = await openMemory();
    await shipLog(direct, local);
    await direct.close(); // after the snapshot writes queued behind the records
    const again = await openJetStream(c.url('rc', host));
    const snapSeq = (await again.latestSnapshot())!.seq;
    await again.close();
    assert.ok(snapSeq >= 350, 'snapshots in the log');

    const subject = subjectOf({ fleet: 'rc', host, store: 'log' });
    const plain = new JetStreamLevel({ servers: c.servers, subject });
    await plain.open();
    const held = (await plain.keys().all()).length;
    await plain.close();
    let sunk = 0;
    const sinking = new JetStreamLevel({ servers: c.servers, subject, sink: async (ops: FrameOp[]) => { sunk += ops.filter((o) => o.type === 'put').length; } });
    await sinking.open();
    const kept = (await sinking.keys().all()).length;
    await sinking.close();
    assert.ok(held > 400, `the plain view holds every record and snapshot (${held} keys)`);
    assert.is(kept, 1, 'the read copy\'s view holds the head meta alone');
    assert.ok(sunk >= held, `every stored key went to the copy (${sunk} puts)`);

    const copy = await openJetStreamReadCopy(c.url('rc', host), { verify: 'full' });
    try {
      assert.equal(await copy.readAll(), await local.readAll(), 'the copy is the log');
      assert.is((await copy.latestSnapshot())?.seq, snapSeq, 'and its snapshots');
      try {
        await copy.append([{ stream: 'A', type: 'node.added', at: '2026-01-01T00:00:00.000Z', data: {} }]);
        assert.unreachable('a read copy takes no writes');
      } catch (err) {
        assert.is((err as { code?: string }).code, 'BG_UNSUPPORTED');
      }
    } finally {
      await copy.close();
    }
    await local.close();
  });

  test.run();
  cluster.closing();
}
