// `npm run bench:fleet`: the fleet backend in one run, every figure next to local classic-level
// sync appends measured in the same run (ratios, so the machine's speed cancels out):
//   1. direct appends through JetStream, R1 (one server) and R3 (3-node cluster), per append and
//      per engine command, against EventLog on classic-level with sync: true;
//   2. ship throughput of a BENCH_FLEET_RECORDS-record log (default 1,000,000);
//   3. fleet replay of 10 hosts (open + fold of each host's log from the stream), against the same
//      logs replayed from local LevelDB;
//   4. the aggregate: 10 hosts running engine commands at once on the R3 cluster.
// Writes bench/FLEET.md. Servers are local child processes on loopback (testing/nats-cluster.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine/engine.js';
import { replay } from '../replay/replay.js';
import type { EventLog } from '../store/index.js';
import { openClassic } from '../store/index.js';
import { openJetStream } from '../store/jetstream/open.js';
import { shipLog } from '../store/jetstream/ship.js';
import { NatsCluster } from '../testing/nats-cluster.js';
import { benchRecord } from './store.js';

const RECORDS = Number(process.env.BENCH_FLEET_RECORDS ?? 1_000_000);
const APPENDS = Number(process.env.BENCH_FLEET_APPENDS ?? 2000);
const COMMANDS = Number(process.env.BENCH_FLEET_COMMANDS ?? 300);
const HOSTS = 10;

const root = mkdtempSync(join(tmpdir(), 'bg-bench-fleet-'));
const lines: string[] = [];
const out = (s: string) => { console.log(s); lines.push(s); };
const k = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;

/** n appends of `batch` records each, sync; appends/s. */
async function appendRate(log: EventLog, n: number, batch: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await log.append(Array.from({ length: batch }, (_, j) => benchRecord(i * batch + j)), { sync: true });
  return n / ((performance.now() - t0) / 1000);
}

/** n engine commands (blockdev-add/del of a null-co node); commands/s. */
async function commandRate(log: EventLog, n: number): Promise<number> {
  const e = await Engine.open(log, { clock: () => '2026-01-01T00:00:00.000Z', snapshotEvery: 0 }); // as RESULTS's earlier rows
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await e.execute('A', i % 2 ? 'blockdev-del' : 'blockdev-add', i % 2 ? { 'node-name': `n${i - 1}` } : { driver: 'null-co', 'node-name': `n${i}` });
  }
  return n / ((performance.now() - t0) / 1000);
}

