// Issue 15, replay: replay folds each record from its stored form (store/codec.ts RawRecord,
// replay/fold.ts foldRaw), expanding only the images the fold needs. It must give the state the
// full decode and foldRecord give, byte for byte (key order too), with the same transactions
// left open, at every seq: on the golden scenarios (today's engine and the recorded logs of
// older record versions) and on random engine logs. And the work it saves is counted, never
// timed: one parse per record, no delete's image expanded, no image copied. Format version 5
// (frame 3, store/whole-split.ts): the parse is of the redo part alone, and every whole
// transaction the engine writes folds from it.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { parseFixture } from '../../replay/fixture.js';
import { emptyFold, foldRaw, foldRecord, rawFoldWork, type Fold } from '../../replay/fold.js';
import { LazyFold, lazyWork } from '../../replay/fold-lazy.js';
import { replay } from '../../replay/replay.js';
import { randomStep, seededChooser, WORKLOAD_IMAGES } from '../../replay/drill/workload.js';
import { ChainReader, decodeWork, encodeRecord, HEADER2, HEADER3, TABLE4 } from '../../store/codec.js';
import { scanWork } from '../../store/redo-scan.js';
import { imageWork } from '../../store/image-template.js';
import { openMemory, type EventLog, type LogRecord } from '../../store/index.js';
import { GOLDEN, recordGolden } from '../golden/scenarios.js';

const it = suite('store/fold-raw');

const shape = (f: Fold) => JSON.stringify({ seq: f.seq, state: f.state, open: [...f.open.values()] });

/**
 * The folds over the log, compared after every record: the full decode and foldRecord, foldRaw
 * (eager, from the stored form), and the lazy fold (replay/fold-lazy.ts) built at every seq;
 * another lazy fold built only at a few seqs (its pending entities carry over long stretches:
 * patches pile up, entities made and deleted unbuilt) and at the end.
 */
async function sameFolds(log: EventLog, what: string): Promise<number> {
  const full = emptyFold();
  const raw = emptyFold();
  const lazy = new LazyFold(emptyFold());
  const sparse = new LazyFold(emptyFold());
  const values: string[] = [];
  // the stored values, read as replay reads them, decoded twice (two readers: decoding spends the parse)
  for await (const chunk of log.readChunks({})) for (const r of chunk) values.push(encodedAgain(r));
  const a = new ChainReader(1, '');
  const b = new ChainReader(1, '');
  const c = new ChainReader(1, '');
  const d = new ChainReader(1, '');
  for (const v of values) {
    foldRecord(full, a.next(v));
    foldRaw(raw, b.nextRaw(v));
    assert.is(shape(raw), shape(full), `${what}: the folds part at seq ${full.seq}`);
    lazy.feed(c, v);
    assert.is(shape(lazy.materialize()), shape(full), `${what}: the lazy fold parts at seq ${full.seq}`);
    sparse.feed(d, v);
    if (full.seq % 37 === 0) assert.is(shape(sparse.materialize()), shape(full), `${what}: the lazy fold built at seq ${full.seq} only parts`);
  }
  assert.is(shape(sparse.materialize()), shape(full), `${what}: the lazy fold built at the end parts`);
  // and replay() itself, from the store (lazily), to the head and to a seq before it
  const r = await replay(log, { fromScratch: true });
  assert.is(shape(r), shape(full), `${what}: replay`);
  return values.length;
}

/** The stored value of a record (the log's own encoding: its version decides the frame). */
function encodedAgain(r: LogRecord): string {
  const { seq, hash: _h, prevHash, ...rest } = r;
  const x = encodeRecord(seq, rest, prevHash);
  assert.is(x.record.hash, r.hash, 'the record encodes to the stored bytes');
  return x.value;
}

for (const sc of GOLDEN) {
  it(`golden ${sc.name} through today's engine: both folds agree at every seq`, async () => {
    const log = await recordGolden(sc, await openMemory(), async (l) => l);
    rawFoldWork.redo = rawFoldWork.stored = rawFoldWork.full = 0;
    lazyWork.lazy = lazyWork.full = 0;
    const n = await sameFolds(log, sc.name);
    assert.ok(n > 5);
    // format versions 5 and 6: every whole transaction the engine wrote folds from its redo part alone
    // by foldRaw (sameFolds' eager pass), and lazily, unparsed, by the lazy folds (sameFolds' two
    // and replay's)
    const wholes = (await log.readAll()).filter((r) => r.type === 'txn.begun' && r.v >= 4 && (r.data as { decided?: { ended?: unknown } }).decided?.ended).length;
    assert.ok(wholes > 0);
    assert.is(rawFoldWork.redo, wholes, `${sc.name}: ${rawFoldWork.redo} folds from the redo part for ${wholes} whole transactions`);
    assert.is(lazyWork.lazy, 3 * wholes, `${sc.name}: ${lazyWork.lazy} lazy folds for ${wholes} whole transactions`);
    assert.is(lazyWork.lazy + lazyWork.full, 3 * n, 'the lazy folds fold every record');
    assert.is(rawFoldWork.stored, 0);
    await log.close();
  });
  it(`golden ${sc.name} as recorded (older record versions): both folds agree at every seq`, async () => {
    const file = `specs/golden/${sc.name}.jsonl`;
    const f = parseFixture(readFileSync(file, 'utf8'), file);
    const log = await openMemory();
    for (const r of f.records) {
      const { seq: _s, hash: _h, prevHash: _p, ...rest } = r;
      await log.append([rest]);
    }
    assert.is(await sameFolds(log, `${sc.name} (recorded)`), f.records.length);
    await log.close();
  });
}

