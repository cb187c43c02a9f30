// A speed-limited commit or stream that a blockdev-reopen's drained sections wake for its last
// chunk ends after the reply: qmp_blockdev_reopen's bdrv_subtree_drained_end resumes the job, its
// copy is I/O in flight when the command answers, and job_co_entry's
// aio_bh_schedule_oneshot(job_exit) sends the finishing statuses later. Every 7.2 recording has
// them in the step after the reopen (oracle/harness.ts deferFinishOfWokenJobs), the recorder
// attributes the model's the same way, and what an earlier step handed on stays in the reopen's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf, type Transcript } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

const load = (file: string): Transcript => parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, file), 'utf8'), file);
const statuses = (t: Transcript, i: number, job: string) => t.steps[i]!.events
  .filter((e) => e.event === 'JOB_STATUS_CHANGE' && e.data?.id === job).map((e) => String(e.data?.status));
const FINISH = ['waiting', 'pending', 'concluded', 'null'];

test('a commit woken for its last chunk by a failing reopen finishes in the next step (the export-del), as recorded', async () => {
  const rec = load('combo-c15-commit-below-cor-export.json');
  const what = (i: number) => { const s = rec.steps[i]!; return isWaitStep(s) ? 'wait' : s.execute; };
  const reopen = 11, del = 12;
  assert.is(what(reopen), 'blockdev-reopen');
  assert.is(what(del), 'block-export-del');
  assert.equal(statuses(rec, reopen, 'c'), []);
  assert.equal(statuses(rec, del, 'c'), FINISH);
  const t = await runOnModel(scenarioOf(rec));
  assert.equal(statuses(t, reopen, 'c'), [], 'nothing of the finish in the reopen that woke it');
  assert.equal(statuses(t, del, 'c'), FINISH);
  // the handed-on events come first, BLOCK_EXPORT_DELETED (sent inside block-export-del) after them
  assert.equal(t.steps[del]!.events.map((e) => e.event).at(-1), 'BLOCK_EXPORT_DELETED');
  // the graph after the reopen shows the job gone, as QEMU's (its bottom half ran before the query)
  assert.equal(t.steps[reopen]!.graph, rec.steps[reopen]!.graph);
});

test('a finish handed on into a step that is itself a reopen stays there (iotests 161: the second reopen)', async () => {
  const rec = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, 'iotests', '161-m-commit-running-reopen-base-ro.json'), 'utf8'));
  assert.equal(statuses(rec, 2, 'c'), []);
  assert.equal(statuses(rec, 3, 'c'), FINISH);
  const t = await runOnModel(scenarioOf(rec));
  assert.equal(statuses(t, 2, 'c'), []);
  assert.equal(statuses(t, 3, 'c'), FINISH);
  assert.equal(statuses(t, 4, 'c'), []);
});

test.run();