const r3 = await NatsCluster.start();
const r1 = await NatsCluster.start({ size: 1 });
try {
  out(`# Fleet benchmark (JetStream)\n\nMeasured by \`npm run bench:fleet\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, nats-server 2.9 on loopback (client and servers share the machine). Ratios are to local classic-level sync appends measured in the same run.\n`);

  out('## 1. Direct appends (sync, one append = one batch = one JetStream message)\n');
  out('| store | appends/s, 1 record | appends/s, 5 records | engine commands/s | ratio to classic-level (5 records) |');
  out('|---|---|---|---|---|');
  const stores: Array<[string, (name: string) => Promise<EventLog>]> = [
    ['classic-level, sync', (name) => openClassic(join(root, name))],
    ['JetStream R1 (1 server)', (name) => openJetStream(r1.url('bench', name), { replicas: 1 })],
    ['JetStream R3 (3 servers)', (name) => openJetStream(r3.url('bench', name))],
  ];
  let base5 = 0;
  for (const [label, open] of stores) {
    const id = label.replace(/\W+/g, '');
    let log = await open(`${id}a1`);
    const one = await appendRate(log, APPENDS, 1);
    await log.close();
    log = await open(`${id}a5`);
    const five = await appendRate(log, APPENDS, 5);
    await log.close();
    log = await open(`${id}cmd`);
    const cmds = await commandRate(log, COMMANDS);
    await log.close();
    if (!base5) base5 = five;
    out(`| ${label} | ${k(one)} | ${k(five)} | ${k(cmds)} | ${pct(five, base5)} |`);
  }

  out(`\n## 2. Ship a ${k(RECORDS)}-record log (R3, 500 records per message)\n`);
  const localDir = join(root, 'ship-src');
  let local = await openClassic(localDir);
  const tw = performance.now();
  for (let i = 0; i < RECORDS; i += 1000) await local.append(Array.from({ length: Math.min(1000, RECORDS - i) }, (_, j) => benchRecord(i + j)));
  const writeRate = RECORDS / ((performance.now() - tw) / 1000);
  await local.close();
  local = await openClassic(localDir, { verify: 'none' });
  const remote = await openJetStream(r3.url('bench', 'shipped'), { verify: 'none', retain: 'head' });
  const rss0 = process.memoryUsage().rss;
  const ts = performance.now();
  const shipped = await shipLog(local, remote, { batch: 500 });
  const shipRate = shipped.shipped / ((performance.now() - ts) / 1000);
  const rss1 = process.memoryUsage().rss;
  await remote.close();
  await local.close();
  out('| what | records/s | ratio to writing the log locally (1000-record batches, no sync) |');
  out('|---|---|---|');
  out(`| write the local log | ${k(writeRate)} | 100% |`);
  out(`| ship it to the fleet stream | ${k(shipRate)} | ${pct(shipRate, writeRate)} |`);
  out(`\nShipper memory: RSS ${k(rss0 / 2 ** 20)} MiB before, ${k(rss1 / 2 ** 20)} MiB after (the fleet copy's view keeps only its head).`);

  out(`\n## 3. Fleet replay of ${HOSTS} hosts (${COMMANDS} engine commands each)\n`);
  for (let h = 0; h < HOSTS; h++) {
    const log = await openClassic(join(root, `host${h}`));
    await commandRate(log, COMMANDS);
    const remoteH = await openJetStream(r3.url('replay', `host${h}`), { verify: 'none', retain: 'head' });
    await shipLog(log, remoteH);
    await remoteH.close();
    await log.close();
  }
  let records = 0;
  const tl = performance.now();
  for (let h = 0; h < HOSTS; h++) {
    const log = await openClassic(join(root, `host${h}`));
    records += (await replay(log, { fromScratch: true })).seq;
    await log.close();
  }
  const localMs = performance.now() - tl;
  const tf = performance.now();
  for (let h = 0; h < HOSTS; h++) {
    const log = await openJetStream(r3.url('replay', `host${h}`));
    await replay(log, { fromScratch: true });
    await log.close();
  }
  const fleetMs = performance.now() - tf;
  out('| source | records | ms | records/s | ratio to local |');
  out('|---|---|---|---|---|');
  out(`| ${HOSTS} local LevelDB stores | ${k(records)} | ${k(localMs)} | ${k(records / (localMs / 1000))} | 100% |`);
  out(`| ${HOSTS} hosts from the fleet stream (open, verify, fold) | ${k(records)} | ${k(fleetMs)} | ${k(records / (fleetMs / 1000))} | ${pct(localMs, fleetMs)} |`);

  out(`\n## 4. Aggregate: ${HOSTS} hosts running engine commands at once on R3\n`);
  const logs = await Promise.all(Array.from({ length: HOSTS }, (_, h) => openJetStream(r3.url('load', `host${h}`))));
  const ta = performance.now();
  const rates = await Promise.all(logs.map((l) => commandRate(l, COMMANDS)));
  const aggMs = performance.now() - ta;
  for (const l of logs) await l.close();
  const agg = (HOSTS * COMMANDS) / (aggMs / 1000);
  out('| hosts | commands/s per host (mean) | commands/s, cluster total |');
  out('|---|---|---|');
  out(`| ${HOSTS} | ${k(rates.reduce((a, b) => a + b, 0) / HOSTS)} | ${k(agg)} |`);
  writeFileSync(new URL('./FLEET.md', import.meta.url), lines.join('\n') + '\n');
} finally {
  await r3.stop();
  await r1.stop();
  rmSync(root, { recursive: true, force: true });
}
