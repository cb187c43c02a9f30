// The anchor on an acknowledged command's path (issue 15), counted, never timed: the slot write
// is a synchronous pwrite (an advance resolves within the microtask queue, with no round trip
// through libuv's thread pool), and with the default syncEvery the periodic fdatasync runs in
// the background instead of delaying the command that happens to be the 64th.
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnchorWriter, anchorWork, readAnchor } from '../../store/anchor.js';

const hash = (i: number) => i.toString(16).padStart(64, '0');
const microtasks = async (n: number) => { for (let i = 0; i < n; i++) await Promise.resolve(); };

test('an advance writes its slot without leaving the microtask queue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-anchor-'));
  const w = new AnchorWriter(dir, 64);
  await w.advance(1, hash(1)); // the first one writes a whole new file (temp, fsync, rename)
  for (let seq = 2; seq < 10; seq++) {
    let done = false;
    void w.advance(seq, hash(seq)).then(() => { done = true; });
    await microtasks(20); // no I/O callback can run in between: a thread-pool write could not be done
    assert.ok(done, `advance to ${seq} waited for I/O`);
    assert.equal(readAnchor(dir), { seq, hash: hash(seq) }, 'the slot is in the file when the advance resolves');
  }
  await w.close();
  rmSync(dir, { recursive: true, force: true });
});

test('syncEvery 64: no fdatasync on the path, the periodic ones in the background; syncEvery 1: each awaited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-anchor-'));
  const w = new AnchorWriter(dir, 64);
  const before = { ...anchorWork };
  for (let seq = 1; seq <= 200; seq++) await w.advance(seq, hash(seq));
  assert.is(anchorWork.awaitedSyncs - before.awaitedSyncs, 0);
  assert.is(anchorWork.slotWrites - before.slotWrites, 199);
  const bg = anchorWork.backgroundSyncs - before.backgroundSyncs;
  assert.ok(bg >= 1 && bg <= 3, `${bg} background syncs`);
  await w.close();
  assert.equal(readAnchor(dir), { seq: 200, hash: hash(200) });

  const every = new AnchorWriter(dir, 1);
  const b2 = anchorWork.awaitedSyncs;
  for (let seq = 201; seq <= 210; seq++) await every.advance(seq, hash(seq));
  assert.is(anchorWork.awaitedSyncs - b2, 9, 'every advance after the first (a whole new file, synced) waits for its fdatasync');
  await every.close();
  assert.equal(readAnchor(dir), { seq: 210, hash: hash(210) });
  rmSync(dir, { recursive: true, force: true });
});

test('with nothing queued an advance is over when it returns: no queue promise, no async function (only the caller\'s await)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bg-anchor-'));
  const w = new AnchorWriter(dir, 64);
  await w.advance(1, hash(1));
  let promises = 0;
  const h = createHook({ init(_id, type) { if (type === 'PROMISE') promises++; } });
  h.enable();
  for (let seq = 2; seq < 202; seq++) await w.advance(seq, hash(seq));
  h.disable();
  // (was 5 per advance: the queue's then and catch, the async function and its await, and the caller's)
  assert.ok(promises / 200 <= 1.1, `${promises / 200} promises per advance`);
  assert.equal(readAnchor(dir), { seq: 201, hash: hash(201) });
  await w.close();
  assert.equal(readAnchor(dir), { seq: 201, hash: hash(201) });
  rmSync(dir, { recursive: true, force: true });
});

test.run();
