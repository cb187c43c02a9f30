// A job a 10.0 blockdev-reopen leaves drained for good (rule 'reopen-queue-drains-per-call':
// [none0 {backing: int}, int] queues int twice) sits at its pause point: job-pause finds it
// paused already (job_pause_locked enters only a job that is not paused) and job-resume after a
// user pause leaves it paused (job_resume_locked returns while pause_count > 0), neither with a
// JOB_STATUS_CHANGE. 7.2 ends the section, so both show. The pause half is recorded live
// (iotests/161-stream-reopen-node-and-backing); the resume half cannot be recorded by the harness
// on 10.0 (job-resume's settle waits for `running`, which never comes), so it is checked here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOnModel } from '../../oracle/run-model.js';
import type { Scenario } from '../../oracle/format.js';

const base = JSON.parse(readFileSync(join(import.meta.dirname, '../../oracle/scenarios/iotests/161-stream-reopen-node-and-backing.json'), 'utf8')) as Scenario;
const [add, stream, reopen] = base.steps;
const pauseFirst: Scenario = {
  ...base, name: 'leaked-drain-resume',
  steps: [add!, stream!, { execute: 'job-pause', arguments: { id: 'j' } }, reopen!, { execute: 'job-resume', arguments: { id: 'j' } },
    { execute: 'job-cancel', arguments: { id: 'j' } }, { wait: { job: 'j', status: 'null' } }],
};
const statuses = (evs: { event: string; data?: Record<string, unknown> }[]) => evs.filter((e) => e.event === 'JOB_STATUS_CHANGE').map((e) => e.data?.status);

test('10.0: job-pause of a job the leaked section pauses sends no event; 7.2 pauses it', async () => {
  const t10 = await runOnModel(base, undefined, { qemuVersion: '10.0' });
  const t72 = await runOnModel(base, undefined, { qemuVersion: '7.2' });
  assert.equal(statuses(t10.steps[4]!.events), []);
  assert.equal(statuses(t72.steps[4]!.events), ['paused']);
});

test('10.0: job-resume after a user pause leaves the job paused, no event; 7.2 resumes it', async () => {
  const t10 = await runOnModel(pauseFirst, undefined, { qemuVersion: '10.0' });
  const t72 = await runOnModel(pauseFirst, undefined, { qemuVersion: '7.2' });
  assert.equal(statuses(t10.steps[4]!.events), []);
  assert.equal(statuses(t72.steps[4]!.events), ['running']);
});

test.run();
