// A log a library user writes with Engine.open(log) and no options is seekable: the engine
// snapshots it every DEFAULT_SNAPSHOT_EVERY records, as the CLI and the QMP server do, so a
// later `show --at` / `log` / `diff` verifies from the newest snapshot instead of seq 1 (the
// default used to be 0: such a store was checked whole by every read, stop 44 round 10).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SNAPSHOT_EVERY, Engine } from '../../engine/index.js';
import { openMemory } from '../../store/index.js';

test('Engine.open(log) with no options snapshots every DEFAULT_SNAPSHOT_EVERY records', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  let i = 0;
  while (log.head < DEFAULT_SNAPSHOT_EVERY + 2) {
    const name = `n${i++}`;
    await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': name });
    await e.execute('A', 'blockdev-del', { 'node-name': name });
  }
  const snap = await log.latestSnapshot();
  assert.ok(snap, 'a snapshot was written');
  assert.ok(snap!.seq >= DEFAULT_SNAPSHOT_EVERY && snap!.seq <= log.head, `snapshot at ${snap!.seq}, head ${log.head}`);
  await log.close();
});

test('snapshotEvery: 0 still means never', async () => {
  const log = await openMemory();
  const e = await Engine.open(log, { snapshotEvery: 0 });
  for (let i = 0; log.head < DEFAULT_SNAPSHOT_EVERY + 2; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  assert.is(await log.latestSnapshot(), undefined);
  await log.close();
});

test.run();
