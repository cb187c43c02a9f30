// verify: 'since-snapshot' opens in O(records since the newest snapshot): damage before the
// snapshot is left to verify(), damage after it is reported as a full open would.
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sublevelsOf, seqKey } from '../../store/codec.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const rec = (i: number) => ({ stream: 'A', type: 'note', at: '2024-01-01T00:00:00.000Z', data: { i, pad: 'x'.repeat(40) } });

async function build(dir: string) {
  const log = await openClassic(dir);
  for (let i = 1; i <= 20; i++) await log.append([rec(i)]);
  const r10 = (await log.readAll({ gte: 10, lte: 10 }))[0]!;
  await log.putSnapshot({ seq: 10, hash: r10.hash, stateHash: 'h', state: { upTo: 10 } });
  await log.close();
}

async function flip(dir: string, seq: number) {
  const db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open();
  const s = sublevelsOf(db as never);
  const v = (await s.log.get<string, Buffer>(seqKey(seq), { valueEncoding: 'buffer' }))!;
  v[v.length - 3] ^= 0x20;
  await s.log.put<string, Buffer>(seqKey(seq), v, { valueEncoding: 'buffer' });
  await db.close();
}

async function openCode(dir: string, verify: 'full' | 'since-snapshot') {
  try {
    const log = await openClassic(dir, { verify });
    await log.close();
    return 'ok';
  } catch (e) {
    return `${(e as { code: string }).code}@${(e as { seq: number }).seq}`;
  }
}

test('damage before the snapshot: full open refuses, since-snapshot opens, verify() still finds it', async () => {
  const t = tempDir();
  try {
    await build(t.dir);
    await flip(t.dir, 3);
    assert.is(await openCode(t.dir, 'full'), 'BG_LOG_CORRUPT@3');
    assert.is(await openCode(t.dir, 'since-snapshot'), 'ok');
    const log = await openClassic(t.dir, { verify: 'since-snapshot' });
    const v = await log.verify();
    assert.is(v.ok, false);
    if (!v.ok) assert.is(v.firstBad, 3);
    assert.is(log.head, 20);
    await log.close();
  } finally {
    t.done();
  }
});

test('damage after the snapshot is reported by both, at the same seq', async () => {
  const t = tempDir();
  try {
    await build(t.dir);
    await flip(t.dir, 14);
    assert.is(await openCode(t.dir, 'full'), 'BG_LOG_CORRUPT@14');
    assert.is(await openCode(t.dir, 'since-snapshot'), 'BG_LOG_CORRUPT@14');
  } finally {
    t.done();
  }
});

test('damage to the snapshot record itself falls back to the full scan', async () => {
  const t = tempDir();
  try {
    await build(t.dir);
    await flip(t.dir, 10);
    assert.is(await openCode(t.dir, 'since-snapshot'), 'BG_LOG_CORRUPT@10');
  } finally {
    t.done();
  }
});

test.run();
