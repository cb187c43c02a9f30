// QEMU 10.0 leaves a node that one blockdev-reopen queued twice drained for good (graph/rules.ts
// 'reopen-queue-drains-per-call'; transcripts fuzz-reopen-*-stays-drained). blockdev-create's
// qcow2 writes its header through a BlockBackend on its `file` node, which then waits for ever
// (blk_wait_while_drained; recorded by hand: the job stays `running`, job-cancel does not end it,
// the daemon needs SIGKILL to quit): under 10.0's rules the model refuses it, saying so, the
// state untouched; 7.2 carries it out. The fuzz generator never sends it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { knownAbort } from '../../oracle/fuzz/index.js';
import { World } from '../../oracle/fuzz/world.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTranscripts } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

async function leaked(qemu: '7.2' | '10.0', list: Record<string, unknown>[]) {
  const m = new MemoryBackend();
  const run = (c: string, a: Record<string, unknown>) => m.execute('A', c, a);
  const ok = async (c: string, a: Record<string, unknown>) => {
    const r = await run(c, a);
    assert.ok('return' in r.reply, `${c}: ${JSON.stringify(r.reply)}`);
  };
  await ok('x-blockgraph-process-start', { qemu });
  await ok('x-blockgraph-image-create', { file: 't1.qcow2', format: 'qcow2', size: '16M' });
  await ok('blockdev-add', { driver: 'file', 'node-name': 'fx', filename: 't1.qcow2' });
  await ok('blockdev-add', { driver: 'raw', 'node-name': 'rx', file: 'fx' });
  await run('blockdev-reopen', { options: list });
  return { m, run };
}

const twice = [{ driver: 'file', 'node-name': 'fx', filename: 't1.qcow2' }, { driver: 'file', 'node-name': 'fx', filename: 't1.qcow2' }];
const create = { 'job-id': 'c1', options: { driver: 'qcow2', file: 'fx', size: 1048576 } };

test('10.0: blockdev-create over a node a reopen queued twice is refused (QEMU 10.0 hangs)', async () => {
  const { m, run } = await leaked('10.0', twice);
  const h = stateHash(m.state);
  const r = await run('blockdev-create', create);
  assert.ok('error' in r.reply, JSON.stringify(r.reply));
  if ('error' in r.reply) assert.match(r.reply.error.desc, /QEMU 10\.0 hangs: blk_wait_while_drained/);
  assert.is(stateHash(m.state), h);
});

test('10.0: a reopen that lists the node once leaves nothing drained', async () => {
  const { run } = await leaked('10.0', twice.slice(0, 1));
  const r = await run('blockdev-create', create);
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
});

test('7.2: the same blockdev-create is carried out', async () => {
  const { run } = await leaked('7.2', twice);
  const r = await run('blockdev-create', create);
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
});

test('the fuzz generator never sends blockdev-create over a node a reopen may have queued twice', () => {
  const w = new World();
  const graph = {
    nodes: [{ name: 'rx', driver: 'raw', ro: false, file: 't1.qcow2' }, { name: 'fx', driver: 'file', ro: false, file: 't1.qcow2' }],
    parents: [],
    edges: [{ parent: 'rx', name: 'file', child: 'fx', perm: [], shared: [] }],
  };
  const step = (execute: string, args: Record<string, unknown>, ok = true) =>
    w.observe({ execute, arguments: args } as never, { proc: 'A', execute, arguments: args, result: ok ? { ok: true } : { ok: false, class: 'GenericError', desc: 'x' }, events: [], graph } as never);
  step('blockdev-add', { driver: 'raw', 'node-name': 'rx', file: { driver: 'file', 'node-name': 'fx', filename: 't1.qcow2' } });
  const p = w.proc('A');
  const guard = (file: string) => knownAbort({ execute: 'blockdev-create', arguments: { 'job-id': 'c1', options: { driver: 'qcow2', file, size: 1048576 } } } as never, p);
  assert.is(guard('fx'), undefined);
  // the parent listed first queues its implicit child, which the list names again (failed or not)
  step('blockdev-reopen', { options: [{ driver: 'raw', 'node-name': 'rx', file: 'fx' }, { driver: 'file', 'node-name': 'fx', filename: 't1.qcow2' }] }, false);
  assert.match(guard('fx')!, /QEMU 10\.0 hang/);
  assert.match(guard('rx')!, /QEMU 10\.0 hang/);
});

// 7.2 survives the form that hangs 10.0 (the boundary on both: abort-fz2-create-over-once-reopened-node-survives)
test('7.2-only boundary: the create over a twice-listed node is carried out as recorded; refused under 10.0', async () => {
  const name = 'fuzz-found/7.2-only-abort-fz2-create-over-twice-reopened-node-survives.json';
  const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, name), 'utf8'), name);
  const c = compareTranscripts(t, await runOnModel(scenarioOf(t)));
  assert.equal(c.steps.filter((x) => !x.outcome || !x.errorText || !x.graph).map((x) => `#${x.index}: ${x.diff.join('; ')}`), []);
  const t10 = await runOnModel(scenarioOf(t), undefined, { qemuVersion: '10.0' });
  const r = t10.steps[3]!;
  assert.ok(!('wait' in r) && !r.result.ok && /QEMU 10\.0 hangs/.test(r.result.desc), JSON.stringify(r));
});

test.run();
