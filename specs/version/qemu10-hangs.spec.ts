// Where QEMU 10.0.2 hangs and 7.2 does not (graph/rules.ts 'append-over-compress-hangs', found by
// fuzz --against qsd --qemu 10.0 --seed 41): under 10.0's rules the model refuses, saying so, and
// the state is untouched; under 7.2's it agrees with the recording
// (oracle/transcripts/fuzz-snapshot-over-compress.json). The fuzz generator never sends it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { knownAbort } from '../../oracle/fuzz/index.js';
import { ProcView } from '../../oracle/fuzz/world.js';

async function compressTop(qemu: '7.2' | '10.0') {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  for (const f of ['b', 'a', 'o1']) await ok('x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '1M' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'b', file: { driver: 'file', filename: 'b.qcow2' }, backing: null });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' }, backing: 'b' });
  await ok('blockdev-add', { driver: 'compress', 'node-name': 'cmp', file: 'a' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'o1', file: { driver: 'file', filename: 'o1.qcow2' }, backing: null });
  return m;
}

for (const [cmd, args] of [
  ['blockdev-snapshot', { node: 'cmp', overlay: 'o1' }],
  ['transaction', { actions: [{ type: 'blockdev-snapshot', data: { node: 'cmp', overlay: 'o1' } }] }],
  ['block-commit', { 'job-id': 'c0', device: 'cmp', 'auto-finalize': false }],
  ['blockdev-mirror', { 'job-id': 'm0', device: 'cmp', target: 'o1', sync: 'full', 'auto-finalize': false }],
] as const) {
  test(`10.0: ${cmd} of a compress filter is refused (QEMU 10.0 hangs in bdrv_append)`, async () => {
    const m = await compressTop('10.0');
    const h = stateHash(m.state);
    const r = await m.execute('A', cmd, args as never);
    assert.ok('error' in r.reply, JSON.stringify(r.reply));
    if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 10\.0 hangs here/);
    assert.is(stateHash(m.state), h);
  });
  test(`7.2: ${cmd} of a compress filter is not refused for the hang`, async () => {
    const m = await compressTop('7.2');
    const r = await m.execute('A', cmd, args as never);
    if ('error' in r.reply) assert.not.match(r.reply.error.desc, /hangs/);
  });
}

test('the fuzz generator never sends an external snapshot of a compress filter', () => {
  const view = { driver: (n: string) => (n === 'cmp' ? 'compress' : 'qcow2') } as unknown as ProcView;
  const guard = (s: object) => knownAbort(s as never, Object.assign(Object.create(view), { inIothread: () => new Set<string>(), iothreads: new Set<string>(), child: () => undefined }));
  assert.match(guard({ execute: 'blockdev-snapshot', arguments: { node: 'cmp', overlay: 'o1' } })!, /QEMU 10\.0 hang/);
  assert.match(guard({ execute: 'blockdev-snapshot-sync', arguments: { 'node-name': 'cmp', 'snapshot-file': 'x.qcow2' } })!, /QEMU 10\.0 hang/);
  assert.match(guard({ execute: 'transaction', arguments: { actions: [{ type: 'blockdev-snapshot-sync', data: { device: 'cmp', 'snapshot-file': 'x.qcow2' } }] } })!, /QEMU 10\.0 hang/);
  assert.match(guard({ execute: 'block-commit', arguments: { 'job-id': 'c0', device: 'cmp' } })!, /QEMU 10\.0 hang/);
  assert.match(guard({ execute: 'blockdev-mirror', arguments: { 'job-id': 'm0', device: 'cmp', target: 'o1', sync: 'full' } })!, /QEMU 10\.0 hang/);
  assert.is(guard({ execute: 'blockdev-snapshot', arguments: { node: 'a', overlay: 'o1' } }), undefined);
});

test.run();
