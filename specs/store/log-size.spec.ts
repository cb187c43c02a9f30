// Issue 15, log size: at most 8x the QMP text per command on the add/del workload (bench/write.ts's
// workload), counted in bytes, which are deterministic (never timed). Format version 4: a
// transaction the engine writes as one batch is one record (events/whole.ts, store/whole-txn.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { replay } from '../../replay/replay.js';
import { decodeWork, encodeRecord } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';
import { isWhole } from '../../events/whole.js';
import { workload } from '../../bench/write.js';

const it = suite('store/log-size');

it('blockdev-add/del: one record per command, log values at most 8x the QMP text, none parsed on replay, one per command read eagerly', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const n = 200;
  let qmp = 0;
  for (const [c, a] of workload(n)) {
    qmp += Buffer.byteLength(JSON.stringify({ execute: c, arguments: a })) + 1;
    const r = await e.execute('A', c, a);
    assert.ok('return' in r.reply);
  }
  assert.is(log.head, n, 'one record per command');
  const recs = await log.readAll();
  assert.ok(recs.every(isWhole), 'each a whole transaction');
  // the stored values, byte for byte (encoding is deterministic: the same chain, the same bytes)
  let bytes = 0;
  let prev = '';
  for (const r of recs) {
    const { seq, hash: _h, prevHash: _p, ...rest } = r;
    const x = encodeRecord(seq, rest, prev);
    assert.is(x.record.hash, r.hash, `record ${seq} re-encodes to its own bytes`);
    prev = x.record.hash;
    bytes += Buffer.byteLength(x.value);
  }
  const ratio = bytes / qmp;
  assert.ok(ratio <= 8, `log values ${(bytes / n).toFixed(0)} B per command, ${(qmp / n).toFixed(0)} B of QMP: ${ratio.toFixed(2)}x`);
  decodeWork.parses = decodeWork.chars = 0;
  const f = await replay(log, { fromScratch: true });
  assert.is(f.seq, n);
  // replay folds lazily (replay/fold-lazy.ts): no record parsed; the eager fold of the stored form parses each once
  assert.is(decodeWork.parses, 0, 'no JSON.parse of a record on replay');
  for await (const chunk of log.readRawChunks({})) assert.ok(chunk.length > 0);
  assert.is(decodeWork.parses, n, 'one JSON.parse per command, read eagerly');
  assert.ok(decodeWork.chars / n < 450, `${(decodeWork.chars / n).toFixed(0)} characters parsed per command`);
  await log.close();
});

it.run();
