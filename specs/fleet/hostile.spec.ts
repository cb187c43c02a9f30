// Hostile content on a host's subject: a foreign publisher writes garbage, a truncated frame, a
// batch of another host, a replayed (duplicate) batch, a part 2 without its part 1. Readers
// report each as the log damaged at the record after the good prefix (BG_LOG_CORRUPT, naming the
// stream message), as a damaged LevelDB record is reported, and never crash or show another
// host's records; a writer refuses to append after it. The level checks each batch's message id
// (subject, expected previous subject seq and frame digest) against where it stands.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogConflictError } from '../../errors/index.js';
import { EventLog } from '../../store/event-log.js';
import { JetStreamLevel } from '../../store/jetstream/level.js';
import { openJetStream } from '../../store/jetstream/open.js';
import { STREAM } from '../../store/jetstream/stream.js';
import { subjectOf } from '../../store/jetstream/url.js';
import type { NewRecord } from '../../store/types.js';
import { runCli } from '../render/helpers.js';
import { clusterForFile, natsAvailable, SKIP_NOTE } from './cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rec = (host: string, i: number): NewRecord => ({ stream: 'A', type: 'node.added', at: '2026-01-01T00:00:00.000Z', data: { host, i } });

if (!natsAvailable()) {
  console.log(SKIP_NOTE);
} else {
  const cluster = clusterForFile('fleet/hostile');
  const test = suite('fleet/hostile');
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let servers: string[];
  let url: (host: string) => string;
  let n = 0;

  test.before(async () => {
    const c = await cluster.get();
    servers = c.servers;
    url = (host) => c.url('hostile', host);
    nc = await connect({ servers });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  test.after(async () => {
    await nc.close();
  });

  const subj = (host: string) => subjectOf({ fleet: 'hostile', host, store: 'log' });
  /** A host with `count` records, one append (one message) each. */
  const seeded = async (count: number): Promise<string> => {
    const host = `h${process.pid}-${++n}`;
    const log = await openJetStream(url(host));
    for (let i = 1; i <= count; i++) await log.append([rec(host, i)]);
    await log.close();
    return host;
  };
  const messages = async (host: string): Promise<number> =>
    (await jsm.streams.info(STREAM, { subjects_filter: subj(host) })).state.subjects?.[subj(host)] ?? 0;
  /** The `nth` message on `host`'s subject, as stored: its data and headers. */
  const stored = async (host: string, nth: number) => {
    let m = await jsm.streams.getMessage(STREAM, { seq: 1, next_by_subj: subj(host) } as never);
    for (let k = 1; k < nth; k++) m = await jsm.streams.getMessage(STREAM, { seq: m!.seq + 1, next_by_subj: subj(host) } as never);
    return m!;
  };
  const publish = async (host: string, data: Uint8Array, hdrs: Record<string, string> = {}): Promise<number> => {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    const ack = await js.publish(subj(host), data, Object.keys(hdrs).length ? { headers: h } : {});
    assert.not.ok(ack.duplicate, 'the foreign message was stored');
    return ack.seq;
  };
  const expectDamaged = async (host: string, seq: number, msgSeq: number, why: RegExp): Promise<void> => {
    for (const verify of ['full', 'none'] as const) {
      try {
        const log = await openJetStream(url(host), { verify });
        await log.close();
        assert.unreachable(`a damaged subject must not open (verify ${verify})`);
      } catch (e) {
        assert.is((e as { code?: string }).code, 'BG_LOG_CORRUPT', (e as Error).message);
        assert.is((e as { seq?: number }).seq, seq, (e as Error).message);
        assert.match((e as Error).message, `message ${msgSeq}: `);
        assert.match((e as Error).message, why);
      }
    }
  };

  test('garbage after the records: BG_LOG_CORRUPT at the next seq, naming the message', async () => {
    const host = await seeded(2);
    const at = await publish(host, Buffer.from('{"hello":"world"}'));
    await expectDamaged(host, 3, at, /not a blockgraph batch/);
  });

  test('a genuine frame truncated, with its message id: reported truncated', async () => {
    const host = await seeded(2);
    const m = await stored(host, 2);
    const at = await publish(host, m.data.subarray(0, m.data.length - 7), { 'Nats-Msg-Id': `${m.header!.get('Nats-Msg-Id')}x` });
    await expectDamaged(host, 3, at, /truncated/);
  });

  test('a batch of another host copied onto this subject: reported, the other host\'s records never shown', async () => {
    const a = await seeded(3);
    const b = await seeded(1);
    const m = await stored(b, 1);
    const at = await publish(a, m.data, { 'Nats-Msg-Id': `${m.header!.get('Nats-Msg-Id')}:copy` });
    await expectDamaged(a, 4, at, new RegExp(`a batch of ${subj(b).replace(/\./g, '\\.')}, not of this store`));
  });

  test('an earlier batch of this host published again (a duplicate seq): reported, the head never goes back', async () => {
    const host = await seeded(3);
    const m = await stored(host, 2);
    // the same frame and a well-formed id of this subject (another seq range, so the server's
    // duplicate window does not drop it): it does not follow the message before it as written
    const id = m.header!.get('Nats-Msg-Id').replace(/:(\d+-\d+):/, ':99-99:');
    const at = await publish(host, m.data, { 'Nats-Msg-Id': id });
    await expectDamaged(host, 4, at, /does not follow stream seq \d+ as written/);
    // and without any id
    const host2 = await seeded(3);
    const at2 = await publish(host2, (await stored(host2, 2)).data);
    await expectDamaged(host2, 4, at2, /no message id/);
  });

  test('a part 2 without its part 1: reported', async () => {
    const host = await seeded(2);
    const m = await stored(host, 2);
    const batch = `${subj(host)}:3-3:0123456789abcdef01234567`;
    const at = await publish(host, m.data, { 'Bg-Part': '2/2', 'Bg-Batch': batch, 'Nats-Msg-Id': `${batch}/2` });
    await expectDamaged(host, 3, at, /part 2\/2 of .* without part 1/);
  });

  test('a writer refuses to append after foreign content; a new writer cannot open', async () => {
    const host = await seeded(2);
    const w = await openJetStream(url(host));
    try {
      await publish(host, Buffer.from('junk'));
      const before = await messages(host);
      for (let i = 0; i < 2; i++) {
        try {
          await w.append([rec(host, 3)], { expectedSeq: 3 });
          assert.unreachable('the append must be refused');
        } catch (e) {
          assert.instance(e, LogConflictError);
        }
      }
      assert.is(await messages(host), before, 'nothing appended after the foreign message');
    } finally {
      await w.close();
    }
    await expectDamaged(host, 3, (await jsm.streams.getMessage(STREAM, { last_by_subj: subj(host) }))!.seq, /not a blockgraph batch/);
  });

  test('the server storing a writer\'s message twice in a row (seen across a leader\'s SIGSTOP) is no damage and no conflict', async () => {
    // A stream of its own with a 200 ms duplicate window, so that the same message id and bytes
    // can be stored again right after the original, as nats-server 2.9 did for a retry.
    const name = `BGDUP${process.pid}`;
    await jsm.streams.add({ name, subjects: [`bgdup${process.pid}.>`], num_replicas: 1, duplicate_window: 200 * 1e6 } as never);
    try {
      const subject = `bgdup${process.pid}.f.h.log`;
      const open = () => EventLog.open(new JetStreamLevel({ servers, subject, stream: name }));
      const w = await open();
      await w.append([rec('d', 1)]);
      await w.append([rec('d', 2)]);
      await sleep(400);
      const m = (await jsm.streams.getMessage(name, { last_by_subj: subject }))!;
      const h = natsHeaders();
      h.set('Nats-Msg-Id', m.header!.get('Nats-Msg-Id')); // the expectation passed once already
      const ack = await js.publish(subject, m.data, { headers: h });
      assert.not.ok(ack.duplicate, 'stored a second time');
      const r = await open();
      assert.is(r.head, 2, 'the reader skips the second copy');
      await r.close();
      const [third] = await w.append([rec('d', 3)]);
      assert.is(third!.seq, 3, 'the writer follows the second copy, no conflict');
      await w.close();
      const again = await open();
      assert.is(again.head, 3);
      assert.equal(await again.verify(), { ok: true, head: 3 });
      await again.close();
    } finally {
      await jsm.streams.delete(name);
    }
  });

  test('read commands on a damaged host exit with BG_LOG_CORRUPT, no crash', async () => {
    const host = await seeded(2);
    await publish(host, Buffer.from('junk'));
    const fleet = url(host).replace(/\/[^/]+$/, '');
    for (const args of [['log'], ['audit'], ['show', '--at', '1'], ['history', 'x']]) {
      const r = await runCli(...args, '--fleet', fleet, '--host', host);
      assert.ok(r.status !== 0, `${args[0]}: exit status ${r.status}`);
      assert.match(r.stderr, /BG_LOG_CORRUPT/, `${args[0]}: ${r.stderr}`);
      assert.not.match(r.stderr, /\n\s+at /, `${args[0]}: no stack trace`);
    }
  });

  test.run();
  cluster.closing();
}
