// The store conformance suite, unchanged, on the JetStream backend: a 3-node cluster on loopback,
// a stream replicated 3 times, one subject per test's store.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventLog } from '../../store/event-log.js';
import { JetStreamLevel } from '../../store/jetstream/level.js';
import { STREAM } from '../../store/jetstream/stream.js';
import { subjectOf } from '../../store/jetstream/url.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from '../fleet/cluster.js';
import { type Backend, storeConformance } from './conformance.js';

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('store/jetstream');
  let n = 0;
  storeConformance('jetstream', async (): Promise<Backend> => {
    const c = await cluster.get();
    const subject = subjectOf({ fleet: 'conformance', host: `h${process.pid}-${++n}`, store: 'log' });
    const dbs: JetStreamLevel[] = [];
    const level = async () => {
      const db = new JetStreamLevel({ servers: c.servers, subject });
      dbs.push(db);
      await db.open();
      return db;
    };
    const logs: EventLog[] = [];
    return {
      async open(opts) {
        const db = await level();
        try {
          const log = await EventLog.open(db, opts);
          logs.push(log);
          return log;
        } catch (e) {
          await db.close();
          throw e;
        }
      },
      raw: level,
      async dispose() {
        for (const l of logs) await l.close();
        for (const d of dbs) await d.close();
        const nc = await connect({ servers: c.servers });
        try {
          await (await jetstreamManager(nc)).streams.purge(STREAM, { filter: subject });
        } finally {
          await nc.close();
        }
      },
    };
  });
  cluster.closing();
}
