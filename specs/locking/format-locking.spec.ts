// Seed 002: format locking as a fallback where the protocol leaf cannot lock. Off by
// default (QEMU never merged it): two processes writing one image through locking=off
// file nodes are then not protected at all, exactly as in QEMU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';

const rw = (name: string, ro = false) => ({
  driver: 'qcow2', 'node-name': name, ...(ro ? { 'read-only': true } : {}),
  file: { driver: 'file', filename: 'a.qcow2', locking: 'off' }, backing: null,
});

async function host(formatLocking: boolean | undefined) {
  const m = new MemoryBackend();
  await m.execute('A', 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  if (formatLocking !== undefined) {
    for (const proc of ['A', 'B']) await m.execute(proc, 'x-blockgraph-configure', { 'format-locking': formatLocking });
  }
  return m;
}
const desc = (r: Awaited<ReturnType<MemoryBackend['execute']>>) => ('error' in r.reply ? r.reply.error.desc : 'ok');

test('off by default: locking=off leaves two writers unprotected, as QEMU does', async () => {
  const m = await host(undefined);
  assert.is(desc(await m.execute('A', 'blockdev-add', rw('a'))), 'ok');
  assert.is(desc(await m.execute('B', 'blockdev-add', rw('a'))), 'ok');
});

test('on: a second writer in another process is refused by the format-level lock', async () => {
  const m = await host(true);
  assert.is(desc(await m.execute('A', 'blockdev-add', rw('a'))), 'ok');
  // qcow2's file edge holds consistent read, write, resize and shares read + write unchanged
  assert.is(desc(await m.execute('B', 'blockdev-add', rw('a'))), 'Failed to get "write" lock');
  assert.is(desc(await m.execute('B', 'blockdev-add', rw('a', true))), 'Failed to get shared "write" lock');
  // the same process is protected too (one lock holder per node, as OFD locks per fd)
  assert.is(desc(await m.execute('A', 'blockdev-add', rw('a2'))), 'Failed to get "write" lock');
  assert.is(desc(await m.execute('A', 'blockdev-del', { 'node-name': 'a' })), 'ok');
  assert.is(desc(await m.execute('B', 'blockdev-add', rw('a'))), 'ok', 'released with the node');
});

test('on, but the protocol locks: no format lock is taken (it would be superfluous)', async () => {
  const m = await host(true);
  const args = { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' }, backing: null };
  assert.is(desc(await m.execute('A', 'blockdev-add', args)), 'ok');
  const node = (m.state.A!.nodes as Record<string, { lock: unknown }>).a!;
  assert.is(node.lock, null);
  assert.is(desc(await m.execute('B', 'blockdev-add', args)), 'Failed to get "write" lock', 'file-posix still protects');
});

test('a format lock and a protocol lock on the same image see each other', async () => {
  const m = await host(true);
  assert.is(desc(await m.execute('A', 'blockdev-add', rw('a'))), 'ok');
  const plain = { driver: 'qcow2', 'node-name': 'b', 'read-only': true, file: { driver: 'file', filename: 'a.qcow2' }, backing: null };
  assert.is(desc(await m.execute('B', 'blockdev-add', plain)), 'Failed to get shared "write" lock');
});

test.run();
