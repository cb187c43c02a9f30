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

// fuzz --qemu 10.0 2265673556 (graph/rules.ts 'export-fail-iothread-backup-hangs'): a
// block-export-add failing after blk_insert_bs on a node in an iothread under a copying backup
// never answers on 10.0 (7.2: oracle/transcripts/fuzz-found/7.2-only-abort-22-export-fails-iothread-backup.json;
// survivors abort-22-*-survives on both versions)
async function exportUnderBackup(qemu: '7.2' | '10.0', iothread: boolean) {
  const m = new MemoryBackend();
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await m.execute('A', c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  // a source with more than one block_copy task of data, as in the fuzz case (a call whose first
  // task copies everything ends at once: graph/jobs/backup.ts backupStillCopies)
  await ok('x-blockgraph-image-create', { file: 'b.qcow2', format: 'qcow2', size: '16M', data: [{ offset: 0, length: 16777216 }] });
  await ok('x-blockgraph-image-create', { file: 't.qcow2', format: 'qcow2', size: '16M' });
  await ok('nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  await ok('object-add', { 'qom-type': 'iothread', id: 'io1' });
  await ok('blockdev-add', { driver: 'qcow2', 'node-name': 'n8', file: { driver: 'file', filename: 'b.qcow2' }, backing: null });
  await ok('drive-backup', { 'job-id': 'd14', device: 'n8', sync: 'full', mode: 'existing', target: 't.qcow2', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  if (iothread) await ok('x-blockdev-set-iothread', { 'node-name': 'n8', iothread: 'io1' });
  return m;
}
const badExport = { type: 'nbd', id: 'e19', 'node-name': 'n8', bitmaps: [{ node: 'nosuch', name: 'b' }] };

test('10.0: a block-export-add failing in an iothread under a copying backup is refused (QEMU 10.0 hangs in blk_exp_add\'s blk_unref)', async () => {
  const m = await exportUnderBackup('10.0', true);
  const h = stateHash(m.state);
  const r = await m.execute('A', 'block-export-add', badExport);
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 10\.0 hangs here/);
  assert.is(stateHash(m.state), h);
});

test('7.2, or 10.0 in the main loop or with a good export: the export is not refused for the hang', async () => {
  for (const [qemu, io, args] of [['7.2', true, badExport], ['10.0', false, badExport], ['10.0', true, { type: 'nbd', id: 'e19', 'node-name': 'n8' }]] as const) {
    const m = await exportUnderBackup(qemu, io);
    const r = await m.execute('A', 'block-export-add', args as never);
    if ('error' in r.reply) assert.not.match(r.reply.error.desc, /hangs/);
    if (args === badExport) assert.ok('error' in r.reply && /Node 'nosuch' not found/.test(r.reply.error.desc), JSON.stringify(r.reply));
  }
});

test('the fuzz generator never sends an export of a node in an iothread under a running backup', () => {
  const view = {
    driver: () => 'qcow2', inIothread: () => new Set(['n8']), iothreads: new Set(['io1']), child: () => undefined,
    subtree: (n: string) => new Set([n]), graph: { nodes: [], edges: [] },
    jobs: new Map([['d14', { kind: 'backup', status: 'running', device: 'n8' }]]),
  } as unknown as ProcView;
  assert.match(knownAbort({ execute: 'block-export-add', arguments: badExport } as never, view)!, /2265673556/);
  const idle = Object.assign(Object.create(view), { jobs: new Map() }) as ProcView;
  assert.is(knownAbort({ execute: 'block-export-add', arguments: badExport } as never, idle), undefined);
  // fuzz --qemu 10.0 1623732509: the node is in the main loop and the export moves it to an iothread
  const inMain = Object.assign(Object.create(view), { inIothread: () => new Set() }) as ProcView;
  assert.is(knownAbort({ execute: 'block-export-add', arguments: badExport } as never, inMain), undefined);
  assert.match(knownAbort({ execute: 'block-export-add', arguments: { ...badExport, iothread: 'io1', 'fixed-iothread': true } } as never, inMain)!, /2265673556/);
});

test('10.0: an export that moves its node into an iothread and then fails under a copying backup is refused (fuzz 1623732509)', async () => {
  const m = await exportUnderBackup('10.0', false);
  const h = stateHash(m.state);
  const r = await m.execute('A', 'block-export-add', { ...badExport, iothread: 'io1', 'fixed-iothread': true });
  assert.ok('error' in r.reply && /QEMU 10\.0 hangs here/.test(r.reply.error.desc), JSON.stringify(r.reply));
  assert.is(stateHash(m.state), h);
});

test.run();
