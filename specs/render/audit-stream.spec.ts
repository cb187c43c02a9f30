// `audit` streams: auditStream hands out the same rows, in the same order, as the pure
// auditRows over the whole record list (filtered), and holds a number of rows bounded by the
// transactions in flight, not by the log's length (counted, not timed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { auditRows, auditStream, auditStreamWork, filterAudit, type AuditFilter, type AuditRow } from '../../replay/audit.js';
import type { LogRecord } from '../../store/index.js';
import { openMemory } from '../../store/index.js';
import { recordHistory, stepClock } from './helpers.js';

async function collect(it: AsyncIterable<AuditRow>): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  for await (const r of it) out.push(r);
  return out;
}

/** Chunks of `size` records, as readChunks gives them. */
async function* chunked(all: LogRecord[], size: number): AsyncGenerator<LogRecord[]> {
  for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
}

test('the same rows as auditRows over the whole log, for every filter and chunk size, a recovery included', async () => {
  const log = await openMemory();
  const h = await recordHistory(log);
  const all = await log.readAll();
  const filters: AuditFilter[] = [{}, { node: 'top' }, { types: ['recovery'] }, { txn: h.crashedTxn }, { proc: 'A', since: '2026-01-01T00:00:03.000Z' }];
  for (const f of filters) {
    for (const size of [1, 3, 1000]) {
      assert.equal(await collect(auditStream(chunked(all, size), f)), filterAudit(auditRows(all), f), `${JSON.stringify(f)} by ${size}`);
    }
  }
  assert.ok(auditRows(all).some((r) => r.kind === 'recovery'));
  await log.close();
});

test('interleaved transactions (rows completing out of begin order) come out in seq order', async () => {
  const log = await openMemory();
  const e = await Engine.open(log, { clock: stepClock() });
  // 40 commands in flight at once: the engine orders them; their records may interleave.
  await Promise.all(Array.from({ length: 40 }, (_, i) => e.execute(i % 2 ? 'A' : 'B', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` })));
  const all = await log.readAll();
  const rows = await collect(auditStream(chunked(all, 7)));
  assert.equal(rows, auditRows(all));
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.seq < rows[i]!.seq);
  await log.close();
});

test('rows held do not grow with the log: the same at 50 and at 400 commands', async () => {
  const held: number[] = [];
  for (const n of [50, 400]) {
    const log = await openMemory();
    const e = await Engine.open(log, { clock: stepClock() });
    for (let i = 0; i < n; i++) {
      await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `x${i}` });
      await e.execute('A', 'blockdev-del', { 'node-name': `x${i}` });
    }
    const rows = await collect(auditStream(log.readChunks({})));
    assert.is(rows.length, 2 * n);
    held.push(auditStreamWork.maxHeld);
    await log.close();
  }
  assert.is(held[0], held[1], String(held));
  assert.ok(held[1]! <= 2, String(held));
});

test.run();
