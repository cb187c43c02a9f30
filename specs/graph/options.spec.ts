// Option QDicts (graph/options.ts), bdrv_refresh_filename (graph/filename.ts) and the drivers'
// open/reopen validation (graph/driver-options/), through the commands: what QEMU 7.2 keeps
// and refuses, and that a refusal leaves the state as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackend } from '../../commands/model-host.js';
import { stateHash } from '../../graph/hash.js';
import { rawApplyOptions } from '../../graph/driver-options/raw.js';
import { qcow2UpdateOptions } from '../../graph/driver-options/qcow2.js';
import { blkdebugLimits } from '../../graph/driver-options/blkdebug.js';
import type { BdsNode } from '../../graph/types.js';

async function host(images: [string, string, string][]) {
  const m = new MemoryBackend();
  for (const [file, format, size] of images) {
    const r = await m.execute('A', 'x-blockgraph-image-create', { file, format, size });
    assert.ok('return' in r.reply, JSON.stringify(r.reply));
  }
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  // the graph as it was: only the generated-name counter may move (id_generate never rolls back)
  const graph = () => stateHash({ ...m.state, A: { ...m.state.A!, meta: {} } });
  const err = async (c: string, a: Record<string, unknown>) => {
    const h = graph();
    const r = await m.execute('A', c, a);
    assert.is(graph(), h, `${c} changed the state`);
    return 'error' in r.reply ? r.reply.error.desc : `ok: ${JSON.stringify(r.reply)}`;
  };
  const node = (n: string) => (m.state.A!.nodes as Record<string, BdsNode>)[n]!;
  return { m, ok, err, node };
}

test('an inline child takes its sub-QDict: the parent keeps no backing.* or file.* options', async () => {
  const { ok, node } = await host([['a.qcow2', 'qcow2', '1M'], ['b.qcow2', 'qcow2', '1M']]);
  await ok('blockdev-add', {
    driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' },
    backing: { driver: 'qcow2', 'node-name': 'b', 'lazy-refcounts': true, file: { driver: 'file', 'node-name': 'bf', filename: 'b.qcow2' } },
  });
  const a = node('a');
  assert.equal(Object.keys(a.options).filter((k) => k.startsWith('backing') || k.startsWith('file')), []);
  assert.equal(Object.keys(a.explicit!).filter((k) => k.startsWith('backing') || k.startsWith('file')), []);
  // the child's explicit options are its own dict; its effective ones add what it inherited
  assert.equal(node('b').explicit, { driver: 'qcow2', 'node-name': 'b', 'lazy-refcounts': true });
  assert.is(node('b').options['read-only'], 'on');
  assert.is(node('bf').options.discard, 'unmap');
});

