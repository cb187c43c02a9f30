// Issue 15, replay: a chunk's CRCs checked in one crc32 call (store/crc-chunk.ts). It must say
// "sound" for any chunk of sound values (non-ASCII, surrogate pairs, values past its buffer) and
// "not sound" whenever one value's bytes or stored CRC differ by anything; and replay, which uses
// it (EventLog.feedChunks), must then check no value's CRC on its own, yet report a damaged
// record by its seq exactly as before.
import { crc32 } from 'node:zlib';
import { MemoryLevel } from 'memory-level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LogCorruptError } from '../../errors/index.js';
import { replay } from '../../replay/replay.js';
import { decodeWork, seqKey, sublevelsOf } from '../../store/codec.js';
import { crcChunkWork, crcsSound } from '../../store/crc-chunk.js';
import { EventLog } from '../../store/event-log.js';
import type { NewRecord } from '../../store/types.js';

const it = suite('store/crc-chunk');

const framed = (rest: string) => crc32(rest).toString(16).padStart(8, '0') + rest;

it('sound chunks: ASCII, non-ASCII, surrogate pairs, empty, values larger than the buffer', () => {
  const vals = ['3abc', '3\u00e9\u00e8', '3\u2028\ud834\udd1e x', '3', 'x'.repeat(300), '3' + '\u00ff'.repeat(50)].map(framed);
  assert.ok(crcsSound(vals));
  assert.ok(crcsSound([]));
  assert.ok(crcsSound(vals.slice(0, 1)));
  // over 1 MiB in all, and one value alone over it (3 bytes of UTF-8 per char)
  const big = [framed('a'.repeat(700_000)), framed('\u2603'.repeat(400_000)), framed('b'.repeat(10))];
  assert.ok(crcsSound(big));
  assert.not.ok(crcsSound([...big.slice(0, 2), big[2]!.slice(0, -1) + 'c']));
  assert.not.ok(crcsSound([big[0]!.slice(0, 500_000) + 'c' + big[0]!.slice(500_001), ...big.slice(1)]));
  assert.not.ok(crcsSound([big[0]!, big[1]!.slice(0, -1) + 'a', big[2]!]));
  // many values past the buffer: the CRC carries over from one part to the next
  const many = Array.from({ length: 3000 }, (_, i) => framed(`3${i}`.repeat(100)));
  assert.ok(crcsSound(many));
  many[2999] = many[2999]!.slice(0, 20) + 'x' + many[2999]!.slice(21);
  assert.not.ok(crcsSound(many));
});

it('a damaged value anywhere makes the chunk unsound: every char of every value, and its stored CRC', () => {
  const vals = ['3{"a":1}', '3\u00e9x', '3\ud834\udd1e', '3' + 'z'.repeat(40)].map(framed);
  let checked = 0;
  for (let i = 0; i < vals.length; i++) {
    for (let j = 0; j < vals[i]!.length; j++) {
      for (const sub of ['0', 'f', 'F', '\u00e9', '\u2603', '']) {
        const v = vals[i]!;
        if (v[j] === sub) continue;
        const bad = v.slice(0, j) + sub + v.slice(j + 1);
        const chunk = vals.slice();
        chunk[i] = bad;
        assert.not.ok(crcsSound(chunk), `value ${i} char ${j} -> ${JSON.stringify(sub)}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 300);
  // two values swapped: each still sound on its own, so the chunk is (order is the reader's check)
  assert.ok(crcsSound([vals[1]!, vals[0]!]));
  // too short, upper-case hex (the writer's is lower-case: the per-value check refuses it too)
  assert.not.ok(crcsSound(['abc']));
  let lettered = '';
  for (let k = 0; !/[a-f]/.test(lettered.slice(0, 8)); k++) lettered = framed(`3${k}`);
  assert.ok(crcsSound([lettered]));
  assert.not.ok(crcsSound([lettered.slice(0, 8).toUpperCase() + lettered.slice(8)]));
});

const rec = (i: number): NewRecord => ({
  stream: 'A', type: 'txn.begun', v: 4, at: 'now', txn: `t${i}`,
  data: {
    op: 'x', args: {}, plan: ['main'],
    steps: [{ name: 'main', changes: [{ s: 'A', c: 'odd', id: `k${i % 7}`, before: null, after: { n: i, s: 'é' } }, { s: 'A', c: 'odd', id: `k${i % 7}`, before: { n: i, s: 'é' }, after: null }] }],
    decided: { outcome: 'commit', reply: { return: {} }, events: [], ended: {} },
  },
});

it('replay checks each chunk at once, no value on its own; a damaged record is named by its seq as before', async () => {
  const db = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
  let log = await EventLog.open(db);
  for (let i = 0; i < 2500; i += 500) await log.append(Array.from({ length: 500 }, (_, k) => rec(i + k + 1)));
  assert.is(log.head, 2500);
  decodeWork.crcs = crcChunkWork.chunks = crcChunkWork.unsound = 0;
  const f = await replay(log, { fromScratch: true });
  assert.is(f.seq, 2500);
  assert.is(crcChunkWork.chunks, 3, 'three chunks of at most 1000');
  assert.is(crcChunkWork.unsound, 0);
  assert.is(decodeWork.crcs, 0, 'no value CRC-checked on its own');
  await log.close();
  // one char of record 1700's redo part changed, its length kept
  await db.open();
  const sub = sublevelsOf(db).log;
  const v = (await sub.get(seqKey(1700)))!;
  const at = v.indexOf('"n":') + 4;
  await sub.put(seqKey(1700), v.slice(0, at) + (v[at] === '9' ? '8' : '9') + v.slice(at + 1));
  log = await EventLog.open(db, { verify: 'none' });
  decodeWork.crcs = crcChunkWork.chunks = crcChunkWork.unsound = 0;
  try {
    await replay(log, { fromScratch: true });
    assert.unreachable('replay of a damaged log');
  } catch (e) {
    assert.instance(e, LogCorruptError);
    assert.is((e as LogCorruptError).seq, 1700);
    assert.match((e as Error).message, /crc/);
  }
  assert.is(crcChunkWork.unsound, 1, 'the second chunk is not sound');
  assert.is(decodeWork.crcs, 700, 'its values checked one by one up to the damaged one');
  // and the same error as the per-value reader's (readChunks)
  try {
    await log.readAll();
    assert.unreachable('read of a damaged log');
  } catch (e) {
    assert.is((e as LogCorruptError).seq, 1700);
  }
  await log.close();
});

it.run();
