// When the write starts (issue 15), counted, never timed: with nothing being written, an append's
// batch is handed to the database before appendNow returns, so the fsync runs while the writer
// folds its records and builds its reply; appends made while it is written join one next group.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openMemory } from '../../store/index.js';
import type { NewRecord } from '../../store/types.js';

const rec = (i: number): NewRecord => ({ stream: 'A', type: 'command.rejected', v: 1, at: '1970-01-01T00:00:00.000Z', data: { i } });

test('an append to an idle log hands its batch to the database at once; appends during the write share the next batch', async () => {
  const log = await openMemory();
  const db = log.db as unknown as { batch: (ops: unknown[], opts: unknown) => Promise<void> };
  const calls: number[] = [];
  const orig = db.batch.bind(db);
  db.batch = (ops, opts) => { calls.push(ops.length); return orig(ops, opts); };
  const first = log.appendNow([rec(1)], { sync: true });
  assert.is(calls.length, 1, 'the batch is in the database before appendNow returns');
  const more = [2, 3, 4].map((i) => log.appendNow([rec(i)], { sync: true }));
  assert.is(calls.length, 1, 'a write is in flight: the next appends wait in one group');
  await first.durable;
  await Promise.all(more.map((m) => m.durable));
  assert.is(calls.length, 2, 'three appends, one batch');
  assert.is(log.head, 4);
  const again = log.appendNow([rec(5)]);
  assert.is(calls.length, 3, 'idle again: at once');
  await again.durable;
  assert.equal((await log.readAll()).map((r) => (r.data as { i: number }).i), [1, 2, 3, 4, 5]);
  await log.close();
});

test.run();