test('reopen with the same inline dicts is accepted; a changed inner option names QEMU\'s key', async () => {
  const { ok, err } = await host([['a.qcow2', 'qcow2', '1M'], ['b.qcow2', 'qcow2', '1M']]);
  const opts = (bfile: Record<string, unknown>) => ({
    driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' },
    backing: { driver: 'qcow2', 'node-name': 'b', file: { driver: 'file', filename: 'b.qcow2', ...bfile } },
  });
  await ok('blockdev-add', opts({}));
  await ok('blockdev-reopen', { options: [opts({})] });
  assert.is(await err('blockdev-reopen', { options: [opts({ 'node-name': 'x' })] }), "Cannot change the option 'node-name'");
  assert.is(await err('blockdev-reopen', { options: [{ driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' } }] }), "backing is missing for 'a'");
});

test('raw slice bounds: QEMU\'s texts (two spaces before "actual"), lengths in whole sectors', () => {
  assert.throws(() => rawApplyOptions({ offset: 3073 }, 3000), /^Offset \(3073\) cannot be greater than size of the containing file \(3072\)$/);
  assert.throws(() => rawApplyOptions({ offset: 512, size: 2800 }, 3000), /to be smaller or equal to the {2}actual size of the containing file \(3072\)$/);
  assert.throws(() => rawApplyOptions({ size: 1000 }, 3000), /^Specified size is not multiple of 512$/);
  assert.equal(rawApplyOptions({ offset: 1000 }, 3000), { offset: 1000, hasSize: false, size: 2072 });
});

test('bad driver options are refused at open and leave the state unchanged', async () => {
  const { err } = await host([['c.raw', 'raw', '3000'], ['a.qcow2', 'qcow2', '1M']]);
  assert.is(await err('blockdev-add', { driver: 'raw', 'node-name': 'r', offset: 4000, file: { driver: 'file', filename: 'c.raw' } }),
    'Offset (4000) cannot be greater than size of the containing file (3072)');
  assert.is(await err('blockdev-add', { driver: 'blkdebug', 'node-name': 'd', align: 1000, image: { driver: 'null-co' } }), 'Cannot meet constraints with align 1000');
  assert.is(await err('blockdev-add', { driver: 'qcow2', 'node-name': 'q', 'cache-clean-interval': 2 ** 32, file: { driver: 'file', filename: 'a.qcow2' } }), 'Cache clean interval too big');
  assert.is(await err('blockdev-add', { driver: 'blkdebug', 'node-name': 'd', config: 'nope', image: { driver: 'null-co' } }),
    'Could not read blkdebug config file: No such file or directory');
});

test('qcow2 cache options: read_cache_sizes order of checks', () => {
  const g = { clusterSize: 65536, virtualSize: 1 << 20 };
  assert.throws(() => qcow2UpdateOptions({ 'cache-size': 1, 'l2-cache-size': 1, 'refcount-cache-size': 1 }, g), /may not be set at the same time/);
  assert.throws(() => qcow2UpdateOptions({ 'cache-size': 1024, 'l2-cache-size': 2048 }, g), /^l2-cache-size may not exceed cache-size$/);
  assert.throws(() => qcow2UpdateOptions({ 'cache-size': 1024, 'refcount-cache-size': 2048 }, g), /^refcount-cache-size may not exceed cache-size$/);
  assert.throws(() => qcow2UpdateOptions({ 'l2-cache-entry-size': 1000 }, g), /cluster size \(65536\)$/);
  assert.throws(() => qcow2UpdateOptions({ 'refcount-cache-size': 2 ** 47 }, g), /^Refcount cache size too big$/);
  qcow2UpdateOptions({ 'cache-size': 262144, 'cache-clean-interval': 2 ** 32 - 1 }, g);
});

test('blkdebug constraints are multiples of the larger of align and the child\'s alignment', () => {
  assert.throws(() => blkdebugLimits({ 'max-transfer': 1024 }, 4096), /^Cannot meet constraints with max-transfer 1024$/);
  assert.throws(() => blkdebugLimits({ 'opt-write-zero': 4096, 'max-write-zero': 6144 }, 1), /max-write-zero 6144/);
  assert.is(blkdebugLimits({ align: 4096, 'max-transfer': 8192 }, 1), 4096);
  assert.is(blkdebugLimits({}, 512), 1);
});

test('filenames: blkdebug:CONFIG:IMAGE, null-co with a strong option has none, a raw name follows a dropped offset', async () => {
  const { ok, node } = await host([['c.raw', 'raw', '3000'], ['cfg', 'raw', '0']]);
  await ok('blockdev-add', { driver: 'blkdebug', 'node-name': 'd', config: 'cfg', image: { driver: 'file', filename: 'c.raw' } });
  assert.is(node('d').filename, 'blkdebug:cfg:c.raw');
  await ok('blockdev-add', { driver: 'null-co', 'node-name': 'n', 'read-zeroes': true });
  assert.is(node('n').filename, '');
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'r', offset: 512, file: { driver: 'file', 'node-name': 'f', filename: 'c.raw', 'read-only': true }, 'read-only': true });
  assert.is(node('r').filename, '');
  await ok('blockdev-reopen', { options: [{ driver: 'raw', 'node-name': 'r', file: 'f', 'read-only': true }] });
  assert.is(node('r').filename, 'c.raw');
});

test.run();
