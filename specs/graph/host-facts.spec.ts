// Host facts (graph/host-facts.ts): the O_DIRECT alignment raw_probe_alignment finds depends on
// the image directory's file system, so the model takes it as an input (a scenario's `host`
// member, x-blockgraph-host), logged and replayed; 512 when nothing is declared.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MemoryBackend } from '../../commands/model-host.js';
import { Engine } from '../../engine/engine.js';
import { openMemory } from '../../store/index.js';
import { replay } from '../../replay/replay.js';
import { Draft } from '../../graph/draft.js';
import { hostFacts } from '../../graph/host-facts.js';
import { parseScenario, parseTranscript, printTranscript, scenarioOf } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { scenarioCalls } from '../../replay/drill/plan.js';
import { declareHostOf, probeDirectIoAlignment } from '../../oracle/image-root.js';
import { transcript } from '../../testing/index.js';

/** fuzz-direct-io-alignment's refusals, on a model told `align` (undefined: nothing declared). */
async function answers(align?: number): Promise<string[]> {
  const m = new MemoryBackend();
  if (align !== undefined) assert.equal((await m.execute('A', 'x-blockgraph-host', { 'direct-io-alignment': align })).reply, { return: {} });
  const out: string[] = [];
  const run = async (cmd: string, args: Record<string, unknown>) => {
    const r = (await m.execute('A', cmd, args)).reply;
    out.push('error' in r ? r.error.desc : 'ok');
  };
  await run('x-blockgraph-image-create', { file: 'a.raw', format: 'raw', size: '16M' });
  await run('x-blockgraph-image-create', { file: 'b.raw', format: 'raw', size: '16M' });
  await run('blockdev-add', { driver: 'file', 'node-name': 'f0', filename: 'a.raw', cache: { direct: true } });
  await run('block_resize', { 'node-name': 'f0', size: 16777217 });
  // bdrv_node_refresh_perm: write without resize needs a length (whole sectors) aligned to request_alignment
  await run('blockdev-add', { driver: 'copy-before-write', 'node-name': 'c1', file: 'f0', target: 'f0' });
  // blkdebug_open: max-transfer must be a multiple of MAX(align, the image's request_alignment)
  await run('blockdev-add', { driver: 'blkdebug', 'node-name': 'x1', image: { driver: 'file', filename: 'b.raw', cache: { direct: true } }, 'max-transfer': 1024 });
  return out;
}

test('the model answers by the declared O_DIRECT alignment: 4096 (tmpfs) and 512 (the default) differ', async () => {
  const a4096 = await answers(4096);
  const a512 = await answers(512);
  assert.equal(a4096.slice(4), [
    "Cannot get 'write' permission without 'resize': Image size is not a multiple of request alignment",
    'Cannot meet constraints with max-transfer 1024',
  ]);
  assert.equal(a512.slice(4), ['ok', 'ok']);
  assert.equal(await answers(), a512);
  // 16777728 (whole sectors) is a multiple of 512 only; 1024 divides max-transfer 1024
  assert.equal((await answers(1024)).slice(4), [a4096[4], 'ok']);
});

test('declared through the log and replayed; bad input refused with the state unchanged', async () => {
  const log = await openMemory();
  const e = await Engine.open(log);
  assert.equal((await e.execute('A', 'x-blockgraph-host', { 'direct-io-alignment': 4096 })).reply, { return: {} });
  const f = await replay(log, { fromScratch: true });
  assert.is(hostFacts(new Draft(f.state)).directIoAlignment, 4096);
  for (const bad of [{ 'direct-io-alignment': 1 }, { 'direct-io-alignment': 4095 }, { 'direct-io-alignment': '4096' }, { x: 1 }]) {
    const m = new MemoryBackend();
    const r = await m.execute('A', 'x-blockgraph-host', bad);
    assert.ok('error' in r.reply, JSON.stringify(bad));
    assert.equal(m.state, {});
  }
  assert.is(hostFacts(new Draft({})).directIoAlignment, 512);
});

test("a transcript's host member: parsed, printed in place, kept by scenarioOf, declared by runOnModel and the drill", async () => {
  const t = parseTranscript(readFileSync(transcript('fuzz-direct-io-alignment'), 'utf8'));
  assert.equal(t.host, { 'direct-io-alignment': 4096 });
  assert.equal(scenarioOf(t).host, t.host);
  const text = printTranscript(t);
  assert.is(printTranscript(parseTranscript(text)), text);
  assert.is(parseTranscript(readFileSync(transcript('fuzz-direct-io-alignment-ext4'), 'utf8')).host, undefined);
  for (const bad of [{ 'direct-io-alignment': 1 }, { 'direct-io-alignment': 8192 }, { other: 1 }, 4096]) {
    assert.throws(() => parseTranscript({ ...t, host: bad }), /host/);
    assert.throws(() => parseScenario({ ...scenarioOf(t), host: bad }), /host/);
  }
  const m = new MemoryBackend();
  await runOnModel(scenarioOf(t), m);
  assert.is(hostFacts(new Draft(m.state)).directIoAlignment, 4096);
  assert.equal(scenarioCalls(scenarioOf(t))[0], { proc: 'A', command: 'x-blockgraph-host', args: { 'direct-io-alignment': 4096 }, label: 'host' });
});

test('the recorders probe a directory as raw_probe_alignment does (tmpfs: any O_DIRECT read, so 4096)', () => {
  assert.ok([512, 1024, 2048, 4096].includes(probeDirectIoAlignment(tmpdir())));
  let shm = false;
  try { shm = probeDirectIoAlignment('/dev/shm') > 0; } catch { /* no /dev/shm here */ }
  if (shm) assert.is(probeDirectIoAlignment('/dev/shm'), 4096);
});

test('a model mirroring a daemon (proxy, import --image-dir) declares its image dir\'s alignment once', async () => {
  const m = new MemoryBackend();
  await declareHostOf(m, 'A', tmpdir());
  assert.is(hostFacts(new Draft(m.state)).directIoAlignment, probeDirectIoAlignment(tmpdir()));
  if (probeDirectIoAlignment(tmpdir()) === 512) assert.equal(m.state, {});
  const before = JSON.stringify(m.state);
  await declareHostOf(m, 'A', tmpdir());
  assert.is(JSON.stringify(m.state), before);
  // a directory that cannot be probed leaves the model as it is
  await declareHostOf(m, 'A', '/nonexistent-bg-dir');
  assert.is(JSON.stringify(m.state), before);
});

test.run();
