// Issue 5.4 at the engine level: a job running when the engine crashed is resumed (kept,
// with the links it froze) by default, or cancelled deterministically when recovery
// models a QEMU crash. Never frozen links without a job.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import type { Edge, Job } from '../../graph/types.js';
import { openMemory } from '../../store/index.js';
import type { EventLog } from '../../store/index.js';

async function withRunningCommit(): Promise<EventLog> {
  const log = await openMemory();
  const e = await Engine.open(log);
  for (const [f, b] of [['base.qcow2', undefined], ['mid.qcow2', undefined], ['top.qcow2', undefined]] as const) {
    // mid holds data: the speed-limited commit has chunks left to copy and keeps running
    const data = f === 'mid.qcow2' ? { data: [{ offset: 0, length: 2 << 20 }] } : {};
    await e.execute('A', 'x-blockgraph-image-create', { file: f, format: 'qcow2', size: '16M', ...data, ...(b ? { backing: b } : {}) });
  }
  await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'base', file: { driver: 'file', filename: 'base.qcow2' }, backing: null });
  await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'mid', file: { driver: 'file', filename: 'mid.qcow2' }, backing: 'base' });
  await e.execute('A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'top', file: { driver: 'file', filename: 'top.qcow2' }, backing: 'mid' });
  const r = await e.execute('A', 'block-commit', { 'job-id': 'c0', device: 'top', 'top-node': 'mid', 'base-node': 'base', speed: 1, 'auto-finalize': false, 'auto-dismiss': false });
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
  return log;
}

const frozen = (e: Engine) => Object.values(e.state.A!.edges!).filter((x) => (x as Edge).frozen).length;
const job = (e: Engine) => e.state.A!.jobs?.c0 as Job | undefined;

test('default: the running job is resumed with its frozen links', async () => {
  const log = await withRunningCommit();
  const e = await Engine.open(log);
  assert.is(job(e)!.status, 'running');
  assert.ok(frozen(e) > 0);
  assert.is(e.lastRecovery!.cancelledJobsIn, undefined);
});

test("recoverJobs: 'cancel': the job is cancelled in a logged transaction, no frozen link stays", async () => {
  const log = await withRunningCommit();
  const head = log.head;
  const e = await Engine.open(log, { recoverJobs: 'cancel' });
  assert.equal(e.lastRecovery!.cancelledJobsIn, ['A']);
  assert.is(frozen(e), 0);
  assert.ok(['concluded', 'null'].includes(job(e)?.status ?? 'null'));
  const recs = await log.readAll({ gte: head + 1 });
  assert.is((recs[0]!.data as { op: string }).op, 'x-blockgraph-cancel-orphaned-jobs');
  // nothing left to do on the next open
  const again = await Engine.open(log, { recoverJobs: 'cancel' });
  assert.is(again.lastRecovery!.cancelledJobsIn, undefined);
  assert.is(log.head, head + recs.length);
});

test.run();
