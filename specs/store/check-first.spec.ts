// `qmp --db` on a store it refuses (docs/hostile.md round 5, fixed in round 6): LevelDB's open
// recovers the WAL into a table and deletes the log before any record is read
// (leveldb/db/db_impl.cc DBImpl::RecoverLogFile; paranoid checks off, a damaged block dropped),
// so a start refused afterwards (a gap in the seqs) had already rewritten the store. The served
// store now checks a private view first: refused, every file is byte for byte as it was.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedStore } from '../../cli/live-store.js';
import { Engine } from '../../engine/engine.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';

/** Names, sizes, modes and contents of every file in the store's directory. */
function files(dir: string): string {
  return readdirSync(dir).sort().map((f) => {
    const st = statSync(join(dir, f));
    return `${f} ${st.size} ${st.mode.toString(8)} ${createHash('sha1').update(readFileSync(join(dir, f))).digest('hex')}`;
  }).join('\n');
}

async function storeWithWal(dir: string, n: number): Promise<string> {
  const log = await openClassic(dir);
  const e = await Engine.open(log, { clock });
  for (let i = 0; i < n; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  await log.close();
  // a clean close leaves the memtable in the WAL: the records are there, not in a table
  const wal = readdirSync(dir).filter((f) => f.endsWith('.log'));
  assert.is(wal.length, 1);
  assert.ok(statSync(join(dir, wal[0]!)).size > 100_000, 'the records are in the WAL');
  return join(dir, wal[0]!);
}

test('a WAL with a damaged block mid-file: the start is refused and the store is unchanged', async () => {
  const t = tempDir('bg-check-first-');
  try {
    const dir = join(t.dir, 'db');
    const wal = await storeWithWal(dir, 200);
    const b = readFileSync(wal);
    b[Math.floor(b.length / 2)] ^= 0x55; // one 32 KiB block fails its CRC: LevelDB drops it
    writeFileSync(wal, b);
    const before = files(dir);
    const err = await ServedStore.open(dir, { clock }).then(() => undefined, (e: { code?: string; message: string }) => e);
    assert.is(err?.code, 'BG_LOG_CORRUPT', String(err?.message));
    assert.match(err!.message, /record \d+ is missing \(next stored record is \d+\)/);
    assert.fixture(files(dir), before);
    // and again: still refused the same way (nothing was "repaired" by the first attempt)
    const again = await ServedStore.open(dir, { clock }).then(() => undefined, (e: { message: string }) => e);
    assert.is(again?.message, err!.message);
    assert.fixture(files(dir), before);
  } finally {
    t.done();
  }
});

test('a sound store with its records in the WAL opens as before and is served', async () => {
  const t = tempDir('bg-check-first-');
  try {
    const dir = join(t.dir, 'db');
    await storeWithWal(dir, 200);
    const s = await ServedStore.open(dir, { clock });
    try {
      assert.is(s.log.head, 200);
      assert.ok(s.state.A?.nodes.n199, 'the last node added is there');
    } finally {
      await s.close();
    }
  } finally {
    t.done();
  }
});

test.run();