it('random engine logs (the drill workload, 5 seeds x 80 commands): both folds agree at every seq, and with the live state', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const log = await openMemory();
    const e = await Engine.open(log, { clock: FIXED_CLOCK });
    for (const im of WORKLOAD_IMAGES) await e.execute('A', 'x-blockgraph-image-create', im as unknown as Record<string, unknown>);
    const c = seededChooser(seed);
    for (let i = 0; i < 80; i++) {
      const s = randomStep(c);
      await e.execute(s.proc, s.execute, s.arguments);
    }
    await sameFolds(log, `seed ${seed}`);
    const r = await replay(log, { fromScratch: true });
    assert.is(JSON.stringify(r.state), JSON.stringify(e.state), `seed ${seed}: replay equals the live state`);
    await log.close();
  }
});

it('replaying 200 blockdev-add/del: lazily, no record parsed and one entity built; eagerly one parse per record, no image copied, a delete\'s image not expanded', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (let i = 0; i < 200; i++) {
    const r = i % 2 ? await e.execute('A', 'blockdev-del', { 'node-name': `n${i - 1}` }) : await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    assert.ok('return' in r.reply);
  }
  // the redo parts' lengths, from the stored values' headers (format version 6, frame 4), and
  // the entries of their skip tables (each image, patch and removed-field list of the redo part)
  let redoChars = 0;
  let all = 0;
  let entries = 0;
  for await (const chunk of log.readChunks({})) {
    for (const r of chunk) {
      const { seq, hash: _h, prevHash, ...rest } = r;
      const v = encodeRecord(seq, rest, prevHash).value;
      assert.is(v[8], '4', `record ${seq} is in frame 4`);
      redoChars += parseInt(v.substring(HEADER2, HEADER3), 16);
      entries += parseInt(v.substring(HEADER3, TABLE4), 16);
      all += v.length - HEADER3;
    }
  }
  // an add: the node's image, the counter's patch and the monitor-ref's patch (the first add the
  // process's meta image instead of a counter patch); a delete: none
  assert.is(entries, 300, `${entries} skip table entries`);
  // replay() folds lazily (replay/fold-lazy.ts): no record parsed; of 100 nodes made and deleted
  // none built; at the end the one survivor, the process's meta, built from its image and its
  // latest patch (each add's counter patch has the same members as the one before: it replaces it)
  decodeWork.parses = decodeWork.chars = imageWork.expanded = imageWork.copied = 0;
  lazyWork.lazy = lazyWork.full = lazyWork.built = lazyWork.parses = lazyWork.patchesFolded = lazyWork.entriesSet = lazyWork.cancelled = 0;
  scanWork.skipped = scanWork.scanned = 0;
  const lz = await replay(log, { fromScratch: true });
  assert.is(lz.seq, 200);
  // format version 6: every image and patch skipped by its length, none scanned bracket by bracket
  assert.is(scanWork.scanned, 0, `${scanWork.scanned} values scanned`);
  assert.is(scanWork.skipped, entries, `${scanWork.skipped} values skipped by length`);
  assert.is(decodeWork.parses, 0, 'no record parsed');
  assert.is(lazyWork.lazy, 200, 'every record folded lazily');
  assert.is(lazyWork.built, 1, `${lazyWork.built} entities built`);
  assert.is(lazyWork.parses, 2, `${lazyWork.parses} texts parsed: the survivor's image and patch`);
  assert.is(imageWork.expanded, 1, `${imageWork.expanded} images expanded`);
  // each node's create is deferred and its delete cancels it: no entry set or deleted for it, its
  // collection not made and pruned again at every pair; one entry made, the meta's
  assert.is(lazyWork.cancelled, 100, `${lazyWork.cancelled} creates cancelled by their delete`);
  assert.is(lazyWork.entriesSet, 1, `${lazyWork.entriesSet} entries set or deleted`);
  // the eager fold of the stored form (foldRaw over nextRaw), for the figure it replaces
  decodeWork.parses = decodeWork.chars = imageWork.expanded = imageWork.copied = 0;
  rawFoldWork.redo = rawFoldWork.stored = rawFoldWork.full = 0;
  const f = emptyFold();
  for await (const chunk of log.readRawChunks({})) for (const r of chunk) foldRaw(f, r);
  assert.is(JSON.stringify(lz.state), JSON.stringify(f.state), 'the same state');
  assert.is(decodeWork.parses, f.seq, 'one parse per record');
  assert.is(decodeWork.chars, redoChars, 'the redo parts alone are parsed');
  assert.ok(redoChars < all / 2, `${(redoChars / f.seq).toFixed(0)} of ${(all / f.seq).toFixed(0)} characters per record parsed`);
  assert.is(rawFoldWork.redo, f.seq, 'every record folded from its redo part');
  assert.is(imageWork.copied, 0, 'no image copied');
  // an add expands its node's after-image (the counter's update and the monitor-ref are
  // patches; the first add also creates the process's meta); a delete nothing, its decision
  // nothing: the full decode expands 5 per pair
  assert.ok(imageWork.expanded <= 100 + 1, `${imageWork.expanded} images expanded for 200 commands`);
  // the full decode of the same log, for the figure it replaces
  decodeWork.parses = imageWork.expanded = imageWork.copied = 0;
  await log.readAll();
  assert.ok(imageWork.expanded >= 2 * 200, `full decode: ${imageWork.expanded} images expanded`);
  assert.ok(imageWork.copied >= 100, `full decode: ${imageWork.copied} images copied`);
  await log.close();
});

it.run();
