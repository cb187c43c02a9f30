// copy-on-read's `bottom` (cor_open): a bottom outside the filter's chain makes
// bdrv_is_backing_chain_frozen walk past the chain's end for ever (wt-combo2 found QSD 7.2 and 10.0
// stop answering); the model refuses it as QEMU's hang, the log unchanged. A bottom in the chain
// freezes the links down to it until the filter goes (transcript combo-c2-filter-cor-bottom).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { openMemory } from '../../store/index.js';

test('a bottom outside the chain is refused as a QEMU hang; in the chain it freezes until the filter goes', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const run = async (c: string, a: Record<string, unknown>) => (await e.execute('A', c, a)).reply as { return?: unknown; error?: { desc: string } };
  const ok = async (c: string, a: Record<string, unknown>) => assert.ok('return' in (await run(c, a)), c);
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1M' });
  await ok('x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '1M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'top-f' } });
  const head = log.head;
  const before = stateHash(e.state);
  // top-f is top's file, not on its filter-or-COW chain
  const r = await run('blockdev-add', { driver: 'copy-on-read', 'node-name': 'cor', file: 'top', bottom: 'top-f' });
  assert.match(r.error?.desc ?? '', /^Bottom node 'top-f' is not in the backing chain of copy-on-read node 'cor' \(QEMU hangs here: cor_open -> bdrv_freeze_backing_chain/);
  assert.is(stateHash(e.state), before);
  assert.ok(log.head <= head + 1, 'at most the refusal record');
  // in the chain: frozen, so the backing link cannot change; released when the filter is deleted
  await ok('blockdev-add', { driver: 'copy-on-read', 'node-name': 'cor', file: 'top', bottom: await backingName(e) });
  const change = await run('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: 'top-f', backing: null }] });
  assert.match(change.error?.desc ?? '', /^Cannot change frozen 'backing' link from 'top' to /);
  await ok('blockdev-del', { 'node-name': 'cor' });
  await ok('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'top', file: 'top-f', backing: null }] });
  await log.close();
});

test('a bottom outside the chain whose walk meets a frozen link first is answered with that link (combo-c9-b3-cor-bottom-chain-reopen)', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const run = async (c: string, a: Record<string, unknown>) => (await e.execute('A', c, a)).reply as { return?: unknown; error?: { desc: string } };
  const ok = async (c: string, a: Record<string, unknown>) => assert.ok('return' in (await run(c, a)), c);
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '1M' });
  await ok('x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '1M' });
  await ok('x-blockgraph-image-create', { file: 'x.qcow2', format: 'qcow2', size: '1M' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2', 'node-name': 'base-f' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2', 'node-name': 'top-f' }, backing: 'base' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'x', file: { driver: 'file', filename: 'x.qcow2', 'node-name': 'x-f' }, backing: null });
  // the first filter freezes top -> base
  await ok('blockdev-add', { driver: 'copy-on-read', 'node-name': 'cor', file: 'top', bottom: 'base' });
  const before = stateHash(e.state);
  // bdrv_is_backing_chain_frozen(cor2, x) meets the frozen top -> base link before the chain ends
  const r = await run('blockdev-add', { driver: 'copy-on-read', 'node-name': 'cor2', file: 'top', bottom: 'x' });
  assert.is(r.error?.desc, "Cannot change 'backing' link from 'top' to 'base'");
  assert.is(stateHash(e.state), before);
  // without the first filter nothing is frozen: the walk runs off the chain, QEMU's hang
  await ok('blockdev-del', { 'node-name': 'cor' });
  const h = await run('blockdev-add', { driver: 'copy-on-read', 'node-name': 'cor2', file: 'top', bottom: 'x' });
  assert.match(h.error?.desc ?? '', /^Bottom node 'x' is not in the backing chain of copy-on-read node 'cor2' \(QEMU hangs here/);
  await log.close();
});

/** The implicit backing node's name as query-named-block-nodes gives it. */
async function backingName(e: Engine): Promise<string> {
  const r = (await e.execute('A', 'query-named-block-nodes', { flat: true })).reply as { return: { 'node-name': string; file: string; drv: string }[] };
  return r.return.find((n) => n.drv === 'qcow2' && n.file.endsWith('base.qcow2'))!['node-name'];
}

test.run();
