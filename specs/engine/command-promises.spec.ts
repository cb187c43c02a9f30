// Promises made per sequential durable command (issue 15, wt-cmd4), counted with async_hooks,
// never timed. Each promise is an allocation (with its reaction and closure) and most are a
// microtask hop between the fsync's completion and the reply. With nothing queued, a command runs
// inside the caller's turn and is over when the engine's synchronous part returns, so it takes no
// place in the engine's or the served store's queue; a snapshot that is not due makes no promise;
// a queue entry is one promise (`then(done, done)`), not catch + finally.
// Before: 24 per add or del on the engine, 42 through ServedStore on classic-level (the anchor
// advance of store/anchor.ts made 4 of them).
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { ServedStore } from '../../cli/live-store.js';
import { openMemory } from '../../store/index.js';

let promises = 0;
const hook = createHook({ init(_id, type) { if (type === 'PROMISE') promises++; } });

/** Promises made per command over `n` sequential adds then `n` dels (each awaited). */
async function perCommand(exec: (cmd: string, args: Record<string, unknown>) => Promise<{ reply: unknown }>, n: number): Promise<{ add: number; del: number }> {
  for (let i = 0; i < 5; i++) await exec('blockdev-add', { driver: 'null-co', 'node-name': `w${i}` }); // warm-up
  hook.enable();
  try {
    promises = 0;
    for (let i = 0; i < n; i++) assert.ok(!('error' in ((await exec('blockdev-add', { driver: 'null-co', 'node-name': `n${i}` })).reply as object)));
    const add = promises / n;
    promises = 0;
    for (let i = 0; i < n; i++) assert.ok(!('error' in ((await exec('blockdev-del', { 'node-name': `n${i}` })).reply as object)));
    return { add, del: promises / n };
  } finally {
    hook.disable();
  }
}

test('the engine without the intent: a sequential add or del makes at most 10 promises (was 24)', async () => {
  const e = await Engine.open(await openMemory(), { snapshotEvery: 1000, intentFirst: false });
  // the caller's own await of the result counts too
  const { add, del } = await perCommand((cmd, args) => e.execute('A', cmd, args), 40);
  assert.ok(add <= 10, `${add} promises per add`);
  assert.ok(del <= 10, `${del} promises per del`);
  await e.log.close();
});

test('the engine, intent first (the default): at most 12 (the intent\'s batch and its decision; 20 in stop 42)', async () => {
  // the record held after an intent waits outside the log's queue (one promise, settled by its
  // write: EventLog #hold), not as a placeholder in it (six)
  const e = await Engine.open(await openMemory(), { snapshotEvery: 1000 });
  const { add, del } = await perCommand((cmd, args) => e.execute('A', cmd, args), 40);
  assert.ok(add <= 12, `${add} promises per add`);
  assert.ok(del <= 12, `${del} promises per del`);
  await e.log.close();
});

for (const intentFirst of [false, true]) {
  // intent first (the default): the intent's batch and its decision, two more, as on the engine
  const most = intentFirst ? 16.5 : 14.5;
  test(`the served store (blockgraph qmp's, on classic-level, synced and anchored${intentFirst ? ', intent first' : ', --no-intent-first'}): at most ${Math.floor(most)} per command (was 42)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-promises-'));
    const s = await ServedStore.open(join(dir, 'db'), { clock: () => '1970-01-01T00:00:00.000Z', snapshotEvery: 1000, intentFirst });
    try {
      const { add, del } = await perCommand((cmd, args) => s.execute('A', cmd, args), 40);
      // (the anchor's fdatasync every 64th append, in the background, adds a fraction)
      assert.ok(add <= most, `${add} promises per add`);
      assert.ok(del <= most, `${del} promises per del`);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a command queued behind another still waits for it, and a snapshot that is due is still taken', async () => {
  const e = await Engine.open(await openMemory(), { snapshotEvery: 3 });
  // recover() holds the queue: a command called meanwhile runs after it, in order
  const order: string[] = [];
  const rec = e.recover().then(() => order.push('recover'));
  const cmd = e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'q' }).then(() => order.push('add'));
  await Promise.all([rec, cmd]);
  assert.equal(order, ['recover', 'add']);
  for (let i = 0; i < 4; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `s${i}` });
  await e.log.whenWritten();
  await new Promise((r) => setImmediate(r));
  const snap = await e.log.latestSnapshot();
  assert.ok(snap && snap.seq >= 3, `snapshot at ${snap?.seq}`);
  await e.log.close();
});

test.run();
