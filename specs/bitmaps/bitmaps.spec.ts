// Dirty bitmaps through the engine: logged like every mutation, replayed byte for byte, and a
// transaction whose abort leaves changes (QEMU's block_dirty_bitmap_enable_abort) logged as a
// txn with QEMU's error as its reply. Expected flags come from the recorded transcripts
// (oracle/transcripts/txn-bitmaps-abort.json step 2: `x 65536 disabled` after the refusal).
import { partsOf } from '../../events/whole.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { Draft } from '../../graph/draft.js';
import { Proc } from '../../graph/proc.js';
import { replay, verifyReplay } from '../../replay/replay.js';
import { renderText } from '../../cli/render-text.js';
import { openMemory } from '../../store/index.js';

async function withBitmap() {
  const log = await openMemory();
  const e = await Engine.open(log);
  await e.execute('A', 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2', 'node-name': 'af' } });
  await e.execute('A', 'block-dirty-bitmap-add', { node: 'a', name: 'x' });
  return { log, e };
}

const bitmaps = (e: Engine) => new Proc(new Draft(e.state), 'A').node('a')?.bitmaps ?? [];

test('a bitmap is logged, shown and replayed', async () => {
  const { log, e } = await withBitmap();
  assert.equal(bitmaps(e).map((b) => [b.name, b.granularity, b.disabled]), [['x', 65536, false]]);
  assert.match(renderText(e.state), /bitmap a\/x 65536/);
  const again = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(again.state), JSON.stringify(e.state));
  assert.ok((await verifyReplay(log)).ok);
});

test('a refused transaction whose abort disables the bitmap: error reply, change logged as a txn', async () => {
  const { log, e } = await withBitmap();
  const head = log.head;
  const r = await e.execute('A', 'transaction', {
    actions: [
      { type: 'block-dirty-bitmap-remove', data: { node: 'a', name: 'x' } },
      { type: 'block-dirty-bitmap-enable', data: { node: 'a', name: 'x' } },
    ],
  });
  assert.equal(r.reply, { error: { class: 'GenericError', desc: "Bitmap 'x' is currently in use by another operation and cannot be used" } });
  assert.equal(bitmaps(e).map((b) => [b.name, b.disabled, b.busy]), [['x', true, false]]);
  // one atomic batch, one record: the whole transaction (events/whole.ts), its end on the decision
  const recs = (await log.readAll({ gte: head + 1 })).flatMap(partsOf);
  assert.equal(recs.map((x) => x.type), ['txn.begun', 'txn.step', 'txn.decided']);
  assert.equal((recs[2]!.data as { reply: unknown }).reply, r.reply);
  const again = await replay(log, { fromScratch: true });
  assert.is(JSON.stringify(again.state), JSON.stringify(e.state));
  assert.ok((await verifyReplay(log)).ok);
});

test('a refused transaction with nothing left over logs only command.rejected', async () => {
  const { log, e } = await withBitmap();
  const before = stateHash(e.state);
  const head = log.head;
  const r = await e.execute('A', 'transaction', {
    actions: [
      { type: 'block-dirty-bitmap-disable', data: { node: 'a', name: 'x' } },
      { type: 'block-dirty-bitmap-add', data: { node: 'a', name: 'y' } },
      { type: 'abort', data: {} },
    ],
  });
  assert.ok('error' in r.reply);
  assert.is(stateHash(e.state), before);
  const recs = await log.readAll({ gte: head + 1 });
  assert.equal(recs.map((x) => x.type), ['command.rejected']);
});

test.run();
