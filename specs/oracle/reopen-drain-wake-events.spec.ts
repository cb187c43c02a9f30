// A blockdev-reopen's drained sections wake a speed-limited job asleep on its rate limit (7.2:
// the wake ends the sleep) and the last bdrv_subtree_drained_end does not poll: the job's next
// chunk completes after the reply, and a job that then ends sends its finishing events from
// job_exit's bottom half, in the next step's batch (oracle/harness.ts deferFinishOfDrainWokenJobs).
// The model ends the job inside the command; the harness hands those events on, once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTranscripts } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

const CASES: [string, number[]][] = [
  // a failed reopen (cbw does not reopen files) wakes the stream
  ['combo-c6-chain6-cbw-levels.json', [26, 27]],
  // three reopens in a row: the commit's end is handed on once, to the second
  ['combo-c6-freeze-commit-and-stream-adjacent.json', [13, 14, 15]],
  // two jobs woken by one reopen, both end after it
  ['combo-c6-job-two-jobs-one-chain6.json', [22, 23, 24]],
  ['job-speed-drain-wakeups.json', [8, 9]],
];

for (const [f, steps] of CASES) {
  test(`7.2: ${f} #${steps.join(', #')}: the woken job's end is in the step after the reopen`, async () => {
    const t = parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, f), 'utf8'), f);
    const c = compareTranscripts(t, await runOnModel(scenarioOf(t), undefined, { qemuVersion: '7.2' }));
    for (const i of steps) assert.ok(c.steps[i]!.events, `${f} #${i}: ${c.steps[i]!.diff.join('; ')}`);
  });
}

test.run();
