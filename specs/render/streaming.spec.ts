// Streaming reads on long logs: `history NODE` through the log's node index (written in the
// same batch as the records) instead of a scan, and audit rows handed out as soon as they are
// final. Expected values come from the pure functions over the whole record list (nodeHistory,
// auditRows), which the render specs check against hand-derived QEMU behaviour.
import { endsTxn } from '../../events/index.js';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuditGrouper, auditRows } from '../../replay/audit.js';
import { historyFromLog, nodeHistory, type HistoryEntry } from '../../replay/history.js';
import { sublevelsOf } from '../../store/codec.js';
import { EventLog, openClassic, openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory } from './helpers.js';

const NODES = ['n0', 'top', 'mid', 'base', 'basef', 'cor', 'nosuch'];

async function collect(it: AsyncIterable<HistoryEntry>): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** Counts records read by range reads (scans) on one log. */
function countScans(log: EventLog): { records: number } {
  const c = { records: 0 };
  const orig = log.readChunks.bind(log);
  log.readChunks = async function* (range) {
    for await (const chunk of orig(range)) {
      c.records += chunk.length;
      yield chunk;
    }
  };
  return c;
}

test('history through the index equals the scan, without reading the log range by range', async () => {
  const log = await openMemory();
  await recordHistory(log);
  const all = await log.readAll();
  const scans = countScans(log);
  for (const node of NODES) {
    for (const proc of [undefined, 'A', 'B']) {
      assert.equal(await collect(historyFromLog(log, node, proc)), nodeHistory(all, node, proc), `${node} ${proc ?? '*'}`);
    }
  }
  assert.ok(nodeHistory(all, 'n0').some((e) => e.type === 'txn.compensated'), 'the history includes a recovery');
  assert.is(scans.records, 0, 'no record was read by a scan: the index covers the whole log');
  await log.close();
});

test('a log written before the index (or by a writer without it) is scanned where the index does not cover it', async () => {
  const t = tempDir();
  try {
    const loc = `${t.dir}/db`;
    let log = await openClassic(loc);
    const h = await recordHistory(log);
    const half = h.marks.cut!;
    await log.close();
    // Forget the index as an older blockgraph would never have written it.
    const raw = new ClassicLevel<string, string>(loc, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await raw.open();
    const subs = sublevelsOf(raw as never);
    await raw.batch((await raw.keys({ gte: subs.nidxPrefix, lt: subs.nidxPrefix + '\uffff' }).all()).map((key) => ({ type: 'del' as const, key })));
    await raw.del(subs.metaNidxKey);
    await raw.close();
    log = await openClassic(loc);
    assert.is(await log.indexCoverage(), undefined);
    const all = await log.readAll();
    for (const node of NODES) assert.equal(await collect(historyFromLog(log, node)), nodeHistory(all, node), `unindexed: ${node}`);
    // New appends are indexed from here on; the older part is still scanned.
    const more = await log.readAll({ gte: 1, lte: half });
    await log.append(more.filter((r) => r.type === 'command.rejected').map((r) => ({ stream: r.stream, type: r.type, at: r.at, data: r.data })));
    const cov = await log.indexCoverage();
    assert.ok(cov && cov.from === all.length + 1 && cov.to === log.head, JSON.stringify(cov));
    const all2 = await log.readAll();
    const scans = countScans(log);
    for (const node of NODES) assert.equal(await collect(historyFromLog(log, node)), nodeHistory(all2, node), `partly indexed: ${node}`);
    assert.ok(scans.records > 0, 'the unindexed prefix is scanned');
    await log.close();
  } finally {
    t.done();
  }
});

test('a refused append writes no index entry either', async () => {
  const log = await openMemory();
  await recordHistory(log);
  const subs = sublevelsOf(log.db);
  const count = async () => (await log.db.keys({ gte: subs.nidxPrefix, lt: subs.nidxPrefix + '\uffff' }).all()).length;
  const before = await count();
  assert.ok(before > 0);
  const head = log.head;
  const bad = [
    { stream: 'A', type: 'txn.step', at: 'x', txn: 't1', data: { name: 's', changes: [{ s: 'A', c: 'nodes', id: 'zz', before: null, after: {} }] } },
    { stream: 'A', type: 'txn.step', at: 'x', txn: 't1', data: { bad: NaN } },
  ];
  await log.append(bad).then(() => assert.unreachable('NaN accepted'), (e: { code?: string }) => assert.is(e.code, 'BG_BAD_INPUT'));
  await log.append(bad, { expectedSeq: head + 7 }).then(() => assert.unreachable('stale seq accepted'), (e: { code?: string }) => assert.is(e.code, 'BG_LOG_CONFLICT'));
  assert.is(log.head, head);
  assert.is(await count(), before);
  await log.close();
});

test('audit rows stream out as each transaction ends: held rows stay bounded on a long log', async () => {
  const log = await openMemory();
  await recordHistory(log);
  const all = await log.readAll();
  const a = new AuditGrouper();
  const streamed = [];
  let maxHeld = 0;
  let pushed = 0;
  let got = 0;
  for (const r of all) {
    const out = a.push(r);
    pushed++;
    got += out.length;
    streamed.push(...out);
    if (endsTxn(r) || r.type === 'command.rejected') maxHeld = Math.max(maxHeld, auditRows(all.slice(0, pushed)).length - got);
  }
  streamed.push(...a.flush());
  assert.equal(streamed.sort((x, y) => x.seq - y.seq), auditRows(all));
  // At a transaction's end nothing but an unfinished job's or the cut transaction's rows remain.
  assert.ok(maxHeld <= 2, `rows held at a transaction end: ${maxHeld}`);
  await log.close();
});

test.run();
