// A QEMU version per process: declared by the process's first command, logged, replayed; 7.2
// when never declared (every older log); refused once the process has started.
import { partsOf } from '../../events/whole.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openMemory } from '../../store/index.js';
import { replay } from '../../replay/replay.js';
import { parseQemuVersion, versionIn } from '../../graph/version.js';
import { MemoryBackend } from '../../commands/model-host.js';

test('declared on the first command, logged as a transaction, and replayed', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  const r = await e.execute('B', 'x-blockgraph-process-start', { qemu: '10.0' });
  assert.equal(r.reply, { return: {} });
  // one atomic batch, one record: the whole transaction (events/whole.ts), its end on the decision
  const recs = (await log.readAll()).flatMap(partsOf);
  assert.equal(recs.map((x) => x.type), ['txn.begun', 'txn.step', 'txn.decided']);
  assert.equal((recs[0]!.data as { args: unknown }).args, { qemu: '10.0' });
  assert.is(recs[0]!.stream, 'B');
  const f = await replay(log, { fromScratch: true });
  assert.is(versionIn(f.state, 'B'), '10.0');
  assert.is(versionIn(f.state, 'A'), '7.2');
  const v = await e.execute('B', 'query-version', {});
  assert.equal(v.reply, { return: { qemu: { major: 10, minor: 0, micro: 2 }, package: 'blockgraph model' } });
});

test('a process that never declared one is 7.2 (query-version as before)', async () => {
  const m = new MemoryBackend();
  await m.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0' });
  assert.is(versionIn(m.state, 'A'), '7.2');
  const v = await m.execute('A', 'query-version', {});
  assert.equal(v.reply, { return: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'blockgraph model' } });
});

test('refused once the process has started, or twice, or with a bad value; the state is unchanged', async () => {
  const m = new MemoryBackend();
  await m.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'n0' });
  const before = JSON.stringify(m.state);
  const r = await m.execute('A', 'x-blockgraph-process-start', { qemu: '10.0' });
  assert.ok('error' in r.reply);
  if ('error' in r.reply) assert.match(r.reply.error.desc, /has already started \(QEMU 7\.2\)/);
  assert.is(JSON.stringify(m.state), before);
  const n = new MemoryBackend();
  assert.ok('return' in (await n.execute('A', 'x-blockgraph-process-start', { qemu: '10.0' })).reply);
  assert.ok('error' in (await n.execute('A', 'x-blockgraph-process-start', { qemu: '10.0' })).reply);
  for (const bad of [{ qemu: '9.2' }, { qemu: 10 }, {}, { qemu: '10.0', x: 1 }, { qemu: '10.0.2' }]) {
    const k = new MemoryBackend();
    const res = await k.execute('A', 'x-blockgraph-process-start', bad);
    assert.ok('error' in res.reply, JSON.stringify(bad));
    assert.equal(k.state, {});
  }
});

test('parseQemuVersion reads a transcript\'s qemu member and plain versions only', () => {
  assert.is(parseQemuVersion('10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)'), '10.0');
  assert.is(parseQemuVersion('7.2.22 (blockgraph model)'), '7.2');
  assert.is(parseQemuVersion('10.0'), '10.0');
  for (const s of ['', '10', '9.2.0', 'x10.0', '10.0x', null, 10]) assert.is(parseQemuVersion(s), undefined, String(s));
});

test.run();
