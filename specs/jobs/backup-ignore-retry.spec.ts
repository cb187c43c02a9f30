// backup_loop's BLOCK_ERROR_ACTION_IGNORE proceeds to the next iteration at once: a new
// block_copy_async call over what is still dirty, in the same run of the job's coroutine. A
// target write error that does not come back (blkdebug `once`) lets that call copy to the end,
// so a start the recorder settles (no speed, auto-finalize on) finishes inside its own step, as
// QSD 7.2 and 10.0 recorded (combo-c10-backup-target-write-ignore #2); an error that comes back
// keeps the job busy at every run (QEMU retries for ever).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario, type Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';

const images = [{ file: 's.img', format: 'raw', size: '2M', data: [{ offset: 0, length: 2097152, pattern: 1 }] }, { file: 'x.img', format: 'raw', size: '2M' }];
const scenario = (once: boolean): Scenario => ({
  name: 'backup-ignore-retry', description: 'x', covers: ['backup'], images,
  steps: [
    { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 's', file: { driver: 'file', filename: 's.img' } } },
    { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'x', file: { driver: 'blkdebug', image: { driver: 'file', filename: 'x.img' },
      'inject-error': [{ event: 'write_aio', errno: 5, once, sector: 2048 }] } } },
    { execute: 'blockdev-backup', arguments: { 'job-id': 'b', device: 's', target: 'x', sync: 'full', 'on-target-error': 'ignore' } },
    { execute: 'query-jobs' },
  ] as Step[],
});

for (const version of ['7.2', '10.0'] as const) {
  test(`${version}: an ignored target write error that does not come back: the settled start finishes the backup`, async () => {
    const t = await runOnModel(scenario(true), undefined, { qemuVersion: version });
    const start = t.steps[2]!;
    assert.ok(!isWaitStep(start) && start.result.ok);
    const kinds = start.events.map((e) => `${e.event}:${String(e.data?.status ?? e.data?.action ?? '')}`);
    assert.ok(kinds.includes('BLOCK_JOB_ERROR:ignore'), kinds.join(' '));
    assert.ok(kinds.includes('JOB_STATUS_CHANGE:null'), kinds.join(' '));
    assert.not.ok(start.graph?.parents.some((p) => p.name === 'b'), 'the job is gone');
  });

  test(`${version}: an ignored target write error that comes back keeps the backup running`, async () => {
    const t = await runOnModel(scenario(false), undefined, { qemuVersion: version });
    const start = t.steps[2]!;
    assert.ok(!isWaitStep(start) && start.result.ok);
    assert.ok(start.graph?.parents.some((p) => p.name === 'b' && p.type === 'block-job'), 'the job still holds its nodes');
    assert.not.ok(start.events.some((e) => e.data?.status === 'null'));
  });
}

test.run();
