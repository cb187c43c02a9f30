// Issue 15, replay: what a replay parses is counted (store/codec.ts decodeWork), never timed.
// Each record is parsed once, and the add/del workload's records at their current versions hand
// JSON.parse less than half the characters the same records cost at version 2 (whole images,
// whole decisions): templated images and decisions (store/image-template.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { replay } from '../../replay/replay.js';
import { decodeWork, encodeRecord, ChainReader } from '../../store/codec.js';
import { openMemory } from '../../store/index.js';

const it = suite('store/replay-parse');

it('replaying 200 blockdev-add/del parses no record; reading eagerly parses each once, under half the characters of version 2', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (let i = 0; i < 200; i++) {
    const r = i % 2 ? await e.execute('A', 'blockdev-del', { 'node-name': `n${i - 1}` }) : await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    assert.ok('return' in r.reply);
  }
  decodeWork.parses = decodeWork.chars = 0;
  const f = await replay(log, { fromScratch: true });
  // replay folds lazily (replay/fold-lazy.ts): no record parsed at all
  assert.is(f.seq, 200);
  assert.is(decodeWork.parses, 0, 'replay parses no record');
  // the eager read of the stored form (replay/fold.ts foldRaw's input): each record once
  for await (const chunk of log.readRawChunks({})) assert.ok(chunk.length > 0);
  const { parses, chars } = decodeWork;
  assert.is(parses, f.seq, 'one parse per record');
  // the same records at version 2, encoded and decoded here: the figure without the templates
  const recs = await log.readAll();
  let prev = '';
  const values: string[] = [];
  recs.forEach((r, i) => {
    const { seq: _s, hash: _h, prevHash: _p, ...rest } = r;
    const x = encodeRecord(i + 1, { ...rest, v: 2 }, prev);
    prev = x.record.hash;
    values.push(x.value);
  });
  decodeWork.parses = decodeWork.chars = 0;
  const c = new ChainReader(1, '');
  for (const v of values) c.next(v);
  assert.ok(2 * chars < decodeWork.chars, `current ${chars} characters parsed, version 2 ${decodeWork.chars}`);
  assert.ok(chars / 200 < 800, `${(chars / 200).toFixed(0)} characters parsed per command`);
  await log.close();
});

it.run();
