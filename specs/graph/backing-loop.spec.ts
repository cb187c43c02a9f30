// A qcow2 header whose backing chain comes back to a file the open is already reading (fuzz seed
// 4016260769: one process's blockdev-create wrote base.qcow2 with backing file base.qcow2, and the
// other opened top.qcow2 over it): bdrv_open_backing_file recurses without end in QEMU 7.2 (probed
// live: QSD stops answering). The model refused nothing and recursed with it until the JavaScript
// stack overflowed (a model crash); now the open is refused as QEMU's hang, the log unchanged, and
// the fuzzer avoids the create that writes such a header.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { knownAbort } from '../../oracle/fuzz/aborts.js';
import { ProcView } from '../../oracle/fuzz/world.js';
import { openMemory } from '../../store/index.js';

test('opening a chain that loops is refused as a QEMU hang; nothing logged', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const ok = async (c: string, a: Record<string, unknown>) => assert.ok('return' in (await e.execute('A', c, a)).reply, c);
  await ok('x-blockgraph-image-create', { file: 'base.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'mid.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2' });
  await ok('x-blockgraph-image-create', { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'mid.qcow2', 'backing-format': 'qcow2' });
  await ok('blockdev-add', { driver: 'file', 'node-name': 'f3', filename: 'base.qcow2' });
  await ok('blockdev-create', { 'job-id': 'c6', options: { driver: 'qcow2', file: 'f3', size: 16777216, 'backing-file': 'base.qcow2' } });
  for (const [file, loop] of [['top.qcow2', 'base.qcow2'], ['base.qcow2', 'base.qcow2']] as const) {
    const head = log.head;
    const before = stateHash(e.state);
    const r = (await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: file }, 'read-only': true })).reply as { error?: { desc: string } };
    assert.match(r.error?.desc ?? '', new RegExp(`comes back to '${loop.replace('.', '\\.')}'.*QEMU hangs here \\(bdrv_open_backing_file`), file);
    assert.is(stateHash(e.state), before, file);
    assert.ok(log.head <= head + 1, 'at most the refusal record');
  }
  // a chain that does not loop still opens (the stack of files in progress is emptied after a refusal)
  await ok('x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '16M' });
  await ok('x-blockgraph-image-create', { file: 'b.qcow2', format: 'qcow2', size: '16M', backing: 'a.qcow2', 'backing-format': 'qcow2' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'nb', file: { driver: 'file', filename: 'b.qcow2' } });
  await log.close();
});

test('the fuzzer avoids the create that writes a looping header', () => {
  const p = new ProcView();
  p.graph = { nodes: [{ name: 'f3', driver: 'file', ro: false, file: 'base.qcow2' }, { name: 'f4', driver: 'file', ro: false, file: 't1.qcow2' }], parents: [], edges: [] };
  const create = (file: string, backing: string) => knownAbort({ execute: 'blockdev-create', arguments: { 'job-id': 'c', options: { driver: 'qcow2', file, size: 16777216, 'backing-file': backing } } }, p);
  assert.match(create('f3', 'base.qcow2') ?? '', /^fuzz 4016260769:/);
  assert.match(create('f3', 'top.qcow2') ?? '', /^fuzz 4016260769:/);
  assert.is(create('f4', 'base.qcow2'), undefined);
});

test.run();
