// 10.0's x-perf min-cluster-size (graph/rules.ts 'qapi-schema'), where qemu-storage-daemon 10.0.2
// dies (probed live while porting iotests 056/257, wt-iote; the recorded scenario
// iotests/056-e-backup-options-10 stays below it): a cluster of 4 GiB or more passes
// block_copy_state_new's checks (a power of 2, at most INT64_MAX) but bdrv_create_dirty_bitmap takes
// the granularity as a uint32_t; one above BLOCK_COPY_MAX_MEM (128 MiB) dies at the first copy task
// (co_get_from_shres). The model refuses both under 10.0's rules with the abort named and the
// state untouched; 7.2 has no such member.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';

async function source(qemu: '7.2' | '10.0') {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  for (const f of ['src', 'tgt']) await ok('x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '1M' });
  for (const f of ['src', 'tgt']) await ok('blockdev-add', { driver: 'qcow2', 'node-name': f, file: { driver: 'file', filename: `${f}.qcow2` } });
  return m;
}

const backup = (min: number, sync = 'full') => ({ 'job-id': 'j', device: 'src', target: 'tgt', sync, 'x-perf': { 'min-cluster-size': min } });

async function refused(min: number, sync: string, abort: RegExp) {
  const m = await source('10.0');
  const h = stateHash(m.state);
  const r = await m.execute('A', 'blockdev-backup', backup(min, sync));
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, abort);
  assert.is(stateHash(m.state), h);
}

// (probed live on qemu-storage-daemon 10.0.2 with a 1 MiB qcow2 source and target: 2^27 full,
// 2^28 none and top live; 2^28, 2^30, 2^31 full and 2^32 none die; 2^40 by the same truncation)
for (const min of [2 ** 32, 2 ** 40]) {
  test(`10.0: min-cluster-size ${min} is refused as QEMU's abort (the bitmaps' uint32_t granularity)`, () =>
    refused(min, 'none', /QEMU aborts here: block_copy_state_new -> bdrv_create_dirty_bitmap/));
}

for (const min of [2 ** 28, 2 ** 30, 2 ** 31]) {
  test(`10.0: min-cluster-size ${min} with a copy to make is refused as QEMU's abort (co_get_from_shres)`, () =>
    refused(min, 'full', /QEMU aborts here: block_copy_task_run -> co_get_from_shres/));
}

for (const [min, sync] of [[2 ** 27, 'full'], [2 ** 28, 'none'], [2 ** 28, 'top']] as const) {
  test(`10.0: min-cluster-size ${min}, sync ${sync}: the backup starts`, async () => {
    const m = await source('10.0');
    const r = await m.execute('A', 'blockdev-backup', backup(min, sync));
    assert.ok('return' in r.reply, JSON.stringify(r.reply));
  });
}

test('7.2: x-perf has no min-cluster-size', async () => {
  const m = await source('7.2');
  const r = await m.execute('A', 'blockdev-backup', backup(2 ** 32));
  assert.equal(r.reply, { error: { class: 'GenericError', desc: "Parameter 'x-perf.min-cluster-size' is unexpected" } });
});

test.run();
